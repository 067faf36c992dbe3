"""SpeechSegmenter: where the speech is in a long recording, found by Silero VAD.

A long recording (a call, an interview, a video) is cut into its utterances, so that
each can be encoded and classified as a clip of its own (:func:`~skemotion.predict_timeline`).
The voice activity detector is Silero VAD (https://github.com/snakers4/silero-vad,
Copyright (c) 2020-present Silero Team, MIT licence), whose network and weights ship in
the ``silero-vad`` wheel (``pip install 'skemotion[vad]'``): nothing is downloaded.

Silero VAD gives a speech probability to each window of 512 samples (32 ms at 16 kHz),
its network seeing the 64 samples before the window and carrying an LSTM state from one
window to the next. Silero's own loop calls its TorchScript model once per window (about
10x real time on 2 cores); here the weights of that same model are read once per process
and the network is run on a minute of windows at a time: the convolutions of all the
windows in one batch, then the LSTM stepped over them in NumPy. The probabilities are
Silero's (within 1e-5) at hundreds of times real time, and memory holds about a minute of audio
(a file, or a video's audio track, is decoded block by block). Silero's
``get_speech_timestamps_from_probs`` then turns the probabilities into segments, with
the parameters of ``get_speech_timestamps``.
"""

import functools
import importlib.util
import os
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from ._encoders._audio_items import (
    audio_item_error,
    describe_audio_item,
    is_missing_audio,
    load_waveform,
    stream_audio,
)
from ._encoders._segment import Segment
from ._encoders._video import is_video_file
from ._optional import import_optional_dependency
from ._sklearn_compat import Interval, InvalidParameterError

__all__ = ["SpeechSegmenter"]

