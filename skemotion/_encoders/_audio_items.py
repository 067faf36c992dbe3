"""Read audio items (files, arrays, (array, rate) pairs, dicts) as mono float32 waveforms.

Generic helpers for every encoder of speech. They define what an audio item is, the
bytes that identify it in the embedding cache, and one way of turning every kind of
item into a mono float32 waveform at the rate a model or recipe expects:

- a path (str or path-like) to a file libsndfile reads: WAV, FLAC, OGG/Vorbis, OPUS,
  MP3 (libsndfile >= 1.1), AIFF, ...;
- a path to a video file (.mp4, .avi, .mov, .mkv, .webm): its audio track, read with
  PyAV (extra ``video``);
- a :class:`~skemotion.Segment` of either: the samples between its two times;
- a 1-D array of samples, whose rate is the encoder's ``sampling_rate`` parameter;
- an ``(array, rate)`` tuple, or a ``{"array": ..., "sampling_rate": ...}`` dict as the
  Hugging Face ``datasets`` Audio feature yields.

Float samples are used as they are (full scale is [-1, 1]); int16 and int32 PCM arrays
are scaled to [-1, 1]. A 2-D array holds several channels, in either layout (channels,
samples) as librosa returns or (samples, channels) as soundfile returns: the shorter
axis is taken as the channels. Several channels (stereo, 5.1, ...) are mixed down to
their mean, as ``librosa.to_mono`` does. Any rate is resampled with soxr (``soxr_hq``), as
librosa.resample does. Samples that are NaN or infinite, and clips without samples, are
refused with an error that says so.
"""

import contextlib
import os
from numbers import Real

import numpy as np

from .._optional import import_optional_dependency
from ._audio_headers import declared_frames, mp3_declares_frames, ogg_is_cut_off
from ._items import is_missing
from ._segment import Segment, describe_segment, segment_error
from ._video import import_av_if_installed, is_video_file, iter_video_audio, video_duration

FLOAT_DTYPES = ("float16", "float32", "float64")
PCM_SCALE = {"int16": 2.0**15, "int32": 2.0**31}
# A clip with more channels than this is far more likely a mislaid 2-D array.
MAX_CHANNELS = 8
# An MP3 without a Xing (or VBRI) header declares no length: libsndfile estimates it
# from the file's size, and the decoded file may end this many samples short of the
# estimate (the decoder's delay and padding: under two frames of 1,152). With one, the
# count is exact (libsndfile's is the header's less LAME's delay and padding): a
# file that ends a sample short of it was cut off.
_MP3_TOLERANCE = 3 * 1152
# Float samples above this are far more likely PCM values left unscaled (int16 cast to
# float without dividing by 32768) than audio, whose full scale is [-1, 1].
_MAX_FLOAT_PEAK = 2.0
# Rates outside these are far more likely a slip (16 for 16 kHz) than audio.
MIN_RATE, MAX_RATE = 1_000, 768_000
RESAMPLER = "soxr_hq"
# Audio files that libsndfile (and librosa's fallback) read: what a folder of clips holds.
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"})
_ITEM_KINDS = (
    "a file path, a 1-D float array of samples, an (array, sampling_rate) tuple or a "
    "{'array': ..., 'sampling_rate': ...} dict"
)


def import_audio_library(name, caller):
    """soundfile (or librosa), or an ImportError that says how to install it."""
    return import_optional_dependency(name, extra="audio", caller=caller)


# --- what an audio item is ------------------------------------------------------------------


def is_missing_audio(item):
    """None, NaN, pandas NA, and empty or blank path strings mark a missing clip."""
    return is_missing(item) or (isinstance(item, str) and not item.strip())


