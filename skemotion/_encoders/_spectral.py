"""The librosa computations of AudioFeatures, in numpy and scipy.

librosa defines numba kernels with explicit signatures (``librosa.util``'s local
extrema and peak picking, the zero crossings of ``librosa.core``), which numba compiles
when librosa is imported: 10 to 15 s in a fresh process whose numba cache is empty, as
after every install. These are the same computations, without librosa: the same
centred Hann-window frames, filterbanks and formulas, in float32 or float64 as the
caller asks (librosa's FFTs are float64; the spectrograms agree to about 1e-6 of the
loudest bin; tests/test_spectral.py compares every function with librosa's). Spectrograms are
(frequency bins, frames), as librosa's.
"""

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# librosa's floor under power before a logarithm (power_to_db's and flatness' amin).
_AMIN = 1e-10


def frames(y, frame_length, hop_length):
    """The frames of `y`, one per row: a (n_frames, frame_length) view, as librosa.util.frame.T."""
    return sliding_window_view(y, frame_length)[::hop_length]


@functools.lru_cache(maxsize=16)
def hann_window(n_fft, dtype=np.float32):
    """The periodic Hann window of librosa's STFT, as librosa gets it from scipy."""
    from scipy import signal

    return signal.get_window("hann", n_fft, fftbins=True).astype(dtype)


