"""AudioFeatures: hand-crafted acoustic summary statistics of speech clips (librosa's, eGeMAPS)."""

import functools
import itertools
import os
import threading
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._malloc import keep_large_blocks_on_the_heap
from .._optional import import_optional_dependency
from .._sklearn_compat import Interval, StrOptions
from . import _spectral as spectral
from ._audio_items import (
    AudioItemsMixin,
    audio_duration,
    load_waveform,
    stream_audio,
)
from ._base import BaseItemEncoder
from ._frame_store import FrameStore
from ._segment import Segment

FEATURE_GROUPS = (
    "mfcc",
    "mfcc_delta",
    "mfcc_delta2",
    "logmel",
    "chroma",
    "contrast",
    "centroid",
    "bandwidth",
    "rolloff",
    "flatness",
    "zcr",
    "rms",
    "pitch",
    "voicing",
)
STATISTICS = ("mean", "std", "min", "max", "median", "p10", "p90", "iqr", "skew", "kurtosis")
# Chosen by 5-fold cross-validation by actor on RAVDESS (benchmarks/results/audio.md):
# chroma (pitch classes, made for music) cost 1.4 points of accuracy; the 10th and 90th
# percentiles, a robust range, added 2. Rechecked with the analysis rate (16 kHz) and
# the frames summarised (active ones) across protocols, by actor, two training speakers,
# and short 24.4 kHz clips one speaker to another (benchmarks/results/audio_ablation.md):
# chroma, all frames and 22.05 or 24 kHz each lost or tied in every one. Second-order
# deltas and log-mel energies (optional groups) each lost 4 points in one protocol.
DEFAULT_FEATURES = tuple(
    group for group in FEATURE_GROUPS if group not in ("chroma", "mfcc_delta2", "logmel")
)
DEFAULT_STATS = ("mean", "std", "p10", "p90")
# Bump when a change in the recipe would make cached features of older versions wrong.
# 2: computed with numpy and scipy (skemotion/_encoders/_spectral.py), the mel spectrum
# in float32, where version 1 called librosa (whose major version was in the key): the
# default statistics agree to 1.3e-5 of each one's spread across clips, not bit for bit.
RECIPE_VERSION = 2
EGEMAPS_LICENSE = (
    "openSMILE (the opensmile package) is free for private, research and educational "
    "use only; commercial use needs a licence from audEERING"
)
_CHROMA_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Analysis frames: a 25 ms window (rounded to a power of two for the FFT) every 10 ms,
# as speech front ends use. Pitch needs a longer window (two periods of the lowest F0);
# it is tracked every other frame, which halves YIN's share of the time (40 % at 10 ms)
# and changes clip statistics of pitch very little.
_WINDOW_SECONDS, _HOP_SECONDS, _PITCH_WINDOW_SECONDS = 0.025, 0.010, 0.050
_DEFAULT_WINDOW = _WINDOW_SECONDS
# The mel-spectrum groups (MFCCs and their deltas) default to a 128 ms window (2048
# samples at 16 kHz): 8 Hz FFT bins resolve the narrow low mel bands (20-300 Hz, where
# 25 ms windows put one or two 31 Hz bins in a band) and smooth the frames. Chosen by
# the ablation (benchmarks/results/audio_ablation.md): per-speaker standardised LDA by
# actor 0.636 -> 0.657 (+1.1 to +2.8 points on six other partitions of the actors), by
# actor +1.1, the three small-data protocols tied (+0.1, -0.8, -1.9). A 128 ms window
# for every group tied or won those but scored 0.644 and was 3.4-4.9x slower; this one
# STFT more costs 1.4-1.7x of the recipe, about 1.25x end to end with reading.
_DEFAULT_MEL_WINDOW = 0.128
_MEL_GROUPS = ("mfcc", "mfcc_delta", "mfcc_delta2", "logmel")
# librosa.power_to_db's default floor: the log-mel spectrogram spans at most 80 dB.
_LOGMEL_RANGE_DB = 80.0
# Groups computed from streams joined over the whole clip, not frame by frame.
_JOINED_GROUPS = ("rms", "pitch", "voicing", "contrast")
# Clips longer than this are analysed in blocks of it (see _BlockFrames): the same
# features, in memory that does not grow with the spectrograms of the whole clip.
_BLOCK_SECONDS = 10.0
# Frame values summarised at once (see summarise): 8 MB in float64.
_VALUES_AT_ONCE = 1_000_000
_PITCH_EVERY = 2
_N_MELS = 40
# Speech F0 range, low male voice to high (shouted, frightened) female voice.
_FMIN, _FMAX = 60.0, 600.0
# YIN: the first dip of the normalised difference under this is the period (the
# paper's 0.1); a frame is voiced when its dip is under the second threshold.
_YIN_THRESHOLD, _VOICED_THRESHOLD = 0.1, 0.25
# Frames this far below the clip's loudest are silence: unvoiced whatever YIN says.
_SILENCE_DB = 40.0
# The RMS floor (-100 dB): digital silence. A clip whose every frame is at it (all-zero
# samples) has no voiced frame: YIN finds every lag of silence perfectly periodic.
_RMS_FLOOR = 1e-5
_RMS_FLOOR_DB = 20 * np.log10(_RMS_FLOOR)
_CONTRAST_FMIN, _CONTRAST_BANDS = 200.0, 6
_SEMITONE_REFERENCE_HZ = 27.5  # pitch in semitones above A0, as eGeMAPS


