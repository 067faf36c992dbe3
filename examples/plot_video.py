"""
Video files as items
====================

Every encoder that can use a video takes its path as an item:
:class:`~skemotion.FaceEncoder` and :class:`~skemotion.ImageEncoder` read its frames
(``frame_rate`` per second) and pool their features over time;
:class:`~skemotion.AudioFeatures` and :class:`~skemotion.AudioEncoder` read its audio
track. So one column of video paths feeds both the face and the voice of a multimodal
pipeline. Videos are decoded with PyAV, whose wheel ships FFmpeg's libraries
(``pip install "skemotion[video]"``).

No emotion video ships with skemotion, so this example makes some, offline, with PyAV:
each shows Grace Hopper's portrait (matplotlib's sample data), slowly zooming, over a
RAVDESS utterance of the bundled sample. It then

1. checks that AudioFeatures reads the same features from a video's audio track as
   from the original clip (the track is AAC, a lossy codec, so close but not equal);
2. trains a voice classifier on the clips of 20 actors and predicts the videos of the
   4 others, from the same column that FaceEncoder reads the frames from.

It prints the scores and draws a frame, the features' agreement and the face
probabilities.
"""

# %%
# Making the videos
# -----------------
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import matplotlib.cbook as cbook
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
from PIL import Image
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import (
    AudioFeatures,
    FaceEncoder,
    LateFusionClassifier,
    emotion_report,
    make_multimodal_pipeline,
)
from skemotion.datasets import load_ravdess_sample

portrait = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def write_video(path, clip, *, fps=10, size=256):
    """An H.264 + AAC video of the portrait, zooming in, with `clip` as its audio track."""
    samples, rate = soundfile.read(clip, dtype="float32")
    n_frames = int(round(len(samples) / rate * fps))
    width, height = portrait.size
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=rate, layout="mono")
        for k in range(n_frames):
            zoom = 1 + 0.3 * k / max(n_frames - 1, 1)  # from the portrait to the face
            w, h = int(width / zoom), int(height / zoom)
            box = ((width - w) // 2, (height - h) // 3, (width + w) // 2, (height + 2 * h) // 3)
            frame = np.asarray(portrait.crop(box).resize((size, size)))
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
        for start in range(0, len(samples), 1024):
            block = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024], format="fltp", layout="mono"
            )
            block.sample_rate, block.pts, block.time_base = rate, start, Fraction(1, rate)
            container.mux(sound.encode(block))
        container.mux(sound.encode())
    return str(path)


sample = load_ravdess_sample()
clips, y, actors = sample.data["audio"], sample.target, sample.groups
test = actors > 20  # actors 21-24: their clips become videos
folder = Path(tempfile.mkdtemp(prefix="skemotion-videos-"))
videos = pd.Series(
    [write_video(folder / f"{Path(clip).stem}.mp4", clip) for clip in clips[test]],
    index=clips[test].index,
    name="video",
)
print(f"{len(videos)} videos in {folder}, e.g. {Path(videos.iloc[0]).name}")

# %%
# The audio track reads like the clip
# -----------------------------------
# The same encoder, once on the FLAC clips and once on the videos made from them.
audio = AudioFeatures(cache=False)
from_clips = audio.fit_transform(clips[test])
from_videos = audio.transform(videos)
correlation = np.mean(
    [np.corrcoef(a, b)[0, 1] for a, b in zip(from_clips.T, from_videos.T, strict=True)]
)
print(f"mean correlation of each feature, video track against clip: {correlation:.3f}")

# %%
# One column, two modalities
# --------------------------
# A voice classifier trained on the FLAC clips of actors 1-20 predicts the videos of
# actors 21-24 as it predicts their clips. (Scores on 32 clips of 4 actors, without
# the per-actor normalisation of the speech example, are modest; chance is 0.125.)
voice = make_pipeline(
    AudioFeatures(cache=False),
    StandardScaler(),
    LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
)
voice.fit(clips[~test], y[~test])
scores = pd.DataFrame(
    {
        "the FLAC clips": emotion_report(y[test], voice.predict(clips[test])),
        "the videos' audio tracks": emotion_report(y[test], voice.predict(videos)),
    }
).T[["accuracy", "macro_f1", "uar"]]
print(scores.round(3).to_string())

# %%
# FaceEncoder reads the frames of the same files: 2 frames a second, the face found in
# each (``detect="haar"``), the 7 probabilities averaged over the frames, and their
# standard deviation with ``temporal_pooling="mean+std"``.
face = FaceEncoder(detect="haar", temporal_pooling="mean+std", cache=False)
face_features = face.set_output(transform="pandas").fit_transform(videos.iloc[:1])
print(face_features.T.round(3).to_string())

# %%
# In a multimodal pipeline both encoders name the same column, and the fusion step
# gets one block of features per modality. (The face is the same in every video here,
# so only the voice carries the emotion: this shows the plumbing, fitted on the 32
# videos.)
pipe = make_multimodal_pipeline(
    {
        "face": (FaceEncoder(detect="haar", missing="nan"), "video"),
        "audio": (AudioFeatures(), "video"),
    },
    LateFusionClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
    cache=False,
)
pipe.fit(videos.to_frame(), y[test])
blocks = pipe[:-1].transform(videos.to_frame()).columns.str.split("__").str[0]
print(f"the fusion step's input: {blocks.value_counts().to_dict()} columns")

# %%
with av.open(videos.iloc[0]) as container:
    first = next(container.decode(video=0)).to_ndarray(format="rgb24")
fig, (ax_frame, ax_features, ax_face) = plt.subplots(1, 3, figsize=(13, 4))
ax_frame.imshow(first)
ax_frame.set_axis_off()
ax_frame.set_title("The first frame of a generated video")
standardised = StandardScaler().fit(from_clips)
ax_features.scatter(
    standardised.transform(from_clips).ravel(),
    standardised.transform(from_videos).ravel(),
    s=1,
    alpha=0.3,
)
ax_features.set(
    xlabel="AudioFeatures of the clip (standardised)",
    ylabel="of the video's audio track",
    title=f"{len(videos)} clips x {from_clips.shape[1]} features",
)
means = face_features.filter(like="_mean").iloc[0]
stds = face_features.filter(like="_std").iloc[0]
labels = [name.removeprefix("face_").removesuffix("_mean") for name in means.index]
ax_face.barh(labels, means, xerr=stds)
ax_face.set(xlabel="probability, mean ± std over the frames", title="FaceEncoder on a video")
plt.tight_layout()
plt.show()