CALLER = "SpeechSegmenter"
EXTRA = "vad"
# Silero VAD's rate, window and context at 16 kHz.
VAD_RATE = 16000
WINDOW = 512
CONTEXT = 64
# Windows per forward pass: 60 s of audio, about 25 MB of intermediate tensors.
BLOCK_WINDOWS = 1875
# The TorchScript model's weights this module reads, by their names there.
_ENCODER = [f"encoder.{i}.reparam_conv" for i in range(4)]
_CONVOLUTIONS = ["stft.forward_basis_buffer"] + [
    f"{conv}.{kind}" for conv in _ENCODER for kind in ("weight", "bias")
]
_WEIGHTS = (
    _CONVOLUTIONS
    + ["decoder.decoder.2.weight", "decoder.decoder.2.bias"]
    + [f"decoder.rnn.{name}" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
)
# (stride, padding) of the four encoder convolutions (Silero VAD v5 and v6).
_ENCODER_STRIDES = ((1, 1), (2, 1), (2, 1), (1, 1))
COLUMNS = ["start", "end"]


class SpeechSegmenter:
    """Find the utterances of a long recording with Silero VAD.

    :meth:`segment` returns the start and end (in seconds) of each stretch of speech
    in a recording: an audio file, the audio track of a video file, or an array of
    samples. :meth:`segments` returns them as :class:`~skemotion.Segment` items of
    the file, which the encoders read like clips; :func:`~skemotion.predict_timeline`
    classifies each.

    The detector is Silero VAD (Silero Team, MIT licence), run on the CPU at 16 kHz:
    other rates are resampled first. Its weights ship in the ``silero-vad`` package
    (``pip install 'skemotion[vad]'``) and are loaded once per process, on first use.
    The parameters are those of Silero's ``get_speech_timestamps``, in seconds, with
    its defaults, except `max_segment`.

    Parameters
    ----------
    threshold : float, default=0.5
        Speech probability above which a window is speech; a segment ends where the
        probability falls below ``threshold - 0.15``. Raise it in loud noise, lower it
        for quiet speakers.
    min_speech : float, default=0.25
        Shorter stretches of speech (in seconds) are dropped.
    min_silence : float, default=0.1
        Silence (in seconds) that ends a segment; shorter pauses stay inside it.
    pad : float, default=0.03
        Seconds added at both ends of each segment (less where two segments are
        closer than twice this: they then meet halfway).
    max_segment : float or None, default=15.0
        Longer segments are split, at their longest pause (of at least 98 ms) where
        there is one, else at this length. None never splits.
    sampling_rate : int, default=16000
        The rate of a recording given as a bare array of samples; an ``(array,
        rate)`` tuple or a file carries its own.

    See Also
    --------
    skemotion.predict_timeline : The emotion of each segment of a recording.
    skemotion.plots.EmotionTimelineDisplay : Plot such a timeline.

    Notes
    -----
    Silero VAD: https://github.com/snakers4/silero-vad, Copyright (c) 2020-present
    Silero Team, released under the MIT licence.

    A recording without speech (silence, noise) gives no segment: an empty DataFrame
    and a warning, not an error.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion import SpeechSegmenter
    >>> silence = np.zeros(16000 * 2, dtype=np.float32)
    >>> segmenter = SpeechSegmenter(min_silence=0.2)
    >>> segmenter.segment(silence)  # doctest: +SKIP
    Empty DataFrame
    Columns: [start, end]
    Index: []
    >>> segmenter.segment("interview.wav")  # doctest: +SKIP
        start    end
    0   0.958  2.718
    1   4.030  6.114
    """

    _parameter_constraints = {
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "min_speech": [Interval(Real, 0, None, closed="left")],
        "min_silence": [Interval(Real, 0, None, closed="left")],
        "pad": [Interval(Real, 0, None, closed="left")],
        "max_segment": [Interval(Real, 0, None, closed="neither"), None],
        "sampling_rate": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        threshold=0.5,
        *,
        min_speech=0.25,
        min_silence=0.1,
        pad=0.03,
        max_segment=15.0,
        sampling_rate=16000,
    ):
        self.threshold = threshold
        self.min_speech = min_speech
        self.min_silence = min_silence
        self.pad = pad
        self.max_segment = max_segment
        self.sampling_rate = sampling_rate

    # --- scikit-learn's parameter protocol (clone, set_params, repr) -------------------

    @classmethod
    def _get_param_names(cls):
        return list(cls._parameter_constraints)

    def get_params(self, deep=True):
        """The parameters, as scikit-learn estimators give theirs.

        Parameters
        ----------
        deep : bool, default=True
            Ignored: a segmenter holds no estimator.

        Returns
        -------
        params : dict
            Each parameter's name and value.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set parameters, as scikit-learn estimators do.

        Parameters
        ----------
        **params : dict
            New values of some parameters.

        Returns
        -------
        self : SpeechSegmenter
            This segmenter.
        """
        unknown = sorted(set(params) - set(self._get_param_names()))
        if unknown:
            raise ValueError(
                f"Invalid parameter(s) {unknown} for {type(self).__name__}; its parameters "
                f"are {self._get_param_names()}."
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = type(self)().get_params()
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _validate_params(self):
        """Each parameter against its constraints, with scikit-learn's wording."""
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name)
            ok = any(value is None if c is None else c.is_satisfied_by(value) for c in constraints)
            if not ok:
                expected = " or ".join("None" if c is None else str(c) for c in constraints)
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be {expected}. "
                    f"Got {value!r} instead."
                )
        if self.max_segment is not None and self.max_segment <= self.min_speech + 2 * self.pad:
            raise InvalidParameterError(
                f"The 'max_segment' parameter of {type(self).__name__} ({self.max_segment!r} "
                f"s) must exceed min_speech + 2 * pad ({self.min_speech + 2 * self.pad:g} s): "
                "no segment could be kept. Raise it, or pass None never to split."
            )

    # --- segmenting --------------------------------------------------------------------

    def segment(self, recording):
        """Find the stretches of speech in a recording.

        Parameters
        ----------
        recording : str, path-like, ndarray or (ndarray, int) tuple
            An audio file (WAV, FLAC, OGG, MP3, ... as :class:`~skemotion.AudioFeatures`
            reads them), a video file (.mp4, .mkv, .mov, .avi, .webm, .m4v: its audio
            track, ``pip install 'skemotion[video]'``), a 1-D array of samples at
            `sampling_rate`, or an ``(array, rate)`` tuple. Files are decoded as they
            stream; several channels are mixed down to their mean.

        Returns
        -------
        segments : DataFrame
            One row per segment, in time order: ``start`` and ``end`` in seconds from
            the start of the recording (floats). Empty, with a warning, where the
            recording holds no speech.
        """
        self._validate_params()
        name = _recording_name(recording, self.sampling_rate)
        probabilities, n_samples = _speech_probabilities(_blocks(recording, name, self))
        timestamps = _timestamps_from_probs(
            probabilities,
            n_samples,
            threshold=float(self.threshold),
            min_speech_duration_ms=1000 * float(self.min_speech),
            min_silence_duration_ms=1000 * float(self.min_silence),
            speech_pad_ms=1000 * float(self.pad),
            max_speech_duration_s=(
                float("inf") if self.max_segment is None else float(self.max_segment)
            ),
        )
        frame = pd.DataFrame(
            {
                "start": [t["start"] / VAD_RATE for t in timestamps],
                "end": [t["end"] / VAD_RATE for t in timestamps],
            },
            columns=COLUMNS,
            dtype=float,
        )
        if frame.empty:
            warnings.warn(
                f"{type(self).__name__}: no speech found in {name} "
                f"({n_samples / VAD_RATE:.1f} s): returning no segment. If it holds quiet "
                f"speech, lower threshold (now {self.threshold!r}).",
                UserWarning,
                stacklevel=2,
            )
        return frame

    def segments(self, recording):
        """The stretches of speech of a file as :class:`~skemotion.Segment` items.

        Parameters
        ----------
        recording : str or path-like
            An audio or video file, as :meth:`segment` reads it.

        Returns
        -------
        segments : list of Segment
            ``Segment(recording, start, end)`` per stretch of speech, in time order;
            empty, with a warning, where the recording holds no speech.
        """
        if not isinstance(recording, (str, os.PathLike)):
            name = _recording_name(recording, self.sampling_rate)
            raise TypeError(
                f"{type(self).__name__}.segments needs the path of an audio or video file "
                f"(a Segment's source is a file); got the {name}. Use "
                ".segment() for the bounds in an array, or write it to a file first "
                "(soundfile.write)."
            )
        frame = self.segment(recording)
        return [
            Segment(recording, float(start), float(end))
            for start, end in zip(frame["start"], frame["end"], strict=True)
        ]


