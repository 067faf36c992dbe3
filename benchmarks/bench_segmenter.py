"""SpeechSegmenter on long recordings of real speech: utterances found, bounds, speed, memory.

Usage:
    python benchmarks/bench_segmenter.py [--minutes 30] [--seeds 5]

The recordings are RAVDESS utterances end to end, separated by 1-3 s gaps of digital
silence, white noise and pink noise at -50 dBFS (benchmarks/_recordings.py, which also
defines each utterance's true bounds by energy: frames within 30 dB of the clip's peak).

- 20 utterances (all eight emotions, 20 actors): % of utterances found (at least half
  of their speech inside segments), the median distance of the segments' bounds to the
  true ones, the segments that overlap no speech, speed as x real time (warm model);
  then the same over `--seeds` recordings of 20 (100 utterances by default);
- 60 s of silence, white and pink noise (-50 and -30 dBFS): segments found (0 wanted);
- Silero's own loop (its TorchScript model called window by window, as its
  get_speech_timestamps does) on 60 s of the recording, for the speed it would have;
- a `--minutes` recording, written to a temporary WAV: segmented, then classified with
  predict_timeline by AudioFeatures(cache=False) + StandardScaler + LogisticRegression
  fitted on four emotions of actors 1-20, each in a fresh process that first ran the
  same on a short file; extra MB is how far that raised the peak resident memory
  above what the process held before (VmHWM - VmRSS, as bench_memory.py);
- a timeline plot (PNG) of a recording of actors 21-24 (unseen by the classifier).

Figures go to stdout and benchmarks/results/segmenter.{md,json} (+ segmenter_timeline.png).
"""

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import RESULTS, shared_data, write_results
from _recordings import (
    RATE,
    build_recording,
    noise,
    ravdess_clips,
    score_segments,
    write_recording,
)

TRAIN_EMOTIONS = ["angry", "calm", "happy", "sad"]

CHILD = """
import json, pickle, sys, time, warnings
warnings.simplefilter("ignore")
from skemotion import SpeechSegmenter, predict_timeline
what, path, small, model = sys.argv[1:5]
def status(field):  # kB, from Linux's /proc/self/status
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
pipeline = pickle.load(open(model, "rb")) if what == "timeline" else None
def run(recording):
    if what == "segment":
        return SpeechSegmenter().segment(recording)
    return predict_timeline(pipeline, recording)
run(small)  # libraries, weights and compiled code loaded
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # reset VmHWM to the current size
before = status("VmRSS")
start = time.perf_counter()
found = run(path)
seconds = time.perf_counter() - start
found.to_csv(sys.argv[5], index=False)
print(json.dumps({"seconds": seconds, "extra_mb": (status("VmHWM") - before) / 1024,
                  "peak_mb": status("VmHWM") / 1024, "segments": len(found)}))
"""


