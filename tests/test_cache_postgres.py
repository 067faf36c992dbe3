"""What only a PostgreSQL cache has: URLs, servers that cannot be used, roles that may
not create or write the tables. (Everything every cache guarantees is in test_cache.py,
run against both stores.)"""

import os
import pickle
from urllib.parse import quote

import numpy as np
import pytest
from test_cache import POSTGRES, _drop_schema, _postgres_schema, key

from skemotion import EmbeddingCache
from skemotion._cache import resolve_cache

pytestmark = pytest.mark.skipif(
    not POSTGRES,
    reason="set SKEMOTION_TEST_POSTGRES to a PostgreSQL database to run these "
    "(.ci/run starts a server and sets it)",
)
# A role without the right to create tables, which the test role may switch to
# (.ci/run: CREATE ROLE skemotion_reader NOLOGIN; GRANT skemotion_reader TO <test role>).
READER = "skemotion_reader"


@pytest.fixture
def schema():
    name, url = _postgres_schema()
    yield name, url
    _drop_schema(name)


def as_role(url, role):
    return url + quote(f" -crole={role}")


def run_sql(url, *statements):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_a_url_chooses_the_server_store(schema):
    _, url = schema
    cache = EmbeddingCache(url)
    cache.put_many("ns", [key(0)], np.ones((1, 3)))
    assert type(cache._store).__name__ == "PostgresStore"
    assert resolve_cache(url) is resolve_cache(url)
    # Only the URL travels in a pickle; the copy reads the same rows.
    copy = pickle.loads(pickle.dumps(cache))
    np.testing.assert_array_equal(copy.get_many("ns", [key(0)])[key(0)], [1, 1, 1])
    copy.close()
    cache.close()


def test_the_password_is_hidden():
    cache = EmbeddingCache("postgresql://me:s3cret@localhost:1/db")
    assert "s3cret" not in repr(cache) and cache.path == "postgresql://me:***@localhost:1/db"
    with pytest.raises(ConnectionError) as caught:
        len(cache)
    assert "s3cret" not in str(caught.value)


def test_an_unreachable_server_is_named_with_the_fix():
    cache = EmbeddingCache("postgresql:///db?host=/nonexistent/socket/folder")
    with pytest.raises(
        ConnectionError,
        match=r"cannot reach the PostgreSQL server .*/nonexistent.*Start the server",
    ):
        cache.get_many("ns", [key(0)])


def test_a_refused_login_is_named_with_the_fix():
    url = POSTGRES.replace("postgresql://", "postgresql://no_such_role_here@", 1)
    with pytest.raises(
        PermissionError, match=r"refused the embedding cache's login .*Check the user"
    ):
        len(EmbeddingCache(url))


def test_a_missing_database_is_named_with_the_fix():
    url = POSTGRES.replace("/skemotion_test", "/no_such_database_here", 1)
    if url == POSTGRES:
        pytest.skip("the test database's URL does not name it as /skemotion_test")
    with pytest.raises(ValueError, match=r"does not exist.*createdb"):
        len(EmbeddingCache(url))


def _reader_or_skip(url):
    import psycopg

    try:
        run_sql(as_role(url, READER), "SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"the test role cannot become {READER} ({exc}); see .ci/run")


def test_a_database_without_tables_and_no_right_to_create_them(schema):
    name, url = schema
    _reader_or_skip(url)
    run_sql(url, f"GRANT USAGE ON SCHEMA {name} TO {READER}")
    with pytest.raises(
        PermissionError,
        match=r"has no skemotion tables and its role may not create them.*GRANT CREATE",
    ):
        len(EmbeddingCache(as_role(url, READER)))


def test_a_role_that_may_only_read_is_served_and_warned(schema):
    name, url = schema
    _reader_or_skip(url)
    writer = EmbeddingCache(url)
    writer.put_many("ns", [key(0)], np.ones((1, 2)))
    writer.close()
    run_sql(
        url,
        f"GRANT USAGE ON SCHEMA {name} TO {READER}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO {READER}",
    )
    reader = EmbeddingCache(as_role(url, READER))
    # Said when the store opens, so also where every item is a hit; once per handle.
    with pytest.warns(UserWarning, match="is read-only: the embeddings it holds are served"):
        assert key(0) in reader.get_many("ns", [key(0), key(1)])
    reader.put_many("ns", [key(1)], np.ones((1, 2)))
    assert reader.count() == 1
    assert reader._claim("ns", [key(1)]) == {key(1)}  # nothing to share: encode it
    assert reader.stats() == {"hits": 1, "misses": 1, "rows": 1}  # the handle's own
    reader.close()


def test_a_newer_schema_is_refused(schema):
    _, url = schema
    len(EmbeddingCache(url))
    run_sql(url, "UPDATE skemotion_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema version 99; this skemotion understands 1"):
        len(EmbeddingCache(url))


def test_concurrent_first_connections_create_the_tables_once(schema):
    from concurrent.futures import ThreadPoolExecutor

    _, url = schema
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: len(EmbeddingCache(url)), range(8)))
    assert counts == [0] * 8


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_leaves_the_parents_connection_alone(schema):
    _, url = schema
    cache = EmbeddingCache(url)
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            cache.put_many("ns", [key(1)], np.ones((1, 2)))
            code = 0 if len(cache) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(cache.get_many("ns", [key(0), key(1)])) == 2  # the parent's still works
    cache.close()
