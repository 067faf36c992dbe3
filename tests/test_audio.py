"""AudioFeatures: acoustic summary statistics of clips given as files, arrays, pairs, dicts."""

import pickle
import sys
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

from skemotion import EmbeddingCache
from skemotion._encoders import _frame_store
from skemotion._encoders._audio_features import FEATURE_GROUPS, STATISTICS, AudioFeatures

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")

RATE = 16000
RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech"


def tone(freq=220.0, seconds=0.5, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def voice(seconds=0.5, rate=RATE, seed=0):
    """A 150 Hz buzz with harmonics and a little noise: a spectrum with no empty band."""
    t = np.arange(int(seconds * rate)) / rate
    harmonics = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20))
    noise = np.random.default_rng(seed).normal(0, 0.02, t.size)
    return (0.3 * harmonics + noise).astype(np.float32)


def semitones_to_hz(semitones):
    return 27.5 * 2 ** (np.asarray(semitones) / 12)


@pytest.fixture
def features():
    return AudioFeatures(cache=False)


@pytest.fixture
def wav(tmp_path):
    """A 0.5 s 220 Hz tone as a float WAV file, and its samples."""
    path = tmp_path / "tone.wav"
    sf.write(path, tone(), RATE, subtype="FLOAT")
    return str(path)


def column(X, names, name):
    return X[:, list(names).index(name)]


# --- output ---------------------------------------------------------------------------------


def test_default_output_shape_names_and_dtype(features):
    X = features.fit_transform([tone(220), tone(330), tone(440)])
    names = features.get_feature_names_out()
    rows = 20 + 20 + 7 + 8  # mfcc, deltas, contrast, and one row for each other group
    assert X.shape == (3, rows * 4) == (3, len(names))
    assert X.dtype == np.float32 and np.isfinite(X).all()
    assert {"mfcc03_mean", "mfcc03_delta_p90", "contrast6_std", "pitch_std", "rms_p10"} <= set(
        names
    )
    assert not any(name.startswith("chroma") for name in names)


