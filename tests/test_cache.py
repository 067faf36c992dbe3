"""Tests for the embedding cache, against both stores: an SQLite file and PostgreSQL.

The tests of what every cache guarantees (round trips, namespaces, first writer wins,
counters, threads, pickling, concurrent writer processes, a writer killed mid-chunk,
claims) run once per store, through the ``location`` fixture. The PostgreSQL runs need
a server: ``SKEMOTION_TEST_POSTGRES`` names a database on it (``.ci/run`` starts one and
sets it, e.g. ``postgresql:///skemotion_test?host=/var/run/postgresql``); each test gets
a fresh schema there. Without the variable they skip, saying so; with it, a server that
cannot be reached fails them. Tests of the SQLite file itself (paths, permissions, WAL)
run on SQLite only.
"""

import copy
import hashlib
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import warnings
from urllib.parse import quote

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from skemotion import _cache
from skemotion._cache import EmbeddingCache, resolve_cache

DEADLINE_S = 60  # generous upper bound for anything a subprocess does; never reached when healthy


def key(i):
    return hashlib.sha256(str(i).encode()).digest()


def expected(keys, dim):
    """Deterministic vector per key, so any reader can check any row."""
    digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
    return (np.tile(digests, (1, dim // 32)).astype(np.float32) - 100.0) / 7.0


# Prefix of the helper subprocesses' scripts. They load _cache.py by file rather than
# through the package, whose __init__ imports scikit-learn: that would cost seconds
# per process. They check rows with the same formula as the tests.
HELPERS = textwrap.dedent(
    f"""
    import hashlib, importlib.util, os, signal, sqlite3, sys
    import numpy as np

    spec = importlib.util.spec_from_file_location("cache_under_test", {_cache.__file__!r})
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    EmbeddingCache = module.EmbeddingCache

    def key(i):
        return hashlib.sha256(str(i).encode()).digest()

    def expected(keys, dim):
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        return (np.tile(digests, (1, dim // 32)).astype(np.float32) - 100.0) / 7.0
    """
)


def start_python(script, *args):
    """Run ``HELPERS + script`` in a fresh interpreter."""
    return subprocess.Popen(
        [sys.executable, "-c", HELPERS + textwrap.dedent(script), *args],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until(condition, what):
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


POSTGRES = os.environ.get("SKEMOTION_TEST_POSTGRES")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES,
            reason="set SKEMOTION_TEST_POSTGRES to a PostgreSQL database to run the cache "
            "tests against PostgreSQL too (.ci/run starts a server and sets it)",
        ),
    ),
]


def _postgres_schema():
    """A new schema in the test database, and the URL of a cache in it."""
    psycopg = pytest.importorskip("psycopg", reason="pip install 'skemotion[postgres]'")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES else "?"
    return schema, f"{POSTGRES}{separator}options={quote(f'-csearch_path={schema}')}"


def _drop_schema(schema):
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path):
    """Where a fresh cache lives: an SQLite file, or a PostgreSQL schema's URL."""
    if request.param == "sqlite":
        yield tmp_path / "cache.sqlite"
        return
    schema, url = _postgres_schema()
    yield url
    _drop_schema(schema)


def stored_rows(location):
    """(key, dim, vector) of every row, read from the database directly."""
    if isinstance(location, str):
        import psycopg

        with psycopg.connect(location) as conn:
            rows = conn.execute("SELECT key, dim, vector FROM skemotion_embeddings").fetchall()
        return [(bytes(k), d, bytes(v)) for k, d, v in rows]
    with sqlite3.connect(location) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT key, dim, vector FROM embeddings").fetchall()


def assert_rows_are_expected(location, dim):
    """Every row of the database holds the expected vector for its key."""
    rows = stored_rows(location)
    assert rows, "no rows"
    keys = [row[0] for row in rows]
    assert {row[1] for row in rows} == {dim}
    stored = np.frombuffer(b"".join(row[2] for row in rows), dtype="<f4").reshape(len(rows), dim)
    np.testing.assert_array_equal(stored, expected(keys, dim))
    return len(rows)


