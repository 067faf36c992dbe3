"""Build test videos from real parts: FER-2013 faces muxed with a RAVDESS utterance.

No real emotion video corpus is available offline, so a video of one emotion is made of
real faces of that emotion (FER-2013's 48 x 48 grey crops, upscaled and centred on a
grey background, each shown for an equal share of the clip) and a real utterance of the
same emotion (a RAVDESS clip, 16 kHz), encoded with H.264 and AAC by PyAV. Used by the
video tests (a few small videos) and by benchmarks/bench_video.py (56 of them); the
videos are written where the caller says, never committed.
"""

import csv
from fractions import Fraction
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FER = DATA / "fer2013_test"
RAVDESS = DATA / "ravdess_speech"
# RAVDESS's eight emotions and the FER-2013 class whose faces stand for each: FER has
# no "calm", so calm clips show neutral faces.
FACE_OF = {
    "neutral": "neutral",
    "calm": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fearful": "fear",
    "disgust": "disgust",
    "surprised": "surprise",
}


def fer_faces(emotion, count, *, skip=0):
    """`count` FER-2013 test faces of a FER emotion, as 48 x 48 uint8 arrays."""
    from PIL import Image

    with open(FER / "labels.csv", newline="") as file:
        paths = [row["path"] for row in csv.DictReader(file) if row["emotion"] == emotion]
    return [np.asarray(Image.open(FER / path).convert("L")) for path in paths[skip : skip + count]]


def ravdess_clips(emotion=None, actor=None):
    """Rows of RAVDESS's labels.csv (path made absolute), optionally of one emotion/actor."""
    with open(RAVDESS / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["path"] = str(RAVDESS / row["path"])
    return [
        row
        for row in rows
        if (emotion is None or row["emotion"] == emotion)
        and (actor is None or int(row["actor"]) == int(actor))
    ]


def write_video(
    path,
    faces,
    audio=None,
    *,
    audio_rate=16000,
    fps=10,
    side=128,
    seconds=None,
    width=None,
    height=None,
):
    """Write an H.264 (+ AAC) video showing `faces` in turn, with `audio` as its track.

    The clip lasts `seconds`, or as long as `audio`. Each face (2-D uint8) is resized to
    `side` pixels and centred on a mid-grey frame (`width` x `height`, by default 1.5
    times the face), so that a face detector sees some background around it.
    """
    import av
    import cv2

    if seconds is None:
        seconds = len(audio) / audio_rate
    n_frames = max(1, int(round(seconds * fps)))
    width = width or int(side * 1.5) // 2 * 2
    height = height or width
    top, left = (height - side) // 2, (width - side) // 2
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=audio_rate, layout="mono")
        for k in range(n_frames):
            face = faces[k * len(faces) // n_frames]
            canvas = np.full((height, width), 128, np.uint8)
            canvas[top : top + side, left : left + side] = cv2.resize(
                face, (side, side), interpolation=cv2.INTER_CUBIC
            )
            frame = av.VideoFrame.from_ndarray(np.repeat(canvas[:, :, None], 3, 2), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            samples = np.asarray(audio, dtype=np.float32)
            for start in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(
                    samples[None, start : start + 1024], format="fltp", layout="mono"
                )
                frame.sample_rate, frame.pts = audio_rate, start
                frame.time_base = Fraction(1, audio_rate)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return Path(path)


def emotion_video(path, ravdess_row, *, n_faces=3, skip=0, fps=10):
    """A video of a RAVDESS clip's utterance and FER faces of the same emotion."""
    import soundfile

    audio, rate = soundfile.read(ravdess_row["path"], dtype="float32")
    faces = fer_faces(FACE_OF[ravdess_row["emotion"]], n_faces, skip=skip)
    return write_video(path, faces, audio, audio_rate=rate, fps=fps)
