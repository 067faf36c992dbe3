"""Bad audio inputs found by the bad-input sweep (benchmarks/bad_input_cases/audio.py): MP3s
cut short (read whole or streamed), files the cache's key cannot read, int16 values in a
float array, and all-zero clips."""

import errno
import os
import warnings

import numpy as np
import pytest

from skemotion import AudioFeatures
from skemotion._encoders import _audio_features, _hashing
from skemotion._encoders._audio_headers import mp3_declares_frames
from skemotion._encoders._audio_items import read_audio_file, stream_audio_file

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")

RATE = 16000
LIGHT = {"features": ("rms", "pitch", "voicing"), "stats": ("mean", "std", "p90")}


def tone(seconds=1.0, rate=RATE, freq=220.0, channels=1, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.repeat(wave[:, None], channels, axis=1)


def column(encoder, X, name):
    return X[:, list(encoder.get_feature_names_out()).index(name)]


# --- MP3s cut short ---------------------------------------------------------------------------


def _mp3(path, seconds=3.0, rate=RATE, channels=1):
    try:
        sf.write(path, tone(seconds, rate, channels=channels), rate, format="MP3")
    except Exception as exc:  # libsndfile < 1.1 writes no MP3
        pytest.skip(f"this libsndfile cannot write MP3 ({exc})")
    return path


def _read_whole_and_streamed(path):
    """What reading `path` whole and as a stream gives: its samples, or the error."""
    outcomes = []
    for read in (
        lambda: read_audio_file(path, caller="test")[0][:, 0],
        lambda: np.concatenate(list(stream_audio_file(path, sampling_rate=RATE, caller="test"))),
    ):
        try:
            outcomes.append(read())
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


@pytest.mark.parametrize(
    "seconds, rate, channels", [(0.3, 16000, 1), (3.0, 16000, 2), (2.0, 44100, 1), (1.0, 8000, 1)]
)
def test_a_complete_mp3_is_read_whole_and_streamed(tmp_path, seconds, rate, channels):
    path = _mp3(tmp_path / "clip.mp3", seconds, rate, channels)
    assert mp3_declares_frames(path)  # libsndfile (LAME) writes a Xing or Info header
    for samples in _read_whole_and_streamed(path):
        assert not isinstance(samples, Exception), samples
    whole = read_audio_file(path, caller="test")[0]
    assert whole.shape[0] == int(seconds * rate)


@pytest.mark.parametrize("keep", [0.5, 0.8, 0.99, 0.999])
def test_an_mp3_cut_short_is_refused_whole_and_streamed(tmp_path, keep):
    path = _mp3(tmp_path / "clip.mp3", seconds=3.0)
    data = path.read_bytes()
    path.write_bytes(data[: min(int(len(data) * keep), len(data) - 1)])
    for outcome in _read_whole_and_streamed(path):
        assert isinstance(outcome, ValueError)
        assert "truncated: its header announces 48,000 frames" in str(outcome)


def test_a_long_mp3_cut_to_99_percent_is_refused_when_streamed(tmp_path):
    # SoundFile.blocks went on yielding whole blocks (the last one again) past the end
    # of a cut-off MP3, so its stream seemed whole.
    path = _mp3(tmp_path / "long.mp3", seconds=12.0)
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.99)])
    encoder = AudioFeatures(cache=False, features=("rms",), stats=("mean",))
    assert encoder._streamed(str(path))
    with pytest.raises(ValueError, match=r"audio item 0 \('.*long.mp3'\): the file is truncated"):
        encoder.fit_transform([str(path)])


def test_the_mp3_frame_count_header_is_found_after_an_id3_tag(tmp_path):
    path = _mp3(tmp_path / "clip.mp3")
    body = b"TIT2" + (6).to_bytes(4, "big") + b"\0\0" + b"\0title" + bytes(14)
    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(b"ID3\x03\x00\x00" + len(body).to_bytes(4, "big") + body + path.read_bytes())
    assert mp3_declares_frames(tagged)
    assert read_audio_file(tagged, caller="test")[0].shape[0] == 3 * RATE


def test_an_mp3_without_a_frame_count_header_is_told(tmp_path):
    path = _mp3(tmp_path / "clip.mp3")
    data = path.read_bytes()
    at = max(data.find(b"Xing", 0, 64), data.find(b"Info", 0, 64))
    path.write_bytes(data[:at] + b"\0\0\0\0" + data[at + 4 :])
    assert not mp3_declares_frames(path)  # libsndfile's count is then an estimate
    (tmp_path / "text.mp3").write_bytes(b"not an mp3 at all")
    assert not mp3_declares_frames(tmp_path / "text.mp3")


# --- files the cache's key cannot read ---------------------------------------------------------


