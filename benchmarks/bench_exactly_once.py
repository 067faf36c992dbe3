"""Exactly-once encoding: a parallel grid search on a cold shared cache, per store.

``GridSearchCV(TextEncoder + LogisticRegression, 4 candidates, cv=5, n_jobs=2)`` on
1,000 GoEmotions texts (the train split's first, MiniLM), starting from an empty
cache: the two joblib workers miss the same texts at the same time. The figure that
counts is the total encodes, read in the parent from ``cache.stats()`` (the misses of
every process that used the store), against the number of distinct texts. Before the
claims (the same search on the SQLite cache) it was 320 encodes for 240 distinct texts,
and the parent's stats showed 0 hits and 0 misses.

The same search runs under joblib's default backend and under
``joblib.parallel_config("dask")`` on a ``LocalCluster(n_workers=2)``. Run from the
repository root::

    python benchmarks/bench_exactly_once.py
    SKEMOTION_TEST_POSTGRES=postgresql:///skemotion_test?host=/var/run/postgresql \\
        python benchmarks/bench_exactly_once.py      # also on PostgreSQL

Figures go to stdout and benchmarks/results/exactly_once.{md,json}.
"""

import argparse
import contextlib
import itertools
import os
import sys
import tempfile
import time

from _common import drop_schema, postgres_schema, shared_data, write_results

BACKENDS = {"loky": "loky (default), n_jobs=2", "dask": "dask, LocalCluster(n_workers=2)"}


def run_search(location, texts, y, backend):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline

    from skemotion import EmbeddingCache, TextEncoder

    cache = EmbeddingCache(location)
    pipe = make_pipeline(TextEncoder(device="cpu", cache=cache), LogisticRegression(max_iter=1000))
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 1.0, 10.0, 100.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        n_jobs=2,
        error_score="raise",
    )
    started = time.perf_counter()
    with _backend(backend):
        search.fit(texts, y)
    seconds = time.perf_counter() - started
    stats = cache.stats()
    cache.close()
    return stats, seconds


@contextlib.contextmanager
def _backend(name):
    """joblib's default processes, or a Dask LocalCluster of 2 workers x 1 thread."""
    if name == "loky":
        yield
        return
    import joblib
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                     silence_logs=40) as cluster,
        Client(cluster),
        joblib.parallel_config("dask"),
    ):  # fmt: skip
        yield


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=1000)
    args = parser.parse_args()
    from skemotion.datasets import load_goemotions

    frame = load_goemotions(shared_data("goemotions"), split="train", taxonomy="ekman").frame
    frame = frame.iloc[: args.n_texts]
    texts, y = frame["text"].tolist(), frame["emotion"].tolist()
    distinct = len(set(texts))
    stores = {"SQLite file": None}
    base = os.environ.get("SKEMOTION_TEST_POSTGRES")
    if base:
        stores["PostgreSQL"] = base
    rows = []
    for (name, url), backend in itertools.product(stores.items(), BACKENDS):
        with tempfile.TemporaryDirectory(prefix="skemotion-once-") as folder:
            schema = None
            if url is None:
                location = os.path.join(folder, "cache.sqlite")
            else:
                schema, location = postgres_schema(url)
            try:
                stats, seconds = run_search(location, texts, y, backend)
            finally:
                if schema is not None:
                    drop_schema(url, schema)
        rows.append(
            {
                "store": name,
                "joblib backend": BACKENDS[backend],
                "distinct texts": f"{distinct:,}",
                "encodes (stats misses, all processes)": f"{stats['misses']:,}",
                "hits": f"{stats['hits']:,}",
                "rows stored": f"{stats['rows']:,}",
                "exactly once": stats["misses"] == distinct,
                "seconds": f"{seconds:.1f}",
            }
        )
    notes = [
        f"GridSearchCV(TextEncoder() + LogisticRegression, 4 values of C, "
        f"StratifiedKFold(5), n_jobs=2) on the first {len(texts):,} GoEmotions-Ekman train "
        "texts, each store empty at the start; the figures are read in the parent process.",
        "Backends: joblib's default (loky processes), and joblib.parallel_config('dask') "
        "on a distributed LocalCluster of 2 worker processes x 1 thread.",
    ]
    if not base:
        notes.append(
            "PostgreSQL not measured: set SKEMOTION_TEST_POSTGRES to a database URL to include it."
        )
    command = "python benchmarks/bench_exactly_once.py " + " ".join(sys.argv[1:])
    write_results("exactly_once", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
