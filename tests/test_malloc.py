"""glibc keeps freed large blocks for the next item, in a plain process and a Dask worker."""

import subprocess
import sys

import numpy as np
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


@pytest.mark.skipif(_malloc._glibc() is None or not sys.platform.startswith("linux"),
                    reason="glibc's mallopt is needed (Linux with glibc)")  # fmt: skip
def test_a_plain_process_keeps_an_items_freed_blocks_for_the_next():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    # Each item frees blocks that glibc's dynamic rule gives back: 8 MiB in 1 MiB blocks.
    code = _FAULTS.replace("np.ones(2**17)  # 1 MiB, freed at once",
                           "[np.ones(2**17) for _ in range(8)]")  # fmt: skip
    faults = {}
    for call in (False, True):
        run = code.format(call="keep_large_blocks_on_the_heap()" if call else "None")
        out = subprocess.run([sys.executable, "-c", run], env=env, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
        faults[call] = int(out[1])
    assert faults[False] > 300 * 8 * 200
    assert faults[True] < faults[False] / 10


def test_nothing_changes_where_the_user_chose_a_threshold_or_off_linux(monkeypatch):
    calls = []
    monkeypatch.setattr(_malloc, "_glibc", lambda: calls.append("glibc"))
    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert _malloc.keep_large_blocks_on_the_heap() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setattr(_malloc, "_done", False)
    monkeypatch.setattr(_malloc.sys, "platform", "darwin")
    assert _malloc.keep_large_blocks_on_the_heap() is False
    assert calls == []


def test_encoding_sets_it(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "skemotion._encoders._base.keep_large_blocks_on_the_heap", lambda: calls.append(1)
    )
    from skemotion import AudioFeatures

    AudioFeatures(features=("rms",), stats=("mean",), cache=False).fit_transform(
        [np.zeros(1600, dtype=np.float32)]
    )
    assert calls


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
