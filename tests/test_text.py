import pickle
from collections import Counter

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import needs_minilm
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skemotion import EmbeddingCache, TextEncoder, config_context
from skemotion._encoders._base import MODEL_REGISTRY

TEXTS = ["i am so happy", "this is sad", "i hate this", "very joyful"]


@pytest.fixture
def encoder(tiny_model):
    return TextEncoder(tiny_model, device="cpu")


def _cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@needs_minilm
def test_default_model_is_offline_minilm_and_meaningful():
    X = TextEncoder().fit_transform(["I am so happy", "I feel joyful", "I am furious"])
    assert X.shape == (3, 384)
    assert X.dtype == np.float32
    assert _cosine(X[0], X[1]) > _cosine(X[0], X[2])


@pytest.mark.parametrize(
    "make_input",
    [
        list,
        tuple,
        np.asarray,
        lambda t: np.asarray(t, dtype=object)[:, None],
        pd.Series,
        lambda t: pd.DataFrame({"text": t}),
        lambda t: [[x] for x in t],
    ],
    ids=["list", "tuple", "1d", "2d-one-column", "series", "frame", "nested"],
)
def test_input_containers_give_the_same_embeddings(encoder, make_input):
    expected = encoder.fit_transform(TEXTS)
    got = clone(encoder).fit_transform(make_input(TEXTS))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got.shape == (4, 32)


def test_one_column_frame_records_its_name(encoder):
    encoder.fit(pd.DataFrame({"comment": TEXTS}))
    assert encoder.n_features_in_ == 1
    assert list(encoder.feature_names_in_) == ["comment"]
    with pytest.raises(ValueError, match="fitted on column 'comment'.*column 'other'"):
        encoder.transform(pd.DataFrame({"other": TEXTS}))


def test_several_columns_are_rejected_with_the_fix(encoder):
    frame = pd.DataFrame({"text": TEXTS, "speaker": list("abcd")})
    message = r"2 columns \['text', 'speaker'\].*make_column_transformer"
    with pytest.raises(ValueError, match=message):
        encoder.fit(frame)
    with pytest.raises(ValueError, match="3 columns"):
        encoder.fit(np.full((4, 3), "x", dtype=object))


def test_a_single_string_or_a_generator_is_rejected(encoder):
    with pytest.raises(TypeError, match="single str.*Wrap it in a list"):
        encoder.fit("i am happy")
    with pytest.raises(TypeError, match="one-pass iterator.*list"):
        encoder.fit(text for text in TEXTS)


@pytest.mark.parametrize("missing_value", [None, np.nan, pd.NA, "", "   "])
def test_missing_text_raises_naming_the_row(encoder, missing_value):
    texts = ["i am happy", "so sad", missing_value]
    with pytest.raises(ValueError, match=r"text item 2 is missing.*missing='zeros'"):
        encoder.fit(texts)
    encoder.fit(TEXTS)
    with pytest.raises(ValueError, match="text item 2 is missing"):
        encoder.transform(texts)


def test_missing_error_names_the_pandas_index(encoder):
    series = pd.Series(["happy", None], index=["a", "b"])
    with pytest.raises(ValueError, match=r"text item 1 \(index 'b'\) is missing"):
        encoder.fit(series)


@pytest.mark.parametrize("policy, fill", [("zeros", 0.0), ("nan", np.nan)])
def test_missing_policy_fills_rows(encoder, policy, fill):
    texts = ["i am happy", None, "so sad", np.nan, ""]
    X = encoder.set_params(missing=policy).fit_transform(texts)
    assert X.shape == (5, 32)
    np.testing.assert_array_equal(X[[1, 3, 4]], np.full((3, 32), fill, dtype=np.float32))
    np.testing.assert_allclose(X[[0, 2]], encoder.transform(["i am happy", "so sad"]), atol=1e-6)
    all_missing = encoder.transform([None, None])
    assert all_missing.shape == (2, 32)


@pytest.mark.parametrize("item, kind", [(5, "int"), (b"happy", "bytes"), (["a"], "list")])
def test_non_string_items_raise_naming_the_row(encoder, item, kind):
    with pytest.raises(TypeError, match=rf"text item 1 is a {kind} .*not a string.*astype\(str\)"):
        encoder.fit(["happy", item])