class AudioFeatures(AudioItemsMixin, BaseItemEncoder):
    """Summary statistics of acoustic features of speech clips (librosa or eGeMAPS).

    Each clip is read, mixed down to mono and resampled to `sampling_rate`; frame-level
    features are computed every 10 ms and summarised over the clip by the statistics in
    `stats`, giving one fixed-length vector per clip. Nothing is learned: this is a
    transformer with a fixed recipe, sharing the cache, missing-item policy and threaded
    reading of the other skemotion encoders.

    Parameters
    ----------
    feature_set : {"librosa", "egemaps"}, default="librosa"
        ``"librosa"``: the feature groups in `features`, summarised by `stats`, as
        librosa defines them (computed with numpy and scipy: librosa need not be
        installed).
        ``"egemaps"``: the 88 eGeMAPS v02 functionals of openSMILE (Eyben et al. 2016),
        which needs the ``opensmile`` package (``pip install opensmile``); `features`,
        `stats` and `n_mfcc` are then ignored. openSMILE's licence allows private,
        research and educational use only: commercial use needs a licence from
        audEERING.
    features : tuple of str, default=all groups but "chroma", "mfcc_delta2", "logmel"
        The frame-level feature groups, any of ``"mfcc"`` (`n_mfcc` coefficients of a
        40-band log-mel spectrum), ``"mfcc_delta"`` (their first differences over time),
        ``"mfcc_delta2"`` (their second differences), ``"logmel"`` (the 40 log-mel band
        energies themselves, in dB), ``"chroma"`` (12 pitch classes), ``"contrast"``
        (spectral contrast in 7 octave bands from 200 Hz, fewer at low rates),
        ``"centroid"``, ``"bandwidth"``, ``"rolloff"`` (85 % energy frequency),
        ``"flatness"``, ``"zcr"`` (zero-crossing rate), ``"rms"`` (RMS energy in dB),
        ``"pitch"`` (YIN F0 in semitones above 27.5 Hz, over voiced frames only) and
        ``"voicing"`` (periodicity: 1 minus YIN's aperiodicity, 0 in silence).
    stats : tuple of str, default=("mean", "std", "p10", "p90")
        Statistics over a clip's frames, any of ``"mean"``, ``"std"``, ``"min"``,
        ``"max"``, ``"median"``, ``"p10"``, ``"p90"`` (percentiles), ``"iqr"``
        (interquartile range), ``"skew"``, ``"kurtosis"`` (excess).
    n_mfcc : int, default=20
        Number of MFCCs (``mfcc`` and ``mfcc_delta`` groups).
    sampling_rate : int, default=16000
        Every clip is resampled to this rate before analysis, so that features of
        files recorded at different rates stay comparable; it is also the rate of
        items given as bare arrays. The mel bands of the MFCCs stop at 7.6 kHz at any
        rate; the spectral-shape groups and the top contrast band reach up to half
        this rate.
    frames : {"active", "all"}, default="active"
        The frames each statistic is taken over. ``"active"``: those within 40 dB of
        the clip's loudest, so that leading and trailing silence does not dilute the
        statistics of speech. ``"all"``: every frame, silence included, as librosa
        recipes usually do; the statistics then also reflect how much of the clip is
        silence. Either way ``pitch`` is taken over voiced frames only, and silent
        frames are unvoiced (``voicing`` 0).
    window : float, default=0.025
        Length in seconds of the analysis window of every group but pitch and the
        mel-spectrum groups, rounded to a power of two of samples (25 ms: 512 samples
        at 16 kHz). Frames are every 10 ms whatever the window.
    mel_window : float, default=0.128
        Length in seconds of the analysis window of the mel-spectrum groups (``mfcc``,
        ``mfcc_delta``, ``mfcc_delta2``, ``logmel``), rounded likewise (128 ms: 2048
        samples at 16 kHz). Its 8 Hz frequency bins resolve the narrow low mel bands,
        where a 25 ms window puts one or two bins in a band. On RAVDESS by actor with
        per-speaker standardisation and LDA it scored 0.657 accuracy against 0.636
        with 25 ms, the other protocols of the ablation tied; it makes the analysis
        1.4-1.7x slower than ``mel_window=0.025``, which is what versions before this
        parameter computed (and what their caches hold).
    n_jobs : int or None, default=None
        None (or 1) reads and analyses clips in the encoder's worker threads (up to 4):
        no start-up cost, but the GIL limits the gain (1.3-1.6x on 2 cores). ``n > 1``
        analyses each chunk of clips in `n` joblib processes, ``-1`` one per core:
        faster on large inputs (1.9-2.1x on 2 cores), at a one-off start-up cost of a few
        seconds per Python session (each worker imports scipy and skemotion).
    batch_size : int, default=32
        Clips per unit of work; results are written to the cache every 8 batches.
    cache : None, False, str, path-like or EmbeddingCache, default=None
        Feature cache: an SQLite file or folder, or an :class:`EmbeddingCache`. None
        uses the global default (:func:`skemotion.set_config`), False none.
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing clip (None, NaN, empty path) becomes: an error naming its row,
        or a row of zeros or of NaN.
    on_error : {"raise", "skip"}, default="raise"
        What a clip that cannot be read (missing file, not audio, truncated, no
        samples, NaN or infinite samples) does: raise an error naming it, or warn once
        naming every such clip and fill its row as `missing` says.
    verbose : bool or int, default=False
        Show a progress bar when there are more than two batches to analyse.

    Attributes
    ----------
    n_features_in_ : int
        Always 1: the encoder reads one column of clips.
    feature_names_in_ : ndarray of shape (1,)
        The column's name, when fitted on a DataFrame with a string column name.

    See Also
    --------
    AudioEncoder : Embeddings of a pretrained speech model (wav2vec2, HuBERT, WavLM).
    EmbeddingCache : The on-disk store of features.

    Notes
    -----
    Items may be paths of audio files (WAV, FLAC, OGG, MP3, ...), 1-D float arrays at
    `sampling_rate`, ``(array, rate)`` tuples or ``{"array", "sampling_rate"}`` dicts;
    see the user guide. Frames are 25 ms (`window`, rounded to a power of two of
    samples) every 10 ms, 128 ms for the MFCCs (`mel_window`); pitch uses 50 ms frames
    and YIN (de Cheveigné & Kawahara 2002) between 60 and 600 Hz. Statistics other
    than those of ``pitch`` are taken over the clip's active frames
    (``frames="active"``): those within 40 dB of its loudest, so that leading and
    trailing silence does not dilute them. The defaults (16 kHz, active frames, no
    chroma, 128 ms MFCC windows) were chosen by an ablation on RAVDESS by actor (with
    and without per-speaker standardisation), with two training speakers, and on short
    24.4 kHz clips from one speaker to another (``benchmarks/results/audio_ablation.md``).
    A clip with no voiced frame has 0 for every pitch statistic (its ``voicing`` says
    why). Clips shorter than the longest analysis window are zero-padded to it.
    The features follow librosa's definitions (its STFT frames, mel and chroma
    filterbanks, spectral statistics), computed with numpy and scipy (the 128 ms mel
    spectrum in float32), so that no numba kernel is compiled in a fresh process; the
    default statistics agree with librosa's to about 1e-5 of each one's spread. The
    recipe's version is part of the cache key.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion import AudioFeatures
    >>> t = np.arange(8000) / 16000
    >>> tones = [np.sin(2 * np.pi * f * t).astype(np.float32) for f in (220, 330)]
    >>> features = AudioFeatures(features=("pitch", "rms"), stats=("mean", "std"))
    >>> X = features.fit_transform(tones)
    >>> X.shape
    (2, 4)
    >>> features.get_feature_names_out()
    array(['pitch_mean', 'pitch_std', 'rms_mean', 'rms_std'], dtype=object)
    >>> np.round(27.5 * 2 ** (X[:, 0] / 12), -1)  # mean pitch back to Hz, to 10 Hz
    array([220., 330.], dtype=float32)
    """

    _parameter_constraints = {
        **BaseItemEncoder._parameter_constraints,
        "feature_set": [StrOptions({"librosa", "egemaps"})],
        "features": [tuple, list],
        "stats": [tuple, list],
        "n_mfcc": [Interval(Integral, 1, _N_MELS, closed="both")],
        "sampling_rate": [Interval(Integral, 4000, None, closed="left")],
        "frames": [StrOptions({"active", "all"})],
        "window": [Interval(Real, 0.005, 0.5, closed="both")],
        "mel_window": [Interval(Real, 0.005, 0.5, closed="both")],
        "n_jobs": [Integral, None],
        "on_error": [StrOptions({"raise", "skip"})],
    }
    _modality = "audio"
    _fingerprint_name = "skemotion._audio.AudioFeatures"
    _extra = "audio"
    # Reading, resampling and (with n_jobs=None) the analysis run in worker threads. The
    # FFTs release the GIL but the many small NumPy calls between them do not:
    # threads gain 1.3-1.6x on 2 cores, processes 1.9-2.1x (benchmarks/results/audio.md).
    _decode_in_threads = True

    def __init__(
        self,
        feature_set="librosa",
        *,
        features=DEFAULT_FEATURES,
        stats=DEFAULT_STATS,
        n_mfcc=20,
        sampling_rate=16000,
        frames="active",
        window=_DEFAULT_WINDOW,
        mel_window=_DEFAULT_MEL_WINDOW,
        n_jobs=None,
        batch_size=32,
        cache=None,
        missing="error",
        on_error="raise",
        verbose=False,
    ):
        self.feature_set = feature_set
        self.features = features
        self.stats = stats
        self.n_mfcc = n_mfcc
        self.sampling_rate = sampling_rate
        self.frames = frames
        self.window = window
        self.mel_window = mel_window
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.cache = cache
        self.missing = missing
        self.on_error = on_error
        self.verbose = verbose

    def _check_params(self):
        _check_names(self.features, FEATURE_GROUPS, "features")
        _check_names(self.stats, STATISTICS, "stats")

    def get_feature_names_out(self, input_features=None):
        """Output feature names, ``<feature>_<statistic>``: ``mfcc03_mean``, ``pitch_std``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names depend only on the recipe.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per column; eGeMAPS columns keep openSMILE's names.
        """
        check_is_fitted(self)
        return np.asarray(self._recipe().names(), dtype=object)

    # --- items (the shared hooks are in AudioItemsMixin) -----------------------------------

    def _decode(self, item):
        if self._streamed(item):
            chunks = stream_audio(item, sampling_rate=self.sampling_rate, caller="AudioFeatures")
            return self._recipe().extract_stream(chunks)
        waveform = load_waveform(
            item,
            sampling_rate=self.sampling_rate,
            array_rate=self.sampling_rate,
            caller="AudioFeatures",
        )
        if self._in_processes():
            return waveform  # analysed by joblib workers in _encode_batch
        return self._recipe().extract(waveform)

    # --- the "model": a fixed recipe -----------------------------------------------------

    def _streamed(self, item):
        """Whether to decode a file as a stream: a long recording, analysed in this process.

        Its waveform is then never held whole (the blocks of _BlockFrames come straight
        from the decoder); worker processes receive whole waveforms.
        """
        return (
            isinstance(item, (str, os.PathLike, Segment))
            and self.feature_set == "librosa"
            and not self._in_processes()
            and audio_duration(item, self.sampling_rate) > _BLOCK_SECONDS
        )

    def _in_processes(self):
        return self.n_jobs not in (None, 1)

    def _recipe(self):
        if self.feature_set == "egemaps":
            return _EgemapsRecipe(self.sampling_rate)
        return _LibrosaRecipe(
            tuple(self.features),
            tuple(self.stats),
            self.n_mfcc,
            self.sampling_rate,
            self.frames,
            self.window,
            self.mel_window,
        )

    def _loaded(self):
        # No neural network: the recipe, once its library is known to be installed.
        recipe = self._recipe()
        recipe.check_available()
        return recipe

    def _model_identity(self):
        return self._recipe().identity()

    def _output_params(self):
        return self._recipe().params()

    def _output_dim(self):
        return len(self._recipe().names())

    def _encode_batch(self, model, items):
        if not self._in_processes():
            return np.stack(items).astype(np.float32, copy=False)
        joblib = import_optional_dependency("joblib", extra="audio", caller="AudioFeatures")
        rows = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_extract_in_worker)(model, waveform) for waveform in items
        )
        return np.stack(rows).astype(np.float32, copy=False)