@pytest.fixture
def cache(location):
    cache = EmbeddingCache(location)
    yield cache
    cache.close()


class Encoder(BaseEstimator):
    def __init__(self, cache=None, dim=4):
        self.cache = cache
        self.dim = dim


# --- basic behaviour ---------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 3, 384, 768])
def test_round_trip_preserves_values_and_dims(cache, dim):
    keys = [key(i) for i in range(5)]
    vectors = np.random.default_rng(dim).normal(size=(5, dim))
    cache.put_many("ns", keys, vectors)
    found = cache.get_many("ns", keys)
    assert set(found) == set(keys)
    for k, v in zip(keys, vectors, strict=True):
        assert found[k].dtype == np.float32 and found[k].shape == (dim,)
        assert found[k].flags.writeable
        np.testing.assert_array_equal(found[k], v.astype(np.float32))


def test_sequence_of_vectors_and_nan_are_accepted(cache):
    vectors = [np.array([1.0, np.nan], dtype=np.float16), [0.5, -2.0]]
    cache.put_many("ns", [key(0), key(1)], vectors)
    found = cache.get_many("ns", [key(0), key(1)])
    np.testing.assert_array_equal(found[key(0)], [1.0, np.nan])
    np.testing.assert_array_equal(found[key(1)], [0.5, -2.0])


def test_vectors_are_raw_float32_little_endian(cache, location):
    cache.put_many("ns", [key(0)], np.array([[1.5, -2.0]]))
    [(_, dim, blob)] = stored_rows(location)
    assert dim == 2 and blob == np.array([1.5, -2.0], dtype="<f4").tobytes()


def test_namespaces_are_isolated(cache):
    cache.put_many("a", [key(0)], np.ones((1, 2)))
    cache.put_many("b", [key(0)], np.zeros((1, 3)))
    np.testing.assert_array_equal(cache.get_many("a", [key(0)])[key(0)], [1, 1])
    np.testing.assert_array_equal(cache.get_many("b", [key(0)])[key(0)], [0, 0, 0])
    assert cache.get_many("c", [key(0)]) == {}
    assert cache.count("a") == cache.count("b") == 1


def test_first_writer_wins(cache):
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    cache.put_many("ns", [key(0), key(0), key(1)], np.full((3, 2), 7.0))
    found = cache.get_many("ns", [key(0), key(1)])
    np.testing.assert_array_equal(found[key(0)], [1, 1])
    np.testing.assert_array_equal(found[key(1)], [7, 7])
    assert len(cache) == 2


def test_hit_and_miss_counters_over_many_chunks(cache):
    keys = [key(i) for i in range(1200)]
    cache.put_many("ns", keys[:700], expected(keys[:700], 32))
    found = cache.get_many("ns", keys + keys[:10])  # duplicates count once
    assert len(found) == 700
    np.testing.assert_array_equal(
        np.stack([found[k] for k in keys[:700]]), expected(keys[:700], 32)
    )
    assert (cache.hits, cache.misses) == (700, 500)
    assert cache.stats() == {"hits": 700, "misses": 500, "rows": 700}
    cache.reset_stats()
    assert cache.stats() == {"hits": 0, "misses": 0, "rows": 700}


def test_count_len_and_clear(cache):
    assert len(cache) == 0
    cache.put_many("a", [key(0), key(1)], np.ones((2, 2)))
    cache.put_many("b", [key(0)], np.ones((1, 2)))
    assert (len(cache), cache.count(), cache.count("a"), cache.count("b")) == (3, 3, 2, 1)
    cache.clear("a")
    assert (len(cache), cache.count("a")) == (1, 0)
    cache.clear()
    assert len(cache) == 0


