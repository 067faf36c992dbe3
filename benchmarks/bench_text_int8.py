"""TextEncoder(precision="int8") against float32 SentenceTransformer.encode: speed and accuracy.

Usage: python benchmarks/bench_text_int8.py [--n 2000] [--n-train 5000] [--repeats 3]

1. Speed: the same GoEmotions sentences, batch size 32, through float32
   ``SentenceTransformer.encode`` (the raw library) and ``TextEncoder(precision="int8")``
   (cache off), timed in alternation, best of `--repeats`; the ratio is float32 time /
   int8 time (>= 2.0 is the target). The one-off ONNX export is timed apart.
2. Accuracy: TextEncoder + LogisticRegression(max_iter=1000) fitted on the first
   `--n-train` single-label GoEmotions-Ekman train texts and scored on the whole
   single-label test split, at float32 and at int8 (macro-F1 within 0.01 is the target),
   beside the plain scikit-learn recipe on the same texts (TF-IDF + LogisticRegression);
   and how close the int8 rows are to float32's (cosine).
Figures go to stdout and benchmarks/results/text_int8.{md,json}.
"""

import argparse
import os
import sys
import tempfile

import numpy as np
from _common import shared_data, timed, write_results
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from skemotion import TextEncoder


def ekman_split(split, limit=None):
    """(texts, labels) of the single-label rows of a GoEmotions-Ekman split."""
    rows = shared_data("goemotions", "ekman", f"{split}.tsv").read_text(encoding="utf-8")
    texts, labels = [], []
    for line in rows.splitlines():
        text, label, _ = line.split("\t")
        if "," not in label:
            texts.append(text)
            labels.append(int(label))
    return texts[:limit], np.asarray(labels[:limit])


def compare_speed(float32, int8, sentences, repeats):
    """Best of `repeats` runs each, alternating, so both see the same machine state."""
    raw = float32._model  # the very SentenceTransformer TextEncoder loaded
    direct, ours = [], []
    for _ in range(repeats):
        seconds, X_direct = timed(lambda: raw.encode(sentences, batch_size=32))
        direct.append(seconds)
        seconds, X_int8 = timed(lambda: int8.transform(sentences))
        ours.append(seconds)
    return min(direct), min(ours), X_direct, X_int8


def tfidf_macro_f1(train, test):
    """The recipe a scikit-learn user writes without any model: TF-IDF + LR."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    predicted = model.fit(train[0], train[1]).predict(test[0])
    return f1_score(test[1], predicted, average="macro")


def macro_f1(encoder, train, test):
    model = LogisticRegression(max_iter=1000).fit(encoder.transform(train[0]), train[1])
    return f1_score(test[1], model.predict(encoder.transform(test[0])), average="macro")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences timed")
    parser.add_argument("--n-train", type=int, default=5000, help="training texts for macro-F1")
    parser.add_argument("--n-test", type=int, default=None, help="test texts (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    # The export goes to a fresh folder, so its one-off cost is measured here too.
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="skemotion-int8-bench-")

    sentences = ekman_split("train", args.n)[0]
    float32 = TextEncoder(device="cpu", precision="float32", cache=False).fit(sentences)
    float32.transform(sentences[:64])  # load the model before the clock
    int8 = TextEncoder(device="cpu", precision="int8", cache=False).fit(sentences)
    export, _ = timed(lambda: int8.transform(sentences[:64]))  # exports, then loads
    direct, ours, X_float32, X_int8 = compare_speed(float32, int8, sentences, args.repeats)
    cosines = (X_float32 * X_int8).sum(1) / (
        np.linalg.norm(X_float32, axis=1) * np.linalg.norm(X_int8, axis=1)
    )
    train, test = ekman_split("train", args.n_train), ekman_split("test", args.n_test)
    f1_float32, f1_int8 = macro_f1(float32, train, test), macro_f1(int8, train, test)
    f1_tfidf = tfidf_macro_f1(train, test)

    n = len(sentences)
    rows = [
        {
            "run": "SentenceTransformer.encode, float32",
            "seconds": f"{direct:.2f}",
            "sentences/s": f"{n / direct:.0f}",
            "macro-F1 (Ekman test)": f"{f1_float32:.3f}",
        },
        {
            "run": 'TextEncoder(precision="int8"), ONNX Runtime',
            "seconds": f"{ours:.2f}",
            "sentences/s": f"{n / ours:.0f}",
            "macro-F1 (Ekman test)": f"{f1_int8:.3f}",
        },
        {
            "run": "TF-IDF + LogisticRegression (no model; accuracy only)",
            "seconds": "",
            "sentences/s": "",
            "macro-F1 (Ekman test)": f"{f1_tfidf:.3f}",
        },
    ]
    notes = [
        f"{n:,} GoEmotions-Ekman train sentences, batch size 32, all-MiniLM-L6-v2, CPU, "
        f"torch and ONNX Runtime at their default threads; best of {args.repeats} "
        "alternating runs, the int8 model exported and loaded before the clock.",
        f"int8 / float32 throughput: {direct / ours:.2f}x (target >= 2.0x).",
        f"macro-F1: TextEncoder + LogisticRegression(max_iter=1000) fitted on the first "
        f"{len(train[0]):,} single-label train texts, scored on the {len(test[0]):,} "
        f"single-label test texts: float32 {f1_float32:.3f}, int8 {f1_int8:.3f} "
        f"(difference {f1_int8 - f1_float32:+.3f}; target within 0.01); TF-IDF + "
        f"LogisticRegression(max_iter=1000) on the same texts {f1_tfidf:.3f}.",
        f"int8 rows against float32's: cosine mean {cosines.mean():.4f}, lowest "
        f"{cosines.min():.4f}.",
        f"The one-off export to ONNX and int8 (first use on a machine): {export:.1f} s.",
    ]
    command = "python benchmarks/bench_text_int8.py " + " ".join(argv or sys.argv[1:])
    write_results("text_int8", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
