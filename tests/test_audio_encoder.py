"""AudioEncoder on tiny random speech models: pooling, masks, batching, layers, chunks, cache."""

import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

pytest.importorskip("transformers")
pytest.importorskip("torch")
sf = pytest.importorskip("soundfile")

from _tiny_models import tiny_audio_model_dir  # noqa: E402

from skemotion import EmbeddingCache  # noqa: E402
from skemotion._encoders._audio_encoder import AudioEncoder  # noqa: E402
from skemotion._encoders._base import MODEL_REGISTRY  # noqa: E402

RATE = 16000
RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech"
KINDS = ["wav2vec2-group", "wav2vec2-layer", "hubert-group", "wavlm-layer"]


def tone(freq=220.0, seconds=0.5, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noisy(seconds, seed):
    rng = np.random.default_rng(seed)
    return (tone(180, seconds) + rng.normal(0, 0.05, int(seconds * RATE))).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_audio_model():
    """A tiny wav2vec2-base-style model (group norm): 2 layers, 16 dimensions."""
    return tiny_audio_model_dir("wav2vec2-group")


@pytest.fixture
def encoder(tiny_audio_model):
    return AudioEncoder(tiny_audio_model, device="cpu", cache=False)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Run the tiny models on one intra-op thread, and restore the setting afterwards.

    Their matrices are too small to share out, and on a busy 2-core machine OpenMP
    workers spin against the other processes: a forward pass measured 17x slower on
    2 threads than on 1. (The encoder itself never changes this process-wide setting.)
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _quiet_wavlm():
    # torch warns inside WavLM's attention (transformers' code, not ours) when it gets
    # a padding mask: the mask is still applied, as the batching test shows.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Support for mismatched key_padding_mask")
        yield


# --- output ------------------------------------------------------------------------------------


def test_output_shape_dtype_and_names(encoder):
    X = encoder.fit_transform([tone(220), tone(330, 0.8)])
    assert X.shape == (2, 16) and X.dtype == np.float32 and np.isfinite(X).all()
    names = encoder.get_feature_names_out()
    assert list(names[:2]) == ["audio_000", "audio_001"] and len(names) == 16
    frame = (
        clone(encoder)
        .set_output(transform="pandas")
        .fit_transform(pd.Series([tone()], index=["a"]))
    )
    assert list(frame.index) == ["a"] and frame.columns[-1] == "audio_015"


@pytest.mark.parametrize("kind", KINDS)
def test_a_clip_embeds_the_same_alone_and_batched_with_longer_clips(kind):
    encoder = AudioEncoder(tiny_audio_model_dir(kind), device="cpu", cache=False, batch_size=8)
    short, others = noisy(0.5, 0), [noisy(s, k) for k, s in enumerate((1.0, 1.7, 2.3), 1)]
    alone = encoder.fit_transform([short])[0]
    batched = encoder.transform([short, *others, noisy(0.5, 9)])
    np.testing.assert_allclose(batched[0], alone, atol=1e-5)
    for k, clip in enumerate(others, 1):
        np.testing.assert_allclose(batched[k], encoder.transform([clip])[0], atol=1e-5)


def test_group_norm_models_batch_only_equal_lengths(encoder, monkeypatch):
    model = encoder._model
    assert not model.takes_padding
    sizes = []
    original = type(model).pooled_sums
    monkeypatch.setattr(
        type(model),
        "pooled_sums",
        lambda self, waves, layers: (
            sizes.append([w.size for w in waves]) or original(self, waves, layers)
        ),
    )
    encoder.fit_transform([noisy(0.5, 0), noisy(1.0, 1), noisy(0.5, 2), noisy(0.5, 3)])
    assert sorted(sizes) == [[8000, 8000, 8000], [16000]]


def test_layer_norm_models_batch_padded_clips_with_a_mask(monkeypatch):
    encoder = AudioEncoder(tiny_audio_model_dir("wav2vec2-layer"), device="cpu", cache=False)
    model = encoder._model
    assert model.takes_padding
    sizes = []
    original = type(model).pooled_sums
    monkeypatch.setattr(
        type(model),
        "pooled_sums",
        lambda self, waves, layers: sizes.append(len(waves)) or original(self, waves, layers),
    )
    encoder.fit_transform([noisy(0.5, 0), noisy(1.0, 1), noisy(0.7, 2)])
    assert sizes == [3]


def test_layers_mean_is_the_mean_of_single_layers(encoder):
    clips = [noisy(0.6, 0), noisy(1.1, 1)]
    single = [clone(encoder).set_params(layer=i).fit_transform(clips) for i in range(3)]
    np.testing.assert_allclose(encoder.fit_transform(clips), np.mean(single, axis=0), atol=1e-5)
    listed = clone(encoder).set_params(layer=[0, 2]).fit_transform(clips)
    np.testing.assert_allclose(listed, (single[0] + single[2]) / 2, atol=1e-5)
    last = clone(encoder).set_params(layer=-1).fit_transform(clips)
    np.testing.assert_array_equal(last, single[2])
    assert not np.allclose(single[0], single[2])


@pytest.mark.parametrize("layer", [3, -4, [0, 5]])
def test_a_layer_the_model_lacks_is_a_clear_error(encoder, layer):
    encoder.set_params(layer=layer).fit([tone()])
    with pytest.raises(ValueError, match=r"'layer' parameter.*3 hidden states.*\[-3, 2\]"):
        encoder.transform([tone()])


@pytest.mark.parametrize("layer", [[], ["a"], [1.5]])
def test_a_bad_layer_list_is_refused_at_fit(encoder, layer):
    with pytest.raises(ValueError, match="'layer' parameter .*list of ints"):
        encoder.set_params(layer=layer).fit([tone()])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"layer": "last"}, "layer"),
        ({"max_seconds": 0.5}, "max_seconds"),
        ({"sampling_rate": 0}, "sampling_rate"),
        ({"on_error": "ignore"}, "on_error"),
    ],
)
def test_bad_parameters_are_named_at_fit(encoder, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        encoder.set_params(**params).fit([tone()])


def test_long_clips_are_pooled_over_equal_pieces(encoder):
    clip = noisy(2.5, 0)
    whole = encoder.fit_transform([clip])[0]
    chunked = clone(encoder).set_params(max_seconds=1.0).fit_transform([clip])[0]
    model = encoder._model
    pieces = np.array_split(model.prepare(clip), 3)  # 2.5 s in pieces of at most 1 s
    sums, counts = model.pooled_sums(pieces, model.layer_indices("mean"))
    np.testing.assert_allclose(chunked, sums.sum(0) / counts.sum(), atol=1e-5)
    assert not np.allclose(chunked, whole)


def test_short_clips_are_padded_to_the_receptive_field(encoder):
    assert encoder._model.min_samples == 400  # 25 ms at 16 kHz
    X = encoder.fit_transform([tone(seconds=0.001), tone(seconds=0.03)])
    assert np.isfinite(X).all()


# --- items -------------------------------------------------------------------------------------


def test_items_of_every_kind_give_the_same_embedding(encoder, tmp_path):
    clip = noisy(0.5, 0)
    path = tmp_path / "clip.wav"
    sf.write(path, clip, RATE, subtype="FLOAT")
    stereo = np.stack([clip * 0.5, clip * 1.5])
    X = encoder.fit_transform(
        [str(path), clip, (clip, RATE), {"array": clip, "sampling_rate": RATE}, stereo]
    )
    np.testing.assert_allclose(X, np.broadcast_to(X[0], X.shape), atol=1e-5)


@pytest.mark.parametrize("rate", [8000, 48000])
def test_other_rates_are_resampled_to_the_models(encoder, tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    sf.write(path, tone(300, rate=rate), rate, subtype="FLOAT")
    X = encoder.fit_transform([str(path), tone(300)])
    # Resampling is not exact (band limits, filter edges) but changes little.
    np.testing.assert_allclose(X[0], X[1], atol=0.05 * np.abs(X[1]).max())


def test_bare_arrays_take_the_sampling_rate_parameter(encoder):
    at_8k = encoder.set_params(sampling_rate=8000).fit_transform([tone(300, rate=8000)])
    paired = encoder.transform([(tone(300, rate=8000), 8000)])
    np.testing.assert_array_equal(at_8k, paired)


@pytest.mark.parametrize(
    "clip, match",
    [
        (np.zeros(0, np.float32), "holds no samples"),
        (np.r_[tone(), np.nan].astype(np.float32), "NaN or infinite"),
    ],
)
def test_empty_and_non_finite_clips_raise_naming_the_item(encoder, clip, match):
    with pytest.raises(ValueError, match=r"AudioEncoder: audio item 1 \(float32 array.*" + match):
        encoder.fit_transform([tone(), clip])


def test_unreadable_files_raise_or_are_skipped(encoder, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n" * 50)
    items = [tone(), str(text), str(tmp_path / "gone.flac")]
    with pytest.raises(ValueError, match=r"audio item 1 \('.*notes.wav'\): the file is not audio"):
        encoder.fit_transform(items)
    with pytest.warns(UserWarning, match=r"could not encode 2 item.*notes.wav.*gone.flac"):
        X = encoder.set_params(on_error="skip", missing="nan").fit_transform(items)
    assert np.isnan(X[1:]).all() and np.isfinite(X[0]).all()


def test_missing_clips_follow_the_missing_policy(encoder):
    with pytest.raises(ValueError, match="audio item 1 is missing"):
        encoder.fit([tone(), None])
    X = encoder.set_params(missing="zeros").fit_transform([tone(), None])
    np.testing.assert_array_equal(X[1], 0.0)


# --- weights, cache, pickling ---------------------------------------------------------------


def test_fingerprint_follows_weights_not_paths(encoder, tiny_audio_model, tmp_path):
    copy = shutil.copytree(tiny_audio_model, tmp_path / "copy")
    same = clone(encoder).set_params(model=str(copy))
    assert same._fingerprint() == encoder._fingerprint()
    assert clone(encoder).set_params(layer=0)._fingerprint() != encoder._fingerprint()
    assert clone(encoder).set_params(max_seconds=5.0)._fingerprint() != encoder._fingerprint()
    (copy / "model.safetensors").write_bytes(b"other weights")
    assert same._fingerprint() != encoder._fingerprint()


def test_grid_search_encodes_each_clip_once(tiny_audio_model, tmp_path, monkeypatch):
    calls = []
    original = AudioEncoder._encode_batch
    monkeypatch.setattr(
        AudioEncoder,
        "_encode_batch",
        lambda self, model, items: calls.append(len(items)) or original(self, model, items),
    )
    clips = [noisy(0.3, seed) for seed in range(16)]
    y = [seed % 2 for seed in range(16)]
    cache = EmbeddingCache(tmp_path)
    pipe = make_pipeline(
        AudioEncoder(tiny_audio_model, device="cpu", cache=cache),
        StandardScaler(),
        LogisticRegression(),
    )
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 10.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    search.fit(clips, y)
    assert sum(calls) == 16 and cache.stats()["rows"] == 16
    calls.clear()
    clone(search).fit(clips, y)
    assert not calls


def test_pickle_carries_no_weights_and_reloads(encoder):
    X = encoder.fit_transform([tone()])
    payload = pickle.dumps(encoder)
    assert len(payload) < 2_000
    MODEL_REGISTRY.clear()
    np.testing.assert_allclose(pickle.loads(payload).transform([tone()]), X, atol=1e-6)


def test_half_precision_on_cpu_is_refused(encoder):
    encoder.set_params(precision="float16").fit([tone()])
    with pytest.raises(ValueError, match="precision='float16' on the CPU"):
        encoder.transform([tone()])


def test_a_model_that_is_not_there_is_a_clear_error(tmp_path):
    encoder = AudioEncoder(str(tmp_path / "no-such-model"), device="cpu", cache=False)
    with pytest.raises(OSError, match="could not load model=.*no-such-model"):
        encoder.fit_transform([tone()])


# --- real speech --------------------------------------------------------------------------------


@pytest.mark.skipif(
    not (RAVDESS / "labels.csv").exists(),
    reason=f"RAVDESS speech clips not found at {RAVDESS} (see ../shared/data/README.md)",
)
def test_ravdess_clips_encode_alone_as_in_a_batch(encoder):
    paths = sorted(str(p) for p in (RAVDESS / "Actor_03").glob("*.flac"))[:4]
    batched = encoder.fit_transform(paths)
    alone = np.vstack([encoder.transform([p]) for p in paths])
    assert np.isfinite(batched).all()
    np.testing.assert_allclose(batched, alone, atol=1e-5)
