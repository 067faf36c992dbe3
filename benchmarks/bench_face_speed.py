"""FaceEncoder's faces/s with and without the allocator setting, side by side.

Usage: python benchmarks/bench_face_speed.py [--n 7178] [--repeats 2]

FaceEncoder's network is the same as before; what changed is glibc's handling of the
blocks each batch frees (skemotion/_malloc.py): since this version an encoder keeps
them on the heap for the next batch, where glibc's default gives them back to the
system and faults every page in again. Each run is a fresh process that encodes the
FER-2013 test faces (decoded uint8 arrays, then the JPEG files; batch 64, cache off,
after a warm-up on 256 faces):

- ``FaceEncoder() now``: as the library runs;
- ``FaceEncoder() with glibc's default``: the same, with the setting skipped (as every
  version before this one ran).

The two kinds of process alternate, best of `--repeats` each; the embeddings of the
two are compared (they must be equal: the setting changes no arithmetic), so the
macro-F1 of bench_face.py holds for both. The issue's target: >= 1.5x the faces/s of
before. Figures go to stdout and benchmarks/results/face_speed.{md,json}.
"""

import argparse
import json
import subprocess
import sys

from _common import write_results

CHILD = """
import hashlib, json, resource, sys, time
sys.path.insert(0, {benchmarks!r})
import cv2
import numpy as np
from bench_face import load_split
from skemotion import _malloc
from skemotion._encoders._face import FaceEncoder

if {as_before}:
    _malloc._done = True  # the setting never runs: glibc's default, as before
paths = load_split()[0][:{n}]
images = [cv2.imread(path, cv2.IMREAD_GRAYSCALE) for path in paths]
encoder = FaceEncoder(device="cpu", cache=False, batch_size=64)
encoder.fit(images[:10]).transform(images[:256])
out = {{}}
for name, items in (("arrays", images), ("files", paths)):
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    X = encoder.transform(items)
    out[name] = {{
        "seconds": time.perf_counter() - start,
        "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults,
        "digest": hashlib.sha256(X.tobytes()).hexdigest(),
    }}
print(json.dumps(out))
"""


def run_child(n, as_before):
    from _common import BENCHMARKS

    code = CHILD.format(benchmarks=str(BENCHMARKS), n=n, as_before=as_before)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the timed process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=7178, help="FER-2013 test faces timed")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    runs = {"now": [], "before": []}
    for _ in range(args.repeats):
        for label in ("before", "now"):
            runs[label].append(run_child(args.n, as_before=label == "before"))
            print(label, runs[label][-1], flush=True)
    rows, ratios = [], {}
    for name in ("arrays", "files"):
        digests = {run[name]["digest"] for label in runs for run in runs[label]}
        if len(digests) != 1:
            sys.exit(f"the embeddings of {name} differ between the runs: {digests}")
        best = {label: min(run[name]["seconds"] for run in runs[label]) for label in runs}
        ratios[name] = best["before"] / best["now"]
        for label, what in (("now", "FaceEncoder() now"), ("before", "glibc's default")):
            faults = min(run[name]["faults"] for run in runs[label])
            rows.append(
                {
                    "run": f"{what} ({name})",
                    "seconds": f"{best[label]:.2f}",
                    "faces/s": f"{args.n / best[label]:.0f}",
                    "page faults": f"{faults:,}",
                }
            )
    notes = [
        f"{args.n} FER-2013 test faces, batch 64, cache off, CPU; a fresh process per run, "
        f"the two kinds alternating, best of {args.repeats}; identical embeddings in every run.",
        f"now / before: {ratios['arrays']:.2f}x from arrays, {ratios['files']:.2f}x from "
        "files (target >= 1.5x).",
    ]
    command = "python benchmarks/bench_face_speed.py " + " ".join(argv or sys.argv[1:])
    write_results("face_speed", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
