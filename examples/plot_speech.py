"""
Emotion in speech
=================

:class:`~skemotion.AudioFeatures` turns each speech clip into 220 acoustic statistics
(MFCC, spectral shape, pitch, voicing, energy) with librosa; a classifier on top
recognises the emotion. This example uses the 192 RAVDESS clips bundled with
skemotion (24 actors, 8 emotions, one clip per emotion per actor), evaluates
speaker-independently (5 folds by actor: no actor is heard in training and test), and
compares two classifiers with and without per-actor normalisation
(:class:`~skemotion.SpeakerNormalizer`).

It prints the scores, and draws the confusion matrix of the best model and the
waveform and MFCC statistics of two clips.
"""

# %%
# The clips and their features
# ----------------------------
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import AudioFeatures, SpeakerNormalizer, emotion_report, speaker_cv
from skemotion.datasets import load_ravdess_sample
from skemotion.plots import ConfusionMatrixDisplay

sample = load_ravdess_sample()
clips, y, actors = sample.data["audio"], sample.target, sample.groups
print(f"{len(clips)} clips of {len(set(actors))} actors: {', '.join(sample.target_names)}")

# The features do not depend on the labels: compute them once, as a DataFrame with
# named columns (the encoder runs in every fit otherwise; its cache would make that
# cheap too).
features = AudioFeatures(cache=False).set_output(transform="pandas").fit_transform(clips)
print(f"{features.shape[1]} features per clip, e.g. {', '.join(features.columns[:4])}")

# %%
# Two clips of one actor, neutral and angry: the angry take is louder, which the first
# MFCC (the clip's log energy) shows; the others describe the shape of the spectrum.
angry = np.flatnonzero((y == "angry") & (actors == 1))[0]
neutral = np.flatnonzero((y == "neutral") & (actors == 1))[0]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for row, color in [(neutral, "tab:blue"), (angry, "tab:red")]:
    samples, rate = soundfile.read(clips[row])
    axes[0].plot(np.arange(samples.size) / rate, samples, color=color, lw=0.5, label=y[row])
mfcc_means = [c for c in features.columns if re.fullmatch(r"mfcc\d+_mean", c)]
features.loc[[neutral, angry], mfcc_means].T.set_axis(["neutral", "angry"], axis=1).plot(
    ax=axes[1], color=["tab:blue", "tab:red"], legend=False
)
axes[0].set(xlabel="seconds", title="Actor 1: the waveforms", ylabel="amplitude")
axes[0].legend()
axes[1].set(xlabel="MFCC coefficient", ylabel="mean over the clip", title="MFCC means")
axes[1].set_xticks(range(0, len(mfcc_means), 4))
axes[1].set_xticklabels(range(0, len(mfcc_means), 4))
plt.tight_layout()

# %%
# Speaker-independent scores
# --------------------------
# Each model is cross-validated on the same 5 folds by actor. The normalised models
# read the actor from a column of X; each test actor is standardised with statistics
# of their own clips in the test fold (no labels).
X = features.assign(actor=actors)
lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
lr = LogisticRegression(C=0.1, max_iter=2000)
models = {
    "LR": (make_pipeline(StandardScaler(), lr), features),
    "LR, per actor": (make_pipeline(SpeakerNormalizer(speaker="actor"), StandardScaler(), lr), X),
    "shrinkage LDA": (make_pipeline(StandardScaler(), lda), features),
    "shrinkage LDA, per actor": (
        make_pipeline(SpeakerNormalizer(speaker="actor"), StandardScaler(), lda),
        X,
    ),
}
predictions, reports = {}, {}
for name, (model, inputs) in models.items():
    predictions[name] = cross_val_predict(model, inputs, y, groups=actors, cv=speaker_cv(5))
    reports[name] = emotion_report(y, predictions[name])
scores = pd.DataFrame(reports).T[["accuracy", "macro_f1", "uar"]]
print(scores.round(3).to_string())

# %%
# With 24 actors and 8 emotions, each test fold holds 4 or 5 unseen voices; chance is
# 0.125. Calm, neutral and sad are the emotions most confused with one another.
best = scores["macro_f1"].idxmax()
ConfusionMatrixDisplay.from_predictions(y, predictions[best], labels=sample.target_names)
plt.title(f"AudioFeatures + {best}, 5 folds by actor")
plt.tight_layout()
plt.show()
