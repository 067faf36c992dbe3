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
