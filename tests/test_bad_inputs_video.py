"""Bad video items, named with the fix: cut-off MP4s that FFmpeg decodes up to the cut,
segments past the end of a video, 0-byte files; complete videos still read whole."""

import numpy as np
import pytest

from skemotion import AudioFeatures, FaceEncoder, Segment

av = pytest.importorskip("av", reason="video items need PyAV: pip install 'skemotion[video]'")
pytest.importorskip("soundfile", reason="audio items need soundfile")
pytest.importorskip("librosa", reason="AudioFeatures needs librosa")
pytest.importorskip("cv2", reason="FaceEncoder needs OpenCV")

from _videos import write_video  # noqa: E402

from skemotion._encoders._video import iter_video_audio, iter_video_frames  # noqa: E402

RATE = 16000
FPS = 10


def _faces(count=3):
    """Synthetic 48 x 48 grey pictures (no data set needed to build a video)."""
    return [np.full((48, 48), 40 + 60 * k, np.uint8) for k in range(count)]


def _tone(seconds):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)


def _video(path, seconds=3.0):
    return write_video(path, _faces(), _tone(seconds), audio_rate=RATE, fps=FPS, side=32)


def _faststart(path):
    """A copy of an MP4 with its index (moov) before the media, as web uploads have it:
    cut off, it still opens, and FFmpeg plays it up to the cut without an error."""
    out = path.with_name(f"{path.stem}-faststart.mp4")
    options = {"movflags": "+faststart"}
    with av.open(str(path)) as source, av.open(str(out), "w", options=options) as target:
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:  # not the demuxer's empty flush packets
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
    return out


def _cut(path, keep):
    """Keep `keep` of the file's bytes (a fraction), or the first `keep` bytes."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    return path


def _cut_after_a_packet(path, keep=0.6):
    """Cut just after the packet that ends nearest `keep` of the bytes: every packet left
    is whole, so the decoders see no broken one."""
    with av.open(str(path)) as container:
        ends = [p.pos + p.size for p in container.demux() if p.pos is not None and p.size]
    size = path.stat().st_size
    return _cut(path, min(ends, key=lambda end: abs(end - keep * size)))


def _frames(path, **bounds):
    return [time for time, _ in iter_video_frames(path, frame_rate=50.0, caller="t", **bounds)]


def _samples(path, **bounds):
    return sum(block.shape[1] for _, block in iter_video_audio(path, caller="t", **bounds))


@pytest.fixture
def face():
    return FaceEncoder(cache=False, device="cpu")


@pytest.fixture
def features():
    return AudioFeatures(cache=False)


# --- complete videos read whole ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".avi"])
def test_a_complete_video_decodes_whole(tmp_path, suffix):
    path = _video(tmp_path / f"whole{suffix}", seconds=2.0)
    assert len(_frames(path)) == 2 * FPS
    assert _samples(path) >= 2 * RATE  # AAC pads its last packet
    # A segment that ends with the recording is within it.
    assert len(_frames(path, start=1.0, end=2.0)) == FPS


def test_a_complete_faststart_video_decodes_whole(tmp_path, face, features):
    path = _faststart(_video(tmp_path / "whole.mp4"))
    assert len(_frames(path)) == 3 * FPS
    assert _samples(path) >= 3 * RATE
    assert np.isfinite(face.fit_transform([str(path)])).all()
    assert np.isfinite(features.fit_transform([str(path)])).all()


# --- truncated videos ---------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_faststart_video_is_named_as_truncated(tmp_path, keep):
    path = _cut(_faststart(_video(tmp_path / "cut.mp4")), keep)
    for read in (_frames, _samples):
        with pytest.raises(ValueError, match=r"cut-faststart.mp4'.*truncated.*re-download"):
            read(path)


def test_a_video_cut_after_a_whole_packet_is_named_by_every_encoder(tmp_path, face, features):
    path = str(_cut_after_a_packet(_faststart(_video(tmp_path / "cut.mp4"))))
    message = r"ends at \d\.\d\d s of its declared 3\.00 s .*: the file is truncated; re-download"
    with pytest.raises(ValueError, match=r"face item 0 \('.*cut-faststart.mp4'\): .*" + message):
        face.fit_transform([path])
    with pytest.raises(ValueError, match=r"audio item 0 \('.*cut-faststart.mp4'\): .*" + message):
        features.fit_transform([path])


def test_a_segment_in_the_lost_part_of_a_truncated_video_is_named(tmp_path, face):
    path = str(_cut(_faststart(_video(tmp_path / "cut.mp4")), 0.5))
    with pytest.raises(ValueError, match=r"cut-faststart.mp4'.*the file is truncated"):
        face.fit_transform([Segment(path, 2.0, 2.8)])
    # Before the cut, the segment is whole: it reads.
    assert np.isfinite(face.fit_transform([Segment(path, 0.0, 0.5)])).all()


# --- segments past the end ---------------------------------------------------------------------


def test_a_segment_ending_after_the_video_is_refused(tmp_path, face, features):
    path = str(_video(tmp_path / "two-seconds.mp4", seconds=2.0))
    message = (
        r"the segment from 0.5 s to 30 s ends at 30 s, after the end of "
        r"'.*two-seconds.mp4' \(2.00 s\). Pass bounds within the recording"
    )
    with pytest.raises(ValueError, match=message):
        face.fit_transform([Segment(path, 0.5, 30.0)])
    with pytest.raises(ValueError, match=message):
        features.fit_transform([Segment(path, 0.5, 30.0)])


def test_a_segment_starting_after_the_video_is_refused(tmp_path, features):
    path = str(_video(tmp_path / "two-seconds.mp4", seconds=2.0))
    with pytest.raises(
        ValueError, match=r"5 s to 6 s starts at 5 s, after the end of '.*two-seconds.mp4' \(2.00"
    ):
        features.fit_transform([Segment(path, 5.0, 6.0)])


# --- empty files ------------------------------------------------------------------------------


def test_a_zero_byte_video_is_named_empty(tmp_path, face, features):
    path = tmp_path / "zero-bytes.mp4"
    path.write_bytes(b"")
    for encoder in (face, features):
        with pytest.raises(ValueError, match=r"zero-bytes.mp4' is empty \(0 bytes\).*Re-download"):
            encoder.fit_transform([str(path)])
