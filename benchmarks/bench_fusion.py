"""Fusion on RAVDESS face + voice features, speaker-independent (5-fold by actor).

Rows: face only, audio only, EarlyFusion, LateFusionClassifier (equal weights, and with
weights and rule tuned by GridSearchCV whose inner CV is grouped by actor too),
AttentionFusionClassifier. Every row uses the same outer folds
(``StratifiedGroupKFold(5)`` over actors, no shuffle) and reports accuracy, macro-F1,
weighted-F1 and UAR pooled over the out-of-fold predictions, the mean and spread of
per-fold accuracy, and the wall time.

Run from the repository root::

    python benchmarks/bench_fusion.py            # all rows
    python benchmarks/bench_fusion.py --quick    # no grid search / attention
    python benchmarks/bench_fusion.py --audio-features /tmp/audio.sqlite  # + raw clips

BLAS and torch are limited to one thread each (set before numpy loads): on a shared
machine, multi-threaded BLAS made one logistic regression fit 20-50x slower here.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import shared_data, write_results  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skemotion._metrics import emotion_report  # noqa: E402
from skemotion._model_selection import check_cv_groups, speaker_cv  # noqa: E402
from skemotion._pipeline import make_multimodal_pipeline  # noqa: E402
from skemotion.fusion import (  # noqa: E402
    AttentionFusionClassifier,
    EarlyFusion,
    LateFusionClassifier,
    weight_grid,
)

C = 0.1  # one fixed regularisation for every logistic regression (not tuned per row)


SPEECH = shared_data("ravdess_speech")


def load():
    df = pd.read_csv(shared_data("ravdess_av_features", "features.csv"))
    face = [c for c in df if c.startswith("au_")]
    audio = [c for c in df if c.startswith("audio_") and c != "audio_file"]
    y = df["emotion"].to_numpy(dtype=object)
    groups = df["actor"].to_numpy()
    return df, face, audio, y, groups


def lr():
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def models(face, audio, quick, audio_name="audio"):
    """The rows for one audio source; `audio` is an (encoder, columns) pair."""
    both = {"face": ("passthrough", face), "audio": audio}
    rows = {
        f"{audio_name} only + LR": make_multimodal_pipeline({"audio": audio}, lr()),
        f"EarlyFusion(standard) + LR, AUs + {audio_name}": make_multimodal_pipeline(
            both, make_pipeline(EarlyFusion(), LogisticRegression(C=C, max_iter=2000))
        ),
        f"EarlyFusion(block) + LR, AUs + {audio_name}": make_multimodal_pipeline(
            both,
            make_pipeline(EarlyFusion(norm="block"), LogisticRegression(C=C, max_iter=2000)),
        ),
        f"LateFusion(LR) equal weights, AUs + {audio_name}": make_multimodal_pipeline(
            both, LateFusionClassifier(lr())
        ),
    }
    if not quick:
        rows[f"LateFusion(LR) GridSearchCV weights+rule, AUs + {audio_name}"] = GridSearchCV(
            make_multimodal_pipeline(both, LateFusionClassifier(lr())),
            {
                "fusion__weights": weight_grid(["face", "audio"], step=0.1),
                "fusion__rule": ["mean", "product"],
            },
            cv=speaker_cv(4),
            scoring="accuracy",
        )
        rows[f"AttentionFusionClassifier, AUs + {audio_name}"] = make_multimodal_pipeline(
            both, AttentionFusionClassifier(random_state=0, device="cpu")
        )
    return rows


def evaluate(model, df, y, groups, cv):
    pred = np.empty_like(y)
    fold_acc, chosen = [], []
    for train, test in cv.split(df, y, groups):
        fitted = (
            model.fit(df.iloc[train], y[train], groups=groups[train])
            if isinstance(model, GridSearchCV)
            else model.fit(df.iloc[train], y[train])
        )
        pred[test] = fitted.predict(df.iloc[test])
        fold_acc.append(accuracy_score(y[test], pred[test]))
        if isinstance(model, GridSearchCV):
            chosen.append(model.best_params_)
    return pred, fold_acc, chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip grid search and attention")
    parser.add_argument("--only", help="run only rows whose name contains this text")
    parser.add_argument(
        "--audio-features",
        metavar="CACHE",
        help="also run the rows with AudioFeatures computed from the raw RAVDESS clips, "
        "cached in this SQLite file (the first run analyses 1,440 clips)",
    )
    args = parser.parse_args(argv)
    df, face, audio, y, groups = load()
    cv = check_cv_groups(StratifiedGroupKFold(5), groups, y=y)
    rows, notes = [], []
    candidates = {
        "face only (AUs) + LR": make_multimodal_pipeline({"face": ("passthrough", face)}, lr())
    }
    candidates.update(models(face, ("passthrough", audio), args.quick, "CSV audio"))
    if args.audio_features:
        # AudioFeatures (librosa recipe) computed from the raw clips, cached on disk.
        from skemotion._audio import AudioFeatures

        # AudioFeatures learns nothing in fit (a fixed recipe), so computing it once on
        # every clip and passing the columns through gives the same folds' features as
        # running it inside each pipeline (which the cache would also serve), without
        # re-hashing 1,440 files for each of the grid search's ~440 fits.
        paths = [str(SPEECH / p) for p in df["audio_file"]]
        encoder = AudioFeatures(cache=args.audio_features)
        start = time.perf_counter()
        features = pd.DataFrame(
            encoder.fit_transform(paths), columns=encoder.get_feature_names_out(), index=df.index
        )
        notes.append(
            f"AudioFeatures(): {features.shape[1]} features per clip; "
            f"{time.perf_counter() - start:.1f} s to compute or load them from the cache "
            f"{args.audio_features}."
        )
        df = pd.concat([df, features.add_prefix("af_")], axis=1)
        spec = ("passthrough", ["af_" + c for c in features.columns])
        candidates.update(models(face, spec, args.quick, "AudioFeatures"))
    for name, model in candidates.items():
        if args.only and args.only not in name:
            continue
        start = time.perf_counter()
        pred, fold_acc, chosen = evaluate(model, df, y, groups, cv)
        seconds = time.perf_counter() - start
        report = emotion_report(y, pred)
        rows.append(
            {
                "model": name,
                "accuracy": f"{report['accuracy']:.3f}",
                "fold acc mean ± sd": f"{np.mean(fold_acc):.3f} ± {np.std(fold_acc):.3f}",
                "macro-F1": f"{report['macro_f1']:.3f}",
                "weighted-F1": f"{report['weighted_f1']:.3f}",
                "UAR": f"{report['uar']:.3f}",
                "seconds": f"{seconds:.1f}",
            }
        )
        print(rows[-1], flush=True)
        if chosen:
            notes.append(f"{name}: parameters chosen per outer fold: {chosen}")
    load_avg = os.getloadavg()
    notes += [
        f"Data: {len(y)} RAVDESS clips, {len(face)} face AU features; 'CSV audio' = the "
        f"{len(audio)} precomputed audio_* columns of features.csv (MFCC-based, recipe "
        "undocumented upstream); 'AudioFeatures' = skemotion.AudioFeatures() on the clips; "
        "outer CV StratifiedGroupKFold(5) by actor (no shuffle), inner CV speaker_cv(4).",
        f"Logistic regression C={C} everywhere (not tuned); accuracy etc. pooled over "
        "out-of-fold predictions.",
        f"Load average at the end: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        f"on {os.cpu_count()} cores (shared machine); BLAS and torch at 1 thread.",
    ]
    name = "fusion-quick" if args.quick else "fusion"
    if args.only:
        name += "-" + "".join(ch if ch.isalnum() else "_" for ch in args.only)
    command = "python benchmarks/bench_fusion.py " + " ".join(argv or sys.argv[1:])
    write_results(name, command.strip(), rows, notes)


if __name__ == "__main__":
    main()