def audio_item_error(item):
    """Why `item` is not an audio item (a phrase to follow its name), or None if it is."""
    if isinstance(item, (str, os.PathLike)):
        return None
    if isinstance(item, Segment):  # before tuples: a Segment is one
        return segment_error(item)
    if isinstance(item, np.ndarray):
        return _array_error(item)
    if isinstance(item, tuple):
        if len(item) != 2:
            return f"is a tuple of {len(item)} values; pass (array, sampling_rate)."
        return _array_error(item[0], in_what="the tuple's first value") or _rate_error(item[1])
    if isinstance(item, dict):
        if not {"array", "sampling_rate"} <= set(item):
            return (
                f"is a dict with keys {sorted(map(str, item))}; an audio dict needs 'array' "
                "and 'sampling_rate' (the Hugging Face datasets Audio convention)."
            )
        return _array_error(item["array"], in_what="its 'array'") or _rate_error(
            item["sampling_rate"]
        )
    return f"is a {type(item).__name__} ({item!r:.60}), not an audio clip. Pass {_ITEM_KINDS}."


def audio_item_notice(item):
    """``(phrase, fix)`` for a valid audio item that is probably not what was meant, or None.

    Float samples far outside [-1, 1]: int16 or int32 PCM values cast to float without
    being scaled, which the features would take for a clip thousands of times too loud.
    """
    if isinstance(item, Segment) or isinstance(item, (str, os.PathLike)):
        return None
    if isinstance(item, tuple):
        array = item[0]
    elif isinstance(item, dict):
        array = item["array"]
    else:
        array = item
    if array.dtype.name not in FLOAT_DTYPES or not array.size:
        return None
    peak = float(np.max(np.abs(array)))
    if not peak > _MAX_FLOAT_PEAK or not np.isfinite(peak):  # NaN, inf: refused when read
        return None
    return (
        f"has float samples up to {peak:,.6g}, where float audio is expected in [-1, 1]",
        "Divide int16 samples by 32768 (int32 ones by 2**31), or pass the int16 array "
        "itself, which is scaled.",
    )


def _array_error(array, in_what="it"):
    if not isinstance(array, np.ndarray):
        return (
            f"holds a {type(array).__name__} where a NumPy array of samples is expected "
            f"({in_what}); convert it with np.asarray (tensor.numpy() for torch)."
        )
    if array.dtype.name not in FLOAT_DTYPES and array.dtype.name not in PCM_SCALE:
        return (
            f"is an array of dtype {array.dtype} ({in_what}), which is not audio. Pass float "
            "samples in [-1, 1] (or int16/int32 PCM)."
        )
    if array.ndim == 2 and min(array.shape) > MAX_CHANNELS:
        return (
            f"is an array of shape {array.shape}, which is not a clip of at most "
            f"{MAX_CHANNELS} channels. Pass one 1-D array per clip."
        )
    if array.ndim not in (1, 2):
        return (
            f"is an array of shape {array.shape}; a clip is a 1-D array of samples "
            "(or 2-D: channels x samples)."
        )
    return None


def _rate_error(rate):
    if not isinstance(rate, Real) or isinstance(rate, bool) or not np.isfinite(rate):
        return f"has sampling rate {rate!r}; it must be a positive number of samples per second."
    return _implausible_rate(rate)


def _implausible_rate(rate):
    """Why `rate` (samples per second) cannot be audio's, or None."""
    if MIN_RATE <= rate <= MAX_RATE:
        return None
    return (
        f"has sampling rate {float(rate):g} Hz, outside the {MIN_RATE:,}-{MAX_RATE:,} Hz "
        "of audio recordings: pass the rate in samples per second (16000, not 16)."
    )


def describe_audio_item(item, array_rate):
    """A short description of an item for error messages: its path, or its size and rate."""
    if isinstance(item, (str, os.PathLike)):
        return f" ({os.fspath(item)!r})"
    if isinstance(item, Segment):
        return describe_segment(item)
    try:
        array, rate = _array_and_rate(item, array_rate)
        return f" ({array.dtype} array of shape {array.shape} at {float(rate):g} Hz)"
    except Exception:  # a malformed item: its position alone names it
        return ""


