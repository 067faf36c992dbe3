"""Ablation of AudioFeatures' defaults across RAVDESS protocols and a corpus-like variant.

Usage: python benchmarks/bench_audio_ablation.py [--cache DIR]

Rows are feature configurations: the analysis rate (16, 22.05 or 24 kHz), the frames the
statistics are taken over (``frames="active"``: within 40 dB of the clip's loudest, or
``"all"``), with or without the chroma group, every combination of the three (12 rows,
columns selected by name from six extractions with every group), and the hand-written
baseline: ``librosa.load(path)`` (resampled to 22,050 Hz), 20 MFCC + deltas, chroma_stft,
spectral contrast, centroid, bandwidth, rolloff, flatness, ZCR and RMS with librosa's
default frames, mean and std over all frames (130 numbers).

Columns are protocols, each with StandardScaler + LogisticRegression(C=1, max_iter=2000):

- **by actor**: the 1440 RAVDESS speech clips, StratifiedGroupKFold(5) by actor (no
  shuffle); accuracy mean over folds (macro-F1).
- **few-speaker**: train on two female actors, test on the other 22; pairs (2, 4),
  (6, 8), (10, 12), (14, 16); mean accuracy over the pairs [range] (macro-F1).
- **corpus-like**: the same clips cut to a short utterance and written at 24,414 Hz, to
  imitate an acted corpus of single words in a carrier phrase read by two women:
  0.3 s of the clip's background before the speech onset, the first 1.2 s of speech
  (onset: the first 25 ms frame within 30 dB of the loudest; 50 ms fade-out), then the
  clip's last 0.3 s (its trailing background): 1.8 s in all. Train on one actor, test
  on the other, both ways, in the four pairs above: mean accuracy over the 8 runs
  [range] (macro-F1). Once on the features as they are, once with per-speaker
  standardisation (every feature z-scored within each actor over that actor's own
  clips, labels unused) before the scaler.

The corpus-like clips are written once to ``--cache``/corpus_like/ and every recipe
reads those files. Features are cached in ``--cache`` (a temporary folder by default):
AudioFeatures in an EmbeddingCache, the baseline as .npy files, so reruns are quick.
Figures go to stdout and benchmarks/results/audio_ablation.{md,json}.

BLAS is limited to one thread (set before numpy loads); extraction uses 2 processes.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import shared_data, write_results  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skemotion import EmbeddingCache  # noqa: E402
from skemotion._audio import FEATURE_GROUPS, AudioFeatures  # noqa: E402

RATES = (16000, 22050, 24000)
FRAMES = ("active", "all")
STATS = ("mean", "std", "p10", "p90")
NO_CHROMA = tuple(group for group in FEATURE_GROUPS if group != "chroma")
PAIRS = (("02", "04"), ("06", "08"), ("10", "12"), ("14", "16"))
CORPUS_RATE = 24414
PAD_SECONDS, SPEECH_SECONDS, FADE_SECONDS, ONSET_DB = 0.3, 1.2, 0.05, 30.0


def load_ravdess():
    root = shared_data("ravdess_speech")
    labels = pd.read_csv(root / "labels.csv", dtype=str)
    labels["file"] = [str(root / path) for path in labels.path]
    return labels


# --- the corpus-like clips ----------------------------------------------------------------


def speech_onset(y, sr):
    """Sample index of the first 25 ms frame (10 ms hop) within 30 dB of the loudest."""
    frame, hop = int(0.025 * sr), int(0.010 * sr)
    starts = np.arange(0, max(1, y.size - frame + 1), hop)
    rms = np.array([np.sqrt(np.mean(y[s : s + frame] ** 2)) for s in starts])
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    return int(starts[np.argmax(db > db.max() - ONSET_DB)])


def corpus_like_clip(source, target):
    """Cut one RAVDESS clip to a short utterance and write it at 24,414 Hz."""
    import librosa
    import soundfile

    if Path(target).exists():
        return
    y, sr = soundfile.read(source, dtype="float32")
    onset, pad = speech_onset(y, sr), int(PAD_SECONDS * sr)
    speech = y[onset : onset + int(SPEECH_SECONDS * sr)].copy()
    fade = min(int(FADE_SECONDS * sr), speech.size)
    speech[speech.size - fade :] *= np.cos(np.linspace(0, np.pi / 2, fade)) ** 2
    clip = np.concatenate([y[max(0, onset - pad) : onset], speech, y[-pad:]])
    clip = librosa.resample(clip, orig_sr=sr, target_sr=CORPUS_RATE, res_type="soxr_hq")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    partial = Path(target).with_suffix(".part.flac")
    soundfile.write(partial, np.clip(clip, -1, 1), CORPUS_RATE, subtype="PCM_16")
    partial.rename(target)


def corpus_like(labels, cache_dir):
    folder = Path(cache_dir) / "corpus_like"
    targets = [str(folder / path) for path in labels.path]
    start = time.perf_counter()
    Parallel(n_jobs=2)(delayed(corpus_like_clip)(source, target)
                       for source, target in zip(labels.file, targets, strict=True))
    print(f"corpus-like clips ready in {time.perf_counter() - start:.0f} s", flush=True)
    return targets


# --- features ---------------------------------------------------------------------------------


def extraction(paths, rate, frames, cache):
    """Every group, the four statistics: (X, names, seconds; 0.0 if all from the cache)."""
    encoder = AudioFeatures(features=FEATURE_GROUPS, stats=STATS, sampling_rate=rate,
                            frames=frames, n_jobs=2, cache=cache)
    before, start = cache.count(), time.perf_counter()
    X = encoder.fit_transform(paths)
    seconds = time.perf_counter() - start if cache.count() > before else 0.0
    return X, list(encoder.get_feature_names_out()), seconds


def select(X, names, groups, stats=STATS):
    wanted = set(AudioFeatures(features=groups, stats=stats).fit([np.zeros(1)])
                 .get_feature_names_out())
    return X[:, [i for i, name in enumerate(names) if name in wanted]]


def librosa_baseline(path):
    """What a competent user writes: librosa.load at 22,050 Hz, librosa's default frames,
    mean and std of 65 frame-level features over every frame (130 numbers)."""
    import librosa

    y, sr = librosa.load(path)
    S = np.abs(librosa.stft(y))
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    frames = np.vstack([
        mfcc, librosa.feature.delta(mfcc), librosa.feature.chroma_stft(S=S**2, sr=sr),
        librosa.feature.spectral_contrast(S=S, sr=sr),
        librosa.feature.spectral_centroid(S=S, sr=sr),
        librosa.feature.spectral_bandwidth(S=S, sr=sr),
        librosa.feature.spectral_rolloff(S=S, sr=sr), librosa.feature.spectral_flatness(S=S),
        librosa.feature.zero_crossing_rate(y), librosa.feature.rms(S=S),
    ])
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


def baseline(paths, cache_dir, dataset):
    stored = Path(cache_dir) / f"baseline_librosa_22050_{dataset}.npy"
    if stored.exists():
        return np.load(stored), 0.0
    start = time.perf_counter()
    X = np.array(Parallel(n_jobs=2)(delayed(librosa_baseline)(path) for path in paths))
    np.save(stored, X)
    return X, time.perf_counter() - start


# --- protocols ----------------------------------------------------------------------------------


def classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def scores(X, y, train, test):
    predicted = classifier().fit(X[train], y[train]).predict(X[test])
    return accuracy_score(y[test], predicted), f1_score(y[test], predicted, average="macro")


def by_actor(X, y, actors):
    folds = StratifiedGroupKFold(n_splits=5).split(X, y, actors)
    return np.array([scores(X, y, train, test) for train, test in folds])


def few_speaker(X, y, actors):
    return np.array([scores(X, y, np.isin(actors, pair), ~np.isin(actors, pair))
                     for pair in PAIRS])


def one_to_one(X, y, actors):
    runs = []
    for a, b in PAIRS:
        for train, test in ((a, b), (b, a)):
            runs.append(scores(X, y, actors == train, actors == test))
    return np.array(runs)


def per_speaker_standardised(X, actors):
    """Each feature z-scored within each actor, over that actor's own clips."""
    X = X.astype(np.float64, copy=True)
    for actor in np.unique(actors):
        rows = actors == actor
        std = X[rows].std(axis=0)
        X[rows] = (X[rows] - X[rows].mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
    return X


def cell(results, spread):
    """'0.531 (F1 0.515)', or '0.362 [0.30-0.41] (F1 0.33)' with the range over runs."""
    acc, f1 = results.mean(axis=0)
    if not spread:
        return f"{acc:.3f} (F1 {f1:.3f})"
    return f"{acc:.3f} [{results[:, 0].min():.2f}-{results[:, 0].max():.2f}] (F1 {f1:.3f})"


# --- the table -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=None, help="feature cache folder (default: temp)")
    args = parser.parse_args(argv)
    wall = time.perf_counter()

    labels = load_ravdess()
    y, actors = labels.emotion.to_numpy(), labels.actor.to_numpy()
    female = np.isin(actors, [a for pair in PAIRS for a in pair])
    rows, extracted = [], {}
    with tempfile.TemporaryDirectory() as temporary:
        cache_dir = Path(args.cache or temporary)
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache = EmbeddingCache(cache_dir / "features.sqlite")
        datasets = {"ravdess": list(labels.file),
                    "corpus": corpus_like(labels[female], cache_dir)}

        def add(name, n_features, ravdess, corpus, seconds):
            ya, aa = y[female], actors[female]
            rows.append({
                "configuration": name,
                "features": n_features,
                "by actor, 5-fold (24 actors)": cell(by_actor(ravdess, y, actors), False),
                "few-speaker (2 → 22 actors)": cell(few_speaker(ravdess, y, actors), True),
                "corpus-like (1 → 1 actor)": cell(one_to_one(corpus, ya, aa), True),
                "corpus-like, per-speaker standardised": cell(
                    one_to_one(per_speaker_standardised(corpus, aa), ya, aa), True),
                "extraction s (RAVDESS + corpus-like)": seconds,
            })
            print(rows[-1], flush=True)

        for rate in RATES:
            for frames in FRAMES:
                parts, took = {}, []
                for dataset, paths in datasets.items():
                    X, names, seconds = extraction(paths, rate, frames, cache)
                    parts[dataset] = X
                    took.append(f"{seconds:.0f}" if seconds else "cached")
                    print(f"{dataset} at {rate} Hz, frames={frames!r}: "
                          f"{seconds:.0f} s", flush=True)
                extracted[rate, frames] = parts, names, " + ".join(took)
        for rate in RATES:
            for frames in FRAMES:
                parts, names, took = extracted[rate, frames]
                for chroma in (False, True):
                    groups = FEATURE_GROUPS if chroma else NO_CHROMA
                    name = (f"sampling_rate={rate}, frames={frames!r}"
                            f"{', + chroma' if chroma else ''}")
                    if (rate, frames, chroma) == (16000, "active", False):
                        name += " (the defaults)"
                    ravdess = select(parts["ravdess"], names, groups)
                    corpus = select(parts["corpus"], names, groups)
                    add(name, ravdess.shape[1], ravdess, corpus, took)
                    took = "columns of the above"
        # The statistics are common to every group too: mean and std alone, for the
        # defaults and for the choices closest to the baseline's (22.05 kHz, every
        # frame, chroma), which leaves the frame lengths and the extra groups (pitch,
        # voicing) as what still differs from the baseline.
        for rate, frames, groups, label in [
            (16000, "active", NO_CHROMA, "the defaults"),
            (22050, "all", FEATURE_GROUPS, "sampling_rate=22050, frames='all', + chroma"),
        ]:
            parts, names, _ = extracted[rate, frames]
            ravdess = select(parts["ravdess"], names, groups, ("mean", "std"))
            corpus = select(parts["corpus"], names, groups, ("mean", "std"))
            add(f"{label}, stats mean + std only", ravdess.shape[1], ravdess, corpus,
                "columns of the above")
        base, took = {}, []
        for dataset, paths in datasets.items():
            base[dataset], seconds = baseline(paths, cache_dir, dataset)
            took.append(f"{seconds:.0f}" if seconds else "cached")
        add("baseline: hand-written librosa statistics (librosa.load at 22,050 Hz)",
            base["ravdess"].shape[1], base["ravdess"], base["corpus"], " + ".join(took))

    notes = [
        "Cells: accuracy averaged over folds or runs, [min-max over runs], (macro-F1). "
        "StandardScaler + LogisticRegression(C=1, max_iter=2000) everywhere. Chance is "
        "0.133 (the largest class) on RAVDESS and the corpus-like set alike.",
        "AudioFeatures rows use the statistics mean, std, p10, p90 (unless 'mean + std "
        "only' says otherwise) and every group but chroma unless '+ chroma' says so; "
        "rows of one rate and frame choice are columns of one extraction with every "
        "group.",
        "few-speaker: train on actors (2, 4), (6, 8), (10, 12) or (14, 16) (120 clips), "
        "test on the other 22 (1320 clips). corpus-like: train on one of those actors "
        "(60 clips), test on the other of the pair, both ways (8 runs). With 60-120 "
        "training clips the runs of one row span 5-35 points, depending on the speakers "
        "drawn: read differences of means under 0.02 as ties.",
        f"The RAVDESS copies here are 16 kHz: the corpus-like clips, resampled to "
        f"{CORPUS_RATE} Hz, hold nothing above 8 kHz, so the rate rows measure the "
        "analysis itself (frame lengths in samples, empty bands above 8 kHz in "
        "flatness, rolloff and the top contrast band), not the information a 24 kHz "
        "recording has between 8 and 12 kHz.",
    ]
    notes += DECISIONS
    notes.append(f"Wall time of this run: {time.perf_counter() - wall:.0f} s "
                 "(extractions with n_jobs=2 on a 2-core machine; cached ones take none).")
    command = "python benchmarks/bench_audio_ablation.py " + " ".join(argv or sys.argv[1:])
    write_results("audio_ablation", command.strip(), rows, notes)


# Why each default is what it is, read off the table above (kept with the script so
# that a rerun writes them with the figures).
DECISIONS = [
    "Defaults kept: sampling_rate=16000, frames='active', no chroma, statistics mean, "
    "std, p10, p90. A default changes only if the change wins across protocols; none did.",
    "frames='active' (kept): every frame instead lost in all four columns (by 3-5 "
    "points), on the 1.8 s corpus-like clips too, where a third of the frames are "
    "background: statistics over silence add the recording's noise, not the speech.",
    "No chroma (kept): + chroma lost in all four columns, most (5 points) with "
    "per-speaker standardisation.",
    "sampling_rate=16000 (kept): 22050 lost or tied in all four columns (-1.1, -0.7, "
    "-0.2, -0.9 points), 24000 lost or tied in three (-1.2, -0.2, -2.5) and won 0.8 "
    "points, a tie, in one. See the note above on content above 8 kHz. A "
    "'sampling_rate=None' (each file's own rate) was not added: the number of contrast "
    "bands, and what centroid, rolloff, bandwidth and flatness measure, depend on the "
    "rate, so features of files of different rates would not be comparable.",
    "Percentiles (kept): mean + std alone lost 1-4 points in three columns and won 1 "
    "point, a tie, on the corpus-like clips.",
    "The defaults beat the baseline in every column: by 7 points by actor, 3 with two "
    "training actors, 4 on the corpus-like clips, 8 with per-speaker standardisation. "
    "The AudioFeatures row closest to the baseline's choices (22.05 kHz, every frame, "
    "chroma, mean + std) does worse than the baseline itself with few speakers "
    "(0.309 against 0.327, and 0.281 against 0.331 on the corpus-like clips): what the "
    "baseline does better there lies in none of the choices above, but in its frame "
    "analysis (2048-sample, 93 ms windows every 23 ms; 128 mel bands up to 11 kHz) or "
    "in the groups it lacks (pitch, voicing).",
]


if __name__ == "__main__":
    main()