def test_empty_calls(cache):
    cache.put_many("ns", [], np.empty((0, 4)))
    assert cache.get_many("ns", []) == {}
    assert cache.stats() == {"hits": 0, "misses": 0, "rows": 0}


def test_close_then_reuse(cache):
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    cache.close()
    cache.close()
    assert key(0) in cache.get_many("ns", [key(0)])


def test_threads_share_one_handle(cache):
    errors = []

    def work(t):
        try:
            for b in range(20):
                keys = [key(f"{t}-{b}-{i}") for i in range(10)]
                cache.put_many("ns", keys, expected(keys, 32))
                assert len(cache.get_many("ns", keys)) == 10
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    assert not errors and len(cache) == 800
    assert cache.hits == 800


# --- paths ------------------------------------------------------------------


def test_existing_directory_holds_the_file(tmp_path):
    folder = tmp_path / "with.suffix"
    folder.mkdir()
    assert EmbeddingCache(folder).path == folder.resolve() / "embeddings.sqlite"
    assert EmbeddingCache(str(tmp_path)).path == tmp_path.resolve() / "embeddings.sqlite"


def test_path_without_suffix_is_a_folder_created_lazily(tmp_path):
    cache = EmbeddingCache(tmp_path / "a" / "b")
    assert cache.path == (tmp_path / "a" / "b" / "embeddings.sqlite").resolve()
    assert not (tmp_path / "a").exists()  # __init__ opens nothing
    assert len(cache) == 0
    assert cache.path.is_file()
    cache.close()


def test_path_with_suffix_is_the_file(tmp_path):
    cache = EmbeddingCache(tmp_path / "sub" / "emb.db")
    assert cache.path == (tmp_path / "sub" / "emb.db").resolve()
    assert not cache.path.parent.exists()
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    assert cache.path.is_file()
    cache.close()


def test_home_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # what Windows reads
    assert (
        EmbeddingCache("~/skcache").path == (tmp_path / "skcache" / "embeddings.sqlite").resolve()
    )


def test_repr(tmp_path):
    cache = EmbeddingCache(tmp_path / "x.sqlite")
    assert repr(cache) == f"EmbeddingCache({str((tmp_path / 'x.sqlite').resolve())!r})"


def test_path_is_read_only(tmp_path):
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(AttributeError):
        cache.path = tmp_path / "other.sqlite"


# --- copies, pickling, clone ------------------------------------------------------


def test_pickle_keeps_path_and_resets_counters(cache):
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    cache.get_many("ns", [key(0), key(1)])
    copy_ = pickle.loads(pickle.dumps(cache))
    assert copy_ is not cache and copy_.path == cache.path
    assert (copy_.hits, copy_.misses) == (0, 0)
    assert (cache.hits, cache.misses) == (1, 1)
    np.testing.assert_array_equal(copy_.get_many("ns", [key(0)])[key(0)], [1, 1])
    assert copy_.hits == 1
    copy_.close()


def test_deepcopy_and_clone_share_the_handle(cache):
    assert copy.deepcopy(cache) is cache
    encoder = Encoder(cache=cache)
    cloned = clone(encoder)
    assert cloned is not encoder and cloned.cache is cache
    cloned.cache.get_many("ns", [key(0)])
    assert cache.misses == 1


# --- resolve_cache -------------------------------------------------------------


def test_resolve_cache_off(tmp_path):
    assert resolve_cache(None) is None
    assert resolve_cache(False) is None


def test_resolve_cache_instance_is_returned_as_is(cache):
    assert resolve_cache(cache) is cache


def test_resolve_cache_paths_share_one_handle(tmp_path):
    handle = resolve_cache(str(tmp_path / "c"))
    assert isinstance(handle, EmbeddingCache)
    assert handle.path == (tmp_path / "c" / "embeddings.sqlite").resolve()
    assert resolve_cache(tmp_path / "c") is handle
    assert resolve_cache(tmp_path / "c" / "embeddings.sqlite") is handle
    assert resolve_cache(tmp_path / "d") is not handle


