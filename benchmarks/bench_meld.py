"""MELD (Friends dialogues), text only: TextEncoder + LR next to a hand-written TF-IDF + LR.

Fit on MELD's train split, report on its test split (2,610 utterances), with MELD's
standard metric, weighted F1 over the 7 emotions, and macro-F1, UAR and accuracy. The
regularisation ``C`` of each row is chosen on the dev split (never on test). The loader is
:func:`skemotion.datasets.load_meld`; the baseline reads the same frames.

Run from the repository root::

    python benchmarks/bench_meld.py [--cache PATH]

BLAS is limited to one thread (set before numpy loads), as in the other benchmarks.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from _common import shared_data, write_results  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skemotion import TextEncoder, emotion_report  # noqa: E402
from skemotion.datasets import load_meld  # noqa: E402

C_GRID = (0.1, 1.0, 10.0)


def rows_for(name, make, splits):
    """Fit `make(C)` on train for each C, keep the best dev weighted-F1, report on test."""
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = splits
    start = time.perf_counter()
    best = None
    for C in C_GRID:
        model = make(C).fit(X_train, y_train)
        dev_f1 = f1_score(y_dev, model.predict(X_dev), average="weighted")
        if best is None or dev_f1 > best[0]:
            best = (dev_f1, C, model)
    dev_f1, C, model = best
    report = emotion_report(y_test, model.predict(X_test))
    return {
        "model": name,
        "C (dev)": C,
        "weighted-F1": f"{report['weighted_f1']:.3f}",
        "macro-F1": f"{report['macro_f1']:.3f}",
        "UAR": f"{report['uar']:.3f}",
        "accuracy": f"{report['accuracy']:.3f}",
        "dev weighted-F1": f"{dev_f1:.3f}",
        "seconds": f"{time.perf_counter() - start:.1f}",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="embedding cache for TextEncoder (default: none)")
    args = parser.parse_args(argv)
    root = shared_data("meld")
    splits = [load_meld(root, split=s, return_X_y=True) for s in ("train", "dev", "test")]
    splits = [(X["text"].tolist(), y.to_numpy()) for X, y in splits]
    encoder = TextEncoder(cache=args.cache or False)
    rows = [
        rows_for(
            "TextEncoder (MiniLM) + LR",
            lambda C: make_pipeline(encoder, LogisticRegression(C=C, max_iter=2000)),
            splits,
        ),
        rows_for(
            "TextEncoder (MiniLM) + balanced LR",
            lambda C: make_pipeline(
                encoder, LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
            ),
            splits,
        ),
        rows_for(
            "hand-written: TF-IDF (1-2 grams) + LR",
            lambda C: make_pipeline(
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                LogisticRegression(C=C, max_iter=2000),
            ),
            splits,
        ),
    ]
    for row in rows:
        print(row, flush=True)
    n = [len(y) for _, y in splits]
    load_avg = os.getloadavg()
    notes = [
        f"Data: MELD utterance transcripts from ../shared/data/meld, train {n[0]:,} / dev "
        f"{n[1]:,} / test {n[2]:,}; 7 emotions; figures on test. MELD's train/test splits "
        "are by episode, not speaker-independent (its main characters speak in every split).",
        f"C chosen from {C_GRID} by weighted-F1 on dev. TextEncoder seconds include "
        "embedding (a cache makes later runs fast).",
        "These rows are frozen features of single utterances, without the dialogue context "
        "that conversational models use.",
        f"Load average at the end: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        f"on {os.cpu_count()} cores; BLAS at 1 thread.",
    ]
    command = "python benchmarks/bench_meld.py " + " ".join(argv or sys.argv[1:])
    write_results("meld", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
