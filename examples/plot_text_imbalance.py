"""
Text emotions with class imbalance
==================================

Emotion labels are imbalanced: in the GoEmotions sample bundled with skemotion (4,000
Reddit comments, Ekman's six emotions and neutral), joy and neutral are 71% of the
comments and disgust 1.2%. This example embeds 2,000 of the comments with
:class:`~skemotion.TextEncoder` (all-MiniLM-L6-v2, offline) and compares three ways of
handling the imbalance with a logistic regression on top:

- no correction: the classifier follows the class frequencies;
- ``class_weight="balanced"``: every emotion weighs the same in the loss;
- :class:`~skemotion.TunedOffsetClassifierCV`: one offset per class added to the
  log-probabilities, tuned by cross-validation for macro-F1.

It prints accuracy, macro-F1 and UAR (unweighted average recall) of each on a
held-out quarter, and draws the per-emotion F1 and the confusion matrix of the tuned model.
Accuracy flatters the first model; macro-F1 and UAR count every emotion alike.
"""

# %%
# The bundled sample
# ------------------
# :func:`~skemotion.datasets.load_goemotions_sample` returns a Bunch: ``data`` holds the
# comments, ``target`` their emotions. A stratified half of them keeps the example
# under a minute on 2 CPU cores (embedding is most of the time); the proportions stay.
import tempfile

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skemotion import EmbeddingCache, TextEncoder, TunedOffsetClassifierCV, emotion_report
from skemotion.datasets import load_goemotions_sample
from skemotion.plots import ConfusionMatrixDisplay

sample = load_goemotions_sample()
texts, emotions = sample.data, sample.target
print(emotions.value_counts(normalize=True).round(3).to_string())

texts, _, emotions, _ = train_test_split(
    texts, emotions, train_size=2000, stratify=emotions, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    texts, emotions, test_size=0.25, stratify=emotions, random_state=0
)
print(f"{len(X_train)} training and {len(X_test)} test comments")

# %%
# Three models on the same embeddings
# -----------------------------------
# The encoder is frozen: it is the same in the three pipelines, so an embedding cache
# (here a temporary folder; by default ``~/.cache/skemotion``) embeds each comment once
# and every later fit reads it back.
cache = EmbeddingCache(tempfile.mkdtemp(prefix="skemotion-example-"))


def text_pipeline(**lr_params):
    return make_pipeline(TextEncoder(cache=cache), LogisticRegression(max_iter=2000, **lr_params))


models = {
    "no correction": text_pipeline(),
    "class_weight='balanced'": text_pipeline(class_weight="balanced"),
    "offsets tuned for macro-F1": TunedOffsetClassifierCV(text_pipeline(), cv=5),
}
reports, predictions = {}, {}
for name, model in models.items():
    model.fit(X_train, y_train)
    predictions[name] = model.predict(X_test)
    reports[name] = emotion_report(y_test, predictions[name])

scores = pd.DataFrame(reports).T[["accuracy", "macro_f1", "uar"]]
print(scores.round(3).to_string())

# %%
# The offsets the tuned model learnt: a positive offset multiplies that emotion's
# probability by ``exp(offset)`` before the argmax, so the rare emotions are predicted
# more often, but less often than with balanced class weights.
tuned = models["offsets tuned for macro-F1"]
print(pd.Series(tuned.offsets_, index=tuned.classes_).round(2).to_string())
print(f"embedding cache: {cache.stats()}")

# %%
# Per-emotion F1
# --------------
# The gain is in the rare emotions (disgust, fear); joy and neutral barely move.
labels = sample.target_names
per_class = pd.DataFrame(
    {
        name: f1_score(y_test, pred, labels=labels, average=None, zero_division=0)
        for name, pred in predictions.items()
    },
    index=labels,
)
ax = per_class.plot.bar(figsize=(8, 4), rot=0)
ax.set_ylabel("F1 on the held-out comments")
ax.set_title("Per-emotion F1 of the three models")
plt.tight_layout()

# %%
# The confusion matrix of the tuned model, rows normalised: the diagonal is each
# emotion's recall.
ConfusionMatrixDisplay.from_predictions(
    y_test, predictions["offsets tuned for macro-F1"], labels=labels
)
plt.title("Offsets tuned for macro-F1")
plt.tight_layout()
plt.show()