def power_spectrogram(y, n_fft, hop_length, precision=np.float32):
    """``abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2``, in float32.

    Centred frames, the signal padded with n_fft // 2 zeros on each side, as librosa's
    default (pad_mode="constant"). The FFT of each row of contiguous frames, in
    `precision`, and the power from the real and imaginary parts. librosa's FFT is in
    float64 (a float64 window): float32 is twice as fast, but its rounding noise, about
    140 dB under the loudest bin, is what the quietest bins then hold.
    """
    from scipy import fft

    padded = np.pad(np.asarray(y, dtype=precision), n_fft // 2)
    windowed = frames(padded, n_fft, hop_length) * hann_window(n_fft, precision)
    spectrum = fft.rfft(windowed, axis=-1)
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    return power.astype(np.float32, copy=False).T


def fft_frequencies(sr, n_fft):
    """The centre frequency of each FFT bin (librosa.fft_frequencies)."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


def rms(power, frame_length):
    """``librosa.feature.rms(S=magnitude, frame_length=frame_length)[0]`` from the power."""
    # Parseval's theorem over the one-sided spectrum: the DC bin and (for an even frame
    # length) the Nyquist bin appear once in the full spectrum, the others twice.
    total = 2 * power.sum(axis=0) - power[0]
    if frame_length % 2 == 0:
        total -= power[-1]
    return np.sqrt(total / frame_length**2)


def power_to_db(power):
    """``librosa.power_to_db(power, top_db=None)``: 10 log10 of the power, floored at 1e-10."""
    return 10.0 * np.log10(np.maximum(power, _AMIN))


def mfcc(log_mel, n_mfcc):
    """``librosa.feature.mfcc(S=log_mel, n_mfcc=n_mfcc)``: the orthonormal DCT-II of each frame."""
    from scipy import fft

    return fft.dct(log_mel, axis=0, type=2, norm="ortho")[:n_mfcc]


def delta(values, order):
    """``librosa.feature.delta(values, width=9, order=order, mode="nearest")``."""
    from scipy import signal

    return signal.savgol_filter(values, 9, polyorder=order, deriv=order, axis=-1, mode="nearest")


def _normalise_columns(S, norm):
    """Each column divided by its L1 (1), L2 (2) or max (inf) norm; all-zero columns kept."""
    if norm == 1:
        length = np.abs(S).sum(axis=0)
    elif norm == 2:
        length = np.sqrt(np.square(S).sum(axis=0))
    else:
        length = np.abs(S).max(axis=0)
    # librosa.util.normalize's threshold: the smallest positive number of the dtype.
    length[length < np.finfo(S.dtype).tiny] = 1.0
    return S / length


def normalise_max(S):
    """``librosa.util.normalize(S, norm=np.inf, axis=0)``."""
    return _normalise_columns(S, np.inf)


def spectral_centroid(S, sr):
    """``librosa.feature.spectral_centroid(S=S, sr=sr)`` (one row)."""
    freq = fft_frequencies(sr, 2 * (S.shape[0] - 1))
    return (freq @ _normalise_columns(S, 1))[None]


def spectral_bandwidth(S, sr, centroid=None):
    """``librosa.feature.spectral_bandwidth(S=S, sr=sr)`` (p=2, one row)."""
    freq = fft_frequencies(sr, 2 * (S.shape[0] - 1))
    if centroid is None:
        centroid = spectral_centroid(S, sr)
    weights = _normalise_columns(S, 1)
    # sum_f w (f - c)^2 = sum_f w f^2 - 2 c sum_f w f + c^2 sum_f w: no frames x bins temporary.
    variance = (np.square(freq) @ weights - 2 * centroid[0] * (freq @ weights)) + np.square(
        centroid[0]
    ) * weights.sum(axis=0)
    return np.sqrt(np.maximum(variance, 0.0))[None]


def spectral_rolloff(S, sr, roll_percent=0.85):
    """``librosa.feature.spectral_rolloff(S=S, sr=sr, roll_percent=roll_percent)``.

    The frequency of the first bin whose cumulative energy reaches `roll_percent` of
    the frame's total (the lowest bin for a silent frame).
    """
    freq = fft_frequencies(sr, 2 * (S.shape[0] - 1))
    cumulative = np.cumsum(S, axis=0)
    reached = cumulative >= roll_percent * cumulative[-1]
    return freq[np.argmax(reached, axis=0)][None]


def spectral_flatness(S):
    """``librosa.feature.spectral_flatness(S=S)``: geometric over arithmetic mean of the power."""
    power = np.maximum(_AMIN, np.square(S))
    return (np.exp(np.mean(np.log(power), axis=0)) / np.mean(power, axis=0))[None]


def zero_crossing_rate(y, frame_length, hop_length):
    """``librosa.feature.zero_crossing_rate(y, frame_length=..., hop_length=...)``.

    The share of a frame's samples whose sign differs from the previous sample's
    (values within 1e-10 of zero count as positive; the frame's first sample never
    counts), with the signal padded by repeating its edge samples, as librosa's.
    """
    padded = np.pad(y, frame_length // 2, mode="edge")
    negative = np.signbit(np.where(np.abs(padded) <= 1e-10, 0.0, padded))
    crossings = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    n_frames = 1 + (padded.size - frame_length) // hop_length
    starts = np.arange(n_frames) * hop_length
    counts = crossings[starts + frame_length - 1] - crossings[starts]
    return (counts / frame_length)[None]


def local_minima(x):
    """``librosa.util.localmin(x, axis=0)``: x[i] < x[i-1] and x[i] <= x[i+1].

    The first row is never a minimum; the last is one when under the row before.
    """
    minima = np.zeros(x.shape, dtype=bool)
    minima[1:-1] = (x[1:-1] < x[:-2]) & (x[1:-1] <= x[2:])
    minima[-1] = x[-1] < x[-2]
    return minima


def autocorrelation(rows, max_size):
    """``librosa.autocorrelate(rows.T, max_size=max_size, axis=0).T``: each row's.

    Through the power spectrum, zero-padded to a fast FFT length of at least twice the
    row: the linear (not circular) autocorrelation at every lag below the row's length.
    """
    from scipy import fft

    n = rows.shape[-1]
    size = fft.next_fast_len(2 * n - 1, real=True)
    spectrum = fft.rfft(rows, n=size, axis=-1)
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    return fft.irfft(power, n=size, axis=-1)[:, : min(max_size, n)]


@functools.lru_cache(maxsize=16)
def mel_filters(sr, n_fft, n_mels, fmin, fmax):
    """``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)``.

    Slaney's mel scale (linear under 1 kHz, logarithmic above) and triangular bands of
    equal area, in float32, shape (n_mels, 1 + n_fft // 2).
    """
    fft_freqs = fft_frequencies(sr, n_fft)
    mel_edges = np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2)
    edges = _mel_to_hz(mel_edges)
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_freqs)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


# Slaney's mel scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor 6.4.
_MEL_HZ_PER_MEL, _MEL_LOG_FROM_HZ = 200.0 / 3, 1000.0
_MEL_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz):
    linear = hz / _MEL_HZ_PER_MEL
    log_from = _MEL_LOG_FROM_HZ / _MEL_HZ_PER_MEL
    if hz >= _MEL_LOG_FROM_HZ:
        return log_from + np.log(hz / _MEL_LOG_FROM_HZ) / _MEL_LOG_STEP
    return linear


def _mel_to_hz(mels):
    log_from = _MEL_LOG_FROM_HZ / _MEL_HZ_PER_MEL
    linear = _MEL_HZ_PER_MEL * mels
    logarithmic = _MEL_LOG_FROM_HZ * np.exp(_MEL_LOG_STEP * (mels - log_from))
    return np.where(mels >= log_from, logarithmic, linear)


@functools.lru_cache(maxsize=16)
def chroma_filters(sr, n_fft, n_chroma=12):
    """``librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0)`` (Ellis' chroma bank).

    Gaussian bumps over each FFT bin's pitch class, columns of unit L2 norm, weighted by
    a Gaussian over octaves centred on octave 5 (two octaves wide), rows from C.
    """
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    bins = n_chroma * np.log2(frequencies / (440.0 / 16))  # pitch in bins above A0 / 2
    bins = np.concatenate([[bins[0] - 1.5 * n_chroma], bins])  # the DC bin, 1.5 octaves below
    bin_widths = np.concatenate([np.maximum(np.diff(bins), 1.0), [1]])
    distance = np.subtract.outer(bins, np.arange(n_chroma, dtype=float)).T
    half = np.round(n_chroma / 2)
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = _normalise_columns(np.exp(-0.5 * (2 * distance / bin_widths) ** 2), 2)
    weights *= np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2.0) ** 2)
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(weights[:, : 1 + n_fft // 2], dtype=np.float32)
