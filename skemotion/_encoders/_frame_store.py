"""Frame-level rows of a long recording, kept in a temporary file instead of in memory.

A recording's frame-level features grow with its length (the default AudioFeatures
groups: about 2.5 MB a minute, with the MFCC deltas computed from them), and exact
percentiles need every frame's value. Kept in a :class:`FrameStore`, they cost disk
space in the temporary folder (``TMPDIR``) instead, and the process holds only the
block it is appending or reading: its memory does not grow with the recording.
"""

import os
import tempfile

import numpy as np

# Frames read from a store at once: 64 Ki frames of 40 rows are 10 MB of float32.
READ_FRAMES = 65536


class FrameStore:
    """Rows x frames of values, appended along time, held in an anonymous file.

    The values keep the dtype of the first block appended (librosa gives float32 for
    most features, float64 for some).

    The file is time-major (one frame's rows after another's), so that appending a
    block and reading consecutive frames are each one contiguous write or read. It is
    deleted when the store is closed or collected.
    """

    def __init__(self):
        self.n_rows, self.n_frames, self.dtype = None, 0, None
        self._file = tempfile.TemporaryFile(prefix="skemotion-frames-")

    @property
    def shape(self):
        return (self.n_rows, self.n_frames)

    def append(self, values):
        """Append the frames of `values`, an array of shape (rows, frames)."""
        values = np.asarray(values)
        if self.n_rows is None:
            self.n_rows, self.dtype = values.shape[0], values.dtype
        if values.shape[0] != self.n_rows or values.dtype != self.dtype:
            raise ValueError(
                f"a block of {values.shape[0]} rows of {values.dtype}, not "
                f"{self.n_rows} of {self.dtype}"
            )
        self._file.seek(0, os.SEEK_END)
        self._file.write(np.ascontiguousarray(values.T).tobytes())
        self.n_frames += values.shape[1]

    def read(self, start, stop):
        """The frames [start, stop) as an array of shape (rows, frames)."""
        start, stop = max(0, start), min(stop, self.n_frames)
        frame_bytes = self.dtype.itemsize * self.n_rows
        self._file.seek(start * frame_bytes)
        data = self._file.read((stop - start) * frame_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.n_rows).T

    def blocks(self, context=0, frames=None):
        """(values, begin, count): consecutive blocks of `frames` frames in order.

        `frames` defaults to ``READ_FRAMES``, read when called.

        Each comes with up to `context` frames of its neighbours on each side, for a
        computation along time (a delta filter); its own frames are
        ``values[:, begin : begin + count]``.
        """
        frames = frames or READ_FRAMES
        for start in range(0, self.n_frames, frames):
            stop = min(start + frames, self.n_frames)
            first = max(0, start - context)
            yield self.read(first, stop + context), start - first, stop - start

    def take(self, rows, mask):
        """``values[rows][:, mask]`` as float64, read block by block."""
        pieces = []
        for start in range(0, self.n_frames, READ_FRAMES):
            values = self.read(start, start + READ_FRAMES)
            pieces.append(values[rows][:, mask[start : start + values.shape[1]]])
        return np.concatenate(pieces, axis=1).astype(np.float64)

    def derive(self, compute, context=0):
        """A new store of ``compute(values)`` over this one's blocks (a per-frame map,
        or one along time that needs at most `context` neighbouring frames)."""
        derived = FrameStore()
        for values, begin, count in self.blocks(context):
            derived.append(compute(values)[:, begin : begin + count])
        return derived

    def close(self):
        self._file.close()
