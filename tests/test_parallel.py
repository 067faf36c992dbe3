"""encode_dask: the same rows as fit_transform, each item encoded once on a cluster.

In-process tests run on Dask's threaded scheduler. The cluster tests share one
``LocalCluster`` of 2 worker processes with 1 thread each (the machine's 2 cores),
started once for the module; they run against both stores through the ``location``
fixture of test_cache.py (an SQLite file in tmp_path, and a PostgreSQL schema when
``SKEMOTION_TEST_POSTGRES`` is set). The worker-killing test comes last: the nanny
restarts the worker it kills.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from test_cache import location  # noqa: F401  (the fixture: an SQLite file or a PG schema)

from skemotion import EmbeddingCache, TextEncoder, set_config
from skemotion.parallel import encode_dask

dask = pytest.importorskip("dask", reason="encode_dask needs dask: pip install 'skemotion[dask]'")
distributed = pytest.importorskip(
    "distributed", reason="the cluster tests need distributed: pip install 'skemotion[dask]'"
)
dd = pytest.importorskip(
    "dask.dataframe", reason="dask DataFrames need pyarrow: pip install 'skemotion[dask,parquet]'"
)
pytest.importorskip("sentence_transformers", reason="TextEncoder needs sentence-transformers")
import dask.array as da  # noqa: E402
import dask.bag as db  # noqa: E402

CLUSTER_TIMEOUT_S = 120  # per cluster test; each takes a few seconds when healthy
BATCH = 4
CHUNK = BATCH * 8  # items per cache chunk (_BATCHES_PER_CHUNK batches)


def texts(n, start=0):
    words = ["happy", "sad", "angry", "calm", "glad", "upset", "joy", "fear", "love", "hate"]
    return [f"i feel {words[i % 10]} {i}" for i in range(start, start + n)]


def duplicated(n_distinct, n_items, seed=0):
    """`n_items` texts drawn from `n_distinct`, each present, shuffled across partitions."""
    rng = np.random.default_rng(seed)
    distinct = texts(n_distinct)
    items = distinct + list(rng.choice(distinct, n_items - n_distinct))
    return [items[i] for i in rng.permutation(n_items)], distinct


def encoder(tiny_model, **params):
    return TextEncoder(tiny_model, device="cpu", batch_size=BATCH, **params)


# --- in process (threaded scheduler) ------------------------------------------------------


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads", num_workers=4):
        yield


def test_importing_skemotion_imports_no_dask():
    code = "import sys, skemotion, skemotion.parallel; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
@pytest.mark.parametrize("kind", ["series", "frame", "bag", "array"])
def test_encode_dask_equals_fit_transform(tiny_model, threads, tmp_path, kind, fitted):
    items = texts(90)
    expected = encoder(tiny_model, cache=False).fit_transform(items)
    index = pd.Index([f"id{i}" for i in range(90)])
    series = pd.Series(items, index=index, name="text")
    collection = {
        "series": lambda: dd.from_pandas(series, npartitions=4, sort=False),
        "frame": lambda: dd.from_pandas(series.to_frame(), npartitions=4, sort=False),
        "bag": lambda: db.from_sequence(items, npartitions=4),
        "array": lambda: da.from_array(np.asarray(items, dtype=object), chunks=25),
    }[kind]()
    enc = encoder(tiny_model, cache=tmp_path / "cache.sqlite")
    if fitted:
        enc.fit(series.to_frame() if kind == "frame" else items)
    result = encode_dask(enc, collection)
    names = encoder(tiny_model).fit(items).get_feature_names_out()
    if kind in ("series", "frame"):
        assert isinstance(result, dd.DataFrame)
        assert list(result.columns) == list(names)
        computed = result.compute()
        assert computed.index.equals(index)
        assert (computed.dtypes == np.float32).all()
        computed = computed.to_numpy()
    else:
        assert isinstance(result, da.Array) and result.dtype == np.float32
        computed = result.compute()
    assert computed.shape == (90, len(names)) and computed.dtype == np.float32
    np.testing.assert_allclose(computed, expected, rtol=1e-5, atol=1e-6)


def test_threads_of_one_process_encode_each_item_once(tiny_model, threads, tmp_path):
    # Four threads missing the same texts at once: each has its own cache handle, and so
    # its own claims; one handle shared by the threads would let all of them encode.
    items, distinct = duplicated(60, 240)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    X = encode_dask(
        encoder(tiny_model, cache=cache), dd.from_pandas(pd.Series(items), npartitions=8)
    ).compute()
    assert X.shape == (240, 32) and np.isfinite(X.to_numpy()).all()
    stats = cache.stats()
    assert stats["misses"] == stats["rows"] == len(distinct)


def test_the_default_cache_of_this_process_is_the_workers(tiny_model, threads, tmp_path):
    path = tmp_path / "default.sqlite"
    set_config(cache=str(path))
    X = encode_dask(encoder(tiny_model), db.from_sequence(texts(20), npartitions=2)).compute()
    assert X.shape == (20, 32)
    assert EmbeddingCache(path).stats()["rows"] == 20


def test_a_relative_cache_path_is_this_folders(tiny_model, threads, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    enc = encoder(tiny_model, cache="rel/cache.sqlite")
    encode_dask(enc, db.from_sequence(texts(10), npartitions=2)).compute()
    assert EmbeddingCache(tmp_path / "rel" / "cache.sqlite").count() == 10
    assert enc.cache == "rel/cache.sqlite"  # the caller's encoder is left as it was


def test_given_feature_names_skip_the_probe(tiny_model, threads, monkeypatch):
    names = [f"f{i}" for i in range(32)]
    bag = db.from_sequence(texts(8), npartitions=2)
    calls = []
    monkeypatch.setattr(dask, "compute", lambda *a, **k: calls.append(a) or ())
    series = dd.from_pandas(pd.Series(texts(8)), npartitions=2)
    frame = encode_dask(encoder(tiny_model, cache=False), series, feature_names=names)
    assert not calls  # built without computing anything
    monkeypatch.undo()
    assert list(frame.compute().columns) == names
    with pytest.raises(ValueError, match="gave 32 features but feature_names has 3"):
        encode_dask(encoder(tiny_model, cache=False), bag, feature_names=["a", "b", "c"]).compute()


# --- bad inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "collection, match",
    [
        (["a", "b"], "got list. For items in memory, call encoder.fit_transform"),
        (pd.Series(["a", "b"]), "got Series. For items in memory"),
        (np.array(["a", "b"]), "got ndarray"),
    ],
)
def test_a_collection_that_is_not_dask_names_the_fix(tiny_model, collection, match):
    with pytest.raises(TypeError, match=match):
        encode_dask(encoder(tiny_model), collection)


def test_a_dataframe_of_several_columns_or_a_2d_array_is_refused(tiny_model):
    frame = dd.from_pandas(pd.DataFrame({"text": ["a", "b"], "id": [1, 2]}), npartitions=1)
    with pytest.raises(ValueError, match=r"2 columns \['text', 'id'\]. Select the column"):
        encode_dask(encoder(tiny_model), frame)
    with pytest.raises(ValueError, match=r"shape \(2, 1\). Pass array\[:, 0\]"):
        column = da.from_array(np.array([["a"], ["b"]], dtype=object), chunks=1)
        encode_dask(encoder(tiny_model), column)
    with pytest.raises(ValueError, match=r"1-D dask Array of items \(one per sample\); got one"):
        encode_dask(encoder(tiny_model), da.zeros((2, 2, 2)))


def test_an_estimator_that_is_not_an_encoder_is_refused():
    with pytest.raises(TypeError, match="takes a skemotion encoder .* got LogisticRegression"):
        encode_dask(LogisticRegression(), db.from_sequence(["a"]))


def test_without_dask_the_error_names_the_extra(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # makes "import dask" fail
    with pytest.raises(
        ImportError, match=r"encode_dask requires dask: pip install 'skemotion\[dask\]'"
    ):
        encode_dask(encoder(tiny_model), ["a"])


def test_a_bad_item_names_its_partition_and_row(tiny_model, threads):
    series = pd.Series(["fine", "also fine", "ok", None], index=["a", "b", "c", "d"])
    collection = dd.from_pandas(series, npartitions=2, sort=False)
    enc = encoder(tiny_model, cache=False).fit(["fine"])  # fitted: no probe of partition 0
    with pytest.raises(ValueError, match=r"partition 1 of 2: .*item 1 \(index 'd'\) is missing"):
        encode_dask(enc, collection).compute()
    array = da.from_array(np.array(["x", "y", "z", 3], dtype=object), chunks=2)
    with pytest.raises(TypeError, match=r"block 1 of 2: TextEncoder: text item 1 \(index 3\)"):
        encode_dask(enc, array).compute()
    # Unfitted: the probe fits on partition 0, and names it.
    with pytest.raises(ValueError, match=r"partition 0: .*item 0 is missing"):
        encode_dask(encoder(tiny_model, cache=False), db.from_sequence([None, "a"], npartitions=1))


def test_an_empty_first_partition_for_an_unfitted_encoder_names_the_fix(tiny_model, threads):
    bag = db.from_sequence(["a", "b"], npartitions=2).filter(lambda t: t == "b")
    with pytest.raises(ValueError, match=r"first partition.* is empty. Fit the encoder first"):
        encode_dask(encoder(tiny_model, cache=False), bag)
    fitted = encoder(tiny_model, cache=False).fit(["a"])
    assert encode_dask(fitted, bag).compute().shape == (1, 32)  # empty partitions are fine


def test_a_fitted_column_must_match(tiny_model):
    enc = encoder(tiny_model, cache=False).fit(pd.DataFrame({"text": ["a"]}))
    frame = dd.from_pandas(pd.DataFrame({"post": ["a", "b"]}), npartitions=1)
    with pytest.raises(ValueError, match="fitted on column 'text' but the dask DataFrame's column"):
        encode_dask(enc, frame)


@pytest.mark.parametrize(
    "names, error, match",
    [("abc", TypeError, "list of column names, got the str"),
     ([], ValueError, "feature_names is empty"),
     (["a", "a"], ValueError, "must be distinct")],
)  # fmt: skip
def test_bad_feature_names(tiny_model, names, error, match):
    with pytest.raises(error, match=match):
        encode_dask(encoder(tiny_model), db.from_sequence(["a"]), feature_names=names)


def test_the_docstring_follows_numpydoc():
    validate = pytest.importorskip("numpydoc.validate", reason="pip install numpydoc").validate
    ignored = {"GL01", "GL02", "RT02", "SA01", "ES01"}  # as tests/test_docstrings.py
    errors = [
        e for e in validate("skemotion.parallel.encode_dask")["errors"] if e[0] not in ignored
    ]
    assert not errors, errors


# --- on a cluster of 2 worker processes -------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=40,  # logging.ERROR: a killed worker is expected below
    )
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client
    cluster.close()


def _count_loads():
    """In a worker: count TextEncoder._load_model calls, from an empty model registry."""
    from skemotion._encoders import _base

    _base.MODEL_REGISTRY.clear()
    if "_original_load_model" not in TextEncoder.__dict__:  # once per worker process
        TextEncoder._original_load_model = TextEncoder._load_model
        TextEncoder._original_transform = TextEncoder.transform
    load, transform = TextEncoder._original_load_model, TextEncoder._original_transform
    TextEncoder.loads, TextEncoder.partitions = 0, 0

    def counting_load(self, *args):
        TextEncoder.loads += 1
        return load(self, *args)

    def counting_transform(self, X):
        TextEncoder.partitions += 1
        return transform(self, X)

    TextEncoder._load_model = counting_load
    TextEncoder.transform = counting_transform


def _loads():
    return TextEncoder.loads, TextEncoder.partitions


@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_each_worker_loads_the_model_once_and_each_item_is_encoded_once(
    tiny_model,
    client,
    location,  # noqa: F811
):
    client.run(_count_loads)
    items, distinct = duplicated(150, 300)
    cache = EmbeddingCache(location)
    collection = dd.from_pandas(pd.Series(items), npartitions=6)  # duplicates across them
    X = encode_dask(encoder(tiny_model, cache=cache), collection).compute()
    expected = encoder(tiny_model, cache=False).fit_transform(items)
    np.testing.assert_allclose(X.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    stats = cache.stats()  # every worker's lookups
    assert stats["misses"] == stats["rows"] == len(distinct)
    counts = client.run(_loads)
    assert sum(parts for _, parts in counts.values()) >= 6, counts
    # A worker that encoded partitions loaded the model once for all of them.
    assert all(loads == (1 if parts else 0) for loads, parts in counts.values()), counts
    cache.close()


@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_a_grid_search_on_the_cluster_encodes_each_text_once(tiny_model, client, location):  # noqa: F811
    joblib = pytest.importorskip("joblib")
    items = texts(200)
    y = [i % 2 for i in range(len(items))]
    cache = EmbeddingCache(location)
    pipe = make_pipeline(encoder(tiny_model, cache=cache), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        n_jobs=-1,
        error_score="raise",
    )
    with joblib.parallel_config("dask"):
        search.fit(items, y)
    stats = cache.stats()
    assert stats["misses"] == stats["rows"] == len(items)
    assert stats["hits"] > 0
    cache.close()


class SlowAndLogged(distributed.WorkerPlugin):
    """On every worker, the restarted one too: log each chunk's texts to a file of the
    worker's own, once encoded (the log survives a killed process, so the parent counts
    every encoding); claims that run out in 3 s, not 60; `victim` dies in call `kill_at`.
    """

    name = "slow-and-logged"

    def __init__(self, log_dir, victim, kill_at):
        self.log_dir, self.victim, self.kill_at = str(log_dir), victim, kill_at

    def setup(self, worker):
        from skemotion import _cache

        _cache.CLAIM_LEASE_S = 3.0
        if "_original_encode_batch" not in TextEncoder.__dict__:  # once per process
            TextEncoder._original_encode_batch = TextEncoder._encode_batch
        original = TextEncoder._original_encode_batch
        kill_at = self.kill_at if worker.address == self.victim else None
        log_dir, calls = self.log_dir, [0]

        def encode_batch(encoder, model, items):
            calls[0] += 1
            if calls[0] == kill_at:
                Path(log_dir, "killed").write_text(str(os.getpid()))
                os._exit(1)
            time.sleep(0.01)
            rows = original(encoder, model, items)
            with open(Path(log_dir, f"encoded-{os.getpid()}.txt"), "a") as log:
                log.write("".join(f"{item}\n" for item in items))
            return rows

        TextEncoder._encode_batch = encode_batch

    def teardown(self, worker):
        _restore_worker()


def _restore_worker():
    from skemotion import _cache

    _cache.CLAIM_LEASE_S = 60.0
    if "_original_encode_batch" in TextEncoder.__dict__:
        TextEncoder._encode_batch = TextEncoder._original_encode_batch


@pytest.mark.timeout(CLUSTER_TIMEOUT_S)
def test_a_worker_killed_mid_encode_loses_no_row(tiny_model, client, location, tmp_path):  # noqa: F811
    # Runs last: the killed worker is restarted by its nanny.
    items, distinct = duplicated(200, 300, seed=1)
    victim, *survivors = sorted(client.scheduler_info()["workers"])
    # Dies encoding its second chunk (TextEncoder._encode_batch takes a chunk of 8
    # batches at once), when its first chunk is stored.
    client.register_plugin(SlowAndLogged(tmp_path, victim, kill_at=2))
    try:
        cache = EmbeddingCache(location)
        collection = dd.from_pandas(pd.Series(items), npartitions=6)
        X = encode_dask(encoder(tiny_model, cache=cache), collection).compute()
    finally:
        # On the survivor only: the restarted worker, busy starting, would keep us waiting
        # (and the next test's plugin replaces this one there).
        client.run(_restore_worker, workers=survivors)
    logs = {log.name: len(log.read_text().splitlines()) for log in tmp_path.glob("encoded-*")}
    assert (tmp_path / "killed").exists(), f"no worker was killed (texts encoded: {logs})"
    expected = encoder(tiny_model, cache=False).fit_transform(items)
    np.testing.assert_allclose(X.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    stats = cache.stats()
    assert stats["rows"] == len(distinct)  # no row lost
    assert stats["misses"] <= len(distinct) + CHUNK
    encoded = pd.Series(
        [line for log in tmp_path.glob("encoded-*.txt") for line in log.read_text().splitlines()]
    ).value_counts()
    assert set(encoded.index) == set(distinct)
    # Encoded twice: at most the killed worker's unfinished chunk.
    assert (encoded > 1).sum() <= CHUNK and encoded.max() <= 2, encoded[encoded > 1]
    cache.close()