def test_fit_on_no_text_raises(encoder):
    with pytest.raises(ValueError, match="0 sample"):
        encoder.fit([])
    assert encoder.fit(TEXTS).transform([]).shape == (0, 32)


def test_feature_names_and_pandas_output(encoder):
    encoder.set_output(transform="pandas")
    frame = encoder.fit_transform(pd.Series(TEXTS, index=[10, 11, 12, 13]))
    assert list(frame.columns[:2]) == ["text_000", "text_001"]
    assert frame.shape == (4, 32)
    assert list(frame.index) == [10, 11, 12, 13]


def test_normalize_gives_unit_norm(encoder):
    X = encoder.set_params(normalize=True).fit_transform(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"precision": "half"}, "precision"),
        ({"missing": "drop"}, "missing"),
        ({"cache": True}, "cache"),
        ({"cache": 3}, "cache"),
    ],
)
def test_bad_parameters_are_named_at_fit(encoder, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        encoder.set_params(**params).fit(TEXTS)


def test_bad_device_is_named_at_fit(encoder):
    with pytest.raises(ValueError, match="'device' parameter of TextEncoder.*'tpu'"):
        encoder.set_params(device="tpu").fit(TEXTS)


def test_half_precision_on_cpu_is_refused(encoder):
    encoder.set_params(precision="float16").fit(TEXTS)
    with pytest.raises(ValueError, match="precision='float16' on the CPU"):
        encoder.transform(TEXTS)


def test_cuda_without_cuda_is_a_clear_error(encoder):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    encoder.set_params(device="cuda").fit(TEXTS)
    with pytest.raises(RuntimeError, match="no CUDA device.*device='auto'"):
        encoder.transform(TEXTS)


def test_pickle_carries_no_weights_and_reloads(encoder):
    X = encoder.fit_transform(TEXTS)
    payload = pickle.dumps(encoder)
    assert len(payload) < 2_000
    MODEL_REGISTRY.clear()
    np.testing.assert_allclose(pickle.loads(payload).transform(TEXTS), X, atol=1e-6)


@needs_minilm
def test_fitted_pipeline_dump_is_small_and_predicts_identically(tmp_path):
    texts = ["I am so happy", "What a joy", "I am furious", "This makes me angry"] * 3
    y = ["joy", "joy", "anger", "anger"] * 3
    pipe = make_pipeline(TextEncoder(), LogisticRegression()).fit(texts, y)
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    assert path.stat().st_size < 1_000_000
    MODEL_REGISTRY.clear()
    reloaded = joblib.load(path)
    np.testing.assert_array_equal(reloaded.predict(texts), pipe.predict(texts))
    np.testing.assert_allclose(reloaded.predict_proba(texts), pipe.predict_proba(texts))


def test_progress_bar_when_verbose(encoder, capsys):
    encoder.set_params(verbose=True, batch_size=2).fit_transform([f"text {i}" for i in range(10)])
    assert "TextEncoder" in capsys.readouterr().err
    encoder.set_params(verbose=False).fit_transform([f"text {i}" for i in range(10)])
    assert capsys.readouterr().err == ""


# --- the embedding cache, through the encoder ------------------------------------------------


def _count_encoded_texts(monkeypatch):
    """Count every text the model encodes, across all clones of TextEncoder."""
    counts = Counter()
    original = TextEncoder._encode_batch

    def counting(self, model, items):
        counts.update(items)
        return original(self, model, items)

    monkeypatch.setattr(TextEncoder, "_encode_batch", counting)
    return counts


def test_grid_search_encodes_each_unique_text_once(tiny_model, tmp_path, monkeypatch):
    counts = _count_encoded_texts(monkeypatch)
    words = ["happy", "sad", "angry", "calm", "glad", "upset", "joy", "fear", "love", "hate"]
    texts = [f"i feel {w} {i}" for i, w in enumerate(words * 5)] + ["i feel happy 0"] * 5
    y = [i % 2 for i in range(len(texts))]
    cache = EmbeddingCache(tmp_path)
    pipe = make_pipeline(TextEncoder(tiny_model, device="cpu", cache=cache), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    search.fit(texts, y)
    assert len(search.cv_results_["params"]) * search.n_splits_ == 20
    assert set(counts) == set(texts)
    assert max(counts.values()) == 1
    assert cache.stats()["rows"] == len(set(texts))
    # A second search on the same cache encodes nothing at all.
    counts.clear()
    clone(search).fit(texts, y)
    assert not counts


def test_cache_path_string_is_shared_by_clones(tiny_model, tmp_path, monkeypatch):
    counts = _count_encoded_texts(monkeypatch)
    encoder = TextEncoder(tiny_model, device="cpu", cache=str(tmp_path))
    first = encoder.fit_transform(TEXTS)
    second = clone(encoder).fit_transform(TEXTS)
    np.testing.assert_array_equal(first, second)
    assert sum(counts.values()) == len(TEXTS)


def test_cached_embeddings_equal_fresh_ones(encoder, tmp_path):
    fresh = encoder.fit_transform(TEXTS)
    cached = clone(encoder).set_params(cache=tmp_path).fit_transform(TEXTS)
    again = clone(encoder).set_params(cache=tmp_path).fit_transform(TEXTS)
    np.testing.assert_allclose(cached, fresh, atol=1e-6)
    np.testing.assert_array_equal(again, cached)


def test_warm_cache_loads_no_model(encoder, tmp_path, monkeypatch):
    expected = encoder.set_params(cache=tmp_path).fit_transform(TEXTS)
    MODEL_REGISTRY.clear()

    def refuse(*args):
        raise AssertionError("the model was loaded although every text was cached")

    monkeypatch.setattr(TextEncoder, "_load_model", refuse)
    warm = clone(encoder).set_output(transform="pandas").fit_transform(TEXTS)
    np.testing.assert_array_equal(warm.to_numpy(), expected)


def test_output_changing_parameters_get_their_own_cache_entries(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path)
    raw = encoder.set_params(cache=cache).fit_transform(TEXTS)
    unit = clone(encoder).set_params(normalize=True).fit_transform(TEXTS)
    assert cache.stats()["rows"] == 2 * len(TEXTS)
    assert not np.allclose(raw, unit)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)


def test_fingerprint_follows_weights_not_paths(encoder, tiny_model, tmp_path):
    import shutil

    copy = shutil.copytree(tiny_model, tmp_path / "copy")
    same = clone(encoder).set_params(model=str(copy))
    assert same._fingerprint() == encoder._fingerprint()
    (copy / "model.safetensors").write_bytes(b"other weights")
    assert same._fingerprint() != encoder._fingerprint()


def test_global_config_cache_is_used(encoder, tmp_path):
    with config_context(cache=str(tmp_path / "global.sqlite")):
        encoder.fit_transform(TEXTS)
    assert EmbeddingCache(tmp_path / "global.sqlite").count() == len(TEXTS)
    encoder.set_params(cache=False)
    with config_context(cache=str(tmp_path / "unused.sqlite")):
        encoder.fit_transform(TEXTS)
    assert not (tmp_path / "unused.sqlite").exists()


def test_interrupted_encoding_keeps_finished_chunks(encoder, tmp_path, monkeypatch):
    texts = [f"text number {i}" for i in range(40)]
    encoder.set_params(cache=tmp_path, batch_size=2)  # chunks of 16 texts
    original = TextEncoder._encode_batch
    calls = []

    def failing_on_second_chunk(self, model, items):
        calls.append(len(items))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, model, items)

    monkeypatch.setattr(TextEncoder, "_encode_batch", failing_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        encoder.fit_transform(texts)
    assert EmbeddingCache(tmp_path).count() == 16
    monkeypatch.setattr(TextEncoder, "_encode_batch", original)
    counts = _count_encoded_texts(monkeypatch)
    encoder.fit_transform(texts)
    assert sum(counts.values()) == 40 - 16


def test_threads_sharing_one_loaded_model_get_whole_batches(tiny_model):
    # The fast tokenizer keeps padding as state each call sets: threads encoding with
    # the same loaded model (a threaded Dask worker) once corrupted each other's batches.
    from concurrent.futures import ThreadPoolExecutor

    words = ["a", "bb b", "ccc cc c dd", "hello there friend of mine"]
    batches = [[words[(i + j) % 4] * (1 + j % 3) for j in range(7)] for i in range(40)]
    encoder = TextEncoder(tiny_model, device="cpu", cache=False, batch_size=3)
    expected = [encoder.fit_transform(batch) for batch in batches]

    def encode(batch):
        return TextEncoder(tiny_model, device="cpu", cache=False, batch_size=3).fit_transform(batch)

    with ThreadPoolExecutor(4) as pool:
        for got, want in zip(pool.map(encode, batches), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
