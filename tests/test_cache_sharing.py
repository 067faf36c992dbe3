"""Exactly-once encoding across processes: claims in the store, counters every process
sees. Against both stores (see test_cache.py for how the PostgreSQL runs are set up)."""

import hashlib
import threading
import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from test_cache import location  # noqa: F401  (the fixture: an SQLite file or a PG schema)

from skemotion import EmbeddingCache, TextEncoder
from skemotion import _cache as cache_module

pytest.importorskip("sentence_transformers", reason="TextEncoder needs sentence-transformers")


def key(i):
    return hashlib.sha256(str(i).encode()).digest()


@pytest.fixture
def cache(location):  # noqa: F811
    cache = EmbeddingCache(location)
    yield cache
    cache.close()


def texts(n):
    words = ["happy", "sad", "angry", "calm", "glad", "upset", "joy", "fear", "love", "hate"]
    return [f"i feel {words[i % 10]} {i}" for i in range(n)]


# --- claims ----------------------------------------------------------------------------------


def test_a_claim_is_held_until_it_is_released_or_expires(cache):
    store = cache._connection()
    keys = [key(i) for i in range(4)]
    assert store.claim("ns", keys[:2], "a", 60) == set(keys[:2])
    # Another owner gets only what nobody holds; the holder renews its own.
    assert store.claim("ns", keys, "b", 60) == set(keys[2:])
    assert store.claim("ns", keys[:2], "a", 60) == set(keys[:2])
    store.release("ns", keys[:1], "a")
    assert store.claim("ns", keys[:2], "b", 60) == {keys[0]}
    # A claim whose lease ran out (its process died) is taken over.
    assert store.claim("ns", [key(9)], "dead", -1.0) == {key(9)}
    assert store.claim("ns", [key(9)], "b", 60) == {key(9)}


def test_stored_keys_are_never_claimed(cache):
    cache.put_many("ns", [key(0)], np.ones((1, 2)))
    assert cache._claim("ns", [key(0), key(1)]) == {key(1)}
    assert cache._claim("other", [key(0)]) == {key(0)}  # namespaces apart


def test_counters_are_the_stores_not_the_handles(location):  # noqa: F811
    first, second = EmbeddingCache(location), EmbeddingCache(location)
    first.put_many("ns", [key(0)], np.ones((1, 2)))
    first.get_many("ns", [key(0), key(1)])
    second.get_many("ns", [key(0)])
    assert (second.hits, second.misses) == (1, 0)  # this handle's own
    assert second.stats() == first.stats() == {"hits": 2, "misses": 1, "rows": 1}
    second.reset_stats()
    assert first.stats() == {"hits": 0, "misses": 0, "rows": 1}
    first.close()
    second.close()


# --- encoders sharing a store ---------------------------------------------------------------


def _counting(monkeypatch):
    counts = {}
    original = TextEncoder._encode_batch

    def counting(self, model, items):
        for item in items:
            counts[item] = counts.get(item, 0) + 1
        time.sleep(0.01 * len(items))  # long enough for the other one to come and wait
        return original(self, model, items)

    monkeypatch.setattr(TextEncoder, "_encode_batch", counting)
    return counts


@pytest.mark.parametrize("handles", ["one each", "one shared"])
def test_two_threads_missing_the_same_texts_encode_each_once(
    tiny_model,
    location,  # noqa: F811
    monkeypatch,
    handles,
):
    counts = _counting(monkeypatch)
    items = texts(60)
    results, errors = {}, []
    shared = EmbeddingCache(location)

    def encode(name):
        try:
            # Each its own handle, as two processes would have; or one handle for both
            # (a threaded worker), whose claims are still each thread's own.
            cache = EmbeddingCache(location) if handles == "one each" else shared
            encoder = TextEncoder(tiny_model, device="cpu", batch_size=4, cache=cache)
            results[name] = encoder.fit_transform(items)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=encode, args=(name,)) for name in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors, errors
    np.testing.assert_array_equal(results["a"], results["b"])
    assert sorted(counts) == sorted(items) and set(counts.values()) == {1}
    assert EmbeddingCache(location).stats() == {"hits": 60, "misses": 60, "rows": 60}


def test_the_claims_of_a_dead_process_are_taken_over(tiny_model, location, monkeypatch):  # noqa: F811
    counts = _counting(monkeypatch)
    items = texts(8)
    encoder = TextEncoder(tiny_model, device="cpu", cache=EmbeddingCache(location))
    namespace = encoder.fit(items)._fingerprint()
    keys = [encoder._item_key(item) for item in items]
    # Another process claimed half of them, then died: its lease runs out in 0.3 s.
    encoder.cache._connection().claim(namespace, keys[:4], "dead-host:1:x", 0.3)
    started = time.monotonic()
    X = encoder.transform(items)
    assert time.monotonic() - started >= 0.3  # it waited for the lease
    assert np.isfinite(X).all() and set(counts.values()) == {1} and len(counts) == 8
    assert encoder.cache.stats() == {"hits": 0, "misses": 8, "rows": 8}


def test_a_parallel_grid_search_encodes_each_distinct_text_once(tiny_model, location):  # noqa: F811
    items = texts(120)
    y = [i % 2 for i in range(len(items))]
    cache = EmbeddingCache(location)
    pipe = make_pipeline(TextEncoder(tiny_model, device="cpu", cache=cache), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        n_jobs=2,
        error_score="raise",
    )
    search.fit(items, y)
    stats = cache.stats()  # every worker process's lookups, read in the parent
    assert stats["misses"] == stats["rows"] == len(items)
    assert stats["hits"] > 0


def test_claims_outlive_a_slow_chunk_by_renewal(tiny_model, location, monkeypatch):  # noqa: F811
    # With a lease shorter than the whole encoding, the claims on later chunks are
    # renewed after each chunk, so a process waiting for them never takes them over.
    monkeypatch.setattr(cache_module, "CLAIM_LEASE_S", 0.5)
    test_two_threads_missing_the_same_texts_encode_each_once(
        tiny_model, location, monkeypatch, "one each"
    )
