"""The cost of tuning modality weights: GridSearchCV against one fit of the same pipeline.

The pipeline: ``AudioFeatures`` on the raw RAVDESS clips and the clips' face action units
(as given), fused by ``LateFusionClassifier(StandardScaler + LogisticRegression)``. The
search: ``fusion__weights`` over the 11 points of ``weight_grid(["face", "audio"], 0.1)``,
5 speaker-grouped folds (``speaker_cv(5)``, groups = actors), then the refit: 56 fits.

Rows (each with an empty embedding cache unless it says "warm"):

- one fit of the pipeline: every clip analysed once;
- the search with the embedding cache and the fusion step's ``memory``: each clip
  analysed once, each modality's classifier fitted once per fold (the target: at most
  3x one fit);
- the search with the embedding cache only: each modality's classifier fitted 56 times;
- with ``--uncached``, the search with no cache at all: every fit analyses its clips
  again (slow: run it with ``--actors 6`` or so).

Run from the repository root::

    python benchmarks/bench_gridsearch.py                 # all 24 actors, 1,440 clips
    python benchmarks/bench_gridsearch.py --actors 6 --uncached

BLAS is limited to one thread (set before numpy loads): on a shared 2-core machine,
multi-threaded BLAS made each logistic regression fit 20-50x slower.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
from _common import shared_data, write_results  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skemotion import (  # noqa: E402
    AudioFeatures,
    LateFusionClassifier,
    make_multimodal_pipeline,
    speaker_cv,
    weight_grid,
)

WEIGHTS = weight_grid(["face", "audio"], step=0.1)
N_FOLDS = 5
# What each run does, counted (GridSearchCV runs in this process): the clips that
# AudioFeatures analyses and the logistic regressions fitted (one per modality and fit).
ANALYSED, FITTED = [], []


def _count_work():
    analyse, fit = AudioFeatures._encode_batch, LogisticRegression.fit

    def counted_analyse(self, model, items):
        ANALYSED.extend(items)
        return analyse(self, model, items)

    def counted_fit(self, X, y, sample_weight=None):
        FITTED.append(X.shape)
        return fit(self, X, y, sample_weight=sample_weight)

    AudioFeatures._encode_batch = counted_analyse
    LogisticRegression.fit = counted_fit


def counted_run(func):
    """Seconds, result, clips analysed and classifiers fitted by `func()`."""
    ANALYSED.clear()
    FITTED.clear()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result, len(ANALYSED), len(FITTED)


def load(n_actors):
    """RAVDESS clips of the first `n_actors` actors: audio path, AU columns, label, actor."""
    df = pd.read_csv(shared_data("ravdess_av_features", "features.csv"))
    df = df[df["actor"] <= n_actors].reset_index(drop=True)
    speech = shared_data("ravdess_speech")
    face = [c for c in df if c.startswith("au_")]
    frame = df[face].assign(audio=[str(speech / p) for p in df["audio_file"]])
    return frame, face, df["emotion"].to_numpy(dtype=object), df["actor"].to_numpy()


def pipeline(face, cache, memory):
    return make_multimodal_pipeline(
        {"face": ("passthrough", face), "audio": (AudioFeatures(), "audio")},
        fusion=LateFusionClassifier(
            make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
            memory=memory,
        ),
        cache=cache,
    )


def search(face, cache, memory):
    return GridSearchCV(
        pipeline(face, cache, memory), {"fusion__weights": WEIGHTS}, cv=speaker_cv(N_FOLDS)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=24, help="use actors 1..N (default 24)")
    parser.add_argument(
        "--uncached", action="store_true", help="also time the search with no cache (slow)"
    )
    args = parser.parse_args(argv)
    if args.actors < N_FOLDS:
        parser.error(f"--actors must be at least {N_FOLDS}, one per speaker-grouped fold")
    _count_work()
    X, face, y, groups = load(args.actors)
    rows = []

    def row(name, seconds, analysed, fitted, one_fit=None):
        rows.append(
            {
                "run": name,
                "seconds": f"{seconds:.1f}",
                "x one fit": "1.00" if one_fit is None else f"{seconds / one_fit:.2f}",
                "clips analysed": f"{analysed:,}",
                "per-modality fits": fitted,
            }
        )
        print(rows[-1], flush=True)

    n_fits = len(WEIGHTS) * N_FOLDS + 1
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        one_fit, _, analysed, fits = counted_run(
            lambda: pipeline(face, scratch / "one-fit", None).fit(X, y)
        )
        row("one fit (empty cache)", one_fit, analysed, fits)
        runs = {
            "cache + fusion memory": (scratch / "search", scratch / "fits"),
            "cache only": (scratch / "cache-only", None),
        }
        if args.uncached:
            runs["no cache"] = (False, None)
        for name, (cache, memory) in runs.items():
            model = search(face, cache, memory)
            seconds, fitted, analysed, fits = counted_run(
                lambda: model.fit(X, y, groups=groups)  # noqa: B023
            )
            row(
                f"GridSearchCV {len(WEIGHTS)} weights x {N_FOLDS} folds, {name}",
                seconds, analysed, fits, one_fit,
            )  # fmt: skip

    load_avg = os.getloadavg()
    notes = [
        f"Data: {len(y):,} RAVDESS clips of {len(set(groups))} actors (16 kHz FLAC from "
        "../shared/data/ravdess_speech) and their 35 face action units "
        "(../shared/data/ravdess_av_features).",
        f"Pipeline: make_multimodal_pipeline(face AUs passthrough, AudioFeatures()) -> "
        "LateFusionClassifier(StandardScaler + LogisticRegression(C=0.1)); search over "
        f"fusion__weights ({len(WEIGHTS)} points), speaker_cv({N_FOLDS}) by actor, refit: "
        f"{n_fits} pipeline fits. 'clips analysed' counts AudioFeatures' analyses; "
        "'per-modality fits' counts LogisticRegression fits.",
        f"Best weights {fitted.best_params_['fusion__weights']}, mean speaker-grouped CV "
        f"accuracy {fitted.best_score_:.3f}.",
        f"Load average at the end: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        f"on {os.cpu_count()} cores; BLAS at 1 thread.",
    ]
    name = "gridsearch" if args.actors == 24 else f"gridsearch-{args.actors}-actors"
    command = "python benchmarks/bench_gridsearch.py " + " ".join(argv or sys.argv[1:])
    write_results(name, command.strip(), rows, notes)


if __name__ == "__main__":
    main()