def run_child(what, path, small, model, out):
    args = [sys.executable, "-c", CHILD, what, str(path), str(small), str(model), str(out)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{what} case failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed(function, *args, repeat=3):
    """The function's result and its best time over `repeat` runs."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def score_row(case, score, duration, seconds, extra_mb="-"):
    errors = score["boundary_errors"]
    return {
        "case": case,
        "utterances found": f"{score['found']}/{score['n_utterances']} "
        f"({100 * score['found'] / score['n_utterances']:.0f}%)",
        "median boundary error (s)": f"{np.median(errors):.3f}",
        "90th pct error (s)": f"{np.percentile(errors, 90):.3f}",
        "segments on no speech": f"{score['false_segments']} ({score['segments_in_gaps']} in gaps)",
        "x real time": f"{duration / seconds:.0f}",
        "extra MB": extra_mb,
    }


def other_row(case, segments="-", speed="-", extra_mb="-"):
    return {
        "case": case,
        "utterances found": "-",
        "median boundary error (s)": "-",
        "90th pct error (s)": "-",
        "segments on no speech": segments,
        "x real time": speed,
        "extra MB": extra_mb,
    }


def silero_loop_speed(samples):
    """x real time of Silero's model called once per 512-sample window (its own loop)."""
    import torch

    from skemotion._segmenter import _silero_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = torch.jit.load(str(_silero_file("silero_vad.jit")))
    model.reset_states()
    x = torch.from_numpy(samples[: samples.size // 512 * 512])
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, x.numel(), 512):
            model(x[i : i + 512][None], RATE).item()
    return x.numel() / RATE / (time.perf_counter() - start)


def fit_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skemotion import AudioFeatures

    root = shared_data("ravdess_speech")
    labels = pd.read_csv(root / "labels.csv", dtype=str)
    train = labels[labels["emotion"].isin(TRAIN_EMOTIONS) & (labels["actor"].astype(int) <= 20)]
    clf = make_pipeline(AudioFeatures(cache=False), StandardScaler(), LogisticRegression())
    start = time.perf_counter()
    clf.fit([str(root / p) for p in train["path"]], train["emotion"])
    return clf, len(train), time.perf_counter() - start


def held_out_clips(n, seed):
    root = shared_data("ravdess_speech")
    labels = pd.read_csv(root / "labels.csv", dtype=str)
    pool = labels[labels["emotion"].isin(TRAIN_EMOTIONS) & (labels["actor"].astype(int) > 20)]
    rows = pool.sample(n, random_state=seed)
    return pd.DataFrame(
        {
            "path": [str(root / p) for p in rows["path"]],
            "emotion": rows["emotion"].to_numpy(),
            "actor": rows["actor"].to_numpy(),
        }
    )


def plot_timeline(clf, folder):
    """A timeline PNG of 8 unseen utterances; returns (path, accuracy of the segments)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import soundfile

    from skemotion import predict_timeline
    from skemotion.plots import EmotionTimelineDisplay

    built = build_recording(held_out_clips(8, seed=7), seed=7)
    path = folder / "held_out.wav"
    soundfile.write(path, built.samples, RATE)
    timeline = predict_timeline(clf, path)
    fig, ax = plt.subplots(figsize=(9, 2.8))
    EmotionTimelineDisplay.from_timeline(timeline, ax=ax)
    for row in built.utterances.itertuples():
        ax.annotate(
            row.emotion,
            ((row.start + row.end) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_title("true emotion above; lines: predicted probabilities", fontsize=9, pad=14)
    fig.tight_layout()
    out = RESULTS / "segmenter_timeline.png"
    fig.savefig(out, dpi=80)
    plt.close(fig)
    truth = [
        built.utterances["emotion"].iloc[
            int(
                np.argmax(
                    np.minimum(b, built.utterances["end"])
                    - np.maximum(a, built.utterances["start"])
                )
            )
        ]
        for a, b in zip(timeline["start"], timeline["end"], strict=True)
    ]
    return out, float(np.mean(timeline["emotion"].to_numpy() == np.array(truth)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # "no speech found" in the noise cases
    from skemotion import SpeechSegmenter

    segmenter = SpeechSegmenter()
    rows, notes = [], []

    # 20 utterances, then several recordings of 20.
    shared_data("ravdess_speech")
    built = build_recording(ravdess_clips(20, seed=0), seed=0)
    segmenter.segment(built.samples[: 5 * RATE])  # load the model
    found, seconds = timed(segmenter.segment, built.samples)
    rows.append(
        score_row(
            f"20 utterances ({built.duration:.0f} s; silence/white/pink gaps)",
            score_segments(found, built.utterances, built.gaps),
            built.duration,
            seconds,
        )
    )
    scores, total, spent = [], 0.0, 0.0
    for seed in range(args.seeds):
        recording = build_recording(ravdess_clips(20, seed=seed), seed=seed)
        result, seconds = timed(segmenter.segment, recording.samples, repeat=1)
        scores.append(score_segments(result, recording.utterances, recording.gaps))
        total, spent = total + recording.duration, spent + seconds
    merged = {
        key: (
            np.concatenate([s[key] for s in scores])
            if key == "boundary_errors"
            else sum(s[key] for s in scores)
        )
        for key in scores[0]
    }
    rows.append(
        score_row(f"{args.seeds} recordings of 20 (seeds 0-{args.seeds - 1})", merged, total, spent)
    )

    # Silence and noise alone.
    rng = np.random.default_rng(0)
    for kind, level in [
        ("silence", None),
        ("white", -50),
        ("pink", -50),
        ("white", -30),
        ("pink", -30),
    ]:
        samples = noise(kind, 60 * RATE, rng, level_db=level or -50)
        name = "60 s digital silence" if kind == "silence" else f"60 s {kind} noise, {level} dBFS"
        rows.append(other_row(name, segments=str(len(segmenter.segment(samples)))))

    # Silero's own loop, for comparison.
    minute = built.samples[: 60 * RATE]
    _, batched = timed(segmenter.segment, minute)
    rows.append(other_row("SpeechSegmenter on 60 s of it", speed=f"{60 / batched:.0f}"))
    rows.append(
        other_row(
            "Silero's loop (TorchScript, a call per window), 60 s",
            speed=f"{silero_loop_speed(minute):.0f}",
        )
    )

    clf, n_train, fit_seconds = fit_pipeline()
    notes.append(
        f"Classifier: AudioFeatures(cache=False) + StandardScaler + LogisticRegression fitted "
        f"on {n_train} clips ({', '.join(TRAIN_EMOTIONS)}; actors 1-20) in {fit_seconds:.0f} s."
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        png, accuracy = plot_timeline(clf, folder)
        notes.append(
            f"Timeline plot: {png.relative_to(RESULTS.parent.parent)} (8 utterances of actors "
            f"21-24; {100 * accuracy:.0f}% of the segments get the true emotion)."
        )
        model = folder / "model.pkl"
        model.write_bytes(pickle.dumps(clf))
        small = folder / "small.wav"
        import soundfile

        soundfile.write(small, build_recording(ravdess_clips(2, seed=9), seed=9).samples, RATE)
        long = folder / "long.wav"
        utterances, gaps = write_recording(
            long, ravdess_clips(60, seed=1), minutes=args.minutes, seed=1
        )
        duration = soundfile.info(long).duration
        figure = run_child("segment", long, small, model, folder / "segments.csv")
        found = pd.read_csv(folder / "segments.csv")
        rows.append(
            score_row(
                f"{args.minutes:g}-minute WAV: segment ({len(utterances)} utterances)",
                score_segments(found, utterances, gaps),
                duration,
                figure["seconds"],
                extra_mb=f"{figure['extra_mb']:.0f}",
            )
        )
        figure = run_child("timeline", long, small, model, folder / "timeline.csv")
        timeline = pd.read_csv(folder / "timeline.csv")
        rows.append(
            other_row(
                f"{args.minutes:g}-minute WAV: predict_timeline ({len(timeline)} segments)",
                speed=f"{duration / figure['seconds']:.0f}",
                extra_mb=f"{figure['extra_mb']:.0f}",
            )
        )
    notes += [
        "Found: at least half of an utterance's true speech lies inside segments. Boundary "
        "error: |segment start - true start| and |segment end - true end| of each found "
        "utterance (first and last segment over it). True bounds by energy (frames within "
        "30 dB of the clip's peak; benchmarks/_recordings.py).",
        "Segments on no speech: segments overlapping no utterance's true speech (in gaps: "
        "wholly inside a silence/noise gap); for silence and noise alone, all segments.",
        "x real time: recording duration / wall time of segment() (warm model, best of 3 "
        "for the 20-utterance case); for the long file, in the child process, decoding "
        "included. extra MB: VmHWM - VmRSS of the child around the long file (a short file "
        "first).",
        "SpeechSegmenter() defaults: threshold 0.5, min_speech 0.25 s, min_silence 0.1 s, "
        "pad 0.03 s, max_segment 15 s. Silero VAD (MIT, Silero Team), weights from the "
        "silero-vad wheel, CPU.",
    ]
    command = "python benchmarks/bench_segmenter.py " + " ".join(sys.argv[1:])
    write_results("segmenter", command.strip(), rows, notes=notes)


if __name__ == "__main__":
    main()