def test_pitch_and_voicing_of_tones_and_noise(features):
    noise = np.random.default_rng(0).normal(0, 0.3, RATE // 2).astype(np.float32)
    enc = features.set_params(features=("pitch", "voicing"), stats=("mean", "std"))
    X = enc.fit_transform([tone(150), tone(220), tone(440), noise])
    names = enc.get_feature_names_out()
    np.testing.assert_allclose(
        semitones_to_hz(column(X, names, "pitch_mean")[:3]), [150, 220, 440], rtol=0.01
    )  # YIN: ~0.5 % high
    assert (column(X, names, "pitch_std")[:3] < 0.1).all()
    voicing = column(X, names, "voicing_mean")
    assert (voicing[:3] > 0.9).all() and voicing[3] < 0.5


def test_a_clip_without_voiced_frames_has_zero_pitch(features):
    noise = np.random.default_rng(1).normal(0, 0.3, RATE // 2).astype(np.float32)
    X = features.set_params(features=("pitch",), stats=STATISTICS).fit_transform([noise])
    np.testing.assert_array_equal(X, 0.0)


@pytest.mark.parametrize("stats", [("mean",), ("max", "min"), STATISTICS])
def test_statistics_are_selectable_and_named(features, stats):
    enc = features.set_params(features=("rms",), stats=stats)
    X = enc.fit_transform([tone(), tone(amplitude=0.1)])
    assert list(enc.get_feature_names_out()) == [f"rms_{s}" for s in stats]
    if stats == ("max", "min"):
        assert (X[:, 0] >= X[:, 1]).all()
    np.testing.assert_allclose(X[0, 0] - X[1, 0], 20 * np.log10(5), atol=0.05)  # 14 dB


def test_every_group_alone_matches_its_slice_of_all_groups(features):
    clips = [tone(220), tone(300, seconds=0.7)]
    whole = features.set_params(features=FEATURE_GROUPS).fit_transform(clips)
    names = list(features.get_feature_names_out())
    for group in ("chroma", "pitch", "zcr"):
        alone = clone(features).set_params(features=(group,))
        part = alone.fit_transform(clips)
        columns = [names.index(name) for name in alone.get_feature_names_out()]
        np.testing.assert_allclose(part, whole[:, columns], rtol=1e-6)


def test_feature_names_and_pandas_output(features):
    features.set_params(features=("rms", "zcr"), stats=("mean",)).set_output(transform="pandas")
    frame = features.fit_transform(pd.Series([tone(), tone(330)], index=["a", "b"]))
    assert list(frame.columns) == ["rms_mean", "zcr_mean"]
    assert list(frame.index) == ["a", "b"]


def test_sampling_rate_changes_the_analysis_and_names(features):
    X = features.set_params(sampling_rate=8000).fit_transform([tone(rate=8000)])
    # At 8 kHz only 5 octave bands from 200 Hz fit under Nyquist: 6 contrast rows.
    assert sum(n.startswith("contrast") for n in features.get_feature_names_out()) == 6 * 4
    assert np.isfinite(X).all()


def test_mel_window_sets_the_mfcc_analysis_and_nothing_else(features):
    clips = [voice(), tone(330, seconds=0.7)]
    enc = features.set_params(features=("mfcc", "mfcc_delta", "rms", "centroid", "pitch"))
    X = enc.fit_transform(clips)
    names = list(enc.get_feature_names_out())
    short = clone(enc).set_params(mel_window=0.025)
    X_short = short.fit_transform(clips)
    assert list(short.get_feature_names_out()) == names  # same rows, other windows
    mel = [i for i, name in enumerate(names) if name.startswith("mfcc")]
    other = [i for i, name in enumerate(names) if not name.startswith("mfcc")]
    np.testing.assert_array_equal(X_short[:, other], X[:, other])
    assert not np.allclose(X_short[:, mel], X[:, mel], rtol=1e-3)


def test_window_sets_the_spectral_analysis_but_not_pitch(features):
    clips = [voice(), tone(330, seconds=0.7)]
    enc = features.set_params(features=("centroid", "zcr", "pitch", "mfcc"), stats=("mean",))
    X = enc.fit_transform(clips)
    names = list(enc.get_feature_names_out())
    X_long = clone(enc).set_params(window=0.128).fit_transform(clips)
    pitch = names.index("pitch_mean")
    np.testing.assert_array_equal(X_long[:, pitch], X[:, pitch])  # its own 50 ms window
    centroid = names.index("centroid_mean")
    assert not np.allclose(X_long[:, centroid], X[:, centroid], rtol=1e-3)
    mfcc = [i for i, name in enumerate(names) if name.startswith("mfcc")]
    np.testing.assert_array_equal(X_long[:, mfcc], X[:, mfcc])  # mel_window is apart


def test_a_longer_mel_window_resolves_the_low_mel_bands(features):
    # Two low tones 25 Hz apart fall in different 20-300 Hz mel bands; with 25 ms
    # (31 Hz) FFT bins their energy smears over the neighbouring bands, with 128 ms
    # (8 Hz) bins it stays in the tone's own band.
    enc = features.set_params(features=("logmel",), stats=("mean",))
    peaks = {}
    for mel_window in (0.025, 0.128):
        X = (
            clone(enc)
            .set_params(mel_window=mel_window)
            .fit_transform([tone(150, seconds=1.0), tone(175, seconds=1.0)])
        )
        top = np.sort(X, axis=1)
        peaks[mel_window] = top[:, -1] - top[:, -2]  # peak band over the runner-up, dB
    assert (peaks[0.128] > peaks[0.025]).all()


def test_logmel_and_second_order_deltas(features):
    librosa = pytest.importorskip("librosa")
    enc = features.set_params(features=("logmel", "mfcc_delta2"), stats=("mean", "std"))
    X = enc.fit_transform([tone(1000, seconds=1.0)])
    names = list(enc.get_feature_names_out())
    assert len(names) == (40 + 20) * 2
    assert names[0] == "logmel00_mean" and "mfcc19_delta2_std" in names
    # The loudest band of a 1 kHz tone is the one centred nearest 1 kHz.
    means = X[0, [names.index(f"logmel{i:02d}_mean") for i in range(40)]]
    centres = librosa.mel_frequencies(n_mels=42, fmin=20.0, fmax=7600.0)[1:-1]
    assert np.argmax(means) == np.argmin(np.abs(centres - 1000))
    # A steady tone: its MFCCs do not accelerate.
    delta2 = X[0, [names.index(f"mfcc{i:02d}_delta2_mean") for i in range(20)]]
    np.testing.assert_allclose(delta2, 0.0, atol=0.1)  # MFCC 0 is ~-300 here


def test_a_clip_shorter_than_the_mel_window_is_zero_padded(features):
    enc = features.set_params(mel_window=0.5, features=("mfcc", "rms"))
    X = enc.fit_transform([tone(seconds=0.05), tone(seconds=0.6)])
    assert np.isfinite(X).all()


def test_frames_all_takes_the_silence_into_the_statistics(features):
    silence = np.zeros(RATE // 2, np.float32)
    padded = np.concatenate([silence, voice(), silence])  # a third speech, two thirds silence
    enc = features.set_params(features=("rms", "pitch", "voicing", "mfcc"), stats=("mean",))
    active = enc.fit_transform([padded, voice()])
    names = enc.get_feature_names_out()
    every = clone(enc).set_params(frames="all").fit_transform([padded, voice()])
    # Without silence every frame is active: both choices give the same statistics.
    np.testing.assert_allclose(every[1], active[1], rtol=1e-6)
    # With it, "active" summarises the speech alone (as the clip without silence does),
    # "all" mixes in the -100 dB frames of digital silence.
    rms = list(names).index("rms_mean")
    np.testing.assert_allclose(active[0, rms], active[1, rms], atol=1.5)  # edge frames
    assert every[0, rms] < active[0, rms] - 40
    # Voicing: silent frames count as unvoiced (0), about two thirds of them.
    voicing = list(names).index("voicing_mean")
    np.testing.assert_allclose(every[0, voicing], active[0, voicing] / 3, rtol=0.15)
    # Pitch is taken over voiced frames whatever `frames` says.
    pitch = list(names).index("pitch_mean")
    np.testing.assert_allclose(every[0, pitch], active[0, pitch], rtol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"features": ("mfcc", "loudness")}, "'features' parameter.*'loudness'"),
        ({"features": ()}, "'features' parameter"),
        ({"features": ("rms", "rms")}, "'features' parameter"),
        ({"stats": ("mean", "mode")}, "'stats' parameter.*'mode'"),
    ],
)
def test_bad_feature_or_statistic_names_are_named_at_fit(features, params, match):
    with pytest.raises(ValueError, match=match):
        features.set_params(**params).fit([tone()])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sampling_rate": 100}, "sampling_rate"),
        ({"feature_set": "compare"}, "feature_set"),
        ({"n_mfcc": 0}, "n_mfcc"),
        ({"features": "mfcc"}, "features"),
        ({"on_error": "ignore"}, "on_error"),
        ({"frames": "voiced"}, "frames"),
        ({"window": 0}, "window"),
        ({"window": "25ms"}, "window"),
        ({"mel_window": 1.0}, "mel_window"),
    ],
)
def test_bad_parameters_are_named_at_fit(features, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        features.set_params(**params).fit([tone()])


# --- items -----------------------------------------------------------------------------------


def test_every_kind_of_item_gives_the_same_features(features, wav):
    samples, _ = sf.read(wav, dtype="float32")
    items = [
        wav,
        Path(wav),
        samples,
        (samples, RATE),
        {"array": samples, "sampling_rate": RATE, "path": "ignored.wav"},
        samples.astype(np.float64),
    ]
    X = features.fit_transform(items)
    np.testing.assert_allclose(X, np.broadcast_to(X[0], X.shape), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "fmt, subtype", [("flac", "PCM_16"), ("ogg", "VORBIS"), ("mp3", "MPEG_LAYER_III")]
)
def test_compressed_files_are_read(features, tmp_path, fmt, subtype):
    if fmt.upper() not in sf.available_formats():
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) does not read {fmt}")
    path = tmp_path / f"tone.{fmt}"
    sf.write(path, tone(330), RATE, subtype=subtype)
    enc = features.set_params(features=("pitch",), stats=("median",))
    pitch = enc.fit_transform([str(path)])[0, 0]
    np.testing.assert_allclose(semitones_to_hz(pitch), 330, rtol=0.01)


