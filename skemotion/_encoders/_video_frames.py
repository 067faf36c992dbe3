"""Videos as items of the picture encoders (FaceEncoder, ImageEncoder).

A video file, or a :class:`~skemotion.Segment` of one, is read as frames sampled at
``frame_rate`` per second; each frame is prepared as the encoder prepares a picture,
the network encodes every frame, and the frames' rows are pooled over time into the
video's one row (``temporal_pooling``). Pictures pass through the same pooling as
videos of one frame, so that a column may mix both.
"""

import os
from numbers import Real
from typing import NamedTuple

import numpy as np

from .._sklearn_compat import Interval, StrOptions
from ._segment import Segment, describe_segment, segment_error
from ._video import import_av_if_installed, is_video_file, iter_video_frames

# How a video's frame rows become one row: mean (default), mean then std, max.
TEMPORAL_POOLINGS = ("mean", "mean+std", "max")


class VideoFrames(NamedTuple):
    """What ``_decode`` returns for a video: its frames, prepared for the network."""

    frames: list


def is_video_item(item):
    """A video file, or a Segment (whose source must then be a video)."""
    return isinstance(item, Segment) or is_video_file(item)


class VideoFramesMixin:
    """The video hooks FaceEncoder and ImageEncoder share; put it before their base.

    The encoder has ``frame_rate`` and ``temporal_pooling`` parameters.
    """

    _video_constraints = {
        "frame_rate": [Interval(Real, 0, None, closed="neither")],
        "temporal_pooling": [StrOptions(set(TEMPORAL_POOLINGS))],
    }

    def _video_item_error(self, item):
        """Why a Segment cannot be read by a picture encoder, or None (see _item_error)."""
        if not isinstance(item, Segment):
            return None
        return segment_error(item) or (
            None
            if is_video_file(item.source)
            else (
                f"is a Segment of {os.fspath(item.source)!r}, which is not a video file: "
                f"{type(self).__name__} reads frames. Pass the segment to an audio encoder."
            )
        )

    def _video_label(self, item):
        return describe_segment(item) if isinstance(item, Segment) else None

    def _import_video_library(self):
        import_av_if_installed()

    def _video_sampling_bytes(self):
        return f"frames:{float(self.frame_rate)!r}".encode()

    def _sampled_frames(self, item):
        """Yield the RGB frames of a video item at ``frame_rate``."""
        source, start, end = item, 0.0, None
        if isinstance(item, Segment):
            source, start, end = item.source, float(item.start), float(item.end)
        sampled = 0
        for _, rgb in iter_video_frames(
            source, frame_rate=self.frame_rate, start=start, end=end, caller=type(self).__name__
        ):
            sampled += 1
            yield rgb
        if not sampled:
            span = "the segment" if isinstance(item, Segment) else "the video"
            raise ValueError(
                f"{span} holds no frame to sample (empty, or bounds past its end); pass a "
                "video with frames, or mark the item missing (None)"
            )

    def _pooled_dim(self, frame_dim):
        return frame_dim * (2 if self.temporal_pooling == "mean+std" else 1)

    def _pooled_names(self, names):
        """Feature names after pooling: unchanged for the mean, suffixed otherwise."""
        if self.temporal_pooling == "mean":
            return list(names)
        if self.temporal_pooling == "max":
            return [f"{name}_max" for name in names]
        return [f"{name}_mean" for name in names] + [f"{name}_std" for name in names]

    def _pooling_params(self):
        """The pooling, in the fingerprint only when it is not the mean (older caches)."""
        if self.temporal_pooling == "mean":
            return {}
        return {"temporal_pooling": self.temporal_pooling}

    def _encode_frames(self, items, encode):
        """Encode a batch of decoded items, some of them videos, into one row each.

        `encode` maps a list of prepared frames (or pictures) to their rows.
        """
        frames, counts = [], []
        for item in items:
            stack = item.frames if isinstance(item, VideoFrames) else [item]
            frames.extend(stack)
            counts.append(len(stack))
        rows = np.asarray(encode(frames), dtype=np.float32)
        pooled, start = [], 0
        for count in counts:
            pooled.append(pool_over_time(rows[start : start + count], self.temporal_pooling))
            start += count
        return np.stack(pooled)


def pool_over_time(rows, how):
    """One row from the rows of a video's frames (a picture: one frame)."""
    if how == "mean":
        return rows.mean(axis=0)
    if how == "max":
        return rows.max(axis=0)
    return np.concatenate([rows.mean(axis=0), rows.std(axis=0)])