# --- reading the recording --------------------------------------------------------------


def _recording_name(recording, array_rate):
    if isinstance(recording, (str, os.PathLike)):
        return f"recording {os.fspath(recording)!r}"
    described = describe_audio_item(recording, array_rate)
    return "recording" + (described or f" ({type(recording).__name__})")


def _blocks(recording, name, segmenter):
    """Yield the recording's samples as mono float32 blocks at 16 kHz, errors named."""
    if is_missing_audio(recording):
        raise ValueError(
            f"{CALLER}: the recording is missing ({recording!r}); pass an audio or video "
            "file, or an array of samples."
        )
    problem = audio_item_error(recording)
    if problem is not None:
        raise TypeError(f"{CALLER}: the {name} {problem}")
    try:
        if isinstance(recording, (str, os.PathLike)):  # an audio file, a video's track
            yield from stream_audio(recording, sampling_rate=VAD_RATE, caller=CALLER)
        else:
            yield load_waveform(
                recording,
                sampling_rate=VAD_RATE,
                array_rate=segmenter.sampling_rate,
                caller=CALLER,
            )
    except (OSError, ValueError) as exc:
        if is_video_file(recording) and "has no audio track" in str(exc):
            raise ValueError(
                f"{CALLER}: {name} has no audio track, and speech is found in the audio. "
                "Segment a recording of the session that has sound (or mux one in, e.g. "
                "ffmpeg -i video.mp4 -i audio.wav -c:v copy out.mp4)."
            ) from exc
        kinds = (FileNotFoundError, IsADirectoryError, PermissionError, ValueError, OSError)
        kind = next(kind for kind in kinds if isinstance(exc, kind))
        raise kind(f"{CALLER}: {name}: {exc}") from exc