def _extract_in_worker(recipe, waveform):
    """A clip's features in a joblib worker, which keeps its freed blocks as transform does."""
    keep_large_blocks_on_the_heap()
    return recipe.extract(waveform)


def _check_names(values, allowed, parameter):
    """Check a tuple of names against the allowed ones, with the fix in the message."""
    unknown = [v for v in values if not isinstance(v, str) or v not in allowed]
    if unknown or not values or len(set(values)) != len(values):
        raise ValueError(
            f"The {parameter!r} parameter of AudioFeatures must be a non-empty tuple of "
            f"distinct names among {allowed}. Got {tuple(values)!r} instead."
        )


# --- the librosa recipe ------------------------------------------------------------------


class _LibrosaRecipe:
    """Frame-level features of one clip and their summary statistics over the clip."""

    def __init__(
        self,
        features,
        stats,
        n_mfcc,
        sampling_rate,
        frames="active",
        window=_DEFAULT_WINDOW,
        mel_window=_DEFAULT_MEL_WINDOW,
    ):
        self.features, self.stats = features, stats
        self.n_mfcc, self.sr = n_mfcc, sampling_rate
        self.frames = frames
        self.window, self.mel_window = float(window), float(mel_window)
        self.n_fft = _fft_size(self.window, sampling_rate)
        self.mel_n_fft = _fft_size(self.mel_window, sampling_rate)
        self.hop = int(round(_HOP_SECONDS * sampling_rate))
        self.pitch_window = int(round(_PITCH_WINDOW_SECONDS * sampling_rate))
        self.n_bands = _contrast_bands(sampling_rate)

    def check_available(self):
        from scipy import fft  # numpy and scipy compute every feature: nothing optional

        return fft.__name__

    def identity(self):
        return {"recipe": "librosa summary statistics", "version": RECIPE_VERSION}

    def params(self):
        params = {
            "features": list(self.features),
            "stats": list(self.stats),
            "n_mfcc": int(self.n_mfcc),
            "sampling_rate": int(self.sr),
        }
        # frames="active" is what every version before the parameter computed: its
        # features keep their cache keys, and any other choice gets keys of its own.
        if self.frames != "active":
            params["frames"] = self.frames
        # Likewise the windows: a 25 ms window for every group is what versions before
        # these parameters computed, so only other windows enter the key (the default
        # mel_window, 128 ms, does: its MFCCs differ from those cached before).
        if self.window != _WINDOW_SECONDS:
            params["window"] = self.window
        if self.mel_window != _WINDOW_SECONDS and any(g in _MEL_GROUPS for g in self.features):
            params["mel_window"] = self.mel_window
        return params

    def rows(self, group):
        """The names of a group's frame-level rows."""
        if group == "mfcc":
            return [f"mfcc{i:02d}" for i in range(self.n_mfcc)]
        if group == "mfcc_delta":
            return [f"mfcc{i:02d}_delta" for i in range(self.n_mfcc)]
        if group == "mfcc_delta2":
            return [f"mfcc{i:02d}_delta2" for i in range(self.n_mfcc)]
        if group == "logmel":
            return [f"logmel{i:02d}" for i in range(_N_MELS)]
        if group == "chroma":
            return [f"chroma_{name}" for name in _CHROMA_NAMES]
        if group == "contrast":
            return [f"contrast{i}" for i in range(self.n_bands + 1)]
        return [group]

    def names(self):
        return [
            f"{row}_{stat}" for g in self.features for row in self.rows(g) for stat in self.stats
        ]

    def extract(self, waveform):
        """The clip's feature vector, in the order of :meth:`names`."""
        long = waveform.size > int(_BLOCK_SECONDS * self.sr)
        return self._vector(_BlockFrames(self, [waveform]) if long else _Frames(self, waveform))

    def extract_stream(self, chunks):
        """The feature vector of a clip given as consecutive arrays of samples."""
        return self._vector(_BlockFrames(self, chunks))

    def _vector(self, frames):
        try:
            runs = _runs_of_one_mask(frames.group(group) for group in self.features)
            parts = [summarise(values, mask, self.stats) for values, mask in runs]
        finally:
            frames.close()
        return np.concatenate(parts).astype(np.float32)


