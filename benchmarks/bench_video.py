"""Video items: one column of videos feeding face and audio, and a long video's cost.

1. Accuracy. 56 videos built from real parts (tests/_videos.py): for each of 7 RAVDESS
   actors and each of the 8 emotions, the actor's first utterance of that emotion
   muxed with FER-2013 test faces of the same emotion (calm: neutral faces), 3 faces
   a video, none used twice. Cross-validated leave-one-actor-out (7 folds), so no
   actor's voice is in both parts of a fold; the FER faces are of other people. The
   same folds score:
   - face only: FaceEncoder(detect="haar") on the video column + StandardScaler + LR;
   - audio only: AudioFeatures on the video column + StandardScaler + LR;
   - fused: make_multimodal_pipeline({"face": (FaceEncoder, "video"), "audio":
     (AudioFeatures, "video")}, LateFusionClassifier(...)), the recipe we document;
   - the hand-written baseline: both feature sets concatenated, SimpleImputer +
     StandardScaler + LR.
2. Cost. A 10-minute 1280 x 720 video at 25 frames/s (a face, and RAVDESS speech
   with pauses as its track), encoded by FaceEncoder(detect="haar") at 2 frames/s and
   by AudioFeatures, each in a fresh process: extra peak RSS (VmHWM - VmRSS after a
   small warm-up video), frames per second decoded, and times real time.

Figures go to stdout and benchmarks/results/video.{md,json}; the videos are written
to a temporary folder and deleted.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _videos import RAVDESS, emotion_video, fer_faces, ravdess_clips, write_video  # noqa: E402

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
ACTORS = (1, 2, 3, 4, 5, 6, 7)
FACES_PER_VIDEO = 3


def build_videos(folder):
    """The 56 videos: paths, emotions, actors."""
    paths, emotions, actors = [], [], []
    for a, actor in enumerate(ACTORS):
        for emotion in EMOTIONS:
            row = ravdess_clips(emotion, actor=actor)[0]
            # calm and neutral both show neutral faces: give each its own.
            skip = (a * 2 + (emotion == "calm")) * FACES_PER_VIDEO
            path = folder / f"{actor:02d}-{emotion}.mp4"
            paths.append(str(emotion_video(path, row, n_faces=FACES_PER_VIDEO, skip=skip)))
            emotions.append(emotion)
            actors.append(actor)
    return paths, np.asarray(emotions), np.asarray(actors)


def accuracy_rows(folder):
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skemotion import (
        AudioFeatures,
        EmbeddingCache,
        FaceEncoder,
        LateFusionClassifier,
        make_multimodal_pipeline,
    )

    started = time.perf_counter()
    paths, y, groups = build_videos(folder)
    built = time.perf_counter() - started
    X = pd.DataFrame({"video": paths})
    cache = EmbeddingCache(folder / "cache.sqlite")
    face = FaceEncoder(detect="haar", missing="nan", cache=cache, device="cpu")
    audio = AudioFeatures(cache=cache)
    started = time.perf_counter()
    face.fit_transform(X[["video"]])
    audio.fit_transform(X[["video"]])
    encoded = time.perf_counter() - started

    def lr():
        return LogisticRegression(max_iter=2000)

    # A video in which the face detector finds no face in any frame is a missing face
    # row (NaN): LateFusionClassifier lets the voice decide; the single-table recipes
    # impute it with the training mean, as a user of plain scikit-learn would.
    models = {
        "face only": make_pipeline(
            make_column_transformer((face, ["video"])), SimpleImputer(), StandardScaler(), lr()
        ),
        "audio only": make_pipeline(
            make_column_transformer((audio, ["video"])), StandardScaler(), lr()
        ),
        "fused: LateFusionClassifier (ours)": make_multimodal_pipeline(
            {"face": (face, "video"), "audio": (audio, "video")},
            LateFusionClassifier(make_pipeline(StandardScaler(), lr())),
        ),
        "hand-written: concatenated + SimpleImputer + StandardScaler + LR": make_pipeline(
            make_column_transformer((face, ["video"]), (audio, ["video"])),
            SimpleImputer(),
            StandardScaler(),
            lr(),
        ),
    }
    rows = []
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = cross_val_predict(model, X, y, groups=groups, cv=LeaveOneGroupOut())
        rows.append(
            {
                "model": name,
                "videos predicted": f"{len(predicted)}/{len(y)}",
                "accuracy": f"{accuracy_score(y, predicted):.3f}",
                "macro-F1": f"{f1_score(y, predicted, average='macro'):.3f}",
            }
        )
    cache.close()
    no_face = int(np.isnan(face.transform(X[["video"]])).all(axis=1).sum())
    notes = [
        f"{no_face} of the videos had no face the Haar cascade found in any frame (a "
        "missing face row: the voice alone decides in the fused model; imputed by the "
        "training mean in the others).",
        f"{len(y)} videos ({len(ACTORS)} actors x {len(EMOTIONS)} emotions), built in "
        f"{built:.1f} s, encoded (face at 2 frames/s + audio) in {encoded:.1f} s; "
        "leave-one-actor-out, 7 folds; chance is 0.125.",
    ]
    return rows, notes


# --- the cost of a long video -------------------------------------------------------------------

CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
kind, path, small, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if kind == "face":
    from skemotion import FaceEncoder
    encoder = FaceEncoder(detect="haar", missing="nan", cache=False, device="cpu")
else:
    from skemotion import AudioFeatures
    encoder = AudioFeatures(cache=False)
def status(field):  # kB, from Linux's /proc/self/status
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
encoder.fit_transform([small])
with open("/proc/self/clear_refs", "w") as handle:  # the peak from here on
    handle.write("5")
before = status("VmRSS")
started = time.perf_counter()
row = encoder.fit_transform([path])
elapsed = time.perf_counter() - started
peak = status("VmHWM")
print(json.dumps({"extra_mb": (peak - before) / 1024, "seconds": elapsed,
                  "finite": bool((row == row).all())}))
"""


