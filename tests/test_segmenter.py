"""Tests for SpeechSegmenter: Silero VAD's probabilities, segments of real speech, errors.

The recordings are built in process from real RAVDESS utterances separated by silence
and noise (benchmarks/_recordings.py, which also defines their true bounds).
"""

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skemotion import SpeechSegmenter
from skemotion import _segmenter as segmenter_module
from skemotion._encoders._segment import Segment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _recordings import (  # noqa: E402
    RAVDESS,
    build_recording,
    noise,
    ravdess_clips,
    score_segments,
    write_recording,
)

torch = pytest.importorskip(
    "torch", reason="SpeechSegmenter needs torch: pip install 'skemotion[vad]'"
)
soundfile = pytest.importorskip(
    "soundfile", reason="reading audio needs soundfile: 'skemotion[audio]'"
)
# Not importorskip: importing silero_vad sets torch's thread count to 1 for the whole
# test session (the segmenter puts it back; a bare import would not).
if importlib.util.find_spec("silero_vad") is None:
    pytest.skip(
        "SpeechSegmenter needs silero-vad: pip install 'skemotion[vad]'", allow_module_level=True
    )
needs_ravdess = pytest.mark.skipif(
    not (RAVDESS / "labels.csv").exists(),
    reason=f"RAVDESS speech clips not found at {RAVDESS} (see ../shared/data/README.md)",
)
RATE = 16000


@pytest.fixture(scope="module")
def recording():
    """Five real utterances (five emotions, five actors) with silence and noise between."""
    if not (RAVDESS / "labels.csv").exists():
        pytest.skip(f"RAVDESS speech clips not found at {RAVDESS}")
    return build_recording(ravdess_clips(5, seed=1), seed=1)


@pytest.fixture(scope="module")
def recording_file(recording, tmp_path_factory):
    path = tmp_path_factory.mktemp("recordings") / "five.wav"
    soundfile.write(path, recording.samples, RATE, subtype="FLOAT")
    return path