def _runs_of_one_mask(groups):
    """Consecutive groups summarised over the same frames, their rows stacked.

    Most groups share the active-frame mask: their statistics in one call to summarise
    (one sort of all their rows) rather than one per group, in the same order. Groups
    held in FrameStores (long clips) stay apart.
    """
    runs = []
    for values, mask in groups:
        last = runs[-1] if runs else None
        if (
            last is not None
            and isinstance(values, np.ndarray)
            and isinstance(last[0][0], np.ndarray)
            and np.array_equal(last[1], mask)
        ):
            last[0].append(values)
        else:
            runs.append(([values], mask))
    return [(np.vstack(v) if len(v) > 1 else v[0], mask) for v, mask in runs]


def _fft_size(seconds, sampling_rate):
    """The window length in samples, rounded to a power of two for the FFT."""
    return 2 ** int(round(np.log2(seconds * sampling_rate)))


def _contrast_bands(sampling_rate):
    """As many octave bands from 200 Hz as fit under the Nyquist frequency (at most 6)."""
    bands = _CONTRAST_BANDS
    while bands > 1 and _CONTRAST_FMIN * 2 ** (bands - 1) >= sampling_rate / 2:
        bands -= 1
    return bands


class _Frames:
    """Frame-level features of one clip, computed lazily and shared between groups."""

    def __init__(self, recipe, waveform):
        self.recipe = recipe
        # Shorter than one window: pad with silence so that every feature has a frame.
        size = max(recipe.n_fft, recipe.mel_n_fft, recipe.pitch_window)
        if waveform.size < size:
            waveform = np.pad(waveform, (0, size - waveform.size))
        self.y = waveform
        self._cache = {}

    def close(self):
        """Release what the frames hold outside memory (nothing, for a short clip)."""

    def _get(self, name, compute):
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    @property
    def power(self):
        def compute():
            # In float64, as librosa's: spectral contrast's valleys near the Nyquist
            # frequency (where resampled clips hold almost nothing) are quieter than
            # float32's rounding noise. The mel window's spectrum (floored 80 dB under
            # the clip's loudest) needs no more than float32.
            r = self.recipe
            return spectral.power_spectrogram(self.y, r.n_fft, r.hop, precision=np.float64)

        return self._get("power", compute)

    @property
    def magnitude(self):
        return self._get("magnitude", lambda: np.sqrt(self.power))

    @property
    def rms_db(self):
        def compute():
            rms = spectral.rms(self.power, self.recipe.n_fft)
            return 20 * np.log10(np.maximum(rms, _RMS_FLOOR))  # -100 dB: digital silence

        return self._get("rms_db", compute)

    @property
    def active(self):
        """Frames within 40 dB of the clip's loudest: speech rather than silence."""
        return self._get("active", lambda: self.rms_db > self.rms_db.max() - _SILENCE_DB)

    @property
    def sounding(self):
        """The frames that may be voiced: the active ones, none in digital silence.

        Only a clip whose loudest frame is at the RMS floor (silent throughout) has
        none; any other clip's features are those of the active frames, unchanged.
        """

        def compute():
            # A hundredth of a dB above the floor, which float32 rounding may miss.
            silent = self.rms_db.max() <= _RMS_FLOOR_DB + 0.01
            return np.zeros_like(self.active) if silent else self.active

        return self._get("sounding", compute)

    @property
    def mel_power(self):
        """The power spectrum on the mel groups' own (longer) window, in float32.

        Its own even where the windows are equal (not the float64 `power`), so that
        the mel groups' values never depend on `window`.
        """

        def compute():
            r = self.recipe
            return spectral.power_spectrogram(self.y, r.mel_n_fft, r.hop)

        return self._get("mel_power", compute)

    @property
    def logmel(self):
        def compute():
            # power_to_db's floor (80 dB under the loudest value) is applied by the clip's
            # own loudest value, also when the clip is analysed in blocks.
            db = self.logmel_unfloored
            return np.maximum(db, db.max() - _LOGMEL_RANGE_DB)

        return self._get("logmel", compute)

    @property
    def logmel_unfloored(self):
        def compute():
            r = self.recipe
            mel = _mel_filters(r.sr, r.mel_n_fft) @ self.mel_power  # sparse: no BLAS threads
            return spectral.power_to_db(mel)

        return self._get("logmel_unfloored", compute)

    @property
    def mfcc(self):
        def compute():
            return spectral.mfcc(self.logmel, self.recipe.n_mfcc)

        return self._get("mfcc", compute)

    @property
    def contrast_db(self):
        """Spectral contrast's peaks and valleys in dB, stacked, before power_to_db's floor."""

        def compute():
            r = self.recipe
            return spectral_peaks_and_valleys_db(self.magnitude, r.sr, _CONTRAST_FMIN, r.n_bands)

        return self._get("contrast_db", compute)

    @property
    def contrast(self):
        def compute():
            db = self.contrast_db
            return _floored_contrast(db, _loudest_peak_and_valley(db))

        return self._get("contrast", compute)

    @property
    def yin(self):
        r = self.recipe
        return self._get("yin", lambda: yin(self.y, r.sr, r.pitch_window, r.hop * _PITCH_EVERY))

    def group(self, name):
        """(values of shape (rows, frames), boolean mask of the frames to summarise)."""
        if name == "pitch":
            f0, aperiodicity = self.yin
            voiced = self._voiced(aperiodicity)
            semitones = 12 * np.log2(f0 / _SEMITONE_REFERENCE_HZ)
            return semitones[None], voiced
        if name == "voicing":
            _, aperiodicity = self.yin
            active = self._active(aperiodicity.size, every=_PITCH_EVERY)
            sounding = self._active(aperiodicity.size, every=_PITCH_EVERY, mask=self.sounding)
            voicing = np.clip(1.0 - aperiodicity, 0.0, 1.0) * sounding
            return voicing[None], self._summarised(active)
        values = self._spectral(name)
        return values, self._summarised(self._active(values.shape[1]))

    def _spectral(self, name):
        """A group's frame-level rows: from the clip's MFCC, or computed frame by frame."""
        if name == "mfcc":
            return self.mfcc
        if name == "mfcc_delta":
            # "nearest" also works on clips of fewer frames than the delta window.
            return spectral.delta(self.mfcc, order=1)
        if name == "mfcc_delta2":
            return spectral.delta(self.mfcc, order=2)
        if name == "logmel":
            return self.logmel
        if name == "rms":
            return self.rms_db[None]
        if name == "contrast":
            return self.contrast
        return self.framewise(name)

    def framewise(self, name):
        """Rows of a group whose every frame depends only on that frame's samples."""
        r, S = self.recipe, self.magnitude
        if name == "chroma":
            # chroma_stft(S=power, tuning=0) without its BLAS einsum, whose threads spin
            # against the other workers' (half the speed on 2 cores).
            raw = np.einsum("cf,ft->ct", spectral.chroma_filters(r.sr, r.n_fft), self.power)
            return spectral.normalise_max(raw)
        if name == "centroid":
            return self._get("centroid", lambda: spectral.spectral_centroid(S, r.sr))
        if name == "bandwidth":
            return spectral.spectral_bandwidth(S, r.sr, centroid=self.framewise("centroid"))
        if name == "rolloff":
            return spectral.spectral_rolloff(S, r.sr, roll_percent=0.85)
        if name == "flatness":
            return spectral.spectral_flatness(S)
        if name == "zcr":
            return spectral.zero_crossing_rate(self.y, r.n_fft, r.hop)
        raise ValueError(f"unknown feature group {name!r}")

    def _summarised(self, active):
        """The frames to summarise: the active ones, or every frame with frames="all"."""
        if self.recipe.frames == "all":
            return np.ones_like(active)
        return active

    def _active(self, n_frames, every=1, mask=None):
        """The active-frame mask (or `mask`) at a hop `every` times the STFT's, `n_frames` long."""
        return _fit_length((self.active if mask is None else mask)[::every], n_frames)

    def _voiced(self, aperiodicity):
        sounding = self._active(aperiodicity.size, every=_PITCH_EVERY, mask=self.sounding)
        return (aperiodicity < _VOICED_THRESHOLD) & sounding


