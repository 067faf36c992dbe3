"""Video files and Segments as items: frames for the picture encoders, the audio track
for the audio encoders, one video column feeding both."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from skemotion import (
    AudioFeatures,
    EmbeddingCache,
    FaceEncoder,
    LateFusionClassifier,
    Segment,
    make_multimodal_pipeline,
)

av = pytest.importorskip("av", reason="video items need PyAV: pip install 'skemotion[video]'")
sf = pytest.importorskip("soundfile", reason="audio items need soundfile")
pytest.importorskip("librosa", reason="AudioFeatures needs librosa")
pytest.importorskip("cv2", reason="FaceEncoder needs OpenCV")

from _videos import FER, RAVDESS, emotion_video, fer_faces, ravdess_clips, write_video  # noqa: E402

from skemotion._encoders._audio_items import load_waveform, read_video_audio  # noqa: E402
from skemotion._encoders._video import iter_video_frames  # noqa: E402

needs_data = pytest.mark.skipif(
    not (FER.is_dir() and RAVDESS.is_dir()),
    reason="the built videos need ../shared/data/fer2013_test and ravdess_speech",
)
pytestmark = needs_data


@pytest.fixture(scope="module")
def clips():
    """Two RAVDESS clips of actor 1: a happy and a sad one."""
    return ravdess_clips("happy", actor=1)[0], ravdess_clips("sad", actor=1)[0]


@pytest.fixture(scope="module")
def videos(tmp_path_factory, clips):
    folder = tmp_path_factory.mktemp("videos")
    return [str(emotion_video(folder / f"{row['emotion']}.mp4", row)) for row in clips]


@pytest.fixture
def face():
    return FaceEncoder(cache=False, device="cpu")


# --- frames ----------------------------------------------------------------------------------


def test_frames_are_sampled_at_the_frame_rate(videos):
    times = [time for time, _ in iter_video_frames(videos[0], frame_rate=2.0, caller="test")]
    assert times[:4] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    # Faster than the video's own 10 frames/s: each of its frames once.
    every = list(iter_video_frames(videos[0], frame_rate=50.0, caller="test"))
    assert np.diff([time for time, _ in every]) == pytest.approx(0.1)
    # Between two times only.
    times = [
        t for t, _ in iter_video_frames(videos[0], frame_rate=2, start=1.2, end=2.6, caller="t")
    ]
    assert times == pytest.approx([1.2, 1.7, 2.2], abs=0.051)


def test_a_video_is_the_mean_of_its_frames_encoded_as_pictures(face, videos):
    frames = [rgb for _, rgb in iter_video_frames(videos[0], frame_rate=2.0, caller="test")]
    expected = face.fit_transform(frames).mean(axis=0)
    np.testing.assert_allclose(face.fit_transform([videos[0]])[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling, width", [("mean", 7), ("max", 7), ("mean+std", 14)])
def test_temporal_pooling(face, videos, pooling, width):
    face.set_params(temporal_pooling=pooling)
    frames = [rgb for _, rgb in iter_video_frames(videos[0], frame_rate=2.0, caller="test")]
    rows = FaceEncoder(cache=False, device="cpu").fit_transform(frames)
    X = face.fit_transform([videos[0], frames[0]])  # a video and a picture
    assert X.shape == (2, width) == (2, len(face.get_feature_names_out()))
    expected = {
        "mean": rows.mean(0),
        "max": rows.max(0),
        "mean+std": np.r_[rows.mean(0), rows.std(0)],
    }[pooling]
    np.testing.assert_allclose(X[0], expected, rtol=1e-5, atol=1e-6)
    # A picture is a video of one frame.
    np.testing.assert_allclose(X[1][:7], rows[0], rtol=1e-5, atol=1e-6)
    if pooling == "mean+std":
        assert (X[1][7:] == 0).all()
        assert face.get_feature_names_out()[[0, 7]].tolist() == [
            "face_angry_mean",
            "face_angry_std",
        ]


def test_haar_detection_leaves_out_frames_without_a_face(tmp_path):
    # A clip of 1 s of faces then 1 s of grey: only the face frames enter the pool.
    grey = np.full((48, 48), 128, np.uint8)
    faces = fer_faces("happy", 2)
    path = write_video(tmp_path / "half.mp4", faces + [grey, grey], seconds=2.0, fps=10)
    frames = [rgb for _, rgb in iter_video_frames(path, frame_rate=2.0, caller="t")]
    per_frame = FaceEncoder(detect="haar", no_face="missing", missing="nan", cache=False)
    with pytest.warns(UserWarning, match="found no face in"):
        rows = per_frame.set_params(device="cpu").fit_transform(frames)
    found = np.isfinite(rows).all(axis=1)
    assert 0 < found.sum() < len(frames)
    encoder = FaceEncoder(detect="haar", cache=False, device="cpu")
    X = encoder.fit_transform([str(path)])
    np.testing.assert_allclose(X[0], rows[found].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_a_video_without_any_face_follows_the_missing_policy(tmp_path):
    grey = np.full((48, 48), 128, np.uint8)
    path = str(write_video(tmp_path / "empty.mp4", [grey], seconds=1.0))
    encoder = FaceEncoder(detect="haar", cache=False, device="cpu")
    with pytest.raises(
        ValueError, match=r"face item 0 \('.*empty.mp4'\): the Haar cascade found no face"
    ):
        encoder.fit_transform([path])
    with pytest.warns(UserWarning, match="found no face in 1 of the 1"):
        X = encoder.set_params(missing="nan").fit_transform([path])
    assert np.isnan(X).all()
    with pytest.raises(ValueError, match="no face in any sampled frame .no_face='error'"):
        encoder.set_params(no_face="error").fit_transform([path])


def test_a_segment_of_a_video_reads_its_frames_between_the_bounds(face, videos):
    frames = [
        rgb for _, rgb in iter_video_frames(videos[0], frame_rate=2, start=1.0, end=2.0, caller="t")
    ]
    X = face.fit_transform([Segment(videos[0], 1.0, 2.0)])
    np.testing.assert_allclose(X[0], face.fit_transform(frames).mean(0), rtol=1e-5, atol=1e-6)


# --- the audio track -----------------------------------------------------------------------------


def test_audio_features_read_the_audio_track(videos, clips):
    features = AudioFeatures(cache=False)
    track = read_video_audio(videos[0], sampling_rate=16000)
    X = features.fit_transform([videos[0], track])
    np.testing.assert_array_equal(X[0], X[1])
    # AAC keeps the utterance: its features are those of the original clip, nearly.
    original = features.transform([clips[0]["path"]])[0]
    assert np.corrcoef(X[0], original)[0, 1] > 0.999


def test_a_segment_of_an_audio_file_is_its_samples_between_the_bounds(clips):
    path = clips[0]["path"]
    samples = load_waveform(path, sampling_rate=16000, array_rate=16000, caller="test")
    features = AudioFeatures(cache=False)
    X = features.fit_transform([Segment(path, 0.5, 2.0), samples[8000:32000]])
    np.testing.assert_array_equal(X[0], X[1])


def test_audio_encoder_reads_the_audio_track_and_segments(videos):
    pytest.importorskip("transformers", reason="AudioEncoder needs transformers")
    from _tiny_models import tiny_audio_model_dir

    from skemotion import AudioEncoder

    encoder = AudioEncoder(tiny_audio_model_dir("wav2vec2-group"), device="cpu", cache=False)
    track = read_video_audio(videos[0], sampling_rate=16000)
    part = read_video_audio(videos[0], sampling_rate=16000, start=0.5, end=1.5)
    X = encoder.fit_transform([videos[0], track, Segment(videos[0], 0.5, 1.5), part])
    np.testing.assert_allclose(X[0], X[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(X[2], X[3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(X[0], X[2])


def test_a_long_video_track_is_streamed(tmp_path, monkeypatch, clips):
    from skemotion._encoders import _audio_features

    audio, rate = sf.read(clips[0]["path"], dtype="float32")
    path = str(write_video(tmp_path / "long.mp4", fer_faces("happy", 1), audio, fps=2))
    whole = AudioFeatures(cache=False).fit_transform([path])
    monkeypatch.setattr(_audio_features, "_BLOCK_SECONDS", 0.7)  # streamed in blocks
    np.testing.assert_allclose(
        AudioFeatures(cache=False).fit_transform([path]), whole, rtol=1e-4, atol=1e-4
    )


# --- one column of videos, two modalities --------------------------------------------------------


def test_one_video_column_feeds_face_and_audio(tmp_path):
    rows = ravdess_clips("happy", actor=1)[:2] + ravdess_clips("sad", actor=1)[:2]
    paths = [str(emotion_video(tmp_path / f"{k}.mp4", row, skip=k)) for k, row in enumerate(rows)]
    X = pd.DataFrame({"video": paths})
    y = [row["emotion"] for row in rows]
    pipe = make_multimodal_pipeline(
        {
            "face": (FaceEncoder(cache=False, device="cpu"), "video"),
            "audio": (AudioFeatures(cache=False), "video"),
        },
        LateFusionClassifier(LogisticRegression(max_iter=1000)),
    )
    assert pipe.fit(X, y).predict(X).shape == (4,)
    assert pipe.predict_proba(X).shape == (4, 2)


# --- the cache ---------------------------------------------------------------------------------


def test_videos_and_segments_are_cached_by_content_and_bounds(tmp_path, videos):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    face = FaceEncoder(cache=cache, device="cpu")
    items = [videos[0], Segment(videos[0], 0.0, 1.0), Segment(videos[0], 1.0, 2.0)]
    first = face.fit_transform(items)
    assert cache.stats()["misses"] == 3
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(open(videos[0], "rb").read())
    again = face.transform([str(copy), Segment(str(copy), 0.0, 1.0), Segment(videos[0], 1.0, 2.0)])
    np.testing.assert_array_equal(again, first)
    assert cache.stats()["hits"] == 3
    # Another frame rate samples other frames: another key.
    face.set_params(frame_rate=5.0).transform([videos[0]])
    assert cache.stats()["misses"] == 4
    # The audio encoder reads the track, not the frames: its own namespace.
    AudioFeatures(cache=cache).fit_transform([videos[0]])
    assert cache.stats()["misses"] == 5
    cache.close()


# --- bad items ---------------------------------------------------------------------------------


def test_a_video_without_audio_names_the_item_for_the_audio_encoder(tmp_path):
    path = str(write_video(tmp_path / "silent.mp4", fer_faces("sad", 1), seconds=1.0))
    with pytest.raises(ValueError, match=r"audio item 0 \('.*silent.mp4'\): .*has no audio track"):
        AudioFeatures(cache=False).fit_transform([path])


def test_a_corrupt_video_is_named_and_can_be_skipped(tmp_path, videos, face):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video\n" * 50)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(open(videos[0], "rb").read()[:3000])
    for path in (fake, cut):
        with pytest.raises(
            ValueError, match=rf"face item 0 \('.*{path.name}'\): .*(not a video|truncated|decode)"
        ):
            face.fit_transform([str(path)])
    face.set_params(on_error="skip", missing="nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = face.fit_transform([str(fake), videos[0]])
    assert np.isnan(X[0]).all() and np.isfinite(X[1]).all()
    assert "notes.mp4" in str(caught[0].message)


@pytest.mark.parametrize(
    "segment, match",
    [
        (
            Segment("a.wav", 2.0, 1.0),
            r"Segment from 2.0 to 1.0 s: a segment needs 0 <= start < end",
        ),
        (Segment("a.wav", -1, 1.0), r"needs 0 <= start < end"),
        (Segment("a.wav", "x", 1.0), r"bounds 'x', 1.0: pass times in seconds"),
        (Segment(b"a", 0, 1.0), r"Segment of a bytes, not of a file"),
    ],
)
def test_a_malformed_segment_is_refused_at_fit(segment, match):
    for encoder in (AudioFeatures(cache=False), FaceEncoder(cache=False, device="cpu")):
        with pytest.raises(TypeError, match=match):
            encoder.fit([segment])


def test_a_segment_of_an_audio_file_is_refused_by_the_face_encoder(face, clips):
    with pytest.raises(TypeError, match=r"which is not a video file: FaceEncoder reads frames"):
        face.fit([Segment(clips[0]["path"], 0.0, 1.0)])


def test_a_segment_past_the_end_of_a_recording_is_named(clips):
    path = clips[0]["path"]
    with pytest.raises(
        ValueError,
        match=r"audio item 0 \(.*, 0 s to 60 s\): the segment ends at 60 s, after the end",
    ):
        AudioFeatures(cache=False).fit_transform([Segment(path, 0.0, 60.0)])