def _array_and_rate(item, array_rate):
    if isinstance(item, tuple):
        return item
    if isinstance(item, dict):
        return item["array"], item["sampling_rate"]
    return item, array_rate


def audio_item_bytes(item, array_rate):
    """The bytes that identify an in-memory audio item's content, for cache keys.

    An array's rate, dtype, shape and samples, so that ``(x, 16000)`` and a bare ``x``
    read at 16 kHz share one key, while the same samples at another rate do not. (A
    file is keyed by its bytes, not its path: a renamed copy is the same clip.)
    """
    array, rate = _array_and_rate(item, array_rate)
    array = np.ascontiguousarray(array)
    head = f"{float(rate)!r}|{array.dtype.str}|{array.shape}".encode()
    return b"array\0" + head + b"\0" + array.tobytes()


def audio_duration(item, array_rate):
    """A clip's duration in seconds, read cheaply (file header); 0.0 if it cannot be read.

    Used only to batch similar lengths together: errors surface when the clip is read.
    """
    try:
        if isinstance(item, Segment):
            return float(item.end) - float(item.start)
        if is_video_file(item):
            return video_duration(item)
        if isinstance(item, (str, os.PathLike)):
            soundfile = import_audio_library("soundfile", "audio")
            return float(soundfile.info(os.fspath(item)).duration)
        array, rate = _array_and_rate(item, array_rate)
        return max(array.shape) / float(rate) if array.size else 0.0
    except Exception:  # a broken item is reported, with its name, when it is decoded
        return 0.0


# --- reading and converting --------------------------------------------------------------


def load_waveform(item, *, sampling_rate, array_rate, caller):
    """Read an audio item as a mono float32 waveform at `sampling_rate`.

    `array_rate` is the rate of bare arrays. Raises an exception that says what is wrong
    with the item (missing or unreadable file, no samples, NaN or infinite samples);
    callers add the item's name.
    """
    if isinstance(item, Segment) or is_video_file(item):
        blocks = list(stream_audio(item, sampling_rate=sampling_rate, caller=caller))
        return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    if isinstance(item, (str, os.PathLike)):
        samples, rate = read_audio_file(item, caller=caller)
    else:
        array, rate = _array_and_rate(item, array_rate)
        samples = _to_float(array)
    return resample(to_mono(check_samples(samples)), rate, sampling_rate, caller=caller)


def read_audio_file(path, *, caller):
    """The samples (frames x channels, float32) and rate of an audio file."""
    soundfile = import_audio_library("soundfile", caller)
    path = _check_readable(path)
    with _decoding_errors(soundfile):
        with soundfile.SoundFile(path) as sound:
            _check_file_rate(sound.samplerate)
            samples = sound.read(dtype="float32", always_2d=True)
            rate, file_format, declared = sound.samplerate, sound.format, sound.frames
    _check_complete(path, file_format, rate, declared, samples.shape[0])
    return samples, rate


def stream_audio(item, *, sampling_rate, caller):
    """Yield a file's, a video's audio track's or a Segment's samples as mono blocks."""
    start, end, source = 0.0, None, item
    if isinstance(item, Segment):
        start, end, source = float(item.start), float(item.end), item.source
    if is_video_file(source):
        yield from stream_video_audio(
            source, sampling_rate=sampling_rate, start=start, end=end, caller=caller
        )
    else:
        yield from stream_audio_file(
            source, sampling_rate=sampling_rate, caller=caller, start=start, end=end
        )