class _BlockFrames(_Frames):
    """The frame-level features of a long clip, computed block by block.

    Each block of ``_BLOCK_SECONDS`` is analysed with enough of its neighbours' samples
    on each side that every one of its frames sees exactly the samples it would see in
    one pass over the clip; only those frames are kept. What depends on the whole clip
    (the loudest frame behind the active-frame mask and the log-mel floor) is applied
    once every block is in, and the MFCC deltas are filtered with their neighbouring
    frames: the features are those of one pass, bit for bit.

    `chunks` is the clip as consecutive arrays of samples (a whole waveform, or a
    file's stream); only one block's samples and spectrograms are in memory at a
    time. The frame-level rows go to :class:`FrameStore` files, except the few that
    the masks are made of (energy, pitch), so memory does not grow with the clip.
    """

    def __init__(self, recipe, chunks):
        self.recipe, self._cache = recipe, {}
        step = recipe.hop * _PITCH_EVERY  # blocks start on a frame of every stream
        widest = max(recipe.n_fft, recipe.mel_n_fft, recipe.pitch_window)
        self.context = -(-widest // step) * step
        self.block = max(step, int(_BLOCK_SECONDS * recipe.sr) // step * step)
        framewise = [g for g in recipe.features if g not in (*_MEL_GROUPS, *_JOINED_GROUPS)]
        try:
            self._analyse(chunks, framewise)
        except BaseException:
            self.close()
            raise

    def _analyse(self, chunks, framewise):
        """Every stream the recipe needs, block by block, joined along time."""
        r = self.recipe
        needs_mel = any(g in _MEL_GROUPS for g in r.features)
        needs_pitch = any(g in ("pitch", "voicing") for g in r.features)
        needs_contrast = "contrast" in r.features
        stores = {name: FrameStore() for name in framewise}
        if needs_mel:
            stores["logmel_unfloored"] = FrameStore()
        if needs_contrast:
            stores["contrast_db"] = FrameStore()
        self._cache.update(stores)
        in_memory, loudest_mel, loudest_contrast = {}, -np.inf, np.full(2, -np.inf)
        for samples, keep in _blocks_in_context(chunks, self.block, self.context):
            segment = _Frames(r, samples)
            streams = {"rms_db": keep(segment.rms_db, r.hop)}
            if needs_pitch:
                f0, aperiodicity = segment.yin
                hop = r.hop * _PITCH_EVERY
                streams["f0"], streams["aperiodicity"] = keep(f0, hop), keep(aperiodicity, hop)
            for key, value in streams.items():
                in_memory.setdefault(key, []).append(value)
            if needs_mel:
                logmel = keep(segment.logmel_unfloored, r.hop)
                loudest_mel = max(loudest_mel, float(logmel.max()))
                stores["logmel_unfloored"].append(logmel)
            if needs_contrast:
                contrast_db = keep(segment.contrast_db, r.hop)
                loudest_contrast = np.maximum(
                    loudest_contrast, _loudest_peak_and_valley(contrast_db)
                )
                stores["contrast_db"].append(contrast_db)
            for name in framewise:
                stores[name].append(keep(segment.framewise(name), r.hop))
        self.loudest_contrast = loudest_contrast
        self._cache["rms_db"] = np.concatenate(in_memory["rms_db"])
        if needs_pitch:
            self._cache["yin"] = (
                np.concatenate(in_memory["f0"]),
                np.concatenate(in_memory["aperiodicity"]),
            )
        self.loudest_mel = loudest_mel

    @property
    def logmel(self):
        def compute():
            floor = np.float32(self.loudest_mel - _LOGMEL_RANGE_DB)
            return self.logmel_unfloored.derive(lambda db: np.maximum(db, floor))

        return self._get("logmel", compute)

    @property
    def mfcc(self):
        def compute():
            n_mfcc = self.recipe.n_mfcc
            return self.logmel.derive(lambda db: spectral.mfcc(db, n_mfcc))

        return self._get("mfcc", compute)

    @property
    def contrast(self):
        loudest = self.loudest_contrast
        return self._get(
            "contrast", lambda: self.contrast_db.derive(lambda db: _floored_contrast(db, loudest))
        )

    def _spectral(self, name):
        if name not in ("mfcc_delta", "mfcc_delta2"):
            return super()._spectral(name)
        order = 1 if name == "mfcc_delta" else 2
        # The delta filter spans 9 frames: 4 frames of context on each side suffice.
        return self._get(
            name,
            lambda: self.mfcc.derive(lambda c: spectral.delta(c, order=order), context=4),
        )

    def framewise(self, name):
        return self._cache[name]

    def close(self):
        for value in self._cache.values():
            if isinstance(value, FrameStore):
                value.close()


def _blocks_in_context(chunks, block, context):
    """Each block of `block` samples of a stream, with `context` samples on each side.

    Yields (samples, keep): the block's samples with up to `context` of its
    neighbours' on each side, and the :class:`_Kept` that picks its own frames. Reads
    `chunks` (consecutive arrays of any sizes) only as far as the next block needs, and
    holds only the samples that some block still needs.
    """
    chunks = iter(chunks)
    held, held_from, start, ended = np.zeros(0, dtype=np.float32), 0, 0, False
    while True:
        while not ended and held_from + held.size < start + block + context:
            chunk = next(chunks, None)
            if chunk is None:
                ended = True
            elif chunk.size:
                held = np.concatenate([held, chunk])
        known = held_from + held.size  # the clip's length, once the stream has ended
        end, first = min(start + block, known), max(0, start - context)
        last = ended and end == known
        samples = held[first - held_from : min(known, end + context) - held_from]
        yield samples, _Kept(start, end, first, last)
        if last:
            return
        start += block
        drop = max(0, start - context) - held_from
        held, held_from = held[drop:], held_from + drop


class _Kept:
    """Which of a block's frames are its own: those centred in [start, end)."""

    def __init__(self, start, end, first, last):
        self.start, self.end, self.first, self.last = start, end, first, last

    def __call__(self, frames, hop):
        # A stream's frame j is centred on sample first + j * hop of the clip; the last
        # block keeps every frame to the end, as one pass over the clip makes them.
        begin = (self.start - self.first) // hop
        stop = None if self.last else (self.end - self.first - 1) // hop + 1
        return frames[..., begin:stop]


def spectral_peaks_and_valleys_db(S, sr, fmin, n_bands, quantile=0.02):
    """The peaks and valleys of ``librosa.feature.spectral_contrast``, in dB, stacked.

    librosa's contrast is ``power_to_db(peak) - power_to_db(valley)``, and power_to_db
    floors each 80 dB under the loudest value of the whole array: it depends on the
    whole clip, not on each frame alone. This is its per-frame part (the same band
    edges, sorting and means), so that a long clip analysed in blocks can apply the
    floor with the clip's own loudest values (:func:`_floored_contrast`).
    """
    freq = spectral.fft_frequencies(sr, 2 * (S.shape[-2] - 1))
    octaves = np.zeros(n_bands + 2)
    octaves[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    valley = np.zeros((n_bands + 1, S.shape[-1]))
    peak = np.zeros_like(valley)
    for k, (f_low, f_high) in enumerate(itertools.pairwise(octaves)):
        band = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1 :] = True
        sub_band = S[band, :]
        if k < n_bands:
            sub_band = sub_band[:-1, :]
        count = max(int(np.rint(quantile * np.sum(band))), 1)
        ordered = np.sort(sub_band, axis=0)
        valley[k] = np.mean(ordered[:count], axis=0)
        peak[k] = np.mean(ordered[-count:], axis=0)
    # power_to_db(x) before its floor, with its defaults (ref=1.0, amin=1e-10).
    return 10.0 * np.log10(np.maximum(1e-10, np.concatenate([peak, valley])))


def _loudest_peak_and_valley(contrast_db):
    """The loudest peak and the loudest valley, which set power_to_db's two floors."""
    half = contrast_db.shape[0] // 2
    return np.array([contrast_db[:half].max(), contrast_db[half:].max()])


def _floored_contrast(contrast_db, loudest):
    """librosa's spectral contrast from stacked peaks and valleys and their loudest."""
    half = contrast_db.shape[0] // 2
    peak = np.maximum(contrast_db[:half], loudest[0] - _LOGMEL_RANGE_DB)
    valley = np.maximum(contrast_db[half:], loudest[1] - _LOGMEL_RANGE_DB)
    return peak - valley


def _fit_length(mask, n):
    """A frame mask cut or padded (with False) to `n` frames: frame counts differ by one."""
    if mask.size >= n:
        return mask[:n]
    return np.concatenate([mask, np.zeros(n - mask.size, dtype=bool)])


@functools.lru_cache(maxsize=16)
def _mel_filters(sr, n_fft):
    """The mel filterbank as a sparse matrix: each band covers a few FFT bins."""
    from scipy import sparse

    # Up to 7.6 kHz (or Nyquist): no empty mel bands at 25 ms windows.
    fmax = min(7600.0, sr / 2)
    return sparse.csr_array(spectral.mel_filters(sr, n_fft, _N_MELS, 20.0, fmax))


def yin(y, sr, frame_length, hop_length, fmin=_FMIN, fmax=_FMAX):
    """YIN F0 (Hz) and aperiodicity per frame (de Cheveigné & Kawahara 2002).

    As ``librosa.yin`` (centred frames, first dip under 0.1 else the global minimum,
    parabolic refinement) but also returning the aperiodicity, the normalised
    difference at the chosen period, which tells voiced frames (near 0) from unvoiced
    ones; librosa's ``pyin`` gives that too but is about ten times slower. Frames are
    rows here (contiguous lags), where librosa's are columns.
    """
    padded = np.pad(y, frame_length // 2)
    frames = spectral.frames(padded, frame_length, hop_length)
    min_period = max(1, int(np.floor(sr / fmax)))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    cmnd = _cumulative_mean_normalized_difference(frames, max_period)
    cmnd = cmnd[:, min_period : max_period + 1]
    is_trough = spectral.local_minima(cmnd.T).T
    is_trough[:, 0] = cmnd[:, 0] < cmnd[:, 1]
    below = is_trough & (cmnd < _YIN_THRESHOLD)
    period = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(cmnd, axis=1))
    rows = np.arange(cmnd.shape[0])
    aperiodicity = cmnd[rows, period]
    shift = _parabolic_shift(cmnd, period, rows)
    f0 = sr / (min_period + period + shift)
    return f0.astype(np.float32), aperiodicity.astype(np.float32)


def _cumulative_mean_normalized_difference(frames, max_period):
    """YIN's d'(tau) for tau = 0..max_period, per frame (equations 6 and 8 of the paper)."""
    acf = spectral.autocorrelation(frames, max_size=max_period + 1)
    energy = np.cumsum(np.square(frames[:, : max_period + 1]), axis=1)
    lags = np.arange(1, max_period + 1)
    # d(tau) = r_t(0) + r_{t+tau}(0) - 2 r_t(tau), with the window's energies as in librosa.
    difference = np.zeros_like(acf)
    difference[:, 1:] = 2 * (acf[:, :1] - acf[:, 1:]) - energy[:, :-1]
    cumulative_mean = np.cumsum(difference[:, 1:], axis=1) / lags
    normalised = np.ones_like(acf)
    normalised[:, 1:] = difference[:, 1:] / (cumulative_mean + np.finfo(acf.dtype).tiny)
    return normalised


def _parabolic_shift(values, index, rows):
    """Sub-sample offset of a minimum from a parabola through it and its neighbours."""
    inner = np.clip(index, 1, values.shape[1] - 2)
    left, mid = values[rows, inner - 1], values[rows, inner]
    right = values[rows, inner + 1]
    a = right + left - 2 * mid
    b = (right - left) / 2
    shift = np.where(np.abs(b) < np.abs(a), -b / np.where(a == 0, 1, a), 0.0)
    # Only where the minimum has a neighbour on each side.
    return np.where(inner == index, shift, 0.0)


def summarise(values, mask, stats):
    """Statistics of each row of `values` over the frames in `mask`, row by row.

    No frame in `mask` (a clip without a voiced frame, for pitch) gives zeros.
    """
    out = np.zeros((values.shape[0], len(stats)), dtype=np.float64)
    if not mask.any():
        return out.ravel()
    # All the percentiles in one sort of each row: a quarter of the time otherwise.
    wanted = sorted({q for stat in stats for q in _PERCENTILES.get(stat, ())})
    # Rows in groups of at most _VALUES_AT_ONCE frame values: a short clip's in one go, a
    # long clip's a few at a time, so that their float64 copies stay small.
    at_once = max(1, _VALUES_AT_ONCE // max(1, int(mask.sum())))
    for first in range(0, values.shape[0], at_once):
        rows = slice(first, first + at_once)
        x = _masked_rows(values, rows, mask)
        percentiles = {}
        if wanted:
            percentiles = dict(zip(wanted, np.percentile(x, wanted, axis=1), strict=True))
        for j, stat in enumerate(stats):
            out[rows, j] = _statistic(stat, x, percentiles)
    return out.ravel()


def _masked_rows(values, rows, mask):
    """``values[rows][:, mask]`` in float64, from an array or a FrameStore."""
    if isinstance(values, FrameStore):
        return values.take(rows, mask)
    return values[rows][:, mask].astype(np.float64)


_PERCENTILES = {"median": (50,), "p10": (10,), "p90": (90,), "iqr": (25, 75)}


def _statistic(stat, x, percentiles):
    if stat == "mean":
        return x.mean(axis=1)
    if stat == "std":
        return x.std(axis=1)
    if stat == "min":
        return x.min(axis=1)
    if stat == "max":
        return x.max(axis=1)
    if stat == "skew":
        return _moment(x, 3)
    if stat == "kurtosis":
        return _moment(x, 4) - 3.0 * (x.std(axis=1) > 1e-12)  # excess; 0 for a constant
    if stat == "iqr":
        return percentiles[75] - percentiles[25]
    return percentiles[_PERCENTILES[stat][0]]


def _moment(x, order):
    centred = x - x.mean(axis=1, keepdims=True)
    std = centred.std(axis=1)
    safe = np.where(std > 1e-12, std, 1.0)
    moment = np.mean(centred**order, axis=1) / safe**order
    return np.where(std > 1e-12, moment, 0.0)  # a constant row has no shape: 0


# --- eGeMAPS through openSMILE -------------------------------------------------------------


class _EgemapsRecipe:
    """The 88 eGeMAPS v02 functionals of openSMILE, one openSMILE engine per thread."""

    _local = threading.local()

    def __init__(self, sampling_rate):
        self.sr = sampling_rate

    def _opensmile(self):
        try:
            import opensmile
        except ImportError as exc:
            raise ImportError(
                "AudioFeatures(feature_set='egemaps') requires opensmile: pip install "
                f"opensmile. Note: {EGEMAPS_LICENSE}."
            ) from exc
        return opensmile

    def _smile(self):
        smile = getattr(self._local, "smile", None)
        if smile is None:
            opensmile = self._opensmile()
            smile = opensmile.Smile(
                feature_set=opensmile.FeatureSet.eGeMAPSv02,
                feature_level=opensmile.FeatureLevel.Functionals,
            )
            self._local.smile = smile
        return smile

    def check_available(self):
        return self._opensmile().__name__

    def identity(self):
        return {"recipe": "eGeMAPSv02 functionals", "opensmile": self._opensmile().__version__}

    def params(self):
        return {"sampling_rate": int(self.sr)}

    def names(self):
        return list(self._smile().feature_names)

    def extract(self, waveform):
        values = self._smile().process_signal(waveform, self.sr)
        return values.to_numpy(dtype=np.float32)[0]
