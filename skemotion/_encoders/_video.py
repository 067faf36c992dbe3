"""Read video files with PyAV: frames sampled in time, and the audio track.

PyAV ships FFmpeg's libraries in its wheel, so no system ffmpeg is needed. Both
readers stream: a frame (or a block of samples) is converted as soon as it is
decoded, and nothing holds the whole video.

- :func:`iter_video_frames` yields RGB frames sampled at ``frame_rate`` per second:
  for each sampling time ``start + k / frame_rate`` the first frame shown at or after
  it (a video slower than ``frame_rate`` gives each of its frames once);
- :func:`iter_video_audio` yields the audio track's samples as they decode; the audio
  encoders mix them down and resample them as they do an audio file's.

Both refuse a segment that ends after the recording, and a file whose stream stops
before the duration its header declares: FFmpeg decodes a cut-off MP4 (its index at
the front) without an error, up to the cut.
"""

import contextlib
import os

import numpy as np

from .._optional import import_optional_dependency

# Containers FFmpeg reads that people keep recordings in: what a folder of videos holds.
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
# Frames over this many pixels are scaled down (by FFmpeg, while converting to RGB) to
# fit it: a face or a scene is found as well at 1080p as at 4K, in a quarter the memory.
MAX_FRAME_PIXELS = 1920 * 1080
# Timestamps are rounded to their stream's time base (and MP4's edit lists to the
# container's): a complete stream may end this much short of its declared duration,
# beyond the one frame (or audio packet) of slack the checks allow.
_ROUNDING_SECONDS = 0.005


def is_video_file(item):
    """Whether `item` is the path of a video file (by its suffix)."""
    return isinstance(item, (str, os.PathLike)) and (
        os.path.splitext(os.fspath(item))[1].lower() in VIDEO_SUFFIXES
    )


def import_av(caller):
    """PyAV, or an ImportError that says how to install it."""
    return import_optional_dependency("av", extra="video", caller=caller)


def import_av_if_installed():
    """Import PyAV before the decoding threads start, if it is installed.

    Without it, a video item fails when decoded, naming the item and the extra.
    """
    import importlib.util

    if importlib.util.find_spec("av") is not None:
        import av  # noqa: F401


def video_duration(path, caller="video"):
    """A video's duration in seconds from its container header; 0.0 if unknown."""
    av = import_av(caller)
    with _opened(av, path) as container:
        if container.duration is not None:
            return container.duration / 1_000_000  # av.time_base: microseconds
        return 0.0


def iter_video_frames(path, *, frame_rate, start=0.0, end=None, caller):
    """Yield ``(time, rgb)``: frames of a video file sampled at `frame_rate` per second.

    `rgb` is a (height, width, 3) uint8 array; `time` the frame's time in seconds.
    Only frames between `start` and `end` seconds (the whole video by default).
    """
    av = import_av(caller)
    step = 1.0 / frame_rate
    with _opened(av, path) as container:
        if not container.streams.video:
            raise ValueError(
                f"{os.fspath(path)!r} holds no video stream (only "
                f"{_stream_kinds(container)}); pass it to an audio encoder, or pass a video."
            )
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # FFmpeg decodes with its own threads
        check_segment_bounds(container, stream, path, start, end)
        _seek(container, stream, start)
        next_time, reached, length = start, start, 0.0
        with _decoding_errors(av, path):
            for frame in container.decode(stream):
                time = _frame_time(frame, stream)
                if end is not None and time >= end:
                    break
                length = _frame_seconds(frame, stream)
                reached = max(reached, time + length)
                if time + 1e-9 < next_time:
                    continue
                yield time, _to_rgb(frame)
                while next_time <= time + 1e-9:
                    next_time += step
            else:  # the stream ran out before `end`: did it reach its declared end?
                _check_complete(path, stream, reached, length, end)


def iter_video_audio(path, *, start=0.0, end=None, caller):
    """Yield ``(rate, samples)``: a video file's audio track as it decodes.

    `samples` is a float32 (channels, samples) array at the track's own `rate`, only
    the part between `start` and `end` seconds (the whole track by default).
    """
    av = import_av(caller)
    with _opened(av, path) as container:
        if not container.streams.audio:
            raise ValueError(
                f"{os.fspath(path)!r} has no audio track (only {_stream_kinds(container)}); "
                "give the audio modality another source, or mark the item missing (None)."
            )
        stream = container.streams.audio[0]
        check_segment_bounds(container, stream, path, start, end)
        _seek(container, stream, start)
        reached, length = start, 0.0
        with _decoding_errors(av, path):
            for frame in container.decode(stream):
                first = _frame_time(frame, stream)
                if end is not None and first >= end:
                    break
                length = frame.samples / frame.sample_rate
                reached = max(reached, first + length)
                samples = _between(_planar_float(frame), first, frame.sample_rate, start, end)
                if samples is not None:
                    yield frame.sample_rate, samples
            else:  # the track ran out before `end`: did it reach its declared end?
                _check_complete(path, stream, reached, length, end)