def _speechlike(seconds, seed=0):
    """A noisy, amplitude-modulated harmonic signal: not speech, but varied input."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 700), 1))
    envelope = (np.sin(2 * np.pi * 3 * t) > 0.2).astype(float)
    return (0.2 * voice * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


# --- Silero VAD's probabilities --------------------------------------------------------


def test_probabilities_are_silero_models_window_by_window():
    """The batched network gives what Silero's TorchScript model gives, one call a window."""
    samples = _speechlike(2.0)
    probabilities, n = segmenter_module._speech_probabilities(iter([samples]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated
        model = torch.jit.load(str(segmenter_module._silero_file("silero_vad.jit")))
    model.reset_states()
    padded = np.concatenate([samples, np.zeros(-samples.size % 512, np.float32)])
    with torch.no_grad():
        expected = [
            model(torch.from_numpy(padded[i : i + 512])[None], 16000).item()
            for i in range(0, padded.size, 512)
        ]
    assert n == samples.size
    assert probabilities.shape == (len(expected),)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert np.ptp(probabilities) > 0.1  # the comparison saw varied values


def test_probabilities_do_not_depend_on_how_the_stream_is_cut(monkeypatch):
    samples = _speechlike(3.0, seed=1)
    whole, n = segmenter_module._speech_probabilities(iter([samples]))
    monkeypatch.setattr(segmenter_module, "BLOCK_WINDOWS", 7)  # many forward passes
    cuts = np.array_split(samples, [1, 700, 5000, 5001, 30000])
    blocked, m = segmenter_module._speech_probabilities(iter(cuts))
    assert m == n
    np.testing.assert_allclose(blocked, whole, atol=1e-6)


def test_importing_silero_keeps_torch_threads(monkeypatch):
    """silero_vad sets torch's thread count to 1 when imported; the segmenter undoes it."""
    for name in [name for name in sys.modules if name.split(".")[0] == "silero_vad"]:
        monkeypatch.delitem(sys.modules, name)
    segmenter_module._silero_postprocessing.cache_clear()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        segmenter_module._silero_postprocessing()
        assert "silero_vad.model" in sys.modules  # imported afresh
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
        segmenter_module._silero_postprocessing.cache_clear()


# --- segments of real speech ---------------------------------------------------------------


@needs_ravdess
def test_finds_each_utterance_with_its_bounds(recording):
    found = SpeechSegmenter().segment((recording.samples, RATE))
    assert list(found.columns) == ["start", "end"]
    assert found.dtypes.tolist() == [np.float64, np.float64]
    assert (found["end"] > found["start"]).all() and found["start"].is_monotonic_increasing
    score = score_segments(found, recording.utterances, recording.gaps)
    assert score["found"] == 5
    assert np.median(score["boundary_errors"]) <= 0.25
    assert score["boundary_errors"].max() <= 0.7
    assert score["segments_in_gaps"] == 0 and score["false_segments"] == 0


@needs_ravdess
def test_file_streamed_gives_the_array_segments(recording, recording_file):
    from_file = SpeechSegmenter().segment(recording_file)
    pd.testing.assert_frame_equal(from_file, SpeechSegmenter().segment(recording.samples))


@needs_ravdess
def test_other_rates_and_channels_are_resampled(recording, tmp_path):
    librosa = pytest.importorskip("librosa")
    stereo = librosa.resample(recording.samples, orig_sr=RATE, target_sr=44100)
    path = tmp_path / "stereo.flac"
    soundfile.write(path, np.stack([stereo, 0.5 * stereo], axis=1), 44100)
    expected = SpeechSegmenter().segment(recording.samples)
    for found in (
        SpeechSegmenter().segment(path),
        SpeechSegmenter(sampling_rate=44100).segment(stereo),
        SpeechSegmenter().segment((stereo, 44100)),
    ):
        assert len(found) == len(expected)
        np.testing.assert_allclose(found.to_numpy(), expected.to_numpy(), atol=0.07)


@needs_ravdess
def test_segments_are_segment_items_of_the_file(recording_file):
    segments = SpeechSegmenter().segments(recording_file)
    frame = SpeechSegmenter().segment(recording_file)
    assert [type(s) for s in segments] == [Segment] * len(frame) and len(frame) >= 5
    assert all(s.source == recording_file for s in segments)
    assert [(s.start, s.end) for s in segments] == list(frame.itertuples(index=False, name=None))


@needs_ravdess
def test_max_segment_splits_long_segments(recording):
    whole = SpeechSegmenter(max_segment=None).segment(recording.samples)
    cut = SpeechSegmenter(max_segment=1.0).segment(recording.samples)
    assert (whole["end"] - whole["start"]).max() > 1.2
    assert (cut["end"] - cut["start"]).max() <= 1.0 + 1e-9
    assert len(cut) > len(whole)


@needs_ravdess
def test_parameters_change_the_segments(recording):
    base = SpeechSegmenter().segment(recording.samples)
    padded = SpeechSegmenter(pad=0.2).segment(recording.samples)
    assert len(padded) == len(base)
    assert (padded["end"] - padded["start"]).sum() > (base["end"] - base["start"]).sum() + 1
    strict = SpeechSegmenter(0.95).segment(recording.samples)
    assert (strict["end"] - strict["start"]).sum() < (base["end"] - base["start"]).sum()


@pytest.mark.parametrize("kind", ["silence", "white", "pink"])
def test_no_segment_in_silence_or_noise(kind):
    samples = noise(kind, 8 * RATE, np.random.default_rng(0), level_db=-40.0)
    with pytest.warns(UserWarning, match=r"no speech found in recording .*8\.0 s.*lower threshold"):
        found = SpeechSegmenter().segment(samples)
    assert found.empty and list(found.columns) == ["start", "end"]
    assert found.dtypes.tolist() == [np.float64, np.float64]


def test_silence_file_gives_no_segment_items(tmp_path):
    path = tmp_path / "quiet.wav"
    soundfile.write(path, np.zeros(RATE, np.float32), RATE)
    with pytest.warns(UserWarning, match="quiet.wav"):
        assert SpeechSegmenter().segments(path) == []


@needs_ravdess
def test_long_recording_written_block_by_block(tmp_path):
    path = tmp_path / "long.wav"
    utterances, gaps = write_recording(path, ravdess_clips(4, seed=2), minutes=0.5, seed=2)
    assert soundfile.info(path).duration == pytest.approx(30.0)
    assert len(utterances) >= 6  # the four clips repeated until 30 s
    score = score_segments(SpeechSegmenter().segment(path), utterances, gaps)
    assert score["found"] == len(utterances) and score["segments_in_gaps"] == 0


# --- parameters and errors ----------------------------------------------------------------


def test_parameters_follow_scikit_learn():
    segmenter = SpeechSegmenter(0.6, pad=0.05)
    assert segmenter.get_params() == {
        "threshold": 0.6,
        "min_speech": 0.25,
        "min_silence": 0.1,
        "pad": 0.05,
        "max_segment": 15.0,
        "sampling_rate": 16000,
    }
    copy = clone(segmenter)
    assert copy is not segmenter and copy.get_params() == segmenter.get_params()
    assert repr(segmenter) == "SpeechSegmenter(threshold=0.6, pad=0.05)"
    assert segmenter.set_params(min_silence=0.3) is segmenter and segmenter.min_silence == 0.3
    with pytest.raises(ValueError, match=r"Invalid parameter\(s\) \['silence'\]"):
        segmenter.set_params(silence=1)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.5}, r"'threshold' parameter of SpeechSegmenter must be a float in the"),
        ({"threshold": 0}, r"range \(0\.0, 1\.0\)\. Got 0 instead\."),
        ({"min_speech": -1}, "'min_speech' parameter .* range \\[0\\.0, inf\\)"),
        ({"pad": "a"}, "'pad' parameter .* Got 'a' instead"),
        ({"max_segment": 0}, "'max_segment' parameter .* or None"),
        ({"max_segment": 0.2}, "'max_segment' parameter .* must exceed min_speech"),
        ({"sampling_rate": 16000.5}, "'sampling_rate' parameter .* an int"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        SpeechSegmenter(**params).segment(np.zeros(RATE, np.float32))


def test_missing_and_unreadable_files(tmp_path):
    missing = tmp_path / "nowhere.wav"
    with pytest.raises(FileNotFoundError, match=r"SpeechSegmenter: recording '.*nowhere\.wav'"):
        SpeechSegmenter().segment(missing)
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(ValueError, match=r"recording '.*notes\.wav'.*convert it to WAV"):
        SpeechSegmenter().segment(str(text))
    with pytest.raises(IsADirectoryError, match="is a folder"):
        SpeechSegmenter().segment(tmp_path)


@pytest.mark.parametrize(
    "recording, kind, message",
    [
        (None, ValueError, "the recording is missing"),
        ([0.0, 0.1], TypeError, r"recording \(list\) is a list .* Pass a file path"),
        (np.zeros(10, dtype=np.int8), TypeError, "dtype int8 .* not audio"),
        (np.zeros(0, np.float32), ValueError, "holds no samples"),
        (np.array([0.0, np.nan] * 400, np.float32), ValueError, "NaN or infinite"),
        ((np.zeros(100, np.float32), -3), TypeError, "sampling rate -3"),
    ],
)
def test_bad_recordings(recording, kind, message):
    with pytest.raises(kind, match=message):
        SpeechSegmenter().segment(recording)


def test_segments_need_a_file():
    with pytest.raises(TypeError, match=r"segments needs the path .* Use \.segment\(\)"):
        SpeechSegmenter().segments(np.zeros(RATE, np.float32))


# --- video files -------------------------------------------------------------------------


def _grey_faces():
    return [np.full((48, 48), value, np.uint8) for value in (90, 140)]


@needs_ravdess
def test_video_audio_track_gives_the_audio_segments(recording, tmp_path):
    pytest.importorskip("av", reason="video files need PyAV: pip install 'skemotion[video]'")
    pytest.importorskip("cv2", reason="writing the test video needs OpenCV")
    from _videos import write_video

    path = tmp_path / "talk.mp4"
    write_video(path, _grey_faces(), recording.samples, audio_rate=RATE, fps=5, side=32)
    found = SpeechSegmenter().segment(path)
    expected = SpeechSegmenter().segment(recording.samples)
    assert len(found) == len(expected)
    np.testing.assert_allclose(found.to_numpy(), expected.to_numpy(), atol=0.1)  # AAC's delay
    segments = SpeechSegmenter().segments(str(path))
    assert [s.source for s in segments] == [str(path)] * len(found)


def test_video_without_audio_track(tmp_path):
    pytest.importorskip("av", reason="video files need PyAV: pip install 'skemotion[video]'")
    pytest.importorskip("cv2", reason="writing the test video needs OpenCV")
    from _videos import write_video

    path = tmp_path / "mute.mp4"
    write_video(path, _grey_faces(), None, fps=5, side=32, seconds=1.0)
    with pytest.raises(ValueError, match=r"recording '.*mute\.mp4' has no audio track.*ffmpeg"):
        SpeechSegmenter().segment(path)