@pytest.mark.parametrize("rate", [8000, 22050, 48000])
def test_any_rate_is_resampled(features, tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    sf.write(path, tone(440, rate=rate), rate, subtype="FLOAT")
    enc = features.set_params(features=("pitch", "rms", "centroid"), stats=("median",))
    X = enc.fit_transform([str(path), (tone(440, rate=rate), rate), tone(440)])
    np.testing.assert_allclose(semitones_to_hz(X[:, 0]), 440, rtol=0.005)
    np.testing.assert_allclose(X[:, 1:], np.broadcast_to(X[2, 1:], (3, 2)), rtol=0.02, atol=0.2)


@pytest.mark.parametrize("channels", [2, 6])
def test_stereo_and_surround_are_mixed_down(features, tmp_path, channels):
    mono = voice()
    gains = np.linspace(0.5, 1.5, channels).astype(np.float32)  # mean gain 1
    multi = mono[:, None] * gains[None, :]
    path = tmp_path / f"tone{channels}.wav"
    sf.write(path, multi, RATE, subtype="FLOAT")
    X = features.fit_transform([mono, str(path), multi, np.ascontiguousarray(multi.T)])
    np.testing.assert_allclose(X, np.broadcast_to(X[0], X.shape), rtol=1e-4, atol=1e-4)


def test_pcm_integer_arrays_are_scaled(features):
    pcm = np.round(tone() * 32767).astype(np.int16)
    X = features.fit_transform([pcm, pcm.astype(np.float32) / 32768, pcm.astype(np.int32) << 16])
    np.testing.assert_allclose(X, np.broadcast_to(X[0], X.shape), rtol=1e-5, atol=1e-5)


def test_bare_arrays_are_read_at_the_sampling_rate_parameter(features):
    enc = features.set_params(features=("pitch",), stats=("median",), sampling_rate=8000)
    pitch = enc.fit_transform([tone(220, rate=16000)])[0, 0]
    # 16 kHz samples read as 8 kHz: an octave lower.
    np.testing.assert_allclose(semitones_to_hz(pitch), 110, rtol=0.01)


def test_a_clip_shorter_than_one_window_is_zero_padded(features):
    X = features.fit_transform([tone(seconds=0.005), tone(seconds=0.0001)])  # 80 and 1 samples
    assert np.isfinite(X).all()


# --- bad items ---------------------------------------------------------------------------------


def _bad_files(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is a text file, not audio\n" * 20)
    flac = tmp_path / "cut.flac"
    sf.write(flac, tone(seconds=2.0), RATE)
    flac.write_bytes(flac.read_bytes()[:2000])
    return {"missing": str(tmp_path / "gone.wav"), "text": str(text), "truncated": str(flac)}


@pytest.mark.parametrize(
    "kind, match",
    [
        ("missing", r"audio item 1 \('.*gone.wav'\): .*(no such audio file|No such file)"),
        ("text", r"audio item 1 \('.*notes.wav'\): the file is not audio.*Format not recognised"),
        ("truncated", r"audio item 1 \('.*cut.flac'\): the file is not audio .*truncated"),
    ],
)
@pytest.mark.parametrize("cache", [False, "tmp"])
def test_unreadable_files_raise_naming_the_item(features, tmp_path, kind, match, cache):
    bad = _bad_files(tmp_path)[kind]
    features.set_params(cache=tmp_path / "cache" if cache else False)
    with pytest.raises(ValueError, match=match):
        features.fit_transform([tone(), bad])


@pytest.mark.parametrize(
    "clip, match",
    [
        (np.zeros(0, np.float32), "holds no samples"),
        (np.r_[tone(), np.nan].astype(np.float32), r"1 NaN or infinite sample\(s\).*8000"),
        (np.r_[np.inf, tone()].astype(np.float32), r"NaN or infinite.*first at sample 0"),
    ],
)
def test_empty_and_non_finite_clips_raise_naming_the_item(features, clip, match):
    with pytest.raises(ValueError, match=r"AudioFeatures: audio item 1 \(float32 array.*" + match):
        features.fit_transform([tone(), clip])


def test_skip_fills_bad_clips_and_warns_naming_them(features, tmp_path):
    bad = _bad_files(tmp_path)
    items = [tone(), bad["text"], np.zeros(0, np.float32), tone(330)]
    enc = features.set_params(on_error="skip", missing="nan")
    with pytest.warns(UserWarning, match=r"could not encode 2 item.*notes.wav.*item 2"):
        X = enc.fit_transform(items)
    assert np.isnan(X[[1, 2]]).all() and np.isfinite(X[[0, 3]]).all()


@pytest.mark.parametrize(
    "item, match",
    [
        (5, "is a int .*not an audio clip"),
        (np.zeros((2, 3, 4), np.float32), r"shape \(2, 3, 4\)"),
        (np.zeros((20, 30), np.float32), "at most 8 channels"),
        (np.array(["a", "b"]), "dtype <U1"),
        ((tone(),), r"tuple of 1 values.*\(array, sampling_rate\)"),
        ((tone(), 0), "sampling rate 0"),
        ((tone(), "16k"), "sampling rate '16k'"),
        ({"array": tone()}, r"keys \['array'\].*'sampling_rate'"),
        (([0.1, 0.2], 16000), "holds a list .*np.asarray"),
    ],
)
def test_items_of_the_wrong_kind_raise_a_type_error_at_fit(features, item, match):
    with pytest.raises(TypeError, match=r"AudioFeatures: audio item 1 .*" + match):
        features.fit([tone(), item])


@pytest.mark.parametrize("missing_value", [None, np.nan, "", "  "])
def test_missing_clips_follow_the_missing_policy(features, missing_value):
    with pytest.raises(ValueError, match="audio item 1 is missing"):
        features.fit([tone(), missing_value])
    X = features.set_params(missing="nan").fit_transform([tone(), missing_value])
    assert np.isnan(X[1]).all() and np.isfinite(X[0]).all()


# --- parallelism, cache, pickling ---------------------------------------------------------------


def test_n_jobs_analyses_through_joblib_as_threads_do(features):
    joblib = pytest.importorskip("joblib")
    clips = [tone(f) for f in (150, 220, 330, 440)]
    threads = features.fit_transform(clips)
    # joblib's threading backend runs the n_jobs code path without starting processes
    # (seconds each, with librosa's import); the benchmark runs real processes.
    with joblib.parallel_config(backend="threading"):
        parallel = clone(features).set_params(n_jobs=2).fit_transform(clips)
    np.testing.assert_array_equal(parallel, threads)


def _count_encoded(monkeypatch):
    calls = []
    original = AudioFeatures._encode_batch

    def counting(self, model, items):
        calls.append(len(items))
        return original(self, model, items)

    monkeypatch.setattr(AudioFeatures, "_encode_batch", counting)
    return calls


def test_grid_search_analyses_each_clip_once(tmp_path, monkeypatch):
    calls = _count_encoded(monkeypatch)
    clips = [tone(100 + 20 * i, seconds=0.2) for i in range(20)]
    y = [i % 2 for i in range(20)]
    cache = EmbeddingCache(tmp_path)
    pipe = make_pipeline(
        AudioFeatures(features=("pitch", "rms"), cache=cache),
        StandardScaler(),
        LogisticRegression(),
    )
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 10.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    search.fit(clips, y)
    assert sum(calls) == 20 and cache.stats()["rows"] == 20
    calls.clear()
    clone(search).fit(clips, y)
    assert not calls


def test_fingerprint_follows_the_recipe(features, tmp_path):
    base = features._fingerprint()
    assert clone(features)._fingerprint() == base
    for params in (
        {"stats": ("mean",)},
        {"features": ("mfcc",)},
        {"n_mfcc": 13},
        {"sampling_rate": 22050},
        {"frames": "all"},
        {"window": 0.05},
        {"mel_window": 0.025},
        {"mel_window": 0.064},
    ):
        assert clone(features).set_params(**params)._fingerprint() != base
    # Parallelism and batching do not change the features.
    assert clone(features).set_params(n_jobs=2, batch_size=4)._fingerprint() == base
    # Without a mel group the mel window changes nothing, nor the key.
    rms = clone(features).set_params(features=("rms", "pitch"))
    assert rms.set_params(mel_window=0.064)._fingerprint() == (
        clone(rms).set_params(mel_window=0.025)._fingerprint()
    )


def test_features_cached_before_the_window_parameters_keep_their_keys(features):
    # 25 ms for every group is what every version before `window` and `mel_window`
    # computed: those settings leave the key as it was; the 128 ms MFCC default does not.
    before = {
        "features": ["mfcc", "mfcc_delta", "rms"],
        "stats": ["mean", "std"],
        "n_mfcc": 20,
        "sampling_rate": 16000,
    }
    enc = features.set_params(features=("mfcc", "mfcc_delta", "rms"), stats=("mean", "std"))
    assert enc.set_params(mel_window=0.025)._output_params() == before
    assert clone(enc).set_params(mel_window=0.128)._output_params() == {
        **before,
        "mel_window": 0.128,
    }
    assert AudioFeatures().mel_window == 0.128 and AudioFeatures().window == 0.025


def test_file_and_array_of_the_same_clip_are_cached_apart_but_equal(features, wav, tmp_path):
    cache = EmbeddingCache(tmp_path)
    samples, _ = sf.read(wav, dtype="float32")
    X = features.set_params(cache=cache).fit_transform([wav, samples, (samples, RATE)])
    assert cache.count() == 2  # the file, and the array (bare or paired: one key)
    np.testing.assert_allclose(X[0], X[1], rtol=1e-6)


def test_files_are_keyed_by_content_so_a_copy_hits_and_a_rewrite_misses(features, wav, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    features.set_params(cache=cache)
    copy = tmp_path / "copy.wav"
    copy.write_bytes(Path(wav).read_bytes())
    features.fit_transform([wav, str(copy)])
    assert cache.count() == 1  # one content, one key; the path plays no part
    before = features.transform([wav])
    # Rewritten in place with another clip (another size, a later mtime): a new key,
    # although the file's digest is memoised within the process.
    sf.write(wav, tone(freq=440.0, seconds=0.7), RATE, subtype="FLOAT")
    after = features.transform([wav])
    assert cache.count() == 2
    assert not np.allclose(before, after)


def test_pickle_is_small_and_gives_the_same_features(features):
    X = features.fit_transform([tone()])
    payload = pickle.dumps(features)
    assert len(payload) < 2_000
    np.testing.assert_array_equal(pickle.loads(payload).transform([tone()]), X)


def test_no_torch_is_needed(features, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    assert features.fit_transform([tone()]).shape[0] == 1


# --- eGeMAPS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_egemaps_without_opensmile_says_how_to_install_and_the_licence(monkeypatch, on_error):
    monkeypatch.setitem(sys.modules, "opensmile", None)
    enc = AudioFeatures("egemaps", cache=False, on_error=on_error).fit([tone()])
    # Raised as it is, not blamed on (or skipped as) a clip.
    with pytest.raises(ImportError, match="pip install opensmile.*research and educational"):
        enc.transform([tone()])


def test_egemaps_equals_opensmile_itself():
    opensmile = pytest.importorskip("opensmile")
    enc = AudioFeatures("egemaps", cache=False)
    clips = [tone(220), tone(300, seconds=0.8)]
    X = enc.fit_transform(clips)
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    expected = np.vstack([smile.process_signal(c, RATE).to_numpy() for c in clips])
    assert X.shape == (2, 88)
    assert list(enc.get_feature_names_out()) == list(smile.feature_names)
    np.testing.assert_allclose(X, expected, rtol=1e-5)


# --- real speech --------------------------------------------------------------------------------


needs_ravdess = pytest.mark.skipif(
    not (RAVDESS / "labels.csv").exists(),
    reason=f"RAVDESS speech clips not found at {RAVDESS} (see ../shared/data/README.md)",
)


@needs_ravdess
def test_ravdess_clips_give_finite_features_and_sensible_pitch():
    labels = pd.read_csv(RAVDESS / "labels.csv", dtype=str)
    neutral = labels[(labels.emotion == "neutral") & labels.actor.isin(["01", "02"])]
    paths = [str(RAVDESS / p) for p in neutral.path]
    enc = AudioFeatures(stats=("mean", "std", "median"), cache=False)
    X = enc.fit_transform(paths)
    assert X.shape == (len(paths), 165) and np.isfinite(X).all()
    hz = semitones_to_hz(column(X, enc.get_feature_names_out(), "pitch_median"))
    male, female = hz[neutral.actor.to_numpy() == "01"], hz[neutral.actor.to_numpy() == "02"]
    assert 70 < male.mean() < 180 < female.mean() < 300


def test_long_clips_are_analysed_in_blocks_with_the_same_features(monkeypatch):
    from skemotion._encoders import _audio_features

    rng = np.random.default_rng(7)
    t = np.arange(int(4.3 * 16000)) / 16000
    voice = np.sin(2 * np.pi * (180 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    clip = (voice * (t % 1.0 < 0.6) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    recipe = AudioFeatures(features=FEATURE_GROUPS, cache=False)._recipe()
    whole = recipe.extract(clip)
    seen = []
    original = _audio_features._BlockFrames.__init__

    def recording(self, *args):
        original(self, *args)
        seen.append(self.block)

    monkeypatch.setattr(_audio_features._BlockFrames, "__init__", recording)
    monkeypatch.setattr(_audio_features, "_BLOCK_SECONDS", 0.7)  # 7 blocks
    np.testing.assert_array_equal(recipe.extract(clip), whole)
    assert seen  # the blocks were used


def test_spectral_contrast_is_floored_over_the_whole_clip_as_librosa_does():
    librosa = pytest.importorskip("librosa", reason="librosa is the reference")

    from skemotion._encoders._audio_features import (
        _CONTRAST_FMIN,
        _floored_contrast,
        _loudest_peak_and_valley,
        spectral_peaks_and_valleys_db,
    )

    # A loud tone, then near-silence more than 80 dB below it: power_to_db's floor,
    # set by the loudest value of the whole clip, clips the quiet frames.
    quiet = 1e-6 * np.random.default_rng(3).standard_normal(RATE).astype(np.float32)
    S = np.abs(librosa.stft(np.r_[tone(seconds=1.0, amplitude=0.9), quiet], n_fft=1024))
    expected = librosa.feature.spectral_contrast(S=S, sr=RATE, fmin=_CONTRAST_FMIN, n_bands=6)
    db = spectral_peaks_and_valleys_db(S, RATE, _CONTRAST_FMIN, 6)
    # Peaks and valleys of blocks, floored with the loudest of them all, give the same.
    split = RATE // 256 + 8  # a hop is 256 samples: frames of near-silence only
    blocks = [db[:, :split], db[:, split:]]
    loudest = np.max([_loudest_peak_and_valley(block) for block in blocks], axis=0)
    floored = np.concatenate([_floored_contrast(block, loudest) for block in blocks], axis=1)
    np.testing.assert_allclose(floored, expected, rtol=1e-5, atol=1e-4)
    # The floor mattered: flooring the quiet block alone would not give librosa's values.
    alone = _floored_contrast(blocks[1], _loudest_peak_and_valley(blocks[1]))
    assert not np.allclose(alone, expected[:, split:], atol=1e-2)


def test_a_long_file_streamed_from_disk_gives_the_whole_clip_features(tmp_path, monkeypatch):
    from skemotion._encoders import _audio_features

    # Stereo at 44.1 kHz (mixed down and resampled block by block), 3 s and one frame:
    # the file's last block is a single frame of two channels, and soxr's stream
    # ends a sample short of librosa.resample's length.
    left, right = tone(220, 3.0, 44100), voice(3.0, 44100)
    path = str(tmp_path / "long.wav")
    sf.write(path, np.stack([np.r_[left, 0.1], np.r_[right, -0.1]], axis=1), 44100)
    features = AudioFeatures(features=FEATURE_GROUPS, cache=False)
    whole = features.fit_transform([path])  # 3 s: one pass over the whole waveform
    streamed = []
    original = _audio_features.stream_audio
    monkeypatch.setattr(
        _audio_features,
        "stream_audio",
        lambda item, **kwargs: streamed.append(item) or original(item, **kwargs),
    )
    monkeypatch.setattr(_audio_features, "_BLOCK_SECONDS", 0.7)  # streamed, in 5 blocks
    monkeypatch.setattr(_frame_store, "READ_FRAMES", 64)  # and read back in pieces
    np.testing.assert_array_equal(features.transform([path]), whole)
    assert streamed == [path]


def test_pandas_output_keeps_a_series_index_in_a_column_transformer(tmp_path):
    # A ColumnTransformer passes a Series for a column named by a string; in a CV fold
    # its index is not 0..n-1, and the encoder's rows must keep it to line up with the
    # other columns' (scikit-learn < 1.7 gave a Series' output a fresh index).
    from sklearn.compose import ColumnTransformer

    paths = []
    for i, freq in enumerate((200, 300, 400, 500)):
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], tone(freq), RATE)
    frame = pd.DataFrame({"audio": paths, "au": [1.0, 2.0, 3.0, 4.0]}, index=[7, 3, 9, 1])
    enc = AudioFeatures(features=("rms",), stats=("mean",), cache=False)
    out = ColumnTransformer([("audio", enc, "audio"), ("face", "passthrough", ["au"])])
    X = out.set_output(transform="pandas").fit_transform(frame)
    assert list(X.index) == [7, 3, 9, 1] and X.shape == (4, 2)
    assert list(X["face__au"]) == [1.0, 2.0, 3.0, 4.0]
    plain = AudioFeatures(features=("rms",), stats=("mean",), cache=False)
    assert isinstance(plain.fit_transform(frame["audio"]), np.ndarray)  # default output
