"""TextEncoder throughput against sentence-transformers itself, and the cache's speed-up.

Usage: python benchmarks/bench_text.py [--n 2000] [--batch-size 32] [--repeats 3]

1. TextEncoder (cache off) vs a direct ``SentenceTransformer.encode`` of the same
   GoEmotions sentences with the same batch size and the same loaded model, timed in
   alternation; the ratio is direct time / TextEncoder time (>= 0.95 is the target).
2. A cold cache (empty database: every sentence encoded and written) vs a warm one
   (a fresh clone reading everything back): the speed-up (>= 20x is the target).
Figures go to stdout and benchmarks/results/text.{md,json}.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import shared_data, timed, write_results
from sklearn.base import clone

from skemotion import EmbeddingCache, TextEncoder


def load_sentences(n):
    path = shared_data("goemotions", "ekman", "train.tsv")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines[:n]]


def compare_with_direct(encoder, sentences, repeats):
    """Best of `repeats` alternating runs, so both see the same machine state."""
    model = encoder._model  # the very model TextEncoder uses, loaded once
    encoder.fit(sentences)
    ours, direct = [], []
    for _ in range(repeats):
        seconds, X_ours = timed(lambda: encoder.transform(sentences))
        ours.append(seconds)
        seconds, X_direct = timed(
            lambda: model.encode(sentences, batch_size=encoder.batch_size, convert_to_numpy=True)
        )
        direct.append(seconds)
    np.testing.assert_allclose(X_ours, X_direct, atol=1e-4)
    return min(ours), min(direct)


def compare_cold_warm(encoder, sentences):
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(Path(folder))
        cold_encoder = clone(encoder).set_params(cache=cache).fit(sentences)
        cold, X_cold = timed(lambda: cold_encoder.transform(sentences))
        warm_encoder = clone(encoder).set_params(cache=cache).fit(sentences)
        warm, X_warm = timed(lambda: warm_encoder.transform(sentences))
        np.testing.assert_array_equal(X_cold, X_warm)
        stats = cache.stats()
        cache.close()
    return cold, warm, stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="number of sentences")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args(argv)

    sentences = load_sentences(args.n)
    encoder = TextEncoder(
        batch_size=args.batch_size, device=args.device, precision=args.precision, cache=False
    )
    ours, direct = compare_with_direct(encoder, sentences, args.repeats)
    cold, warm, stats = compare_cold_warm(encoder, sentences)
    n = len(sentences)
    rows = [
        {
            "measure": "TextEncoder, cache off",
            "seconds": f"{ours:.2f}",
            "sentences/s": f"{n / ours:.0f}",
        },
        {
            "measure": "SentenceTransformer.encode",
            "seconds": f"{direct:.2f}",
            "sentences/s": f"{n / direct:.0f}",
        },
        {
            "measure": "cold cache (encode + write)",
            "seconds": f"{cold:.2f}",
            "sentences/s": f"{n / cold:.0f}",
        },
        {
            "measure": "warm cache (read back)",
            "seconds": f"{warm:.3f}",
            "sentences/s": f"{n / warm:.0f}",
        },
    ]
    notes = [
        f"{n} GoEmotions train sentences, batch size {args.batch_size}, model "
        f"all-MiniLM-L6-v2, device {encoder._device_and_dtype()[0]}, precision "
        f"{encoder._device_and_dtype()[1]}; best of {args.repeats} alternating runs.",
        f"TextEncoder / direct throughput ratio: {direct / ours:.3f} (target >= 0.95)",
        f"warm-cache speed-up over cold: {cold / warm:.0f}x (target >= 20x); cache stats {stats}",
    ]
    command = "python benchmarks/bench_text.py " + " ".join(argv or sys.argv[1:])
    name = "text" if args.device in ("auto", "cpu") else f"text-{args.device}"
    write_results(name, command.strip(), rows, notes)


if __name__ == "__main__":
    main()