@pytest.mark.parametrize("bad", [True, 3, b"/tmp/cache", ["/tmp/cache"]])
def test_resolve_cache_rejects_other_types(bad):
    with pytest.raises(TypeError, match=r"cache must be None, False, a str or path-like") as info:
        resolve_cache(bad)
    assert repr(bad) in str(info.value)


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        [b"short"],
        [key(0).hex()],
        [bytearray(key(0))],
        [key(0) + b"x"],
        key(0),  # one digest instead of a list of them
    ],
)
def test_bad_keys_raise(cache, keys):
    with pytest.raises(ValueError, match="key"):
        cache.put_many("ns", keys, np.ones((1, 2)))
    with pytest.raises(ValueError, match="key"):
        cache.get_many("ns", keys)


@pytest.mark.parametrize(
    ("vectors", "match"),
    [
        (np.ones((2, 2)), "1 keys but 2 vectors"),
        (np.ones(2), "2-D"),
        (np.ones((1, 2, 2)), "2-D"),
        ([np.ones((2, 2))], "1-D"),
        (np.ones((1, 0)), "non-empty"),
        (np.ones((1, 2), dtype=int), "float"),
        (np.array([["a", "b"]]), "float"),
        (np.array([[1.0, np.inf]]), "infinite"),
        (np.array([[1e300, 0.0]]), "infinite"),
    ],
)
def test_bad_vectors_raise(cache, vectors, match):
    with pytest.raises(ValueError, match=match):
        cache.put_many("ns", [key(0)], vectors)
    assert len(cache) == 0


@pytest.mark.parametrize("namespace", ["", None, b"ns"])
def test_bad_namespace_raises(cache, namespace):
    with pytest.raises(ValueError, match="namespace"):
        cache.put_many(namespace, [key(0)], np.ones((1, 2)))