def test_permission_denied_while_hashing_for_the_cache_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "locked-cached.wav"
    sf.write(path, tone(), RATE)

    def denied(real_path, status, prefix):
        raise PermissionError(errno.EACCES, "Permission denied", real_path)

    # As an unreadable file fails for a user without root's DAC override.
    monkeypatch.setattr(_hashing, "_memoised_digest", denied)
    encoder = AudioFeatures(cache=tmp_path / "cache.sqlite", **LIGHT)
    with pytest.raises(
        ValueError,
        match=r"audio item 0 \('.*locked-cached.wav'\): cannot read '.*locked-cached.wav': "
        r"permission denied. Make it readable \(chmod o\+r\)",
    ):
        encoder.fit_transform([str(path)])
    with pytest.raises(PermissionError, match="cannot read .*permission denied. Make it readable"):
        _hashing.file_sha256(path)  # the digest of every encoder's file items and weights


def test_permission_denied_on_a_folder_above_the_file_is_worded_too(tmp_path, monkeypatch):
    path = tmp_path / "clip.wav"
    sf.write(path, tone(), RATE)

    real_stat = os.stat

    def denied(target, *args, **kwargs):  # what stat says under a folder without +x
        if os.fspath(target) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(_hashing.os, "stat", denied)
    with pytest.raises(PermissionError, match=r"cannot read '.*clip.wav': permission denied"):
        _hashing.file_digest(path, b"file\0")


# --- int16 values in a float array -------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        tone() * 32767,
        (tone() * 32767, RATE),
        {"array": tone() * 32767, "sampling_rate": RATE},
        (tone() * 32767).astype(np.float64),
    ],
    ids=["array", "tuple", "dict", "float64"],
)
def test_int16_values_in_a_float_array_are_warned_about(item):
    encoder = AudioFeatures(cache=False, **LIGHT)
    with pytest.warns(UserWarning) as caught:
        X = encoder.fit([tone(), item]).transform([tone(), item])
    messages = [str(w.message) for w in caught]
    assert any(
        "audio item 1 " in m
        and "float samples up to 9,830" in m
        and "float audio is expected in [-1, 1]" in m
        and "divide int16 samples by 32768" in m.lower()
        and "int16 array itself, which is scaled" in m
        for m in messages
    ), messages
    assert np.isfinite(X).all()  # encoded as given


def test_the_warning_names_three_items_and_counts_the_rest():
    loud = tone() * 32767
    with pytest.warns(UserWarning, match=r"audio item 0 .*\[-1, 1\]") as caught:
        AudioFeatures(cache=False, **LIGHT).fit([loud, tone(), loud, loud, loud, loud])
    (message,) = [str(w.message) for w in caught]
    assert "audio item 0 " in message and "audio item 3 " in message
    assert "audio item 4 " not in message and "and 2 more item(s)" in message
    assert message.count("Divide int16 samples") == 1  # the fix, once


@pytest.mark.parametrize(
    "item",
    [tone(), tone() * 2, (tone() * 32767).astype(np.int16), np.zeros(100, np.float32)],
    ids=["tone", "peak 0.6", "int16", "zeros"],
)
def test_audio_in_range_or_scaled_pcm_is_not_warned_about(item):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AudioFeatures(cache=False, **LIGHT).fit_transform([item])


# --- all-zero clips ----------------------------------------------------------------------------


@pytest.mark.parametrize("frames", ["active", "all"])
@pytest.mark.parametrize("seconds", [1.0, 12.0], ids=["whole", "in blocks"])
def test_silence_has_no_pitch_and_no_voicing(frames, seconds):
    encoder = AudioFeatures(cache=False, frames=frames, **LIGHT)
    X = encoder.fit_transform([np.zeros(int(seconds * RATE), np.float32), tone()])
    for stat in LIGHT["stats"]:
        assert column(encoder, X, f"pitch_{stat}")[0] == 0
        assert column(encoder, X, f"voicing_{stat}")[0] == 0
    np.testing.assert_allclose(column(encoder, X, "rms_mean")[0], -100, atol=1e-3)
    assert column(encoder, X, "voicing_mean")[1] > 0.9  # the tone is voiced


def test_a_silent_file_has_no_pitch(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(RATE, np.float32), RATE)
    encoder = AudioFeatures(cache=False, **LIGHT)
    X = encoder.fit_transform([str(path)])
    assert column(encoder, X, "pitch_mean")[0] == 0 and column(encoder, X, "voicing_mean")[0] == 0


def test_silence_is_special_cased_only_when_every_frame_is_at_the_floor(monkeypatch):
    # Clips with frames at the floor (digital silence) but louder ones too: unchanged,
    # also where those frames are within 40 dB of the loudest (a tone 70 dB down).
    clips = [
        tone(),
        np.concatenate([np.zeros(RATE, np.float32), tone()]),
        np.concatenate([np.zeros(RATE // 2, np.float32), tone(amplitude=3e-4)]),
    ]
    encoder = AudioFeatures(cache=False, frames="all", **LIGHT)
    now = encoder.fit_transform(clips)
    # What the recipe computed before: voicing and pitch over the active frames.
    monkeypatch.setattr(_audio_features._Frames, "sounding", property(lambda self: self.active))
    before = encoder.fit_transform(clips)
    assert now.tobytes() == before.tobytes()