def stream_video_audio(path, *, sampling_rate, caller, start=0.0, end=None):
    """Yield a video file's audio track as mono float32 blocks at `sampling_rate`.

    Mixed down to the mean of its channels and resampled with soxr's stream, as
    :func:`stream_audio_file` does an audio file; the same checks (NaN, no samples).
    """
    rate, resampler, kept, position = None, None, 0, 0
    for rate, samples in iter_video_audio(path, start=start, end=end, caller=caller):
        if resampler is None:
            resampler = stream_resampler(rate, sampling_rate, caller) or False
        check_samples(samples.T, offset=kept)
        kept += samples.shape[1]
        mono = samples[0] if samples.shape[0] == 1 else samples.mean(0, np.float32)
        if resampler:
            mono = resampler.resample_chunk(mono)
        position += mono.size
        yield np.ascontiguousarray(mono, dtype=np.float32)
    if kept == 0:
        check_samples(np.zeros(0, dtype=np.float32))
    if resampler:
        ratio = float(sampling_rate) / rate  # as librosa.resample computes it
        yield from fixed_length_tail(resampler, position, kept * ratio)


def read_video_audio(path, *, sampling_rate, start=0.0, end=None, caller="video"):
    """A video file's audio track (between `start` and `end`) as one mono float32 array."""
    blocks = stream_video_audio(
        path, sampling_rate=sampling_rate, start=start, end=end, caller=caller
    )
    return np.concatenate(list(blocks))


def stream_audio_file(path, *, sampling_rate, caller, block_seconds=1.0, start=0.0, end=None):
    """Yield an audio file's samples as mono float32 blocks at `sampling_rate`.

    The same samples as :func:`load_waveform` on the path, bit for bit, and the same
    checks (truncation, NaN, no samples), but never more than about `block_seconds`
    of the file in memory: a long recording is decoded, mixed down and resampled
    block by block (soxr's stream, which gives what its one-shot resampler gives).
    With `start` and `end` (seconds), only the samples between them.
    """
    soundfile = import_audio_library("soundfile", caller)
    path = _check_readable(path)
    frames_read, position = 0, 0
    with _decoding_errors(soundfile):
        with soundfile.SoundFile(path) as sound:
            rate, file_format, declared = sound.samplerate, sound.format, sound.frames
            _check_file_rate(rate)
            first, wanted = _segment_frames(path, rate, declared, start, end)
            resampler = stream_resampler(rate, sampling_rate, caller)
            block = max(1, int(block_seconds * rate))
            if first:
                sound.seek(first)
            for samples in _read_blocks(sound, block, wanted):
                check_samples(samples, offset=frames_read)
                frames_read += samples.shape[0]
                # Not to_mono, which takes the shorter axis for the channels: a last
                # block of fewer frames than channels would be mixed the wrong way.
                mono = samples[:, 0] if samples.shape[1] == 1 else samples.T.mean(0, np.float32)
                if resampler is not None:
                    mono = resampler.resample_chunk(mono)
                position += mono.size
                yield np.ascontiguousarray(mono, dtype=np.float32)
    if end is None:
        _check_complete(path, file_format, rate, declared, frames_read)
    elif frames_read < wanted:
        raise ValueError(
            f"the file is truncated: the segment needs {wanted:,} frames from {start:g} s "
            f"but only {frames_read:,} could be read. Download or export it again"
        )
    if frames_read == 0:
        check_samples(np.zeros(0, dtype=np.float32))
    if resampler is not None:
        ratio = float(sampling_rate) / rate  # as librosa.resample computes it
        yield from fixed_length_tail(resampler, position, frames_read * ratio)


def _read_blocks(sound, block, wanted):
    """`wanted` frames (-1: to the end) of an open SoundFile, `block` at a time.

    Not ``SoundFile.blocks``: when the file ends before the frame count libsndfile
    reports (a cut-off MP3), it goes on yielding whole blocks, the last one read again,
    so a truncated file would be analysed as if whole. This stops at the first short
    read, and the frames counted are the frames in the file.
    """
    remaining = wanted
    while remaining:
        asked = block if remaining < 0 else min(block, remaining)
        samples = sound.read(asked, dtype="float32", always_2d=True)
        if samples.shape[0]:
            yield samples
        if samples.shape[0] < asked:
            return
        if remaining > 0:
            remaining -= samples.shape[0]


