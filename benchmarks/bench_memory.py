"""Peak memory of encoding one very large item: a 100-megapixel photo, a long recording.

Usage:
    python benchmarks/bench_memory.py [--minutes 10 20] [--megapixels 100] [--compare]

Each case runs in a fresh process: the encoder first encodes a small item of the same
kind (so libraries, weights and compiled code are loaded), then the large one; the
figure is how much that raised the process's peak resident memory above what it held
before (Linux's VmHWM, reset after the small item), i.e. what the large item cost.
Cache off, so nothing is read back.

- FaceEncoder(detect="haar") on a PNG of `--megapixels` (a FER-2013 face pasted on a
  smooth background, so the cascade has a face to find); bound: 600 MB;
- AudioFeatures() on WAV files of `--minutes` of speech (RAVDESS clips end to end,
  16 kHz mono); bound: 150 MB, flat in the length.

`--compare` also runs each case as it ran before the bound: the face case with
full-resolution detection and whole-picture conversion, the audio case with the
whole waveform and all its frame-level features in memory at once.
Figures go to stdout and benchmarks/results/memory.{md,json}.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import shared_data, write_results

CHILD = """
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
kind, path, small, unbounded = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
if kind == "face":
    from skemotion import FaceEncoder
    from skemotion._encoders import _face_detection, _image_items
    if unbounded:  # as before the bound: full-resolution search and conversion
        _face_detection.DETECTION_SIDE = 10**9
        _image_items._STRIP_PIXELS = 10**15
    encoder = FaceEncoder(detect="haar", cache=False, device="cpu")
else:
    from skemotion import AudioFeatures
    if unbounded:  # as before streaming: the whole waveform and its frames at once
        AudioFeatures._streamed = lambda self, item: False
    encoder = AudioFeatures(cache=False)
def status(field):  # kB, from Linux's /proc/self/status
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
encoder.fit_transform([small])
# Reset the peak (VmHWM) to the current size, so that the warm-up's peak (numba
# compiling, say) does not hide what the large item costs.
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")
before = status("VmRSS")
row = encoder.fit_transform([path])
peak = status("VmHWM")
print(json.dumps({"extra_mb": (peak - before) / 1024, "peak_mb": peak / 1024,
                  "finite": bool(np.isfinite(row).all())}))
"""


def run_child(kind, path, small, unbounded=False):
    args = [sys.executable, "-c", CHILD, kind, str(path), str(small), "1" if unbounded else "0"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{kind} case failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_photo(folder, megapixels):
    """A PNG of `megapixels` with a FER-2013 face (a tenth of its height) on a gradient."""
    import cv2
    from PIL import Image

    side = int(round((megapixels * 1e6) ** 0.5))
    face_file = next(iter(sorted((shared_data("fer2013_test") / "happy").glob("*.jpg"))))
    face = cv2.imread(str(face_file), cv2.IMREAD_GRAYSCALE)
    canvas = np.linspace(90, 170, side, dtype=np.float32)[None, :].repeat(side, 0)
    canvas = canvas.astype(np.uint8)
    size = side // 10
    top = left = side // 3
    canvas[top : top + size, left : left + size] = cv2.resize(face, (size, size))
    rgb = np.repeat(canvas[:, :, None], 3, axis=2)
    path = folder / f"photo_{megapixels}mp.png"
    Image.fromarray(rgb).save(path, compress_level=1)
    small = folder / "small.png"
    Image.fromarray(cv2.resize(rgb, (400, 400))).save(small)
    return path, small


def make_recording(folder, minutes):
    """A WAV of `minutes` of RAVDESS speech clips end to end, 16 kHz mono."""
    import soundfile

    clips = sorted(shared_data("ravdess_speech").rglob("*.flac"))
    target = int(minutes * 60 * 16000)
    path = folder / f"speech_{minutes}min.wav"
    with soundfile.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16") as out:
        written = 0
        for clip in clips * (1 + target // (16000 * 3 * len(clips))):
            samples, rate = soundfile.read(clip, dtype="float32")
            samples = samples[: target - written]
            out.write(samples)
            written += samples.size
            if written >= target:
                break
    return path, clips[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 20])
    parser.add_argument("--megapixels", type=float, default=100)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo, small_photo = make_photo(folder, args.megapixels)
        cases = [("face", "FaceEncoder(detect='haar')", False)]
        if args.compare:
            cases.append(("face", "FaceEncoder(detect='haar'), before the bound", True))
        for kind, name, unbounded in cases:
            figure = run_child(kind, photo, small_photo, unbounded)
            rows.append(_row(name, f"{args.megapixels:g}-megapixel PNG", figure, 600))
        photo.unlink()
        for minutes in args.minutes:
            recording, small_clip = make_recording(folder, minutes)
            for unbounded in (False, True) if args.compare else (False,):
                figure = run_child("audio", recording, small_clip, unbounded)
                name = "AudioFeatures()" + (", before streaming" if unbounded else "")
                rows.append(_row(name, f"{minutes:g}-minute WAV", figure, 150))
            recording.unlink()
    command = "python benchmarks/bench_memory.py " + " ".join(sys.argv[1:])
    write_results(
        "memory",
        command.strip(),
        rows,
        notes=[
            "extra MB: how far encoding the one large item raised the peak resident memory "
            "above what the process held after encoding a small item (VmHWM - VmRSS).",
            "Cache off; CPU. Each case in a fresh process.",
        ],
    )


def _row(encoder, item, figure, bound):
    return {
        "encoder": encoder,
        "item": item,
        "extra MB": round(figure["extra_mb"]),
        "peak MB": round(figure["peak_mb"]),
        "bound MB": bound,
        "within": "yes" if figure["extra_mb"] <= bound else "no",
    }


if __name__ == "__main__":
    main()
