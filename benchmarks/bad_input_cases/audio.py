"""Bad audio and video items: cut-off and fake files, odd WAVs, rates, channels, arrays,
segments out of range, videos without a track, truncated MP4s (AudioFeatures,
AudioEncoder, and the picture encoders for videos)."""

import contextlib
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._fixtures import ROOT, scratch, tiny_audio_model, tone, truncate, write_wav
from ._registry import RawTraceback, WrongResult, add

AREA = "audio"
RATE = 16000
# A light recipe: the cases are about reading, not about the features.
LIGHT = {"features": ("rms", "zcr", "centroid", "pitch", "voicing"), "stats": ("mean", "std")}
# Semitones above 27.5 Hz of the 220 Hz tone of tone(): how AudioFeatures reports pitch.
TONE_SEMITONES = 12 * np.log2(220.0 / 27.5)


# --- encoders ------------------------------------------------------------------------------


def _features(**params):
    from skemotion import AudioFeatures

    return AudioFeatures(cache=False, **{**LIGHT, **params})


@contextlib.contextmanager
def _one_torch_thread():
    """The tiny models on one thread (as the tests run them), restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _encode(items, **params):
    from skemotion import AudioEncoder

    with _one_torch_thread():
        return AudioEncoder(tiny_audio_model(), device="cpu", cache=False, **params).fit_transform(
            items
        )


def _face(items, **params):
    from skemotion import FaceEncoder

    with _one_torch_thread():
        return FaceEncoder(cache=False, device="cpu", **params).fit_transform(items)


def _image(items, **params):
    from _tiny_models import tiny_clip_model

    from skemotion import ImageEncoder

    with _one_torch_thread():
        return ImageEncoder(
            tiny_clip_model(), pretrained=None, device="cpu", cache=False, **params
        ).fit_transform(items)


ENCODERS = {
    "AudioFeatures": lambda items, **p: _features(**p).fit_transform(items),
    "AudioEncoder": _encode,
}
PICTURE_ENCODERS = {"FaceEncoder": _face, "ImageEncoder": _image}


# --- checks --------------------------------------------------------------------------------


def _finite(X, what):
    X = np.asarray(X)
    if not np.isfinite(X).all():
        raise WrongResult(f"{what}: {int((~np.isfinite(X)).sum())} value(s) NaN or infinite")
    return X


def _close(got, want, what, rtol=1e-4, atol=1e-4):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise WrongResult(f"{what}: shape {got.shape}, expected {want.shape}")
    if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=False):
        worst = float(np.max(np.abs(got - want)))
        raise WrongResult(f"{what}: differs from the reference by up to {worst:.4g}")


def _names(**params):
    return list(_features(**params).fit([tone()]).get_feature_names_out())


def _column(X, name, **params):
    return np.asarray(X)[:, _names(**params).index(name)]


def _pitch_is_the_tone(X, what, tolerance=0.5):
    pitch = _column(X, "pitch_mean")
    if not np.all(np.abs(pitch - TONE_SEMITONES) < tolerance):
        raise WrongResult(
            f"{what}: mean pitch {pitch} semitones, the 220 Hz tone is {TONE_SEMITONES:.2f}"
        )


# --- files ---------------------------------------------------------------------------------

FORMATS = {
    # name: (suffix, rate, subtype, soundfile format)
    "WAV": (".wav", RATE, "PCM_16", None),
    "FLAC": (".flac", RATE, "PCM_16", None),
    "MP3": (".mp3", RATE, "MPEG_LAYER_III", "MP3"),
    "OGG": (".ogg", RATE, "VORBIS", "OGG"),
    "OPUS": (".opus", 48000, "OPUS", "OGG"),
    "AIFF": (".aiff", RATE, "PCM_16", "AIFF"),
}


def _audio_file(fmt, name, seconds=1.0, **tone_kw):
    suffix, rate, subtype, container = FORMATS[fmt]
    path = scratch() / f"{name}{suffix}"
    return write_wav(path, seconds, rate, subtype=subtype, format=container, **tone_kw)


def _cut(fmt, keep, seconds=1.0, name=None):
    name = name or f"cut-{fmt.lower()}-{keep}"
    return truncate(_audio_file(fmt, name, seconds), keep)


def _register_truncated():
    for fmt, keeps, seconds in [
        ("WAV", (0.5, 0.9, 0.99), 1.0),
        ("FLAC", (0.5, 0.9, 0.99), 2.0),
        ("MP3", (0.5, 0.9), 5.0),
        ("OGG", (0.5, 0.9), 2.0),
        ("OPUS", (0.5,), 2.0),
        ("AIFF", (0.5, 0.9), 1.0),
    ]:
        for keep in keeps:
            name = f"cut-{fmt.lower()}-{int(keep * 100)}"

            def run(fmt=fmt, keep=keep, seconds=seconds, name=name):
                _features().fit_transform([str(_cut(fmt, keep, seconds, name))])

            add(
                AREA,
                f"AudioFeatures: {seconds:g} s {fmt} cut to {keep:.0%} of its bytes",
                "error",
                run,
                names=(name, "truncated"),
            )


_register_truncated()


def case_mp3_of_60_s_cut_to_99_percent():
    path = _cut("MP3", 0.99, seconds=60.0, name="long-cut-99")
    _features(features=("rms",), stats=("mean",)).fit_transform([str(path)])


add(
    AREA,
    "AudioFeatures: 60 s MP3 cut to 99% of its bytes",
    "error",
    case_mp3_of_60_s_cut_to_99_percent,
    names=("long-cut-99", "truncated"),
    timeout=180,
)


def _streamed_cut(fmt, keep, name):
    """A 12 s file (over the 10 s above which AudioFeatures streams files) cut short."""

    def run():
        path = _cut(fmt, keep, seconds=12.0, name=name)
        _features(features=("rms",), stats=("mean",)).fit_transform([str(path)])

    return run


for _fmt, _keep in [("WAV", 0.5), ("FLAC", 0.7), ("MP3", 0.8), ("OGG", 0.6)]:
    _name = f"streamed-{_fmt.lower()}"
    add(
        AREA,
        f"AudioFeatures: streamed 12 s {_fmt} cut to {_keep:.0%}",
        "error",
        _streamed_cut(_fmt, _keep, _name),
        names=(_name, "truncated"),
    )


def _register_wav_subtypes_cut():
    for subtype in ("PCM_24", "FLOAT"):
        name = f"cut-{subtype.lower()}"

        def run(subtype=subtype, name=name):
            path = write_wav(scratch() / f"{name}.wav", 1.0, RATE, subtype=subtype)
            _features().fit_transform([str(truncate(path, 0.6))])

        add(
            AREA,
            f"AudioFeatures: {subtype} WAV cut to 60%",
            "error",
            run,
            names=(name, "truncated"),
        )


_register_wav_subtypes_cut()


def _other_wav_container(fmt, name):
    """A 1 s tone in a WAV-like container other than RIFF WAVE, cut to 50 %."""

    def run():
        path = scratch() / f"{name}.wav"
        write_wav(path, 1.0, RATE, subtype="PCM_16", format=fmt)
        _features().fit_transform([str(truncate(path, 0.5))])

    return run


for _fmt, _name in [("RF64", "cut-rf64"), ("W64", "cut-w64"), ("WAVEX", "cut-wavex")]:
    add(
        AREA,
        f"AudioFeatures: {_fmt} .wav cut to 50%",
        "error",
        _other_wav_container(_fmt, _name),
        names=(_name, "truncated"),
    )


def _wav_with_junk_chunk(path, junk_bytes=70_000):
    """A WAV whose data chunk comes after a large JUNK chunk (as some recorders write)."""
    write_wav(path, 1.0, RATE)
    data = path.read_bytes()
    fmt_end = 12 + 8 + int.from_bytes(data[16:20], "little")
    junk = b"JUNK" + junk_bytes.to_bytes(4, "little") + b"\0" * junk_bytes
    body = data[12:fmt_end] + junk + data[fmt_end:]
    path.write_bytes(b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WAVE" + body)
    return path


def case_wav_with_70_kb_junk_chunk_read_whole():
    import soundfile

    path = _wav_with_junk_chunk(scratch() / "junk.wav")
    got = _features().fit_transform([str(path)])
    want = _features().fit_transform([soundfile.read(path, dtype="float32")[0]])
    _close(got, want, "a WAV with a JUNK chunk")


add(AREA, "AudioFeatures: WAV with a 70 kB JUNK chunk read whole", "handled",
    case_wav_with_70_kb_junk_chunk_read_whole)  # fmt: skip


def case_wav_with_70_kb_junk_chunk_cut():
    path = _wav_with_junk_chunk(scratch() / "junk-cut.wav")
    _features().fit_transform([str(truncate(path, 0.8))])


add(AREA, "AudioFeatures: WAV with a 70 kB JUNK chunk cut to 80%", "error",
    case_wav_with_70_kb_junk_chunk_cut, names=("junk-cut", "truncated"))  # fmt: skip


# --- empty, fake and missing files ------------------------------------------------------------


def _register_zero_byte():
    for suffix in (".wav", ".flac", ".mp3", ".ogg"):
        name = f"zero-bytes{suffix}"
        for encoder in ENCODERS if suffix == ".wav" else ("AudioFeatures",):

            def run(name=name, encoder=encoder):
                path = scratch() / name
                path.write_bytes(b"")
                ENCODERS[encoder]([str(path)])

            add(AREA, f"{encoder}: 0-byte {suffix} file", "error", run, names=(name, "empty"))


_register_zero_byte()


def case_wav_with_header_and_no_frames():
    import soundfile

    path = scratch() / "header-only.wav"
    soundfile.write(path, np.zeros(0, np.float32), RATE)
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: WAV with a header and 0 frames", "error",
    case_wav_with_header_and_no_frames, names=("header-only.wav", "no samples"))  # fmt: skip


def case_wav_cut_after_its_header():
    path = write_wav(scratch() / "only-header.wav", 1.0, RATE)
    _features().fit_transform([str(truncate(path, 44))])


add(AREA, "AudioFeatures: WAV cut right after its 44-byte header", "error",
    case_wav_cut_after_its_header, names=("only-header.wav", "truncated"))  # fmt: skip


def case_wav_cut_inside_its_header():
    path = write_wav(scratch() / "half-header.wav", 1.0, RATE)
    _features().fit_transform([str(truncate(path, 20))])


add(AREA, "AudioFeatures: WAV cut inside its header (20 bytes)", "error",
    case_wav_cut_inside_its_header, names=("half-header.wav", "truncated"))  # fmt: skip


def _fake(name, content):
    def run(encoder):
        path = scratch() / name
        path.write_bytes(content)
        ENCODERS[encoder]([tone(), str(path)])

    return run


for _encoder in ENCODERS:
    add(AREA, f"{_encoder}: text file renamed .wav", "error",
        lambda e=_encoder: _fake("notes.wav", b"this is a text file\n" * 40)(e),
        names=("item 1", "notes.wav", "not audio"))  # fmt: skip
add(AREA, "AudioFeatures: PNG image renamed .wav", "error",
    lambda: _fake("picture.wav", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)("AudioFeatures"),
    names=("picture.wav", "not audio"))  # fmt: skip


def case_mp4_bytes_named_wav():
    path = _video(scratch() / "clip.mp4")
    path = path.rename(path.with_name("really-a-video.wav"))
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: an MP4 renamed .wav", "error", case_mp4_bytes_named_wav,
    names=("really-a-video.wav", "convert"))  # fmt: skip


def case_m4a_audio():
    path = _video(scratch() / "voice.mp4", frames=False)
    path = path.rename(path.with_name("voice.m4a"))
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: an .m4a (AAC) file", "error", case_m4a_audio,
    names=("voice.m4a", "convert"))  # fmt: skip


for _encoder in ENCODERS:
    add(AREA, f"{_encoder}: a folder as an item", "error",
        lambda e=_encoder: ENCODERS[e]([str(_mkdir(scratch() / "clips.wav"))]),
        names=("clips.wav", "folder"))  # fmt: skip
    add(AREA, f"{_encoder}: nonexistent path", "error",
        lambda e=_encoder: ENCODERS[e]([tone(), str(scratch() / "gone.wav")]),
        names=("item 1", "gone.wav", "no such"))  # fmt: skip


def _mkdir(path):
    path.mkdir()
    return path


def case_broken_symlink():
    link = scratch() / "dangling.wav"
    link.symlink_to(link.parent / "moved-away.wav")
    _features().fit_transform([str(link)])


add(AREA, "AudioFeatures: symlink to a file that is gone", "error", case_broken_symlink,
    names=("dangling.wav", "no such"))  # fmt: skip


def case_path_object_same_as_string():
    path = write_wav(scratch() / "clip.wav")
    _close(_features().fit_transform([path]), _features().fit_transform([str(path)]),
           "a pathlib.Path item")  # fmt: skip


add(AREA, "AudioFeatures: pathlib.Path item same as its string", "handled",
    case_path_object_same_as_string)  # fmt: skip


# --- permission denied (root ignores modes: the call runs without DAC capabilities) ----------

_UNPRIVILEGED = [
    "setpriv",
    "--inh-caps=-all",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
]
_CHILD = """
import json, sys, traceback
sys.path.insert(0, {tests!r})
try:
{body}
    print(json.dumps({{"ok": True}}))