def fixed_length_tail(resampler, position, exact_length):
    """The resampler's last samples, cut or padded with zeros to ``ceil(exact_length)``.

    soxr rounds the length to the nearest sample; librosa.resample (which
    load_waveform uses) fixes it to the ceiling: both streams must end alike.
    """
    tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
    wanted = int(np.ceil(exact_length)) - position
    yield np.ascontiguousarray(tail[: max(wanted, 0)], dtype=np.float32)
    if wanted > tail.size:
        yield np.zeros(wanted - tail.size, dtype=np.float32)


def _segment_frames(path, rate, declared, start, end):
    """(first frame, number of frames) of the part from `start` to `end` s; -1: to the end."""
    first = int(round(start * rate))
    if end is None:
        return first, -1
    stop = int(round(end * rate))
    if stop > declared:
        announced = declared_frames(path)
        if announced is not None and stop <= announced:
            raise _BadSamples(
                f"the file is truncated: the segment ends at {end:g} s, within the "
                f"{announced / rate:.2f} s its header announces, but only "
                f"{declared / rate:.2f} s are in the file. Download or export it again"
            )
        raise _BadSamples(
            f"the segment ends at {end:g} s, after the end of {path!r} "
            f"({declared / rate:.2f} s). Pass bounds within the recording"
        )
    return first, max(stop - first, 0)


def stream_resampler(rate, target, caller):
    """A soxr stream from `rate` to `target` at librosa's ``soxr_hq``, or None if equal."""
    if float(rate) == float(target):
        return None
    soxr = import_optional_dependency("soxr", extra="audio", caller=caller)
    return soxr.ResampleStream(float(rate), float(target), 1, dtype="float32", quality="HQ")


def _check_readable(path):
    """`path` as a str, once it is known to be a file this user may read."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such audio file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a folder, not an audio file")
    if os.path.getsize(path) == 0:
        raise _BadSamples(
            f"{path!r} is empty (0 bytes): an interrupted download or copy? Copy or export it again"
        )
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise PermissionError(
            f"cannot read {path!r}: permission denied. Make it readable (chmod o+r) for "
            "the user running skemotion"
        ) from None
    return path


@contextlib.contextmanager
def _decoding_errors(soundfile):
    """libsndfile's errors as ValueErrors that say what may be wrong and the fix."""
    try:
        yield
    except soundfile.LibsndfileError as exc:
        raise ValueError(
            f"the file is not audio that libsndfile can read ({exc.error_string}): it may be "
            "truncated, corrupt, or in a container it does not support (m4a, aac, webm); "
            "convert it to WAV or FLAC, e.g. with ffmpeg"
        ) from None
    except _BadSamples:
        raise
    except (RuntimeError, TypeError, ValueError) as exc:  # soundfile's other decode errors
        raise ValueError(f"the audio file is truncated or corrupt ({exc})") from exc


def _check_complete(path, file_format, rate, declared, frames_read):
    """Refuse a file with fewer frames than its header announces (a cut-off download).

    libsndfile reads a truncated file up to where it ends without a word, and for
    WAV-like containers and AIFF corrects the frame count it reports; so their declared
    count is read from the file's own header (_audio_headers). MP3's count (libsndfile's)
    is exact where the file has a Xing, Info or VBRI header (as LAME and libsndfile
    write), and compared with a tolerance for the decoder's delay and padding where
    it is only an estimate. An Ogg file must end with its end-of-stream page. FLAC's
    decoder raises on a cut-off stream.
    """
    if file_format in ("OGG", "OPUS"):
        if ogg_is_cut_off(path):
            raise _BadSamples(
                f"the file is truncated: {os.path.basename(path)} ends before its Ogg "
                f"stream does (after {frames_read / float(rate):.2f} s; its last page is "
                "missing or cut short). Download or export it again"
            )
        return
    if file_format in ("MP3", "MPEG"):  # soundfile has used both names
        tolerance = 0 if mp3_declares_frames(path) else _MP3_TOLERANCE
    else:
        declared, tolerance = declared_frames(path), 0
    if declared is not None and declared - frames_read > tolerance:
        rate = float(rate)
        raise _BadSamples(
            f"the file is truncated: its header announces {declared:,} frames "
            f"({declared / rate:.2f} s) but it holds only {frames_read:,} "
            f"({frames_read / rate:.2f} s). Download or export it again"
        )


