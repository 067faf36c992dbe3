"""Inputs the cases build: sounds, files, images, tiny models, command-line runs.

Every file goes into a fresh temporary folder per call (:func:`scratch`), removed when
the sweep's child process exits; nothing is written to the user's folders or caches.
"""

import atexit
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._registry import CliFailed, CliUsageError, ProcessCrashed, RawTraceback

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the tiny models of the test suite

_SCRATCH = Path(tempfile.mkdtemp(prefix="skemotion-bad-inputs-"))
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Exported ONNX files and any other cache go under the scratch folder.
os.environ["XDG_CACHE_HOME"] = str(_SCRATCH / "xdg")


def scratch():
    """A new empty folder."""
    return Path(tempfile.mkdtemp(dir=_SCRATCH))


def tone(seconds=1.0, sr=16000, freq=220.0, channels=1):
    """A sine tone with a little noise (float32, shape (n,) or (n, channels))."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(0)
    wave = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    wave = wave.astype(np.float32)
    return wave if channels == 1 else np.repeat(wave[:, None], channels, axis=1)


def write_wav(path=None, seconds=1.0, sr=16000, subtype="PCM_16", format=None, **tone_kw):
    """Write a tone with soundfile and return its path (default: a new .wav)."""
    import soundfile

    path = Path(path) if path is not None else scratch() / "tone.wav"
    soundfile.write(path, tone(seconds, sr, **tone_kw), sr, subtype=subtype, format=format)
    return path


def write_image(path=None, size=(64, 64), mode="RGB", face=False):
    """Write an image with Pillow and return its path (default: a new .png).

    ``face=True`` draws a bright oval with two dark eyes, which the detectors of the
    tests accept as a face; otherwise a gradient.
    """
    from PIL import Image, ImageDraw

    path = Path(path) if path is not None else scratch() / "image.png"
    width, height = size
    ramp = np.linspace(0, 255, width * height, dtype=np.float64).reshape(height, width)
    image = Image.fromarray(ramp.astype(np.uint8)).convert(mode)
    if face:
        draw = ImageDraw.Draw(image)
        draw.ellipse((width * 0.2, height * 0.1, width * 0.8, height * 0.9), fill="white")
        for x in (0.38, 0.62):
            draw.ellipse(
                (width * (x - 0.05), height * 0.35, width * (x + 0.05), height * 0.45), fill="black"
            )
    image.save(path)
    return path


def truncate(path, keep=0.5):
    """Cut the file at `path` to `keep` of its bytes (a fraction) or to `keep` bytes."""
    path = Path(path)
    data = path.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep
    path.write_bytes(data[:size])
    return path


def tiny_text_model():
    from _tiny_models import tiny_text_model_dir

    return tiny_text_model_dir()


def tiny_audio_model(kind="wav2vec2-group"):
    from _tiny_models import tiny_audio_model_dir

    return tiny_audio_model_dir(kind)


def run_cli(*argv):
    """Run ``skemotion ARGV`` in this process; return its standard output.

    A non-zero exit raises :class:`CliFailed` with what the command printed, a usage
    error :class:`CliUsageError`, and an exception that escapes the command (which a
    user would see as a traceback) :class:`RawTraceback`.
    """
    from skemotion._cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
            if code == 2:
                raise CliUsageError(err.getvalue() or out.getvalue()) from None
        except Exception as exc:
            raise RawTraceback(f"{type(exc).__name__}: {exc}") from exc
    if code:
        raise CliFailed(err.getvalue() + out.getvalue())
    return out.getvalue()


def run_cli_process(*argv, timeout=300, env=None):
    """Run ``python -m skemotion ARGV`` in a new process; judge it as :func:`run_cli`.

    For what needs a process of its own (signals, a crash, thread start-up). A
    "Traceback" in its error output is a :class:`RawTraceback`; death by a signal is
    re-raised as a crash (:class:`ProcessCrashed`).
    """
    done = subprocess.run(
        [sys.executable, "-m", "skemotion", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    printed = done.stderr + done.stdout
    if done.returncode < 0:
        raise ProcessCrashed(f"killed by signal {-done.returncode}: {printed[-300:]}")
    if "Traceback (most recent call last)" in done.stderr:
        raise RawTraceback(done.stderr[-450:])
    if done.returncode == 2:
        raise CliUsageError(printed)
    if done.returncode:
        raise CliFailed(printed)
    return done.stdout


def _chattr(flag, *paths):
    for path in paths:
        subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)


@contextlib.contextmanager
def immutable(*paths):
    """Make `paths` immutable (read-only even for root) for the block."""
    _chattr("+i", *paths)
    try:
        yield
    finally:
        _chattr("-i", *reversed(paths))


@contextlib.contextmanager
def working_folder(folder=None):
    """Run the block in `folder` (a new scratch folder): relative paths land there."""
    before = os.getcwd()
    os.chdir(folder or scratch())
    try:
        yield Path(os.getcwd())
    finally:
        os.chdir(before)
