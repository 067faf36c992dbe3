"""Bad inputs to the embedding cache: each named with the fix, or a documented fallback.

Found by benchmarks/sweep_bad_inputs.py (the "cache: " cases); kept fixed here.
"""

import hashlib
import os
import re
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from skemotion import _cache
from skemotion._cache import EmbeddingCache, resolve_cache


def key(i):
    return hashlib.sha256(str(i).encode()).digest()


@pytest.mark.parametrize("location", ["", "   "])
def test_an_empty_path_is_refused_rather_than_naming_a_file_in_the_working_folder(location):
    with pytest.raises(ValueError, match=r"empty path.*cache=False"):
        EmbeddingCache(location)
    with pytest.raises(ValueError, match="empty path"):
        resolve_cache(location)


@pytest.mark.parametrize("location", [None, 123, ["a.sqlite"]])
def test_a_location_of_the_wrong_type_is_named_with_the_fix(location):
    with pytest.raises(TypeError, match=rf"got .*{type(location).__name__}.*cache=False"):
        EmbeddingCache(location)


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://me@localhost/db", "mysql://me@localhost/db", "file:///tmp/x"]
)
def test_urls_of_other_schemes_are_refused_not_taken_as_paths(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scheme = url.split("://")[0]
    with pytest.raises(
        ValueError, match=rf"cannot use a {re.escape(scheme)}:// URL.*postgresql://"
    ):
        EmbeddingCache(url)
    assert not any(tmp_path.iterdir())  # nothing created under a folder called "mysql:"


def test_a_url_that_does_not_parse_is_named_with_its_password_hidden():
    with pytest.raises(ValueError, match=r"postgresql://me:\*\*\*@\[::1/db.*does not parse") as e:
        EmbeddingCache("postgresql://me:secret@[::1/db")
    assert "secret" not in str(e.value)
    with pytest.raises(ValueError, match="does not parse"):
        EmbeddingCache("postgresql://me@localhost:port/db")


def test_get_many_of_an_iterator_counts_each_key_once(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    found = cache.get_many("ns", (key(i) for i in range(3)))
    assert list(found) == [key(0)]
    assert (cache.hits, cache.misses) == (1, 2)


def test_put_many_of_a_dataframe_stores_its_rows(tmp_path):
    cache = EmbeddingCache(tmp_path)
    frame = pd.DataFrame(np.arange(8.0).reshape(2, 4), columns=list("abcd"))
    cache.put_many("ns", [key(0), key(1)], frame)
    found = cache.get_many("ns", [key(0), key(1)])
    np.testing.assert_array_equal(np.stack([found[key(0)], found[key(1)]]), frame.to_numpy())


def _fill_disk_on(monkeypatch, function_name):
    def full(*args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(_cache, function_name, full)


def test_a_full_disk_when_counting_hits_serves_them_with_one_warning(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path)
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    _fill_disk_on(monkeypatch, "_transaction")  # every write: counters, claims
    with pytest.warns(UserWarning, match=r"disk is full.*served.*stats\(\) misses"):
        assert list(cache.get_many("ns", [key(0)])) == [key(0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per handle
        cache.get_many("ns", [key(0)])
    assert cache.hits == 2


def test_a_full_disk_when_claiming_still_returns_every_embedding(tmp_path, monkeypatch):
    from _tiny_models import tiny_text_model_dir

    from skemotion import TextEncoder

    texts = ["one", "two", "three"]
    expected = TextEncoder(tiny_text_model_dir(), device="cpu", cache=False).fit_transform(texts)
    cache = EmbeddingCache(tmp_path)
    len(cache)
    _fill_disk_on(monkeypatch, "_transaction")
    _fill_disk_on(monkeypatch, "_insert")
    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=cache)
    with pytest.warns(UserWarning, match="disk is full"):
        X = encoder.fit_transform(texts)
    np.testing.assert_allclose(X, expected, rtol=1e-6)
    monkeypatch.undo()
    assert cache.count() == 0


def test_vectors_of_another_size_than_the_namespace_are_refused(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    with pytest.raises(ValueError, match="holds vectors of 4 floats, but put_many got .* of 5"):
        cache.put_many("ns", [key(1)], np.ones((1, 5)))
    with pytest.raises(ValueError, match=r"vectors of 2 sizes in one call \(3, 4 floats\)"):
        cache.put_many("other", [key(1), key(2)], [np.ones(3), np.ones(4)])
    again = EmbeddingCache(tmp_path / "embeddings.sqlite")  # a new handle reads the size
    with pytest.raises(ValueError, match="holds vectors of 4 floats"):
        again.put_many("ns", [key(1)], np.ones((1, 5)))


def test_a_damaged_row_is_encoded_again_not_waited_for(tmp_path):
    from _tiny_models import tiny_text_model_dir

    from skemotion import TextEncoder

    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=tmp_path)
    expected = encoder.fit_transform(["one", "two"])
    conn = sqlite3.connect(tmp_path / "embeddings.sqlite")
    with conn:
        conn.execute("UPDATE embeddings SET vector = x'00000000'")  # 1 float for 32
    conn.close()
    np.testing.assert_allclose(encoder.fit_transform(["one", "two"]), expected, rtol=1e-6)
    conn = sqlite3.connect(tmp_path / "embeddings.sqlite")
    rows = conn.execute("SELECT COUNT(*) FROM embeddings WHERE length(vector) = 4 * dim")
    assert rows.fetchone()[0] == 2  # rewritten, so later runs hit
    conn.close()


def test_a_password_in_the_query_string_is_hidden():
    from skemotion._cache_postgres import redacted

    url = "postgresql://me@localhost/db?sslmode=disable&password=s3cret&application_name=x"
    assert "s3cret" not in redacted(url) and "password=***" in redacted(url)
    assert "s3cret" not in redacted("postgresql://me:s3cret@localhost/db?password=s3cret")


def test_odd_paths_are_named_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="NUL character"):
        EmbeddingCache(str(tmp_path / "a\0b.sqlite"))
    loop = tmp_path / "loop.sqlite"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match=r"cannot use .*loop.sqlite as the embedding cache.*cache="):
        EmbeddingCache(loop)
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        len(EmbeddingCache(fifo))


def test_a_damaged_cache_says_to_delete_it(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("ns", [key(i) for i in range(200)], np.ones((200, 64)))
    cache.close()
    data = bytearray((tmp_path / "c.sqlite").read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of noise
    (tmp_path / "c.sqlite").write_bytes(bytes(data))
    for leftover in tmp_path.glob("c.sqlite-*"):
        leftover.unlink()
    with pytest.raises(ValueError, match=r"c.sqlite is damaged.*Delete it"):
        EmbeddingCache(tmp_path / "c.sqlite").get_many("ns", [key(i) for i in range(200)])


def test_clear_on_a_read_only_cache_says_so(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    cache.close()
    monkeypatch.setattr(_cache, "_writable", lambda path: False)
    read_only = EmbeddingCache(tmp_path / "c.sqlite")
    with (
        pytest.warns(UserWarning, match="read-only"),
        pytest.raises(PermissionError, match="cannot clear"),
    ):
        read_only.clear()


# --- a full disk when the cache is opened -------------------------------------------------


def _full_when_opening(monkeypatch, message="database or disk is full"):
    def full(conn, path):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(_cache, "_init_schema", full)


def test_a_new_cache_on_a_full_disk_is_an_empty_read_only_one(tmp_path, monkeypatch):
    _full_when_opening(monkeypatch)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    with pytest.warns(UserWarning, match=r"c.sqlite could not be opened for writing: the disk"):
        assert cache.get_many("ns", [key(0)]) == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per handle, not again for each put
        cache.put_many("ns", [key(0)], np.ones((1, 4)))
    assert cache.count() == 0 and cache._claim("ns", [key(0)]) == {key(0)}
    with pytest.raises(OSError, match="disk is full"):
        cache.clear()
    monkeypatch.undo()  # space again: the file left is a new cache, not another's
    cache.close()
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    assert cache.count() == 1


def test_an_existing_cache_on_a_full_disk_serves_its_rows(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    cache.close()
    _full_when_opening(monkeypatch, "disk I/O error")  # the -shm file cannot grow
    monkeypatch.setattr(_cache, "_NEARLY_FULL_BYTES", float("inf"))
    with pytest.warns(UserWarning, match="the disk is full .*served"):
        assert list(cache.get_many("ns", [key(0), key(1)])) == [key(0)]
    cache.put_many("ns", [key(1)], np.ones((1, 4)))
    assert cache.count() == 1
    # An I/O error where the disk has room is not taken for a full one.
    monkeypatch.setattr(_cache, "_NEARLY_FULL_BYTES", 0)
    with pytest.raises(sqlite3.DatabaseError, match="disk I/O error"):
        len(EmbeddingCache(tmp_path / "c.sqlite"))


def test_the_encoders_return_every_embedding_on_a_full_disk(tmp_path, monkeypatch):
    from _tiny_models import tiny_text_model_dir

    from skemotion import TextEncoder

    texts = ["one", "two", "three"]
    expected = TextEncoder(tiny_text_model_dir(), device="cpu", cache=False).fit_transform(texts)
    _full_when_opening(monkeypatch)
    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=tmp_path / "c.sqlite")
    with pytest.warns(UserWarning, match=r"c.sqlite could not be opened .*disk is full"):
        X = encoder.fit_transform(texts)
    np.testing.assert_allclose(X, expected, rtol=1e-6)


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 400 KiB (we run as root in CI); skipped where it cannot be mounted."""
    import subprocess

    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder, leave_kib=0):
    with open(folder / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    size = (folder / "filler").stat().st_size
    os.truncate(folder / "filler", max(0, size - leave_kib * 1024))


@pytest.mark.parametrize("leave_kib", [0, 40])
def test_a_new_cache_on_a_really_full_disk(small_disk, leave_kib):
    _fill(small_disk, leave_kib)
    cache = EmbeddingCache(small_disk / "c.sqlite")
    with pytest.warns(UserWarning, match="could not be opened for writing: the disk is full"):
        cache.put_many("ns", [key(0)], np.ones((1, 4)))
    assert cache.count() == 0
    cache.close()
    (small_disk / "filler").unlink()
    cache.put_many("ns", [key(0)], np.ones((1, 4)))  # room again: the cache is made
    assert cache.count() == 1
    cache.close()


def test_an_existing_cache_on_a_disk_with_no_byte_free(small_disk):
    cache = EmbeddingCache(small_disk / "c.sqlite")
    cache.put_many("ns", [key(i) for i in range(3)], np.ones((3, 4)))
    cache.close()
    _fill(small_disk)
    with pytest.warns(UserWarning, match="could not be opened for writing: the disk is full"):
        assert len(cache.get_many("ns", [key(i) for i in range(4)])) == 3
    cache.put_many("ns", [key(3)], np.ones((1, 4)))
    assert cache.count() == 3
    cache.close()


# --- PostgreSQL: schemas, foreign tables, lost connections -------------------------------


@pytest.fixture
def pg_schema():
    from test_cache import POSTGRES, _drop_schema, _postgres_schema

    if not POSTGRES:
        pytest.skip("set SKEMOTION_TEST_POSTGRES to a PostgreSQL database to run these")
    name, url = _postgres_schema()
    yield name, url
    _drop_schema(name)


def _sql(url, *statements):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursors = [conn.execute(statement) for statement in statements]
        return [cursor.fetchall() if cursor.description else None for cursor in cursors]


def test_a_role_that_may_not_use_its_schema_is_told_what_to_grant(pg_schema):
    from test_cache_postgres import READER, _reader_or_skip, as_role

    name, url = pg_schema
    _reader_or_skip(url)
    with pytest.raises(
        PermissionError,
        match=rf"role '{READER}' .* may not use the schema {name} .*GRANT USAGE ON SCHEMA "
        rf"{name} TO {READER}",
    ) as caught:
        len(EmbeddingCache(as_role(url, READER)))
    assert "skemotion_test" in str(caught.value)  # the server's URL
    missing = url.replace(name, "no_such_schema_here")
    with pytest.raises(ValueError, match=r"no_such_schema_here.*CREATE SCHEMA"):
        len(EmbeddingCache(missing))


def test_tables_of_the_caches_names_made_by_another_program_are_left_untouched(pg_schema):
    name, url = pg_schema
    _sql(
        url,
        "CREATE TABLE skemotion_meta (id INT, note TEXT)",
        "CREATE TABLE skemotion_embeddings (id INT, data TEXT)",
    )
    with pytest.raises(
        _cache.CacheFileError,
        match=rf"table {name}.skemotion_embeddings that skemotion did not make "
        r"\(its columns: id integer, data text.*untouched.*cache=",
    ):
        len(EmbeddingCache(url))
    tables = _sql(url, f"SELECT table_name FROM information_schema.tables "
                  f"WHERE table_schema = '{name}' ORDER BY 1")[0]  # fmt: skip
    assert tables == [("skemotion_embeddings",), ("skemotion_meta",)]


def _terminate(cache):
    from test_cache import POSTGRES

    _sql(POSTGRES, f"SELECT pg_terminate_backend({cache._store.conn.info.backend_pid})")


def test_a_connection_ended_by_the_server_is_opened_again(pg_schema):
    _, url = pg_schema
    cache = EmbeddingCache(url)
    cache.put_many("ns", [key(0)], np.ones((1, 4)))
    _terminate(cache)
    assert list(cache.get_many("ns", [key(0), key(1)])) == [key(0)]  # a read, run again
    _terminate(cache)
    cache.put_many("ns", [key(1)], np.full((1, 4), 2.0))  # a transaction, run again
    _terminate(cache)
    assert cache.count() == 2 and cache.stats()["rows"] == 2
    cache.close()


def test_a_connection_that_cannot_be_opened_again_names_the_server(pg_schema, monkeypatch):
    import psycopg

    _, url = pg_schema
    cache = EmbeddingCache(url)
    len(cache)
    _terminate(cache)

    def refused(*args, **kwargs):
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(psycopg, "connect", refused)
    with pytest.raises(ConnectionError, match=r"server of the embedding cache .*skemotion_test"):
        cache.get_many("ns", [key(0)])


def test_another_error_of_the_server_mid_session_names_it(pg_schema):
    import psycopg

    _, url = pg_schema
    cache = EmbeddingCache(url)
    len(cache)
    cache._store.conn.execute("SET lock_timeout = '50ms'")
    with psycopg.connect(url) as other:  # holds the table locked
        other.execute("LOCK TABLE skemotion_embeddings IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(RuntimeError, match=r"server of the embedding cache .*skemotion_test"):
            cache.get_many("ns", [key(0)])
    cache.close()


def test_rows_of_another_size_under_an_encoders_fingerprint_are_named(tmp_path):
    from _tiny_models import tiny_text_model_dir

    from skemotion import TextEncoder

    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=tmp_path)
    encoder.fit_transform(["one"])
    conn = sqlite3.connect(tmp_path / "embeddings.sqlite")
    with conn:  # a well-formed row of 5 floats for "two", as another program might write
        conn.execute(
            "INSERT INTO embeddings SELECT namespace, ?, 5, ? FROM embeddings LIMIT 1",
            (encoder._item_key("two"), np.ones(5, "<f4").tobytes()),
        )
    conn.close()
    with pytest.raises(ValueError, match=r"rows of 2 sizes \(5, 32\).*Clear them"):
        encoder.transform(["one", "two"])


def test_a_transaction_rolled_back_for_a_deadlock_is_run_again(pg_schema, monkeypatch):
    import psycopg

    from skemotion._cache_postgres import PostgresStore, _reconnecting

    _, url = pg_schema
    cache = EmbeddingCache(url)
    len(cache)  # connected
    real, calls = PostgresStore.claim.__wrapped__, []

    def deadlocked_once(self, *args):
        calls.append(args)
        if len(calls) == 1:  # what the server raises for the loser of a deadlock
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return real(self, *args)

    monkeypatch.setattr(PostgresStore, "claim", _reconnecting(deadlocked_once))
    assert cache._claim("ns", [key(1), key(0)]) == {key(0), key(1)}
    assert len(calls) == 2
    cache.close()