def test_newer_schema_is_refused(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    cache.close()
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE name = 'schema_version'")
    with pytest.raises(RuntimeError, match=r"c\.sqlite.*schema version 999"):
        EmbeddingCache(tmp_path / "c.sqlite").get_many("ns", [key(0)])


def test_not_a_database_names_the_file(tmp_path):
    (tmp_path / "junk.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match=r"junk.sqlite.*not an SQLite database.*cache="):
        len(EmbeddingCache(tmp_path / "junk.sqlite"))


# --- processes -----------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_opens_its_own_connection(cache):
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    parent_store = cache._store
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            cache.put_many("ns", [key(1)], np.ones((1, 2)))
            code = 0 if cache._store is not parent_store and len(cache) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache._store is parent_store
    assert len(cache.get_many("ns", [key(0), key(1)])) == 2


def test_concurrent_writers(location):
    path = location
    n_workers, n_batches, batch = 4, 100, 10
    script = f"""
        cache = EmbeddingCache({str(path)!r})
        print("ready", flush=True)
        sys.stdin.readline()  # start together
        for b in range({n_batches}):
            # half the keys are shared by all workers, half are this worker's own
            keys = [key(f"shared-{{b}}-{{i}}") for i in range({batch} // 2)]
            keys += [key(f"{{sys.argv[1]}}-{{b}}-{{i}}") for i in range({batch} // 2)]
            cache.put_many("ns", keys, expected(keys, 64))
            assert len(cache.get_many("ns", keys)) == len(keys)
    """
    workers = [start_python(script, f"w{w}") for w in range(n_workers)]
    try:
        for proc in workers:
            assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        for proc in workers:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in workers:
            _, err = proc.communicate(timeout=DEADLINE_S)
            assert proc.returncode == 0, err
    finally:
        for proc in workers:
            proc.kill()
            proc.wait()
    half = batch // 2
    expected_keys = {key(f"shared-{b}-{i}") for b in range(n_batches) for i in range(half)}
    expected_keys |= {
        key(f"w{w}-{b}-{i}")
        for w in range(n_workers)
        for b in range(n_batches)
        for i in range(half)
    }
    assert assert_rows_are_expected(path, 64) == len(expected_keys)
    stored = [row[0] for row in stored_rows(path)]
    assert len(stored) == len(set(stored)) and set(stored) == expected_keys


KILL_BATCH, KILL_DIM = 2000, 384


def check_after_kill(path, batches):
    """Whole batches only, right values, and the file still takes writes."""
    n_rows = assert_rows_are_expected(path, KILL_DIM)
    assert n_rows % KILL_BATCH == 0 and n_rows // KILL_BATCH in batches
    cache = EmbeddingCache(path)
    keys = [key(f"after-{i}") for i in range(KILL_BATCH)]
    cache.put_many("ns", keys, expected(keys, KILL_DIM))
    assert len(cache) == n_rows + KILL_BATCH
    cache.close()
    assert_rows_are_expected(path, KILL_DIM)


def test_writer_killed_by_parent_leaves_whole_batches(location):
    path = location
    proc = start_python(
        f"""
        cache = EmbeddingCache({str(path)!r})
        b = 0
        while True:
            keys = [key(f"{{b}}-{{i}}") for i in range({KILL_BATCH})]
            cache.put_many("ns", keys, expected(keys, {KILL_DIM}))
            b += 1
        """
    )
    reader = EmbeddingCache(path)
    seen = []

    def committed_a_batch():
        assert proc.poll() is None, proc.communicate()[1]
        if isinstance(path, os.PathLike) and not path.exists():
            return False
        seen.append(reader.count())
        return seen[-1] >= KILL_BATCH

    try:
        wait_until(committed_a_batch, "the writer's first batch")
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=DEADLINE_S)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # The reader only ever saw whole batches, while the writer was writing.
    assert all(n % KILL_BATCH == 0 for n in seen)
    reader.close()
    check_after_kill(path, batches=range(1, 10**6))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writer_killed_just_before_commit_leaves_nothing_of_that_batch(tmp_path):
    # The trace callback sees each statement as it starts: the writer kills itself
    # with the third batch inserted but its COMMIT not yet run.
    path = tmp_path / "killed.sqlite"
    proc = start_python(
        f"""
        armed = False

        def trace(sql):
            if armed and sql == "COMMIT":
                os.kill(os.getpid(), signal.SIGKILL)

        connect = sqlite3.connect

        def traced_connect(*args, **kwargs):
            conn = connect(*args, **kwargs)
            conn.set_trace_callback(trace)
            return conn

        sqlite3.connect = traced_connect
        cache = EmbeddingCache({str(path)!r})
        for b in range(3):
            armed = b == 2
            keys = [key(f"{{b}}-{{i}}") for i in range({KILL_BATCH})]
            cache.put_many("ns", keys, expected(keys, {KILL_DIM}))
        """
    )
    try:
        _, err = proc.communicate(timeout=DEADLINE_S)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, err
    check_after_kill(path, batches=[2])


def test_locked_errors_are_retried_then_raised(monkeypatch):
    monkeypatch.setattr(_cache, "_LOCK_BACKOFF_S", 0.0)
    calls = []

    def flaky(n_failures):
        calls.append(n_failures)
        if len(calls) <= n_failures:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert _cache._retry(flaky, 2) == "done" and len(calls) == 3
    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _cache._retry(flaky, 100)
    assert len(calls) == _cache._LOCK_RETRIES

    def broken():
        calls.append("broken")
        raise sqlite3.OperationalError("no such table: embeddings")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _cache._retry(broken)
    assert calls == ["broken"]  # only "locked" is retried


# --- a cache that degrades instead of failing ------------------------------------------


def _filled_cache(path, n=3, dim=32):
    cache = EmbeddingCache(path)
    keys = [key(i) for i in range(n)]
    cache.put_many("ns", keys, expected(keys, dim))
    cache.close()
    return keys


def _as_unwritable(monkeypatch):
    # Root (as in this project's containers) bypasses file permissions, so chmod alone
    # cannot make a file unwritable here: the check the cache makes is patched instead.
    monkeypatch.setattr(_cache, "_writable", lambda path: False)


def test_a_read_only_cache_serves_its_rows_and_warns_that_nothing_is_stored(tmp_path, monkeypatch):
    path = tmp_path / "cache.sqlite"
    keys = _filled_cache(path)
    _as_unwritable(monkeypatch)
    cache = EmbeddingCache(path)
    # Said when the cache opens, so also where every item turns out to be a hit.
    with pytest.warns(UserWarning, match=r"cache.sqlite is read-only.*served.*nothing new"):
        found = cache.get_many("ns", keys)
    np.testing.assert_array_equal(np.stack([found[k] for k in keys]), expected(keys, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per handle
        cache.put_many("ns", [key(98)], expected([key(98)], 32))
    assert cache.count() == 3


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root bypasses file permissions, so a chmod-ed cache stays writable",
)
def test_a_cache_file_without_write_permission_is_read_only(tmp_path):
    path = tmp_path / "cache.sqlite"
    keys = _filled_cache(path)
    path.chmod(0o400)
    tmp_path.chmod(0o500)
    try:
        cache = EmbeddingCache(path)
        assert len(cache.get_many("ns", keys)) == 3
        with pytest.warns(UserWarning, match="read-only"):
            cache.put_many("ns", [key(99)], expected([key(99)], 32))
    finally:
        tmp_path.chmod(0o700)


def test_a_write_refused_by_sqlite_turns_the_cache_read_only(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    len(cache)

    def refuse(conn, params):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(_cache, "_insert", refuse)
    with pytest.warns(UserWarning, match="read-only"):
        cache.put_many("ns", [key(1)], expected([key(1)], 32))


def test_a_full_disk_warns_and_the_encoder_still_returns_every_row(tmp_path):
    pytest.importorskip("torch", reason="FaceEncoder needs torch")
    from skemotion import FaceEncoder

    faces = [np.full((48, 48), level, np.uint8) for level in range(0, 250, 10)]
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    conn = cache._connection().conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the database cannot grow: "full"
    encoder = FaceEncoder("embedding", device="cpu", cache=cache)  # 25 x 512 bytes: > a page
    with pytest.warns(UserWarning, match=r"could not store 25 embedding.*disk is full"):
        X = encoder.fit_transform(faces)
    np.testing.assert_allclose(X, clone(encoder).set_params(cache=False).fit_transform(faces))
    assert cache.count() == 0


def test_a_parent_that_is_a_file_is_named_with_the_fix(tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=r"notes.txt is a file, not a folder.*cache="):
        len(EmbeddingCache(tmp_path / "notes.txt" / "cache.sqlite"))


def test_a_new_cache_in_a_folder_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()

    def refuse(path, flags, mode=0o777):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_cache.os, "open", refuse)
    with pytest.raises(PermissionError, match=r"cannot create .*locked.*not writable.*cache="):
        len(EmbeddingCache(folder / "cache.sqlite"))


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    conn.close()
    with pytest.raises(ValueError, match=r"app.sqlite .*did not create.*users.*left untouched"):
        len(EmbeddingCache(path))
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert tables == {"users"}


def test_new_cache_files_are_private_to_their_owner(tmp_path):
    cache = EmbeddingCache(tmp_path / "new" / "cache.sqlite")
    cache.put_many("ns", [key(1)], expected([key(1)], 32))
    for suffix in ("", "-wal"):
        mode = os.stat(f"{cache.path}{suffix}").st_mode & 0o777
        assert mode == 0o600, (suffix, oct(mode))
    cache.close()
