"""Class imbalance on GoEmotions-Ekman: class weights, SMOTE, tuned offsets and a recipe.

Usage: python benchmarks/bench_imbalance.py [--cache PATH] [--quick]

GoEmotions mapped to Ekman's 7 classes, single-label rows only ('disgust' is 1.3% of
train). Every model is fitted on train; anything chosen (C, class_weight, offsets) is
chosen on dev; the figures are on test. Rows:

- TextEncoder (all-MiniLM-L6-v2) + LogisticRegression with no weighting,
  ``class_weight="balanced"``, SMOTE (``make_multimodal_pipeline(..., sampler=SMOTE())``),
  and per-class decision offsets tuned on dev (``TunedOffsetClassifierCV``);
- the reference TF-IDF (words) + balanced LogisticRegression;
- the recipe of docs/imbalance.md: TextEncoder + TF-IDF words + TF-IDF characters +
  LogisticRegression, class_weight and C chosen on dev, then offsets tuned on dev.

Figures go to stdout and benchmarks/results/imbalance.{md,json}. The first run embeds
the 54k sentences with MiniLM (28 min measured on 2 loaded cores); the embedding cache
(``--cache``, an SQLite file) makes later runs read them back in seconds.

BLAS is limited to one thread (set before numpy loads): on a shared machine,
multi-threaded BLAS made logistic regression fits many times slower.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
from _common import shared_data, write_results  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import ParameterGrid, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402

from skemotion import (  # noqa: E402
    TextEncoder,
    TunedOffsetClassifierCV,  # noqa: E402
    emotion_report,
    make_multimodal_pipeline,
)
from skemotion.datasets import load_goemotions  # noqa: E402

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "skemotion-goemo-cache.sqlite"
MAX_ITER = 3000  # enough for lbfgs to converge on every row here
RECIPE_GRID = {"logisticregression__class_weight": [None, "balanced"],
               "logisticregression__C": [1.0, 3.0]}  # fmt: skip
QUICK_SIZES = {"train": 6000, "dev": 1500, "test": 1500}


def load_split(split):
    """Single-label rows of one GoEmotions-Ekman split: (DataFrame text/emotion, n dropped)."""
    bunch = load_goemotions(shared_data("goemotions"), split=split, taxonomy="ekman")
    return bunch.frame[["text", "emotion"]].reset_index(drop=True), bunch.n_left_out


def subsample(frame, n):
    if n >= len(frame):
        return frame
    kept, _ = train_test_split(frame, train_size=n, stratify=frame["emotion"], random_state=0)
    return kept.reset_index(drop=True)


def lr(**params):
    return LogisticRegression(max_iter=MAX_ITER, **params)


def minilm_rows(encoder):
    """TextEncoder + LR as make_multimodal_pipeline builds it: weighting and resampling."""
    return {
        "MiniLM + LR (no weighting)": make_multimodal_pipeline({"text": encoder}, lr()),
        "MiniLM + LR(class_weight='balanced')": make_multimodal_pipeline(
            {"text": encoder}, lr(class_weight="balanced")
        ),
        "MiniLM + SMOTE + LR": make_multimodal_pipeline(
            {"text": encoder}, lr(), sampler=SMOTE(random_state=0)
        ),
    }


def recipe(encoder):
    """docs/imbalance.md: sentence embeddings beside word and character TF-IDF."""
    features = make_union(
        clone(encoder),
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3),
    )
    return make_pipeline(features, lr())


def tfidf_reference():
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        lr(class_weight="balanced"),
    )


def row(name, model, X_test, y_test, seconds, rare):
    report = emotion_report(y_test, model.predict(X_test))
    per_class = f1_score(y_test, model.predict(X_test), labels=[rare], average=None)
    return {
        "model": name,
        "macro-F1": f"{report['macro_f1']:.3f}",
        "UAR": f"{report['uar']:.3f}",
        f"{rare} F1": f"{per_class[0]:.3f}",
        "accuracy": f"{report['accuracy']:.3f}",
        "weighted-F1": f"{report['weighted_f1']:.3f}",
        "seconds": f"{seconds:.1f}",
    }


def timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def with_offsets(fitted, X_dev, y_dev):
    """Per-class offsets of an already fitted model, tuned for macro-F1 on dev."""
    return timed_fit(TunedOffsetClassifierCV(FrozenEstimator(fitted)), X_dev, y_dev)


def choose_on_dev(make_model, grid, data):
    """Fit each candidate on train; keep the one of best dev macro-F1 (fitted on train)."""
    (X, y), (X_dev, y_dev) = data["train"], data["dev"]
    best, tried = None, []
    for params in ParameterGrid(grid):
        model, seconds = timed_fit(make_model().set_params(**params), X, y)
        score = f1_score(y_dev, model.predict(X_dev), average="macro")
        tried.append((params, score, seconds))
        print(f"  dev macro-F1 {score:.3f} with {params} ({seconds:.0f} s)", flush=True)
        if best is None or score > best[1]:
            best = (model, score, seconds, params)
    return best, tried


def offsets(tuned):
    return {c: round(float(o), 1) for c, o in zip(tuned.classes_, tuned.offsets_, strict=True)}


def short(params):
    return ", ".join(f"{k.split('__')[-1]}={v!r}" for k, v in params.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", default=str(DEFAULT_CACHE), help="SQLite file of MiniLM embeddings"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="stratified subsample: "
        + ", ".join(f"{n} {split}" for split, n in QUICK_SIZES.items()),
    )
    args = parser.parse_args(argv)

    frames, dropped = {}, {}
    for split in ("train", "dev", "test"):
        frames[split], dropped[split] = load_split(split)
        if args.quick:
            frames[split] = subsample(frames[split], QUICK_SIZES[split])
    y = {split: frame["emotion"].to_numpy(dtype=object) for split, frame in frames.items()}
    counts = frames["train"]["emotion"].value_counts()
    rare = counts.index[-1]
    encoder = TextEncoder(cache=args.cache)
    rows, notes = [], []

    def add(name, model, seconds, X_test):
        rows.append(row(name, model, X_test, y["test"], seconds, rare))
        print(rows[-1], flush=True)

    # 1. MiniLM features: no weighting, balanced class weights, SMOTE, tuned offsets.
    start = time.perf_counter()
    encoder.fit_transform(pd.concat([f["text"] for f in frames.values()]))
    notes.append(
        f"MiniLM embeddings of all splits computed or read from the cache {args.cache} in "
        f"{time.perf_counter() - start:.0f} s (before the rows; rows then read them back)."
    )
    frame_data = {split: (frames[split][["text"]], y[split]) for split in frames}
    fitted = {}
    for name, model in minilm_rows(encoder).items():
        fitted[name] = timed_fit(model, *frame_data["train"])
        add(name, *fitted[name], frame_data["test"][0])
    plain, plain_seconds = fitted["MiniLM + LR (no weighting)"]
    tuned, seconds = with_offsets(plain, *frame_data["dev"])
    add("MiniLM + LR + offsets tuned on dev", tuned, plain_seconds + seconds,
        frame_data["test"][0])  # fmt: skip
    notes.append(f"MiniLM + LR offsets (dev): {offsets(tuned)}")

    # 2. The reference: TF-IDF words + balanced LR.
    text_data = {split: (frames[split]["text"], y[split]) for split in frames}
    model, seconds = timed_fit(tfidf_reference(), *text_data["train"])
    add("TF-IDF words + LR(balanced)", model, seconds, text_data["test"][0])

    # 3. The recipe: class_weight and C chosen on dev, then offsets tuned on dev.
    print("recipe: choosing class_weight and C on dev", flush=True)
    (model, dev_score, seconds, params), tried = choose_on_dev(
        lambda: recipe(encoder), RECIPE_GRID, text_data
    )
    add(f"recipe: MiniLM + TF-IDF words + chars + LR({short(params)})", model, seconds,
        text_data["test"][0])  # fmt: skip
    tuned, offset_seconds = with_offsets(model, *text_data["dev"])
    add("recipe + offsets tuned on dev", tuned, seconds + offset_seconds, text_data["test"][0])
    notes += [
        "recipe candidates (fitted on train, dev macro-F1): "
        + "; ".join(f"{short(p)}: {s:.3f} ({t:.0f} s)" for p, s, t in tried)
        + f". Chosen: {short(params)} (dev {dev_score:.3f}).",
        f"recipe offsets (dev): {offsets(tuned)}; "
        f"dev macro-F1 with them {tuned.best_score_:.3f} (tuned there, so optimistic).",
    ]

    sizes = {split: len(frame) for split, frame in frames.items()}
    load_avg = os.getloadavg()
    notes += [
        f"Data: GoEmotions Ekman, single-label rows: {sizes} (multi-label rows dropped: "
        f"{dropped}{', then a stratified subsample' if args.quick else ''}). Train class "
        f"counts: {counts.to_dict()}; rarest '{rare}' = {counts.iloc[-1] / counts.sum():.1%}.",
        f"Fit on train, chosen on dev, scored on test. LogisticRegression(max_iter={MAX_ITER}), "
        "C=1 unless chosen; SMOTE(random_state=0) to the majority count; offsets = "
        "TunedOffsetClassifierCV(FrozenEstimator(fitted), scoring='f1_macro').fit(dev), added "
        "to log-probabilities. 'seconds' = fitting on train (and tuning on dev) wall time.",
        "TF-IDF words: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2); "
        "chars: TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True, "
        "min_df=3); MiniLM: TextEncoder() (all-MiniLM-L6-v2, 384-d, unit-norm), unscaled.",
        f"Load average at the end: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        f"on {os.cpu_count()} cores (shared machine); BLAS at 1 thread.",
    ]
    command = "python benchmarks/bench_imbalance.py " + " ".join(argv or sys.argv[1:])
    write_results("imbalance-quick" if args.quick else "imbalance", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
