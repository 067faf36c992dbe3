"""AudioFeatures' numpy and scipy computations give librosa's values."""

import subprocess
import sys

import numpy as np
import pytest

from skemotion._encoders import _spectral as spectral

librosa = pytest.importorskip("librosa", reason="librosa is the reference these compare to")

RATE = 16000


def speech_like(seconds=1.3, seed=0):
    """A voiced, pitch-gliding tone with noise and a silent stretch: every bin has energy."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 140 + 60 * t
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / RATE) / k for k in range(1, 12))
    y = 0.3 * voiced + 0.01 * rng.standard_normal(t.size)
    y[: RATE // 10] = 0.0  # leading digital silence
    return y.astype(np.float32)


def close(ours, theirs, rtol=1e-5):
    """Equal to `rtol` of the reference's largest magnitude (float32 against float64 FFTs)."""
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=rtol * np.abs(theirs).max())


@pytest.mark.parametrize("n_fft", [512, 2048])
@pytest.mark.parametrize("precision", [np.float32, np.float64])
def test_power_spectrogram_is_librosas_stft_squared(n_fft, precision):
    y = speech_like()
    ours = spectral.power_spectrogram(y, n_fft, 160, precision=precision)
    theirs = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=160)) ** 2
    assert ours.dtype == np.float32
    close(ours, theirs)


def test_float64_spectrograms_keep_the_quiet_valleys_that_float32_rounding_blurs():
    # Noise resampled from 15 to 16 kHz: nothing above 7.5 kHz but the resampler's floor,
    # where spectral contrast's top band takes its valley (its quietest 2 % of bins).
    from skemotion._encoders._audio_features import spectral_peaks_and_valleys_db

    soxr = pytest.importorskip("soxr")
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    y = soxr.resample(noise, 15000, 16000, quality="soxr_hq").astype(np.float32)
    magnitude = np.abs(librosa.stft(y, n_fft=512, hop_length=160))
    theirs = spectral_peaks_and_valleys_db(magnitude, RATE, 200.0, 6)[-1]
    gaps = {}
    for precision in (np.float64, np.float32):
        power = spectral.power_spectrogram(y, 512, 160, precision=precision)
        ours = spectral_peaks_and_valleys_db(np.sqrt(power), RATE, 200.0, 6)[-1]
        gaps[precision] = np.abs(ours - theirs).max()
    assert gaps[np.float64] < 0.01
    assert gaps[np.float32] > 0.1  # in dB: why AudioFeatures' 25 ms spectrum is float64


def test_rms_power_to_db_and_mfcc_are_librosas():
    y = speech_like()
    power = spectral.power_spectrogram(y, 512, 160, precision=np.float64)
    magnitude = np.sqrt(power)
    close(spectral.rms(power, 512), librosa.feature.rms(S=magnitude, frame_length=512)[0])
    bank = spectral.mel_filters(RATE, 512, 40, 20.0, 7600.0)
    mel = bank @ power
    db = spectral.power_to_db(mel)
    np.testing.assert_allclose(db, librosa.power_to_db(mel, top_db=None), atol=1e-4)
    close(spectral.mfcc(db, 20), librosa.feature.mfcc(S=db, n_mfcc=20))


@pytest.mark.parametrize("order", [1, 2])
def test_delta_is_librosas(order):
    values = np.random.default_rng(1).standard_normal((20, 7)).astype(np.float32)
    theirs = librosa.feature.delta(values, width=9, order=order, mode="nearest")
    np.testing.assert_array_equal(spectral.delta(values, order=order), theirs)


@pytest.mark.parametrize("seconds", [1.3, 0.05])
def test_spectral_statistics_are_librosas(seconds):
    y = speech_like(seconds)
    S = np.sqrt(spectral.power_spectrogram(y, 512, 160, precision=np.float64))
    S[:, 0] = 0.0  # a silent frame: librosa's conventions for it, too
    close(spectral.spectral_centroid(S, RATE), librosa.feature.spectral_centroid(S=S, sr=RATE))
    close(
        spectral.spectral_bandwidth(S, RATE),
        librosa.feature.spectral_bandwidth(S=S, sr=RATE),
        rtol=1e-4,  # the algebraic form in float64 against the direct one
    )
    np.testing.assert_array_equal(
        spectral.spectral_rolloff(S, RATE), librosa.feature.spectral_rolloff(S=S, sr=RATE)
    )
    close(spectral.spectral_flatness(S), librosa.feature.spectral_flatness(S=S))


@pytest.mark.parametrize("y", [speech_like(), np.zeros(3000, np.float32), np.full(900, 0.5)])
def test_zero_crossing_rate_is_librosas_exactly(y):
    y = np.asarray(y, dtype=np.float32)
    y[::7] = 1e-11  # values within the threshold of zero count as zero
    theirs = librosa.feature.zero_crossing_rate(y, frame_length=512, hop_length=160)
    np.testing.assert_array_equal(spectral.zero_crossing_rate(y, 512, 160), theirs)


def test_local_minima_and_autocorrelation_are_librosas():
    x = np.random.default_rng(2).integers(0, 5, size=(40, 9)).astype(np.float32)
    np.testing.assert_array_equal(spectral.local_minima(x), librosa.util.localmin(x, axis=0))
    frames = np.random.default_rng(3).standard_normal((6, 800)).astype(np.float32)
    theirs = librosa.autocorrelate(frames.T, max_size=268, axis=0).T
    close(spectral.autocorrelation(frames, 268), theirs)
    close(spectral.autocorrelation(frames, 5000), librosa.autocorrelate(frames.T, axis=0).T)


@pytest.mark.parametrize(("sr", "n_fft", "fmax"), [(16000, 2048, 7600.0), (22050, 512, 8000.0)])
def test_filterbanks_are_librosas(sr, n_fft, fmax):
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=40, fmin=20.0, fmax=fmax)
    close(spectral.mel_filters(sr, n_fft, 40, 20.0, fmax), theirs, rtol=1e-6)
    theirs = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0)
    close(spectral.chroma_filters(sr, n_fft), theirs, rtol=1e-6)
    raw = np.random.default_rng(4).random((12, 5)).astype(np.float32)
    raw[:, 0] = 0
    np.testing.assert_array_equal(
        spectral.normalise_max(raw), librosa.util.normalize(raw, norm=np.inf, axis=0)
    )


def test_audio_features_never_import_librosa():
    # librosa's numba kernels compile on import: 10-15 s in a fresh process.
    code = (
        "import sys, numpy as np\n"
        "from skemotion import AudioFeatures\n"
        "features = AudioFeatures(features=AudioFeatures().features + ('chroma', 'logmel'),"
        " cache=False)\n"
        "clip = (np.random.default_rng(0).standard_normal(30000) * 0.1).astype(np.float32)\n"
        "features.fit_transform([clip, (clip, 22050)])\n"
        "print('librosa' in sys.modules, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
