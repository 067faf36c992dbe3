"""
Facial expressions
==================

Two views of the face modality:

1. :class:`~skemotion.FaceEncoder` on a photograph: the FER-2013 mini-Xception (its
   weights ship with skemotion) gives 7 emotion probabilities. It expects a tightly
   cropped face; ``detect="haar"`` finds the face in a larger picture first. The
   picture is Grace Hopper's portrait, which matplotlib ships as sample data.
2. Emotion recognition from faces, measured: the bundled RAVDESS sample holds the
   facial action units (OpenFace) of 192 takes of 24 actors. A shrinkage LDA on them,
   evaluated speaker-independently (5 folds by actor), with and without
   :class:`~skemotion.SpeakerNormalizer`, which standardises every action unit within
   each actor: one actor's neutral face can carry more brow-lowering than another's
   anger.

It prints the probabilities and the cross-validated scores, and draws the
probabilities and the confusion matrix.
"""

# %%
# FaceEncoder on a photograph
# ---------------------------
import matplotlib.cbook as cbook
import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import FaceEncoder, SpeakerNormalizer, emotion_report, speaker_cv
from skemotion.datasets import load_ravdess_sample
from skemotion.plots import ConfusionMatrixDisplay

portrait = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)

# The whole picture, squeezed to the network's 64 x 64 input, and the face the Haar
# cascade finds in it. cache=False: a single picture is not worth caching.
whole = FaceEncoder(cache=False)
cropped = FaceEncoder(detect="haar", cache=False)
proba = pd.DataFrame(
    {
        "whole picture": whole.fit_transform([portrait])[0],
        'detect="haar"': cropped.fit_transform([portrait])[0],
    },
    index=[name.removeprefix("face_") for name in cropped.get_feature_names_out()],
)
print(proba.round(3).to_string())

fig, (ax_image, ax_proba) = plt.subplots(1, 2, figsize=(10, 4))
ax_image.imshow(Image.open(portrait))
ax_image.set_axis_off()
ax_image.set_title("Grace Hopper (matplotlib sample data)")
proba.plot.barh(ax=ax_proba)
ax_proba.set_xlabel("FaceEncoder probability")
ax_proba.set_title("The network reads a composed, neutral face")
plt.tight_layout()

# %%
# Emotion from facial action units, speaker-independent
# ------------------------------------------------------
# ``sample.data`` holds the model inputs (the ``audio`` path and the 35 ``au_*``
# columns); ``sample.groups`` the actor of each take. SpeakerNormalizer reads the
# speaker from a column of X, so the actor goes into the frame as ``actor``.
sample = load_ravdess_sample()
au_columns = sample.feature_names["face"]
X = sample.data[au_columns].assign(actor=sample.groups)
y, actors = sample.target, sample.groups


def lda():
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")


models = {
    "population standardisation": make_pipeline(StandardScaler(), lda()),
    "SpeakerNormalizer(speaker='actor')": make_pipeline(
        SpeakerNormalizer(speaker="actor"), StandardScaler(), lda()
    ),
}
# The first model must not see the actor column: it would learn who is acting.
inputs = {"population standardisation": X[au_columns]}
predictions, reports = {}, {}
for name, model in models.items():
    predictions[name] = cross_val_predict(
        model, inputs.get(name, X), y, groups=actors, cv=speaker_cv(5)
    )
    reports[name] = emotion_report(y, predictions[name])
print(pd.DataFrame(reports).T[["accuracy", "macro_f1", "uar"]].round(3).to_string())

# %%
# Each test actor is normalised with statistics of their own takes in the test fold
# (no labels): the model adapts to a new face from its unlabelled clips. Chance is
# 0.125 (8 emotions).
ConfusionMatrixDisplay.from_predictions(
    y, predictions["SpeakerNormalizer(speaker='actor')"], labels=sample.target_names
)
plt.title("Facial action units, per-actor normalisation, 5 folds by actor")
plt.tight_layout()
plt.show()
