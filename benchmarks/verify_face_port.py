"""Check that FaceEncoder's torch port reproduces fer's original Keras model on real faces.

Usage:
    python benchmarks/verify_face_port.py [--n 100] [--keras-python PATH]

FaceEncoder encodes `n` FER-2013 test images (spread over all classes) from their files.
The original runs the way the ``fer`` package runs it: ``cv2.imread`` (BGR), then
``cv2.cvtColor(BGR2GRAY)``, ``cv2.resize`` to 64 x 64, ``(x / 255 - 0.5) * 2``, and
Keras' own ``load_model`` of the HDF5 file shipped in skemotion (byte-identical to
``fer/data/emotion_model.hdf5``). Compared: the 7 probabilities (the target is a max
abs difference <= 1e-4), the 128-d embedding (Keras layer ``add_4`` averaged over its
grid), the predicted classes, and the 64 x 64 pixels each side feeds its network.

Keras is never a skemotion dependency. It runs in this interpreter when importable,
else in the interpreter given by ``--keras-python`` (this script re-runs itself there
with ``--keras-side``; that side imports only keras, numpy and OpenCV). Make one with:

    python -m venv /tmp/kerasvenv
    /tmp/kerasvenv/bin/pip install keras torch==2.14.1 h5py numpy pillow opencv-python-headless

Results go to stdout and benchmarks/results/face_port.{md,json}.
"""

import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TOLERANCE = 1e-4
HOW_TO_GET_KERAS = (
    "Keras is not importable here. Run the original model in a throwaway venv:\n"
    "  python -m venv /tmp/kerasvenv\n"
    "  /tmp/kerasvenv/bin/pip install keras torch==2.14.1 h5py numpy pillow "
    "opencv-python-headless\n"
    "then: python benchmarks/verify_face_port.py --keras-python /tmp/kerasvenv/bin/python"
)


def sample_paths(n):
    """`n` test images, every k-th row of labels.csv, so that each class is present."""
    from _common import shared_data

    root = shared_data("fer2013_test")
    with open(root / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // n)
    return [str(root / row["path"]) for row in rows[::step][:n]]


# --- the Keras side: keras, numpy and OpenCV only ------------------------------------------


def fer_preprocess(paths):
    """fer's own steps (fer/fer.py, detect_emotions, with the face box = the whole crop)."""
    import cv2

    faces = []
    for path in paths:
        bgr = cv2.imread(path)
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        faces.append(cv2.resize(grey, (64, 64)))
    return np.stack(faces)


def keras_side(paths, weights):
    """Probabilities and add_4 embeddings of the original Keras model, and its inputs."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    model = keras.models.load_model(weights, compile=False)
    pixels = fer_preprocess(paths)
    x = (pixels.astype("float32") / 255.0 - 0.5) * 2.0
    x = x[..., None]
    proba = np.asarray(model.predict(x, verbose=0))
    features = keras.Model(model.input, model.get_layer("add_4").output)
    embedding = np.asarray(features.predict(x, verbose=0)).mean(axis=(1, 2))
    info = {"keras": keras.__version__, "backend": keras.backend.backend()}
    return proba, embedding, pixels, info


def run_keras_side(paths, weights, keras_python):
    if keras_python is None and importlib.util.find_spec("keras") is not None:
        return keras_side(paths, weights)
    if keras_python is None:
        sys.exit(HOW_TO_GET_KERAS)
    with tempfile.TemporaryDirectory() as folder:
        request, answer = Path(folder) / "in.json", Path(folder) / "out.npz"
        request.write_text(json.dumps({"paths": paths, "weights": str(weights)}))
        env = {**os.environ, "KERAS_BACKEND": "torch"}
        command = [keras_python, __file__, "--keras-side", str(request), str(answer)]
        subprocess.run(command, check=True, env=env)
        out = np.load(answer)
        info = json.loads(str(out["info"]))
        return out["proba"], out["embedding"], out["pixels"], info


def keras_side_main(request, answer):
    spec = json.loads(Path(request).read_text())
    proba, embedding, pixels, info = keras_side(spec["paths"], spec["weights"])
    np.savez(answer, proba=proba, embedding=embedding, pixels=pixels, info=json.dumps(info))


# --- the skemotion side ----------------------------------------------------------------------


def skemotion_side(paths):
    from skemotion._encoders._face import FaceEncoder, _resize, _to_grey

    encoder = FaceEncoder(output="both", device="cpu", precision="float32", cache=False)
    both = encoder.fit_transform(paths)
    pixels = np.stack([_resize(_to_grey(path)) for path in paths])
    return both[:, :7], both[:, 7:], pixels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="number of FER-2013 test images")
    parser.add_argument("--keras-python", help="a Python interpreter that can import keras")
    parser.add_argument(
        "--keras-side", nargs=2, metavar=("REQUEST", "ANSWER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.keras_side:
        return keras_side_main(*args.keras_side)

    from _common import write_results

    from skemotion._encoders._face import WEIGHTS_PATH
    from skemotion._encoders._hashing import file_sha256

    paths = sample_paths(args.n)
    ours_proba, ours_embedding, ours_pixels = skemotion_side(paths)
    proba, embedding, pixels, info = run_keras_side(paths, WEIGHTS_PATH, args.keras_python)
    proba_diff = float(np.abs(ours_proba - proba).max())
    rows = [
        {"compared": "probabilities, max abs diff", "value": f"{proba_diff:.3g}"},
        {
            "compared": "embedding (add_4 mean), max abs diff",
            "value": f"{np.abs(ours_embedding - embedding).max():.3g}",
        },
        {
            "compared": "predicted class agrees",
            "value": f"{np.mean(ours_proba.argmax(1) == proba.argmax(1)):.1%}",
        },
        {
            "compared": "64 x 64 input pixels, max abs diff (uint8)",
            "value": str(int(np.abs(ours_pixels.astype(int) - pixels.astype(int)).max())),
        },
        {"compared": "images", "value": str(len(paths))},
    ]
    passed = proba_diff <= TOLERANCE
    notes = [
        f"Original: Keras {info['keras']} ({info['backend']} backend) "
        "`keras.models.load_model(emotion_model.hdf5, compile=False)`, fed as fer feeds it "
        "(cv2.imread, BGR2GRAY, cv2.resize to 64 x 64, (x / 255 - 0.5) * 2).",
        "Port: `FaceEncoder(output='both', precision='float32', cache=False)` on the same "
        "files (Pillow decoding, batch norms folded into the convolutions).",
        f"Weights: sha256 {file_sha256(WEIGHTS_PATH)}.",
        f"Target: probabilities within {TOLERANCE:g} (max abs diff): "
        + ("PASSED." if passed else "FAILED."),
    ]
    command = "python benchmarks/verify_face_port.py " + " ".join(argv or sys.argv[1:])
    write_results("face_port", command.strip(), rows, notes)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
