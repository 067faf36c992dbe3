"""
A missing modality at predict time
==================================

In real recordings a modality is often absent: the camera lost the face, the
microphone was muted, the file is missing. A multimodal pipeline should still predict
from what is there. This example trains face + voice late fusion on 18 actors of the
bundled RAVDESS sample and predicts the 48 clips of 6 other actors four times: with
both modalities, with the voice missing, with the face missing, and with either one
missing at random in half of the clips.

- A missing clip is ``None`` in the ``audio`` column; ``AudioFeatures(missing="nan")``
  turns it into a row of NaN.
- A missing face is NaN in the action-unit columns.
- :class:`~skemotion.LateFusionClassifier` treats a modality whose whole block is NaN
  as missing and renormalises the weights over the modalities present in each clip;
  ``explain`` says which were there.

It prints the scores of each condition and draws them.
"""

# %%
# Train on 18 actors, with both modalities
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import AudioFeatures, LateFusionClassifier, emotion_report, make_multimodal_pipeline
from skemotion.datasets import load_ravdess_sample

sample = load_ravdess_sample()
au_columns = sample.feature_names["face"]
X = sample.data.assign(actor=sample.groups)
y = sample.target
test = sample.groups > 18  # actors 19-24: never seen in training
X_train, y_train, X_test, y_test = X[~test], y[~test], X[test], y[test]

lda = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
pipe = make_multimodal_pipeline(
    {
        "face": ("passthrough", au_columns),
        "audio": (AudioFeatures(missing="nan"), "audio"),
    },
    fusion=LateFusionClassifier(lda, weights={"face": 0.6, "audio": 0.4}),
    speaker="actor",
    cache=False,
)
pipe.fit(X_train, y_train)

# %%
# Remove a modality from the test clips
# -------------------------------------
rng = np.random.default_rng(0)
no_voice = X_test.assign(audio=None)
no_face = X_test.copy()
no_face[au_columns] = np.nan
either = X_test.copy()
drop_face = rng.random(len(either)) < 0.5  # half lose their face, the others their voice
either.loc[drop_face, au_columns] = np.nan
either.loc[~drop_face, "audio"] = None

conditions = {
    "face + voice": X_test,
    "voice missing": no_voice,
    "face missing": no_face,
    "one missing at random": either,
}
reports = {}
for name, inputs in conditions.items():
    reports[name] = emotion_report(y_test, pipe.predict(inputs))
scores = pd.DataFrame(reports).T[["accuracy", "macro_f1", "uar"]]
print(scores.round(3).to_string())

# %%
# Every clip is predicted in every condition. ``explain`` (on the fusion step's input)
# shows how many modalities each prediction rested on and how much each one
# contributed (with the product rule, ``weight * log p(predicted class)``; 0 for a
# missing modality).
fusion = pipe.named_steps["fusion"]
print(fusion.explain(pipe[:-1].transform(either)).head(6).round(3).to_string())

# %%
# Losing the voice costs less than losing the face on these clips: with these weights
# the face is the stronger modality. Chance is 0.125.
ax = scores.plot.bar(rot=0, figsize=(8, 4))
ax.set_ylabel("score on 48 clips of 6 unseen actors")
ax.set_ylim(0, 1)
ax.set_title("Late fusion with a modality missing at predict time")
plt.tight_layout()
plt.show()
