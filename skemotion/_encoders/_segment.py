"""A segment of a recording (an audio or video file) as an item of its own.

A long recording's utterances are encoded like clips: ``Segment("call.wav", 12.5,
15.0)`` is an item that every audio encoder (and, for a video, every face and image
encoder) reads from the file, between the two times only. Its cache key is the
recording's content and the bounds, so a segment is encoded once whoever asks.
"""

import math
import os
from typing import NamedTuple


class Segment(NamedTuple):
    """The part of a recording between `start` and `end` seconds, as an item.

    Parameters
    ----------
    source : str or path-like
        The recording: an audio file, or a video file (its frames or its audio
        track, as the encoder reads videos).
    start : float
        Where the segment begins, in seconds from the start of the recording.
    end : float
        Where it ends, in seconds; after `start`.

    Examples
    --------
    >>> from skemotion import Segment
    >>> Segment("interview.wav", 12.5, 15.0)
    Segment(source='interview.wav', start=12.5, end=15.0)
    """

    source: object
    start: float
    end: float

    @property
    def duration(self):
        """The segment's length in seconds."""
        return self.end - self.start


def segment_error(item):
    """Why a Segment is not a readable one (a phrase after its name), or None."""
    if not isinstance(item.source, (str, os.PathLike)):
        return (
            f"is a Segment of a {type(item.source).__name__}, not of a file: a segment's "
            "source is the path of an audio or video file."
        )
    try:
        start, end = float(item.start), float(item.end)
    except (TypeError, ValueError):
        return f"is a Segment with bounds {item.start!r}, {item.end!r}: pass times in seconds."
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        return (
            f"is a Segment from {start!r} to {end!r} s: a segment needs 0 <= start < end, "
            "both finite, in seconds."
        )
    return None


def segment_key_bytes(item):
    """What a segment adds to its recording's content in the cache key: its bounds."""
    return f"segment:{float(item.start)!r}:{float(item.end)!r}".encode()


def describe_segment(item):
    """How error messages show a segment beside its position."""
    return f" ({os.fspath(item.source)!r}, {float(item.start):g} s to {float(item.end):g} s)"
