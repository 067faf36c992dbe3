"""The allocator setting Dask's nannies leave in a worker is undone where it slows encoding."""

import subprocess
import sys

import pytest

from skemotion import _malloc

# Allocates and frees a 1 MiB block many times and prints the page faults it cost.
_FAULTS = """
import resource, numpy as np
from skemotion._malloc import keep_large_blocks_on_the_heap
changed = {call}
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(300):
    np.ones(2**17)  # 1 MiB, freed at once
print(changed, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env, call):
    code = _FAULTS.format(call="keep_large_blocks_on_the_heap()" if call else "None")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@pytest.mark.skipif(_malloc._glibc() is None or not sys.platform.startswith("linux"),
                    reason="glibc's mallopt is needed (Linux with glibc)")  # fmt: skip
def test_a_nanny_trim_threshold_no_longer_maps_every_large_block(monkeypatch):
    import os

    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    changed, faults_as_left = _faults(env, call=False)
    changed, faults_fixed = _faults(env, call=True)
    assert changed == "True"
    # As left, each 1 MiB block is mapped and faulted in again: 256 pages x 300 blocks.
    assert faults_as_left > 300 * 200
    assert faults_fixed < faults_as_left / 10


def test_nothing_changes_without_the_variable_or_when_the_user_chose(monkeypatch):
    calls = []
    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setattr(_malloc, "_glibc", lambda: calls.append("glibc"))
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _malloc.keep_large_blocks_on_the_heap() is False
    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert _malloc.keep_large_blocks_on_the_heap() is False
    assert calls == []


def test_it_runs_once_per_process(monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setattr(_malloc, "_glibc", FakeLibc)
    monkeypatch.setattr(_malloc.sys, "platform", "linux")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert _malloc.keep_large_blocks_on_the_heap() is True
    assert _malloc.keep_large_blocks_on_the_heap() is False
    assert calls == [(_malloc.M_MMAP_THRESHOLD, 32 * 2**20), (_malloc.M_TRIM_THRESHOLD, 64 * 2**20)]