except Exception as exc:
    frames = traceback.extract_tb(exc.__traceback__)
    print(json.dumps({{"ok": False, "type": type(exc).__name__, "message": str(exc),
                      "file": frames[-1].filename if frames else ""}}))
"""


class ChildError(Exception):
    """The error the unprivileged child process raised (its type and message)."""


def run_unprivileged(body, timeout=120):
    """Run `body` (Python, indented by 4) in a child without DAC capabilities; re-raise
    its error here (a raw traceback when it came from outside skemotion)."""
    code = _CHILD.format(tests=str(ROOT / "tests"), body=body)
    done = subprocess.run(
        [*_UNPRIVILEGED, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the unprivileged child printed no answer: {done.stderr[-400:]}")
    answer = json.loads(lines[-1])
    if answer["ok"]:
        return
    message = f"{answer['type']}: {answer['message']}"
    if not answer["file"].startswith(str(ROOT / "skemotion")):
        raise RawTraceback(f"{message} (at {answer['file']})")
    raise ChildError(message)


def _locked(path):
    path.chmod(0)
    return path


def case_unreadable_wav_features():
    path = _locked(write_wav(scratch() / "locked.wav"))
    run_unprivileged(
        "    from skemotion import AudioFeatures\n"
        f"    AudioFeatures(cache=False).fit_transform([{str(path)!r}])"
    )


add(AREA, "AudioFeatures: unreadable WAV (permission denied)", "error",
    case_unreadable_wav_features,
    names=("locked.wav", "permission denied", "readable"))  # fmt: skip


def case_unreadable_flac_encoder():
    path = _locked(_audio_file("FLAC", "locked"))
    run_unprivileged(
        "    import torch; torch.set_num_threads(1)\n"
        "    from skemotion import AudioEncoder\n"
        f"    AudioEncoder({tiny_audio_model()!r}, device='cpu', cache=False)"
        f".fit_transform([{str(path)!r}])"
    )


add(AREA, "AudioEncoder: unreadable FLAC (permission denied)", "error",
    case_unreadable_flac_encoder,
    names=("locked.flac", "permission denied", "readable"))  # fmt: skip


def case_unreadable_video_features():
    path = _locked(_video(scratch() / "locked.mp4"))
    run_unprivileged(
        "    from skemotion import AudioFeatures\n"
        f"    AudioFeatures(cache=False).fit_transform([{str(path)!r}])"
    )


add(AREA, "AudioFeatures: unreadable MP4 (permission denied)", "error",
    case_unreadable_video_features,
    names=("locked.mp4", "permission denied", "readable"))  # fmt: skip


def case_unreadable_video_faces():
    path = _locked(_video(scratch() / "locked.mp4"))
    run_unprivileged(
        "    from skemotion import FaceEncoder\n"
        f"    FaceEncoder(cache=False, device='cpu').fit_transform([{str(path)!r}])"
    )


add(AREA, "FaceEncoder: unreadable MP4 (permission denied)", "error",
    case_unreadable_video_faces,
    names=("locked.mp4", "permission denied", "readable"))  # fmt: skip


def case_unreadable_wav_with_cache():
    path = _locked(write_wav(scratch() / "locked-cached.wav"))
    cache = scratch() / "cache.sqlite"
    run_unprivileged(
        "    from skemotion import AudioFeatures\n"
        f"    AudioFeatures(cache={str(cache)!r}).fit_transform([{str(path)!r}])"
    )


add(AREA, "AudioFeatures: unreadable WAV with a cache (hashing first)", "error",
    case_unreadable_wav_with_cache,
    names=("locked-cached.wav", "permission denied", "readable"))  # fmt: skip


# --- WAV subtypes, read whole ----------------------------------------------------------------

# How far each subtype's samples may lie from the float tone (its quantisation step).
SUBTYPE_TOLERANCE = {
    "PCM_U8": 0.01,
    "PCM_16": 1e-4,
    "PCM_24": 1e-6,
    "PCM_32": 1e-6,
    "FLOAT": 1e-7,
    "DOUBLE": 1e-7,
    "ULAW": 0.02,
    "ALAW": 0.02,
}


def _register_subtypes():
    from skemotion._encoders._audio_items import read_audio_file

    for subtype, tolerance in SUBTYPE_TOLERANCE.items():

        def run(subtype=subtype, tolerance=tolerance):
            path = write_wav(scratch() / f"{subtype}.wav", 1.0, RATE, subtype=subtype)
            samples, rate = read_audio_file(path, caller="case")
            want = tone(1.0, RATE)
            if samples.shape != (want.size, 1) or rate != RATE:
                raise WrongResult(f"read {samples.shape} at {rate} Hz, wrote ({want.size}, 1)")
            error = float(np.max(np.abs(samples[:, 0] - want)))
            if error > tolerance:
                raise WrongResult(f"samples off by up to {error:.3g} (> {tolerance})")
            got = _features().fit_transform([str(path)])
            _finite(got, subtype)
            _pitch_is_the_tone(got, subtype)

        add(AREA, f"AudioFeatures: {subtype} WAV read whole and scaled", "handled", run)


_register_subtypes()


# --- channels --------------------------------------------------------------------------------


def _channels(n_channels, seconds=1.0):
    """A (samples, channels) clip: the tone on channel 0, quieter copies elsewhere."""
    wave = tone(seconds, RATE)
    gains = np.linspace(1.0, 0.2, n_channels, dtype=np.float32)
    return wave[:, None] * gains[None, :]


def _register_channels():
    import soundfile

    for n in (2, 6):

        def run_file(n=n):
            clip = _channels(n)
            path = scratch() / f"ch{n}.wav"
            soundfile.write(path, clip, RATE, subtype="FLOAT")
            _close(_features().fit_transform([str(path)]),
                   _features().fit_transform([clip.mean(axis=1)]), f"{n}-channel WAV")  # fmt: skip

        add(AREA, f"AudioFeatures: {n}-channel WAV mixed down to the mean", "handled", run_file)
    for n in (2, 6):
        for layout in ("samples x channels", "channels x samples"):

            def run_array(n=n, layout=layout):
                clip = _channels(n)
                item = clip if layout == "samples x channels" else np.ascontiguousarray(clip.T)
                _close(_features().fit_transform([item]),
                       _features().fit_transform([clip.mean(axis=1)]), layout)  # fmt: skip

            add(AREA, f"AudioFeatures: {n}-channel array as {layout}", "handled", run_array)


_register_channels()


def case_stereo_array_audio_encoder():
    clip = _channels(2)
    _close(_encode([clip]), _encode([clip.mean(axis=1)]), "a stereo array", rtol=1e-3)


add(AREA, "AudioEncoder: stereo array mixed down to the mean", "handled",
    case_stereo_array_audio_encoder)  # fmt: skip
add(AREA, "AudioFeatures: 2-D array with 9 channels", "error",
    lambda: _features().fit_transform([tone(), np.zeros((16000, 9), np.float32)]),
    names=("item 1", "8 channels"))  # fmt: skip
add(AREA, "AudioFeatures: 3-D array", "error",
    lambda: _features().fit_transform([np.zeros((2, 2, 800), np.float32)]),
    names=("item 0", "shape (2, 2, 800)"))  # fmt: skip


# --- sampling rates ----------------------------------------------------------------------------


def _register_rates():
    for rate in (8000, 44100, 96000, 384000):

        def run(rate=rate):
            path = write_wav(scratch() / f"at-{rate}.wav", 0.5, rate)
            X = _finite(_features().fit_transform([str(path)]), f"{rate} Hz")
            _pitch_is_the_tone(X, f"a {rate} Hz file")

        add(AREA, f"AudioFeatures: WAV at {rate} Hz resampled", "handled", run)

        def run_tuple(rate=rate):
            X = _finite(_features().fit_transform([(tone(0.5, rate), rate)]), f"{rate} Hz")
            _pitch_is_the_tone(X, f"an (array, {rate}) tuple")

        if rate == 44100:
            add(AREA, f"AudioFeatures: (array, {rate}) tuple resampled", "handled", run_tuple)


_register_rates()


def case_wav_at_1_hz():
    import soundfile

    path = scratch() / "one-hertz.wav"
    soundfile.write(path, tone(1.0, RATE)[:20], 1)
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: WAV at 1 Hz", "error", case_wav_at_1_hz,
    names=("one-hertz.wav", "rate"))  # fmt: skip


def case_wav_at_50_mhz():
    import soundfile

    path = scratch() / "fifty-megahertz.wav"
    soundfile.write(path, tone(1.0, RATE)[:2000], 50_000_000)
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: WAV at 50 MHz", "error", case_wav_at_50_mhz,
    names=("fifty-megahertz.wav", "rate"))  # fmt: skip


def case_audio_encoder_wav_at_44100():
    path = write_wav(scratch() / "cd.wav", 0.5, 44100)
    import soundfile
    from scipy.signal import resample_poly

    want = _encode([resample_poly(soundfile.read(path, dtype="float32")[0], 160, 441)])
    _close(_encode([str(path)]), want, "a 44.1 kHz file", rtol=0.05, atol=0.05)


add(AREA, "AudioEncoder: WAV at 44100 Hz resampled", "handled", case_audio_encoder_wav_at_44100)


# --- (array, rate) tuples and dicts -------------------------------------------------------------

_BAD_RATES = [
    ("0", 0),
    ("negative", -16000),
    ("NaN", float("nan")),
    ("a string", "16000"),
    ("1 Hz", 1),
    ("16 (kHz meant)", 16),
]
for _label, _rate in _BAD_RATES:
    add(AREA, f"AudioFeatures: (array, rate) tuple with rate {_label}", "error",
        lambda r=_rate: _features().fit_transform([tone(), (tone(), r)]),
        names=("item 1", "rate"))  # fmt: skip
add(AREA, "AudioFeatures: (rate, array) tuple in the wrong order", "error",
    lambda: _features().fit_transform([(16000, tone())]), names=("item 0", "array"))  # fmt: skip


def case_float_rate_same_as_int():
    clip = tone(0.5, 22050)
    _close(_features().fit_transform([(clip, 22050.0)]),
           _features().fit_transform([(clip, 22050)]), "rate 22050.0")  # fmt: skip


add(AREA, "AudioFeatures: (array, 22050.0) float rate same as int", "handled",
    case_float_rate_same_as_int)  # fmt: skip


def case_numpy_int_rate():
    clip = tone(0.5, 8000)
    _close(_features().fit_transform([(clip, np.int64(8000))]),
           _features().fit_transform([(clip, 8000)]), "rate np.int64(8000)")  # fmt: skip


add(AREA, "AudioFeatures: (array, np.int64 rate) same as int", "handled", case_numpy_int_rate)


def case_hf_dict_same_as_tuple():
    clip = tone(0.5, 8000)
    item = {"array": clip, "sampling_rate": 8000, "path": None}
    _close(_features().fit_transform([item]), _features().fit_transform([(clip, 8000)]),
           "a datasets Audio dict")  # fmt: skip


add(AREA, "AudioFeatures: Hugging Face audio dict same as tuple", "handled",
    case_hf_dict_same_as_tuple)  # fmt: skip
add(AREA, "AudioFeatures: audio dict without sampling_rate", "error",
    lambda: _features().fit_transform([{"array": tone()}]),
    names=("item 0", "sampling_rate"))  # fmt: skip
add(AREA, "AudioFeatures: (list, rate) tuple", "error",
    lambda: _features().fit_transform([(tone().tolist(), RATE)]),
    names=("item 0", "np.asarray"))  # fmt: skip


# --- arrays: dtypes, values, lengths -----------------------------------------------------------


def case_int16_array_scaled():
    clip = (tone() * 32767).astype(np.int16)
    _close(_features().fit_transform([clip]),
           _features().fit_transform([clip.astype(np.float32) / 32768]), "int16 PCM")  # fmt: skip


add(AREA, "AudioFeatures: int16 array scaled to [-1, 1]", "handled", case_int16_array_scaled)


def case_int32_array_scaled():
    clip = (tone().astype(np.float64) * 2**31 * 0.99).astype(np.int32)
    _close(_features().fit_transform([clip]),
           _features().fit_transform([(clip / 2**31).astype(np.float32)]), "int32 PCM")  # fmt: skip


add(AREA, "AudioFeatures: int32 array scaled to [-1, 1]", "handled", case_int32_array_scaled)


def case_int16_array_audio_encoder():
    clip = (tone() * 32767).astype(np.int16)
    _close(_encode([clip]), _encode([clip.astype(np.float32) / 32768]), "int16 PCM", rtol=1e-3)


add(AREA, "AudioEncoder: int16 array scaled to [-1, 1]", "handled", case_int16_array_audio_encoder)


def case_float64_same_as_float32():
    clip = tone()
    _close(_features().fit_transform([clip.astype(np.float64)]),
           _features().fit_transform([clip]), "float64")  # fmt: skip


add(AREA, "AudioFeatures: float64 array same as float32", "handled", case_float64_same_as_float32)

for _dtype in ("uint8", "int64", "complex64"):
    add(AREA, f"AudioFeatures: {_dtype} array", "error",
        lambda d=_dtype: _features().fit_transform([tone(), np.zeros(16000, dtype=d)]),
        names=("item 1", f"dtype {np.dtype(_dtype)}"))  # fmt: skip


def case_int16_values_in_a_float_array():
    # A common slip: int16 PCM cast to float without dividing by 32768.
    _features().fit_transform([tone() * 32767])


add(AREA, "AudioFeatures: float array of int16 values (no /32768)", "fallback",
    case_int16_values_in_a_float_array, names=("item 0", "[-1, 1]"))  # fmt: skip


def _nan_at(position, value=np.nan, channels=1):
    clip = tone() if channels == 1 else _channels(channels)
    clip = clip.copy()
    clip[position] = value
    return clip


add(AREA, "AudioFeatures: NaN inside a waveform", "error",
    lambda: _features().fit_transform([tone(), _nan_at(500)]),
    names=("item 1", "NaN", "sample 500"))  # fmt: skip
add(AREA, "AudioFeatures: +inf inside a waveform", "error",
    lambda: _features().fit_transform([_nan_at(9000, np.inf)]),
    names=("item 0", "infinite", "sample 9000"))  # fmt: skip
add(AREA, "AudioFeatures: NaN in one channel of a stereo array", "error",
    lambda: _features().fit_transform([_nan_at((700, 1), channels=2)]),
    names=("item 0", "NaN"))  # fmt: skip
add(AREA, "AudioFeatures: NaN in an (array, rate) tuple", "error",
    lambda: _features().fit_transform([(_nan_at(10), 8000)]),
    names=("item 0", "NaN"))  # fmt: skip
add(AREA, "AudioEncoder: NaN inside a waveform", "error",
    lambda: _encode([tone(), _nan_at(500)]), names=("item 1", "NaN"))  # fmt: skip


def case_nan_in_float_wav():
    import soundfile

    path = scratch() / "nan.wav"
    soundfile.write(path, _nan_at(1234), RATE, subtype="FLOAT")
    _features().fit_transform([str(path)])


add(AREA, "AudioFeatures: NaN sample inside a FLOAT WAV file", "error", case_nan_in_float_wav,
    names=("nan.wav", "NaN"))  # fmt: skip

for _label, _clip in [
    ("empty 1-D array", np.zeros(0, np.float32)),
    ("empty (0, 2) array", np.zeros((0, 2), np.float32)),
]:
    add(AREA, f"AudioFeatures: {_label}", "error",
        lambda c=_clip: _features().fit_transform([tone(), c]),
        names=("item 1", "no samples"))  # fmt: skip
add(AREA, "AudioFeatures: empty array in an (array, rate) tuple", "error",
    lambda: _features().fit_transform([(np.zeros(0, np.float32), 8000)]),
    names=("item 0", "no samples"))  # fmt: skip
add(AREA, "AudioEncoder: empty array", "error",
    lambda: _encode([np.zeros(0, np.float32)]), names=("item 0", "no samples"))  # fmt: skip


def _short(n):
    def run():
        X = _finite(_features().fit_transform([tone()[:n], tone()]), f"{n} samples")
        if X.shape != (2, len(_names())):
            raise WrongResult(f"shape {X.shape}")

    return run


for _n in (1, 300):
    add(AREA, f"AudioFeatures: clip of {_n} sample(s) zero-padded", "handled", _short(_n))


def case_ten_sample_wav_file():
    import soundfile

    path = scratch() / "ten.wav"
    soundfile.write(path, tone()[:10], RATE)
    _finite(_features().fit_transform([str(path)]), "a 10-sample WAV")


add(AREA, "AudioFeatures: 10-sample WAV file", "handled", case_ten_sample_wav_file)


def case_ten_samples_audio_encoder():
    X = _finite(_encode([tone()[:10], tone()]), "10 samples")
    if X.shape[0] != 2:
        raise WrongResult(f"shape {X.shape}")


add(AREA, "AudioEncoder: clip of 10 samples padded to one frame", "handled",
    case_ten_samples_audio_encoder)  # fmt: skip


# --- silence, DC, clipping ------------------------------------------------------------------------


def case_silence():
    X = _finite(_features().fit_transform([np.zeros(RATE, np.float32), tone()]), "silence")
    for name in ("pitch_mean", "voicing_mean"):
        if _column(X, name)[0] != 0:
            raise WrongResult(f"{name} of silence is {_column(X, name)[0]}, documented 0")


add(AREA, "AudioFeatures: all-zero clip (silence)", "handled", case_silence)


def case_silent_wav_file():
    import soundfile

    path = scratch() / "silent.wav"
    soundfile.write(path, np.zeros(RATE, np.float32), RATE)
    _finite(_features(frames="all").fit_transform([str(path)]), "a silent WAV")


add(AREA, "AudioFeatures: silent WAV with frames='all'", "handled", case_silent_wav_file)
add(AREA, "AudioEncoder: all-zero clip (silence)", "handled",
    lambda: _finite(_encode([np.zeros(RATE, np.float32)]), "silence"))  # fmt: skip


def case_dc_offset():
    X = _finite(_features().fit_transform([tone() + 0.2]), "a tone with DC offset")
    _pitch_is_the_tone(X, "a tone with a DC offset of 0.2")


add(AREA, "AudioFeatures: tone with a DC offset of 0.2", "handled", case_dc_offset)
add(AREA, "AudioFeatures: constant clip (pure DC)", "handled",
    lambda: _finite(_features().fit_transform([np.full(RATE, 0.5, np.float32)]), "DC"))  # fmt: skip


def case_clipped_at_full_scale():
    clipped = np.clip(tone() * 10, -1, 1).astype(np.float32)
    X = _finite(_features().fit_transform([clipped]), "a clipped tone")
    _pitch_is_the_tone(X, "a tone clipped at +-1")


add(AREA, "AudioFeatures: tone clipped at +-1", "handled", case_clipped_at_full_scale)
add(AREA, "AudioEncoder: square wave at +-1", "handled",
    lambda: _finite(_encode([np.sign(tone()).astype(np.float32)]), "a square wave"))  # fmt: skip


# --- what X is ---------------------------------------------------------------------------------


add(AREA, "AudioFeatures: one waveform passed as X (no list)", "error",
    lambda: _features().fit_transform(tone()), names=("item 0", "float"))  # fmt: skip
add(AREA, "AudioFeatures: 2-D array of clips passed as X", "error",
    lambda: _features().fit_transform(np.stack([tone(), tone()])),
    names=("one column",))  # fmt: skip
add(AREA, "AudioFeatures: WAV bytes as an item", "error",
    lambda: _features().fit_transform([write_wav().read_bytes()]),
    names=("item 0", "bytes"))  # fmt: skip


def case_missing_item_nan():
    X = _features(missing="nan").fit_transform([tone(), None])
    if not (np.isnan(X[1]).all() and np.isfinite(X[0]).all()):
        raise WrongResult("missing='nan' did not give a NaN row for None")


add(AREA, "AudioFeatures: None with missing='nan'", "handled", case_missing_item_nan)


def case_skip_truncated_mp3():
    path = _cut("MP3", 0.5, seconds=5.0, name="skipped-cut")
    X = _features(on_error="skip", missing="nan").fit_transform([str(path), tone()])
    if not np.isnan(X[0]).all():
        raise WrongResult("the truncated file's row is not NaN under on_error='skip'")


add(AREA, "AudioFeatures: truncated MP3 with on_error='skip'", "fallback",
    case_skip_truncated_mp3, names=("skipped-cut.mp3", "truncated"))  # fmt: skip


def case_skip_missing_file_encoder():
    X = _encode([str(scratch() / "nowhere.wav"), tone()], on_error="skip", missing="zeros")
    if np.any(X[0]) or not np.any(X[1]):
        raise WrongResult("on_error='skip' with missing='zeros' did not zero the bad row")


add(AREA, "AudioEncoder: nonexistent file with on_error='skip'", "fallback",
    case_skip_missing_file_encoder, names=("nowhere.wav",))  # fmt: skip


# --- a long recording -----------------------------------------------------------------------------


def case_ten_minutes_of_silence_streamed():
    import soundfile

    path = scratch() / "ten-minutes.wav"
    with soundfile.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as out:
        block = np.zeros(8000 * 60, np.float32)
        for _ in range(10):
            out.write(block)
    X = _features(features=("rms", "zcr"), stats=("mean",)).fit_transform([str(path)])
    _finite(X, "ten minutes of silence")


add(AREA, "AudioFeatures: 10 minutes of silence streamed", "handled",
    case_ten_minutes_of_silence_streamed, timeout=180)  # fmt: skip


# --- segments -------------------------------------------------------------------------------------


def _segment(*bounds, name="recording.wav", seconds=1.0):
    from skemotion import Segment

    return Segment(str(write_wav(scratch() / name, seconds, RATE)), *bounds)


add(AREA, "AudioFeatures: Segment ending after the recording", "error",
    lambda: _features().fit_transform([_segment(0.0, 60.0, name="short.wav")]),
    names=("short.wav", "after the end"))  # fmt: skip
add(AREA, "AudioFeatures: Segment starting after the recording", "error",
    lambda: _features().fit_transform([_segment(5.0, 6.0, name="short.wav")]),
    names=("short.wav", "after the end"))  # fmt: skip
add(AREA, "AudioEncoder: Segment ending after the recording", "error",
    lambda: _encode([_segment(0.5, 3.0, name="short.wav")]),
    names=("short.wav", "after the end"))  # fmt: skip
for _label, _bounds in [
    ("start == end", (0.5, 0.5)),
    ("start > end", (0.8, 0.2)),
    ("NaN bound", (float("nan"), 0.5)),
]:
    add(AREA, f"AudioFeatures: Segment with {_label}", "error",
        lambda b=_bounds: _features().fit_transform([_segment(*b)]),
        names=("item 0", "start < end"))  # fmt: skip


def case_segment_of_missing_file():
    from skemotion import Segment

    _features().fit_transform([Segment(str(scratch() / "absent.wav"), 0.0, 1.0)])


add(AREA, "AudioFeatures: Segment of a nonexistent file", "error", case_segment_of_missing_file,
    names=("absent.wav", "no such"))  # fmt: skip


def case_segment_in_cut_part_of_truncated_wav():
    from skemotion import Segment

    path = truncate(write_wav(scratch() / "cut-recording.wav", 2.0, RATE), 0.5)
    _features().fit_transform([Segment(str(path), 1.2, 1.8)])


add(AREA, "AudioFeatures: Segment in the missing part of a truncated WAV", "error",
    case_segment_in_cut_part_of_truncated_wav,
    names=("cut-recording.wav", "truncated"))  # fmt: skip


def case_segment_is_its_samples():
    item = _segment(0.25, 0.75)
    _close(_features().fit_transform([item]), _features().fit_transform([tone()[4000:12000]]),
           "Segment(0.25, 0.75)")  # fmt: skip


add(AREA, "AudioFeatures: Segment of a WAV equals its samples", "handled",
    case_segment_is_its_samples)  # fmt: skip


# --- videos ---------------------------------------------------------------------------------------


def _frame_picture(k, side=64):
    """A frame: a grey level that changes with k, and a bright square (something to see)."""
    picture = np.full((side, side, 3), 40 + (37 * k) % 180, np.uint8)
    picture[side // 4 : side // 2, side // 4 : side // 2] = 230
    return picture


def _video(path, *, seconds=2.0, fps=10, frames=True, audio=True, faststart=False,
           audio_rate=RATE, layout="mono", frame_times=None):  # fmt: skip
    """Write a small H.264 (+ AAC tone) MP4; ``frame_times`` gives variable frame times."""
    import av

    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        video = sound = None
        if frames is not None:
            video = container.add_stream("libx264", rate=fps)
            video.width = video.height = 64
            video.pix_fmt = "yuv420p"
            video.options = {"preset": "ultrafast"}
            if frame_times is not None:
                video.codec_context.time_base = Fraction(1, 1000)
        if audio:
            sound = container.add_stream("aac", rate=audio_rate, layout=layout)
        if not frames and not audio:
            container.start_encoding()  # nothing to mux: the header alone
        if video is not None and frames:
            times = frame_times if frame_times is not None else np.arange(int(seconds * fps)) / fps
            for k, time in enumerate(times):
                frame = av.VideoFrame.from_ndarray(_frame_picture(k), format="rgb24")
                if frame_times is not None:
                    frame.pts, frame.time_base = int(round(time * 1000)), Fraction(1, 1000)
                container.mux(video.encode(frame))
        if video is not None:
            container.mux(video.encode())
        if sound is not None:
            channels = 2 if layout == "stereo" else 1
            samples = tone(seconds, audio_rate, channels=channels)
            samples = samples[None, :] if channels == 1 else np.ascontiguousarray(samples.T)
            for start in range(0, samples.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, start : start + 1024]),
                    format="fltp",
                    layout=layout,
                )
                frame.sample_rate, frame.pts = audio_rate, start
                frame.time_base = Fraction(1, audio_rate)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return Path(path)


ALL_VIDEO_ENCODERS = {**ENCODERS, **PICTURE_ENCODERS}


def _register_truncated_videos():
    for encoder in ALL_VIDEO_ENCODERS:
        for faststart, keep in [(True, 0.5), (False, 0.5), (True, 0.9)]:
            if keep == 0.9 and encoder not in ("AudioFeatures", "FaceEncoder"):
                continue
            layout = "faststart" if faststart else "moov-at-end"
            name = f"cut-{layout}-{int(keep * 100)}"

            def run(encoder=encoder, faststart=faststart, keep=keep, name=name):
                path = _video(scratch() / f"{name}.mp4", seconds=3.0, faststart=faststart)
                ALL_VIDEO_ENCODERS[encoder]([str(truncate(path, keep))])

            add(AREA, f"{encoder}: {layout} MP4 cut to {keep:.0%}", "error", run,
                names=(name, "truncated"))  # fmt: skip


_register_truncated_videos()


def _cut_at_a_packet_end(path, keep=0.6):
    """Cut a video file just after the packet that ends nearest `keep` of its bytes: the
    packets before the cut are whole, so that no decoder sees a broken one."""
    import av

    size = path.stat().st_size
    with av.open(str(path)) as container:
        ends = [
            packet.pos + packet.size
            for packet in container.demux()
            if packet.pos is not None and packet.pos >= 0 and packet.size
        ]
    return truncate(path, min(ends, key=lambda end: abs(end - keep * size)))


for _encoder in ALL_VIDEO_ENCODERS:
    add(AREA, f"{_encoder}: faststart MP4 cut at a packet boundary (60%)", "error",
        lambda e=_encoder: ALL_VIDEO_ENCODERS[e]([str(_cut_at_a_packet_end(
            _video(scratch() / "cut-at-packet.mp4", seconds=3.0, faststart=True)))]),
        names=("cut-at-packet", "truncated"))  # fmt: skip

for _encoder in ENCODERS:
    add(AREA, f"{_encoder}: MP4 without an audio track", "error",
        lambda e=_encoder: ENCODERS[e]([str(_video(scratch() / "mute.mp4", audio=False))]),
        names=("mute.mp4", "no audio track"))  # fmt: skip
for _encoder in PICTURE_ENCODERS:
    add(AREA, f"{_encoder}: audio-only MP4", "error",
        lambda e=_encoder: PICTURE_ENCODERS[e]([str(_video(scratch() / "voice.mp4", frames=None))]),
        names=("voice.mp4", "no video stream"))  # fmt: skip
add(AREA, "FaceEncoder: WAV file as an item", "error",
    lambda: _face([str(write_wav(scratch() / "speech.wav"))]),
    names=("speech.wav", "image"))  # fmt: skip
add(AREA, "FaceEncoder: text file renamed .mp4", "error",
    lambda: _face([str(_text_as(scratch() / "notes.mp4"))]),
    names=("notes.mp4", "not a video"))  # fmt: skip


def _text_as(path):
    path.write_text("not a video\n" * 50)
    return path


add(AREA, "AudioFeatures: text file renamed .mp4", "error",
    lambda: _features().fit_transform([str(_text_as(scratch() / "notes.mp4"))]),
    names=("notes.mp4", "not a video"))  # fmt: skip
add(AREA, "AudioFeatures: 0-byte .mp4", "error",
    lambda: _features().fit_transform([str(_text_as_empty(scratch() / "zero-bytes.mp4"))]),
    names=("zero-bytes.mp4", "empty"))  # fmt: skip
add(AREA, "FaceEncoder: 0-byte .mp4", "error",
    lambda: _face([str(_text_as_empty(scratch() / "zero-bytes.mp4"))]),
    names=("zero-bytes.mp4", "empty"))  # fmt: skip


def _text_as_empty(path):
    path.write_bytes(b"")
    return path


def case_video_with_zero_frames_faces():
    _face([str(_video(scratch() / "no-frames.mp4", frames=False, audio=False))])


add(AREA, "FaceEncoder: MP4 with a video stream of 0 frames", "error",
    case_video_with_zero_frames_faces, names=("no-frames.mp4", "no video stream"))  # fmt: skip


def case_video_with_zero_frames_audio():
    _features().fit_transform([str(_video(scratch() / "no-frames.mp4", frames=False, audio=False))])


add(AREA, "AudioFeatures: MP4 with 0 frames and no audio", "error",
    case_video_with_zero_frames_audio, names=("no-frames.mp4", "no audio track"))  # fmt: skip


def case_video_audio_track_is_the_tone():
    X = _finite(_features().fit_transform([str(_video(scratch() / "talk.mp4"))]), "a video")
    _pitch_is_the_tone(X, "the audio track of an MP4")


add(AREA, "AudioFeatures: MP4 audio track read", "handled", case_video_audio_track_is_the_tone)


def case_video_stereo_44100_track():
    path = _video(scratch() / "stereo.mp4", audio_rate=44100, layout="stereo")
    X = _finite(_features().fit_transform([str(path)]), "a stereo 44.1 kHz track")
    _pitch_is_the_tone(X, "a stereo 44.1 kHz AAC track")


add(AREA, "AudioFeatures: MP4 with a stereo 44.1 kHz track", "handled",
    case_video_stereo_44100_track)  # fmt: skip


def case_upper_case_suffix():
    path = _video(scratch() / "talk.mp4")
    upper = path.rename(path.with_name("TALK.MP4"))
    _close(_features().fit_transform([str(upper)]),
           _features().fit_transform([str(_video(scratch() / "talk.mp4"))]), ".MP4")  # fmt: skip


add(AREA, "AudioFeatures: .MP4 in capitals read as a video", "handled", case_upper_case_suffix)


def _decoded_frames(path):
    import av

    with av.open(str(path)) as container:
        return [
            (float(frame.time), frame.to_ndarray(format="rgb24"))
            for frame in container.decode(container.streams.video[0])
        ]


def case_variable_frame_rate():
    # Frames at irregular times: each sampling time (every 0.5 s) takes the first frame
    # shown at or after it.
    times = [0.0, 0.05, 0.1, 0.9, 0.95, 1.6, 1.7, 2.6]
    path = _video(scratch() / "vfr.mp4", seconds=3.0, audio=False, frame_times=times)
    decoded = _decoded_frames(path)
    if [round(t, 2) for t, _ in decoded] != times:
        raise RuntimeError(f"the test video's frames are at {[t for t, _ in decoded]}")
    picked, next_time = [], 0.0
    for time, rgb in decoded:
        if time + 1e-9 >= next_time:
            picked.append(rgb)
            while next_time <= time + 1e-9:
                next_time += 0.5
    got = _face([str(path)], frame_rate=2.0)
    want = _face(picked).mean(axis=0, keepdims=True)
    _close(got, want, "a variable-frame-rate video", rtol=1e-3, atol=1e-4)


add(AREA, "FaceEncoder: variable frame rate sampled by time", "handled", case_variable_frame_rate)


def _video_segment(encoder, bounds):
    def run():
        from skemotion import Segment

        path = _video(scratch() / "two-seconds.mp4", seconds=2.0)
        ALL_VIDEO_ENCODERS[encoder]([Segment(str(path), *bounds)])

    return run


for _encoder in ALL_VIDEO_ENCODERS:
    add(AREA, f"{_encoder}: Segment of a 2 s MP4 ending at 30 s", "error",
        _video_segment(_encoder, (0.5, 30.0)), names=("two-seconds.mp4", "end"))  # fmt: skip
add(AREA, "FaceEncoder: Segment of a 2 s MP4 from 5 s to 6 s", "error",
    _video_segment("FaceEncoder", (5.0, 6.0)), names=("two-seconds.mp4", "end"))  # fmt: skip
add(AREA, "AudioFeatures: Segment of a 2 s MP4 from 5 s to 6 s", "error",
    _video_segment("AudioFeatures", (5.0, 6.0)), names=("two-seconds.mp4", "end"))  # fmt: skip
add(AREA, "FaceEncoder: Segment of a WAV", "error",
    lambda: _face([_segment(0.0, 0.5, name="voice.wav")]),
    names=("voice.wav", "not a video"))  # fmt: skip