def check_segment_bounds(container, stream, path, start, end):
    """Refuse a segment (`start` to `end` s) that ends after the recording.

    The recording lasts the container's duration (its longest stream); one frame (or
    audio packet) of slack, since a video's duration is known to a frame only.
    """
    recording = _recording_seconds(container, stream)
    if end is None or recording is None:
        return
    if end <= recording + _frame_seconds(None, stream) + _ROUNDING_SECONDS:
        return
    where = f"starts at {start:g} s" if start >= recording else f"ends at {end:g} s"
    raise ValueError(
        f"the segment from {start:g} s to {end:g} s {where}, after the end of "
        f"{os.fspath(path)!r} ({recording:.2f} s). Pass bounds within the recording."
    )


# --- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(av, path):
    """The container of a video file, or an error that names the file and what is wrong."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such video file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a folder, not a video file")
    if os.path.getsize(path) == 0:  # FFmpeg would only say "invalid data"
        raise ValueError(
            f"{path!r} is empty (0 bytes): nothing to decode. Re-download or re-export "
            "it, or drop the item."
        )
    try:
        container = av.open(path)
    except PermissionError:
        raise PermissionError(
            f"cannot read {path!r}: permission denied. Make it readable, or drop the item."
        ) from None
    except av.error.FFmpegError as exc:
        raise ValueError(
            f"{path!r} is not a video FFmpeg can read ({exc}); it may be truncated, not a "
            "video, or in a format this FFmpeg lacks. Re-encode it (e.g. to H.264 MP4) or "
            "drop the item."
        ) from None
    try:
        yield container
    finally:
        container.close()


@contextlib.contextmanager
def _decoding_errors(av, path):
    try:
        yield
    except av.error.FFmpegError as exc:
        raise ValueError(
            f"{os.fspath(path)!r} could not be decoded to the end ({exc}): the file is "
            "truncated or corrupt. Re-encode or re-download it, or drop the item."
        ) from None


def _stream_kinds(container):
    kinds = sorted({stream.type for stream in container.streams})
    return ", ".join(kinds) + " streams" if kinds else "no streams"


def _seek(container, stream, start):
    """Seek to the keyframe before `start` (the decoder then skips up to it)."""
    if start > 0 and stream.time_base is not None:
        container.seek(int(start / stream.time_base), stream=stream, backward=True)


def _check_complete(path, stream, reached, length, end):
    """Raise if decoding stopped more than a frame short of the stream's declared end
    (or of `end`, for a segment): the bytes after the cut are gone."""
    declared = _declared_end(stream)
    if declared is None:  # nothing to compare with (a streamed or headerless file)
        return
    wanted = declared if end is None else min(end, declared)
    slack = max(length, _frame_seconds(None, stream)) + _ROUNDING_SECONDS
    if reached < wanted - slack:
        raise ValueError(
            f"{os.fspath(path)!r} ends at {reached:.2f} s of its declared {declared:.2f} s "
            f"(its {stream.type} stream): the file is truncated; re-download or re-encode "
            "it, or drop the item."
        )


def _declared_end(stream):
    """Where a stream's header says it ends, in seconds; None where it does not say.

    Not the container's duration: that is its longest stream's, and a complete shorter
    stream would look cut off.
    """
    begin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    if stream.duration and stream.time_base is not None:
        return begin + float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska and WebM: "00:00:02.000000000"
    try:
        hours, minutes, seconds = tag.split(":")
        return begin + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except (AttributeError, ValueError):
        return None


def _recording_seconds(container, stream):
    """The recording's duration in seconds (the container's, else the stream's), or None."""
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return _declared_end(stream)


def _frame_seconds(frame, stream):
    """How long a decoded frame lasts, or (`frame` None) one frame of the stream; 0 if unknown."""
    duration = getattr(frame, "duration", None)  # PyAV >= 13 only
    if duration and frame.time_base is not None:
        return float(duration * frame.time_base)
    if stream.type == "video":
        rate = stream.guessed_rate or stream.average_rate
        return 1.0 / float(rate) if rate else 0.0
    context = stream.codec_context  # an audio codec's packet: 1024 samples for AAC
    if context.frame_size and context.sample_rate:
        return context.frame_size / context.sample_rate
    return 0.0


def _frame_time(frame, stream):
    if frame.time is not None:
        return float(frame.time)
    return float(frame.pts * stream.time_base) if frame.pts is not None else 0.0


def _to_rgb(frame):
    pixels = frame.width * frame.height
    if pixels > MAX_FRAME_PIXELS:
        scale = (MAX_FRAME_PIXELS / pixels) ** 0.5
        width, height = int(frame.width * scale) // 2 * 2, int(frame.height * scale) // 2 * 2
        return frame.to_ndarray(format="rgb24", width=width, height=height)
    return frame.to_ndarray(format="rgb24")


def _planar_float(frame):
    """An audio frame's samples as float32, (channels, samples)."""
    samples = frame.to_ndarray()
    if not frame.format.is_planar:  # packed: (1, samples * channels)
        samples = samples.reshape(-1, len(frame.layout.channels)).T
    if samples.dtype.kind in "iu":
        info = np.iinfo(samples.dtype)
        samples = samples.astype(np.float32) / float(-info.min if info.min else info.max)
    return np.asarray(samples, dtype=np.float32)


def _between(samples, first, rate, start, end):
    """The part of a frame's samples from `start` to `end` seconds, or None if none."""
    begin = max(0, int(round((start - first) * rate)))
    stop = (
        samples.shape[1] if end is None else min(samples.shape[1], int(round((end - first) * rate)))
    )
    if stop <= begin:
        return None
    return samples[:, begin:stop]