def long_video(folder, minutes, fps=25):
    """A 1280 x 720 video of `minutes`: a face that changes every 10 s, and speech."""
    import soundfile

    clips = [row["path"] for row in ravdess_clips(actor=1)]
    seconds = minutes * 60
    track, pause = [], np.zeros(16000, np.float32)
    while sum(map(len, track)) < seconds * 16000:
        track += [soundfile.read(clips[len(track) // 2 % len(clips)], dtype="float32")[0], pause]
    audio = np.concatenate(track)[: int(seconds * 16000)]
    faces = fer_faces("happy", int(seconds // 10) + 1)
    return write_video(
        folder / "long.mp4",
        faces,
        audio,
        fps=fps,
        side=480,
        seconds=seconds,
        width=1280,
        height=720,
    )


def cost_rows(folder, minutes):
    path = long_video(folder, minutes)
    small = write_video(folder / "small.mp4", fer_faces("sad", 1), np.zeros(16000, np.float32))
    rows = []
    for kind, name in (("face", "FaceEncoder(detect='haar')"), ("audio", "AudioFeatures()")):
        args = [sys.executable, "-c", CHILD, kind, str(path), str(small), str(minutes * 60)]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.exit(f"{kind} case failed:\n{result.stderr[-2000:]}")
        figure = json.loads(result.stdout.strip().splitlines()[-1])
        seconds = minutes * 60
        rows.append(
            {
                "encoder": name,
                "item": f"{minutes:g}-minute 1280x720 video, 25 frames/s",
                "extra MB": f"{figure['extra_mb']:.0f}",
                "seconds": f"{figure['seconds']:.1f}",
                # Only the frame readers decode the pictures.
                "video frames/s decoded": (
                    f"{seconds * 25 / figure['seconds']:.0f}" if kind == "face" else "-"
                ),
                "x real time": f"{seconds / figure['seconds']:.1f}",
                "finite row": figure["finite"],
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the long video's length")
    parser.add_argument("--skip-cost", action="store_true", help="only the accuracy part")
    parser.add_argument("--skip-accuracy", action="store_true", help="only the cost part")
    args = parser.parse_args()
    if not RAVDESS.is_dir():
        sys.exit(f"benchmark data not found: {RAVDESS} (see ../shared/data/README.md)")
    command = "python benchmarks/bench_video.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="skemotion-videos-") as folder:
        if not args.skip_accuracy:
            rows, notes = accuracy_rows(Path(folder))
            write_results("video", command, rows, notes)
        if not args.skip_cost:
            cost = cost_rows(Path(folder), args.minutes)
            note = (
                "Each encoder in a fresh process, after a 1-second warm-up video; extra MB = "
                "VmHWM - VmRSS; cache off. FaceEncoder samples 2 frames/s (its Haar search "
                "on each, at 640 px, is most of the time) and decodes every frame to find "
                "them; AudioFeatures decodes the audio track only."
            )
            write_results("video_cost", command, cost, [note])


if __name__ == "__main__":
    main()
