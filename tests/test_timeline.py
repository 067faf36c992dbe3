"""Tests for predict_timeline: an AudioFeatures pipeline fitted on RAVDESS clips, applied
to a long recording of other actors' utterances (built in process)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skemotion import AudioFeatures, SpeechSegmenter, predict_timeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _recordings import RAVDESS, build_recording  # noqa: E402

pytest.importorskip("torch", reason="SpeechSegmenter needs torch: pip install 'skemotion[vad]'")
soundfile = pytest.importorskip("soundfile", reason="AudioFeatures needs soundfile")
pytest.importorskip("librosa", reason="AudioFeatures needs librosa: pip install 'skemotion[audio]'")
# Not importorskip: importing silero_vad sets torch's thread count for the whole session.
if importlib.util.find_spec("silero_vad") is None:
    pytest.skip(
        "SpeechSegmenter needs silero-vad: pip install 'skemotion[vad]'", allow_module_level=True
    )
if not (RAVDESS / "labels.csv").exists():
    pytest.skip(
        f"RAVDESS speech clips not found at {RAVDESS} (see ../shared/data/README.md)",
        allow_module_level=True,
    )
EMOTIONS = ["angry", "calm"]
RATE = 16000


def _labels():
    labels = pd.read_csv(RAVDESS / "labels.csv", dtype=str)
    labels["path"] = [str(RAVDESS / path) for path in labels["path"]]
    return labels[labels["emotion"].isin(EMOTIONS)]


@pytest.fixture(scope="module")
def training():
    """Angry and calm clips of actors 1 to 4 (64 clips)."""
    labels = _labels()
    return labels[labels["actor"].astype(int) <= 4]


@pytest.fixture(scope="module")
def pipeline(training):
    clf = make_pipeline(AudioFeatures(cache=False), StandardScaler(), LogisticRegression())
    return clf.fit(training["path"].tolist(), training["emotion"])


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Six utterances of actors 11 and 12 (unseen), angry and calm in turn, as a WAV file."""
    labels = _labels()
    held_out = labels[labels["actor"].astype(int).isin([11, 12])]
    rows = [
        held_out[(held_out["emotion"] == emotion) & (held_out["actor"].astype(int) == actor)].iloc[
            k
        ]
        for k, (emotion, actor) in enumerate(
            [("angry", 11), ("calm", 11), ("angry", 12), ("calm", 12), ("angry", 11), ("calm", 12)]
        )
    ]
    clips = pd.DataFrame(rows)[["path", "emotion", "actor"]].reset_index(drop=True)
    built = build_recording(clips, seed=3)
    path = tmp_path_factory.mktemp("timeline") / "session.wav"
    soundfile.write(path, built.samples, RATE, subtype="FLOAT")
    return path, built


def test_timeline_of_a_recording(pipeline, recording):
    path, built = recording
    timeline = predict_timeline(pipeline, path)
    assert list(timeline.columns) == ["start", "end", "emotion", "proba_angry", "proba_calm"]
    pd.testing.assert_frame_equal(
        timeline[["start", "end"]], SpeechSegmenter().segment(path), check_dtype=True
    )
    proba = timeline[["proba_angry", "proba_calm"]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (timeline["emotion"] == np.array(EMOTIONS)[proba.argmax(axis=1)]).all()
    # Each segment's probabilities are the pipeline's on the samples between its bounds.
    pieces = [
        built.samples[int(round(start * RATE)) : int(round(end * RATE))]
        for start, end in zip(timeline["start"], timeline["end"], strict=True)
    ]
    np.testing.assert_allclose(proba, pipeline.predict_proba(pieces), atol=1e-3)
    # Unseen actors: the segment over each utterance mostly gets its emotion.
    truth = [
        built.utterances.loc[
            np.argmax(
                np.minimum(end, built.utterances["end"])
                - np.maximum(start, built.utterances["start"])
            ),
            "emotion",
        ]
        for start, end in zip(timeline["start"], timeline["end"], strict=True)
    ]
    assert np.mean(timeline["emotion"].to_numpy() == np.array(truth)) >= 0.8


def test_dataframe_pipeline_gets_a_column_of_segments(training, recording):
    path, _ = recording
    frame = pd.DataFrame({"voice": training["path"].tolist()})
    clf = make_pipeline(
        ColumnTransformer([("audio", AudioFeatures(cache=False), "voice")]),
        StandardScaler(),
        LogisticRegression(),
    ).fit(frame, training["emotion"])
    timeline = predict_timeline(clf, path)
    assert list(timeline.columns) == ["start", "end", "emotion", "proba_angry", "proba_calm"]
    explicit = predict_timeline(clf, path, column="voice")
    pd.testing.assert_frame_equal(timeline, explicit)
    with pytest.raises(
        ValueError, match=r"column='audio', but the pipeline was fitted on .*'voice'"
    ):
        predict_timeline(clf, path, column="audio")


def test_classifier_without_probabilities(training, recording):
    path, _ = recording
    clf = make_pipeline(AudioFeatures(cache=False), StandardScaler(), LinearSVC())
    clf.fit(training["path"].tolist(), training["emotion"])
    timeline = predict_timeline(clf, path, segmenter=SpeechSegmenter(pad=0.05))
    assert list(timeline.columns) == ["start", "end", "emotion"]
    assert set(timeline["emotion"]) <= set(EMOTIONS) and len(timeline) >= 6


def test_silent_recording_gives_an_empty_timeline(pipeline, tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(2 * RATE, np.float32), RATE)
    with pytest.warns(UserWarning, match="no speech found"):
        timeline = predict_timeline(pipeline, path)
    assert timeline.empty
    assert list(timeline.columns) == ["start", "end", "emotion", "proba_angry", "proba_calm"]


def test_bad_arguments(pipeline, recording):
    path, _ = recording
    with pytest.raises(NotFittedError):
        predict_timeline(make_pipeline(StandardScaler(), LogisticRegression()), path)
    with pytest.raises(TypeError, match="must be a fitted classifier"):
        predict_timeline(StandardScaler(), path)
    with pytest.raises(TypeError, match=r"recording must be the path .* got a ndarray"):
        predict_timeline(pipeline, np.zeros(RATE, np.float32))
    with pytest.raises(TypeError, match="segmenter must be a SpeechSegmenter"):
        predict_timeline(pipeline, path, segmenter="silero")
    with pytest.raises(TypeError, match="column must be a column name"):
        predict_timeline(pipeline, path, column=3)
    with pytest.raises(FileNotFoundError, match="nowhere.wav"):
        predict_timeline(pipeline, path.parent / "nowhere.wav")


def test_timeline_of_a_video(pipeline, recording, tmp_path):
    pytest.importorskip("av", reason="video files need PyAV: pip install 'skemotion[video]'")
    pytest.importorskip("cv2", reason="writing the test video needs OpenCV")
    from _videos import write_video

    path, built = recording
    video = tmp_path / "session.mp4"
    faces = [np.full((48, 48), 128, np.uint8)]
    write_video(video, faces, built.samples, audio_rate=RATE, fps=5, side=32)
    from_video = predict_timeline(pipeline, video)
    from_audio = predict_timeline(pipeline, path)
    assert len(from_video) == len(from_audio)
    np.testing.assert_allclose(from_video[["start", "end"]], from_audio[["start", "end"]], atol=0.1)
    agree = np.mean(from_video["emotion"].to_numpy() == from_audio["emotion"].to_numpy())
    assert agree >= 0.8  # AAC-coded audio, bounds within 0.1 s
