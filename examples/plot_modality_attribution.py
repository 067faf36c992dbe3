"""
Which modality drove the prediction: face and voice attributions
================================================================

A fused model answers "which emotion?"; its users ask next "because of the face or
because of the voice?". This example fits face + voice fusion on the RAVDESS sample
bundled with skemotion (192 clips of 24 actors, 8 emotions: the facial action units of
each take and its speech), tests it on actors it never saw, and answers that question
two ways:

- :class:`~skemotion.plots.ModalityAttributionDisplay`: for each test clip, how much
  each modality moved the fused probability of the clip's true emotion (exact Shapley
  values over the modalities), and their mean per emotion;
- :func:`~skemotion.modality_importance`: how much macro-F1 drops when one modality is
  shuffled across clips, on held-out folds by actor.

It prints the scores of late fusion and of stacking fusion (with the one-vs-rest
ROC-AUC of their probabilities) and draws the attributions of both and the importance
of each modality.
"""

# %%
# The bundled sample, split by actor
# ----------------------------------
# Test actors are not in training (speaker-independent evaluation): actors 1-16 train,
# actors 17-24 test. The pipeline reads each clip's actor from the ``actor`` column to
# normalise every feature per actor (:class:`~skemotion.SpeakerNormalizer`).
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import (
    AudioFeatures,
    EmbeddingCache,
    LateFusionClassifier,
    StackingFusionClassifier,
    emotion_report,
    make_multimodal_pipeline,
    modality_attributions,
    modality_importance,
)
from skemotion.datasets import load_ravdess_sample
from skemotion.plots import ModalityAttributionDisplay

sample = load_ravdess_sample()
actors = sample.groups
X = sample.data.assign(actor=actors)
y = sample.target.to_numpy()
train, test = actors <= 16, actors > 16
print(f"{train.sum()} training clips (actors 1-16), {test.sum()} test clips (actors 17-24)")

# %%
# Late fusion and stacking fusion
# -------------------------------
# Each modality gets its own standardised shrinkage LDA. Late fusion multiplies their
# probabilities (equal weights); stacking fusion learns how to combine them from
# out-of-fold probabilities. The audio features are cached (here in a temporary
# folder), so each clip is analysed once for every fit below.
cache = EmbeddingCache(tempfile.mkdtemp(prefix="skemotion-example-"))


def face_voice(fusion):
    return make_multimodal_pipeline(
        {
            "face": ("passthrough", sample.feature_names["face"]),
            "audio": (AudioFeatures(cache=cache), "audio"),
        },
        fusion=fusion,
        speaker="actor",
    )


def modality_classifier():
    return make_pipeline(
        StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )


models = {
    "late fusion": face_voice(LateFusionClassifier(modality_classifier())),
    "stacking fusion": face_voice(StackingFusionClassifier(modality_classifier(), cv=4)),
}
reports = {}
for name, model in models.items():
    model.fit(X[train], y[train])
    reports[name] = emotion_report(
        y[test],
        model.predict(X[test]),
        y_proba=model.predict_proba(X[test]),
        labels=model.classes_,
    )
scores = pd.DataFrame(reports).T[["accuracy", "macro_f1", "uar", "roc_auc"]]
print(scores.round(3).to_string())

# %%
# How much each modality moved each prediction
# --------------------------------------------
# For a test clip and its true emotion, the attribution of the face is its Shapley
# value: the change in the fused probability of that emotion when the face is added,
# averaged over the ways of adding the modalities one by one (with the voice missing,
# then with it present). The face's and the voice's values sum to the clip's fused
# probability minus the probability with neither (the training frequency of the
# emotion, 1/8 here), so each bar group below sums to the black marker: the mean
# probability the model gives the right emotion, above chance. A negative bar is a
# modality that argued against the right answer.
fig, axes = plt.subplots(2, 1, figsize=(9, 8), layout="constrained", sharey=True)
displays = {}
for ax, (name, model) in zip(axes, models.items(), strict=True):
    displays[name] = ModalityAttributionDisplay.from_estimator(model, X[test], y[test], ax=ax)
    ax.set_title(f"{name}: attributions of the true emotion, actors 17-24")

# %%
# The same numbers without a plot (no matplotlib needed):
# :func:`~skemotion.modality_attributions` returns them as a Bunch (``attributions``,
# ``per_class``, ``proba``, ``baseline``, ...). The mean attributions per emotion:
result = modality_attributions(models["late fusion"], X[test], y[test])
per_class = pd.DataFrame(result.per_class, index=result.classes, columns=result.modalities)
per_class["sum"] = per_class.sum(axis=1)
print(per_class.round(3).to_string())

# %%
# Clip by clip
# ------------
# The same attributions, one column per test clip, grouped by emotion: red raised the
# probability of the clip's true emotion, blue lowered it.
late = displays["late fusion"]
display = late.plot(kind="per_sample", ax=plt.figure(figsize=(9, 3), layout="constrained").gca())
display.ax_.set_title("late fusion: attribution of each test clip's true emotion")

# %%
# Which modality the model needs
# ------------------------------
# Permutation importance of whole modalities, on held-out actors: in each of 4 folds by
# actor the pipeline is refitted on the other actors, then the face (all 35 action
# units together) or the voice (all its acoustic features together) of the test clips
# is shuffled across clips, and the drop in macro-F1 is the modality's importance.
result = modality_importance(
    models["late fusion"],
    X,
    y,
    scoring="f1_macro",
    cv=4,
    groups=actors,
    n_repeats=5,
    random_state=0,
)
for modality, mean, std in zip(
    result.modalities, result.importances_mean, result.importances_std, strict=True
):
    print(f"{modality}: macro-F1 drops by {mean:.3f} ± {std:.3f} when shuffled")
print(f"macro-F1 with nothing shuffled, per fold: {np.round(result.baseline_scores, 3)}")

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.barh(result.modalities, result.importances_mean, xerr=result.importances_std, color="tab:blue")
ax.set(
    xlabel="drop in macro-F1 when shuffled (mean ± sd)",
    title="modality_importance: late fusion, 4 folds by actor",
)
cache.close()