def _check_file_rate(rate):
    problem = _implausible_rate(rate)
    if problem is not None:
        raise _BadSamples(f"the file {problem}")


def _to_float(array):
    if array.dtype.name in PCM_SCALE:
        return array.astype(np.float32) / np.float32(PCM_SCALE[array.dtype.name])
    return np.asarray(array, dtype=np.float32)


def to_mono(samples):
    """Mix channels down to their mean; the shorter axis of a 2-D array is the channels."""
    if samples.ndim == 1:
        return samples
    if samples.shape[0] > samples.shape[1]:
        samples = samples.T  # (samples, channels) as soundfile returns it
    return samples.mean(axis=0, dtype=np.float32) if samples.shape[0] > 1 else samples[0]


class _BadSamples(ValueError):
    """A problem with the samples or the bounds asked for, already worded for the user
    (not a decoding failure, which _decoding_errors words)."""


def check_samples(samples, offset=0):
    """Refuse clips without samples and samples that are NaN or infinite (any channel).

    `offset` is the position of the first of `samples` in its clip, when it is a block.
    """
    if samples.size == 0 and not offset:
        raise _BadSamples("the clip holds no samples (zero length)")
    bad = ~np.isfinite(samples)
    if bad.any():
        first = np.unravel_index(np.argmax(bad), bad.shape)
        first = (first[0] + offset, *first[1:])
        where = f"sample {first[0]}" if bad.ndim == 1 else f"position {tuple(map(int, first))}"
        of = "" if offset else f" of {samples.shape if bad.ndim > 1 else samples.size}"
        raise _BadSamples(
            f"the waveform holds {int(bad.sum())} NaN or infinite sample(s) (the first at "
            f"{where}{of}); repair them (e.g. np.nan_to_num) or drop the clip"
        )
    return samples


def resample(samples, rate, target, *, caller):
    """Mono `samples` at `rate` resampled to `target` (soxr); float32, C-contiguous."""
    if float(rate) != float(target):
        soxr = import_optional_dependency("soxr", extra="audio", caller=caller)
        # What librosa.resample(res_type="soxr_hq") gives, without importing librosa
        # (whose numba kernels compile for seconds in a fresh process): soxr's samples,
        # the length fixed to the ceiling of the exact one (soxr rounds it).
        length = int(np.ceil(samples.size * float(target) / float(rate)))
        samples = soxr.resample(samples, float(rate), float(target), quality=RESAMPLER)
        if samples.size < length:
            samples = np.pad(samples, (0, length - samples.size))
        samples = samples[:length]
    return np.ascontiguousarray(samples, dtype=np.float32)


class AudioItemsMixin:
    """The item hooks that every audio encoder shares (paths, arrays, (array, rate), dicts).

    Put it before the encoder base among the bases; the encoder has a
    ``sampling_rate`` parameter, the rate of bare arrays and the resampling target.
    """

    _file_key_prefix = b"file\0"

    def _import_decoding_libraries(self):
        caller = type(self).__name__
        import_audio_library("soundfile", caller)
        import_optional_dependency("soxr", extra="audio", caller=caller)
        import_av_if_installed()  # for video items

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # file paths
        return tags

    def _is_missing_item(self, item):
        return is_missing_audio(item)

    def _item_error(self, item):
        return audio_item_error(item)

    def _item_notice(self, item):
        return audio_item_notice(item)

    def _item_bytes(self, item):
        return audio_item_bytes(item, self.sampling_rate)

    def _item_label(self, item):
        return describe_audio_item(item, self.sampling_rate)

    def _length_hint(self, item):
        return audio_duration(item, self.sampling_rate)
