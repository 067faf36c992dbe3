"""Cold start: import time, each encoder's first item in a fresh process, the demo cold.

Usage: python benchmarks/bench_cold_start.py [--repeats 2] [--skip-demo]

Every figure is the wall time of a fresh Python process, so nothing is loaded or
compiled beforehand:

- ``import skemotion``;
- ``fit_transform`` of one item (timed from before the import): TextEncoder (the offline
  all-MiniLM-L6-v2), FaceEncoder (a 48 x 48 face), AudioFeatures (a 1 s clip), the
  last twice: with numba's on-disk cache as a previous run left it, and with an empty
  cache folder (``NUMBA_CACHE_DIR``), as on the first run after an install (where
  numba compiled librosa's kernels for 14 s until AudioFeatures stopped importing
  librosa: both rows now take the same time);
- ``skemotion demo`` with an empty embedding cache and an empty numba cache.

The issue's targets: AudioFeatures' first clip of a fresh process <= 3 s, the demo
cold <= 35 s on 2 cores. Figures go to stdout and benchmarks/results/cold_start.{md,json}.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from _common import write_results

FIRST_ITEM = """
import time
start = time.perf_counter()
import numpy as np
from skemotion import {encoder}
item = {item}
{encoder}({params}).fit_transform([item])
print(time.perf_counter() - start)
"""
CASES = {
    "import skemotion": (
        "import time\nstart = time.perf_counter()\nimport skemotion\n"
        "print(time.perf_counter() - start)"
    ),
    "TextEncoder, first text": FIRST_ITEM.format(
        encoder="TextEncoder", item="'what a lovely day'", params="device='cpu', cache=False"
    ),
    "FaceEncoder, first face": FIRST_ITEM.format(
        encoder="FaceEncoder",
        item="np.full((48, 48), 128, np.uint8)",
        params="device='cpu', cache=False",
    ),
    "AudioFeatures, first clip": FIRST_ITEM.format(
        encoder="AudioFeatures",
        item="(0.3 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220)).astype(np.float32)",
        params="cache=False",
    ),
}


def in_fresh_process(code, env=None):
    """The seconds a fresh interpreter reports for `code`, and the process's wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def demo_seconds():
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "skemotion", "demo", "--cache", cache, "--output-dir", out],
            capture_output=True,
            check=True,
            env={**os.environ, "NUMBA_CACHE_DIR": os.path.join(out, "numba")},
        )
        return time.perf_counter() - start


def spread(values):
    low, high = min(values), max(values)
    return f"{low:.2f}" if len(values) == 1 else f"{low:.2f}-{high:.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per case")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args(argv)

    runs = [(name, code, None) for name, code in CASES.items()]
    with tempfile.TemporaryDirectory() as empty:
        for name, code, _ in list(runs):
            if name.startswith("AudioFeatures"):
                runs.append((f"{name}, empty numba cache", code, empty))
        rows = []
        for name, code, numba_dir in runs:
            figures, walls = [], []
            for _ in range(args.repeats):
                if numba_dir is not None:  # each run as after a fresh install
                    shutil.rmtree(numba_dir)
                    os.mkdir(numba_dir)
                env = None if numba_dir is None else {"NUMBA_CACHE_DIR": numba_dir}
                seconds, wall = in_fresh_process(code, env)
                figures.append(seconds)
                walls.append(wall)
            rows.append({"run": name, "seconds": spread(figures), "process wall s": spread(walls)})
            print(rows[-1], flush=True)
    if not args.skip_demo:
        seconds = demo_seconds()
        rows.append({"run": "skemotion demo, empty cache", "seconds": f"{seconds:.1f}",
                     "process wall s": f"{seconds:.1f}"})  # fmt: skip
        print(rows[-1], flush=True)

    notes = [
        "seconds: from before the first import to the first row, in a fresh process "
        "(lowest-highest of the runs); process wall s: the whole process, interpreter "
        f"start and exit included. {args.repeats} fresh process(es) per row.",
        "The empty numba cache rows (and the demo): an empty NUMBA_CACHE_DIR for every "
        "run, as on the first run after installing; AudioFeatures imports neither "
        "librosa nor numba, so nothing is compiled.",
        "Targets (issue 15): AudioFeatures' first clip of a fresh process <= 3 s; "
        "skemotion demo cold <= 35 s on 2 cores.",
    ]
    command = "python benchmarks/bench_cold_start.py " + " ".join(argv or sys.argv[1:])
    write_results("cold_start", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
