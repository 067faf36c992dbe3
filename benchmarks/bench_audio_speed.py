"""AudioFeatures' clips/s against the hand-written librosa statistics, in the same run.

Usage: python benchmarks/bench_audio_speed.py [--n 200] [--repeats 2]

The same RAVDESS speech clips (every file of the sorted list, thinned to `--n`, so every
actor is in), cache off, one process each:

- ``AudioFeatures()`` with its defaults (the files decoded in its threads);
- the recipe a competent user writes by hand: ``librosa.load(path, sr=22050)``, then 20
  MFCC + deltas, chroma, spectral contrast, centroid, bandwidth, rolloff, flatness, ZCR
  and RMS with librosa's default frames, mean and std of each (``librosa_statistics``
  in benchmarks/_common.py).

Both are warmed up on 5 other clips first (numba's kernels, the imports), then timed in
alternation, best of `--repeats`. The issue's target: AudioFeatures >= 2x the
hand-written statistics' clips/s. Figures go to stdout and
benchmarks/results/audio_speed.{md,json}.
"""

import argparse
import sys

import numpy as np
from _common import librosa_statistics, shared_data, timed, write_results

from skemotion import AudioFeatures


def clips(n):
    every = sorted(shared_data("ravdess_speech").glob("Actor_*/*.*"))
    step = max(len(every) // (n + 5), 1)
    chosen = [str(path) for path in every[::step]]
    return chosen[5 : 5 + n], chosen[:5]


def hand_written(paths):
    import librosa

    return np.stack([librosa_statistics(*librosa.load(path, sr=22050)) for path in paths])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="clips timed")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    paths, warm_up = clips(args.n)
    encoder = AudioFeatures(cache=False)
    encoder.fit_transform(warm_up)
    hand_written(warm_up)
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(timed(lambda: encoder.fit_transform(paths))[0])
        theirs.append(timed(lambda: hand_written(paths))[0])
    seconds = sum(AudioFeatures()._length_hint(path) for path in paths)
    n = len(paths)
    rows = [
        {
            "run": "AudioFeatures() (defaults)",
            "seconds": f"{min(ours):.2f}",
            "clips/s": f"{n / min(ours):.1f}",
            "x real time": f"{seconds / min(ours):.0f}",
        },
        {
            "run": "hand-written librosa statistics at 22.05 kHz",
            "seconds": f"{min(theirs):.2f}",
            "clips/s": f"{n / min(theirs):.1f}",
            "x real time": f"{seconds / min(theirs):.0f}",
        },
    ]
    notes = [
        f"{n} RAVDESS speech clips ({seconds:.0f} s of audio), cache off, best of "
        f"{args.repeats} alternating runs after a warm-up on 5 other clips.",
        f"AudioFeatures / hand-written throughput: {min(theirs) / min(ours):.2f}x (target >= 2x).",
    ]
    command = "python benchmarks/bench_audio_speed.py " + " ".join(argv or sys.argv[1:])
    write_results("audio_speed", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