# --- Silero VAD ---------------------------------------------------------------------------


def _silero_file(name):
    """The path of a file of the silero-vad package's data, found without importing it."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{CALLER} requires silero-vad: pip install 'skemotion[{EXTRA}]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise ImportError(
            f"{CALLER}: the silero-vad package has no {name} (looked in {path.parent}); "
            f"reinstall it: pip install --force-reinstall 'skemotion[{EXTRA}]'"
        )
    return path


@functools.cache
def _silero_network():
    """Silero VAD's 16 kHz network as tensors and arrays, loaded once per process.

    The weights are read from the package's TorchScript model (the one Silero's own
    ``load_silero_vad`` loads), on the CPU.
    """
    torch = import_optional_dependency("torch", extra=EXTRA, caller=CALLER)
    path = _silero_file("silero_vad.jit")
    with warnings.catch_warnings():
        # torch >= 2.9 deprecates TorchScript; only the weights are read here.
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit.load")
        model = torch.jit.load(str(path), map_location="cpu")
    found = model._model.state_dict()
    missing = [key for key in _WEIGHTS if key not in found]
    if missing:
        raise ImportError(
            f"{CALLER}: the installed silero-vad model ({path}) lacks {missing}: this "
            f"version's network is not the one {CALLER} runs (silero-vad 5 and 6). "
            "Install silero-vad 6: pip install 'silero-vad>=6,<7'"
        )
    convolutions = {key: found[key].detach().clone().float() for key in _CONVOLUTIONS}
    # The LSTM runs in NumPy, a step per window: torch's CPU LSTM is a chain of tiny
    # steps, each parallel, whose threads wait on one another (on a busy 2-core machine
    # it ran 20x slower than alone), and in float32 oneDNN's first call at each
    # sequence length took seconds. Gates reordered: input, forget, output (sigmoid),
    # then cell (tanh); float64.
    order = np.r_[0:256, 384:512, 256:384]

    def array(key):
        return found[key].detach().double().numpy()

    lstm = {
        "weight_ih_T": np.ascontiguousarray(array("decoder.rnn.weight_ih")[order].T),
        "weight_hh_T": np.ascontiguousarray(array("decoder.rnn.weight_hh")[order].T),
        "bias": (array("decoder.rnn.bias_ih") + array("decoder.rnn.bias_hh"))[order],
        "out_weight": array("decoder.decoder.2.weight")[0, :, 0],
        "out_bias": float(array("decoder.decoder.2.bias")[0]),
    }
    return torch, convolutions, lstm


def _speech_probabilities(blocks):
    """Silero VAD's speech probability of each 512-sample window, and the sample count.

    The same computation as calling Silero's model window after window (the window
    with the 64 samples before it, reflect-padded by 64; the LSTM state carried on),
    done for a minute of windows at a time. The last window is padded with zeros, as
    Silero's ``get_speech_timestamps`` pads it.
    """
    torch, w, lstm = _silero_network()
    functional = torch.nn.functional
    block_samples = WINDOW * BLOCK_WINDOWS
    pending = np.zeros(CONTEXT, dtype=np.float32)  # the context before the first window
    probabilities, state, n_samples = [], None, 0

    def run(samples):
        """Probabilities of the windows of `samples` (the context, then whole windows)."""
        nonlocal state
        x = torch.from_numpy(samples).unfold(0, CONTEXT + WINDOW, WINDOW)
        x = functional.pad(x[:, None], (0, CONTEXT), mode="reflect")
        x = functional.conv1d(x, w["stft.forward_basis_buffer"], stride=WINDOW // 4)
        half = x.shape[1] // 2
        x = torch.sqrt(x[:, :half] ** 2 + x[:, half:] ** 2)
        for conv, (stride, padding) in zip(_ENCODER, _ENCODER_STRIDES, strict=True):
            x = functional.conv1d(
                x, w[f"{conv}.weight"], w[f"{conv}.bias"], stride=stride, padding=padding
            ).relu()
        h, state = _lstm(x[:, :, 0].double().numpy(), state, lstm)
        logits = np.maximum(h, 0) @ lstm["out_weight"] + lstm["out_bias"]
        probabilities.append((1 / (1 + np.exp(-logits))).astype(np.float32))

    with torch.inference_mode():
        buffered, size = [pending], pending.size
        for block in blocks:
            n_samples += block.size
            buffered.append(block)
            size += block.size
            if size >= CONTEXT + block_samples:
                pending = np.concatenate(buffered)
                while pending.size >= CONTEXT + block_samples:
                    run(pending[: CONTEXT + block_samples])
                    pending = pending[block_samples:]
                buffered, size = [pending], pending.size
        pending = np.concatenate(buffered)
        whole = (pending.size - CONTEXT) // WINDOW * WINDOW
        if whole:
            run(pending[: CONTEXT + whole])
            pending = pending[whole:]
        if pending.size > CONTEXT:  # the last, partial window
            run(np.concatenate([pending, np.zeros(CONTEXT + WINDOW - pending.size, np.float32)]))
    values = np.concatenate(probabilities) if probabilities else np.zeros(0, np.float32)
    return values, n_samples


def _lstm(x, state, weights):
    """Silero's LSTM cell over the windows' features `x` (n, 128), from `state` (h, c)."""
    h, c = (np.zeros(128), np.zeros(128)) if state is None else state
    inputs = x @ weights["weight_ih_T"] + weights["bias"]
    recurrent = weights["weight_hh_T"]
    out = np.empty((len(x), 128))
    gates = np.empty(512)
    sigmoid, cell = gates[:384], gates[384:]
    for t in range(len(x)):
        np.dot(h, recurrent, out=gates)
        gates += inputs[t]
        np.negative(sigmoid, out=sigmoid)
        np.exp(sigmoid, out=sigmoid)
        sigmoid += 1.0
        np.reciprocal(sigmoid, out=sigmoid)
        np.tanh(cell, out=cell)
        c = gates[128:256] * c + gates[:128] * cell
        h = gates[256:384] * np.tanh(c)
        out[t] = h
    return out, (h, c)


@functools.cache
def _silero_postprocessing():
    """Silero's ``get_speech_timestamps_from_probs``, imported with torch's threads kept.

    Importing silero_vad sets torch's thread count to 1 for the whole process: the
    count is put back as it was.
    """
    torch = import_optional_dependency("torch", extra=EXTRA, caller=CALLER)
    threads = torch.get_num_threads()
    try:
        utils = import_optional_dependency("silero_vad.utils_vad", extra=EXTRA, caller=CALLER)
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    function = getattr(utils, "get_speech_timestamps_from_probs", None)
    if function is None:
        raise ImportError(
            f"{CALLER} requires silero-vad >= 6.2 (get_speech_timestamps_from_probs): "
            "pip install -U 'silero-vad>=6.2'"
        )
    return function


def _timestamps_from_probs(probabilities, n_samples, **parameters):
    """Segments, in samples at 16 kHz, of the probabilities (Silero's rules)."""
    if n_samples == 0:
        return []
    return _silero_postprocessing()(
        probabilities.tolist(),
        sampling_rate=VAD_RATE,
        audio_length_samples=n_samples,
        **parameters,
    )
