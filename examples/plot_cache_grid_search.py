"""
The embedding cache in a grid search
====================================

A grid search refits its pipeline for every candidate and fold: 3 values of ``C`` x 3
folds, plus the refit, is 10 fits. A frozen encoder gives every fit the same
embeddings, so recomputing them is wasted work: with an
:class:`~skemotion.EmbeddingCache` each comment is embedded once, in the first fit that
sees it, and read back from disk in the others. The cache is a constructor parameter
keyed by content, so it survives the ``clone`` of every fit, and a second search (or
another script, or another process) on the same comments embeds nothing at all.

This example runs two grid searches on 800 comments of the bundled GoEmotions sample
with a cold cache, then a warm one. It prints the time of each search and the cache's
hits and misses, and draws them.
"""

# %%
# A cold cache
# ------------
import tempfile
import time

import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skemotion import EmbeddingCache, TextEncoder
from skemotion.datasets import load_goemotions_sample

sample = load_goemotions_sample()
texts, _, emotions, _ = train_test_split(
    sample.data, sample.target, train_size=800, stratify=sample.target, random_state=0
)

# A fresh cache in a temporary folder. Without `cache=`, encoders use the default
# folder (~/.cache/skemotion, or set_config(cache=...)).
cache = EmbeddingCache(tempfile.mkdtemp(prefix="skemotion-example-"))
pipe = make_pipeline(TextEncoder(cache=cache), LogisticRegression(max_iter=2000))


def search(grid):
    """Fit a 3-fold grid search; return its time and the cache look-ups it made."""
    cache.reset_stats()
    began = time.perf_counter()
    fitted = GridSearchCV(pipe, grid, cv=3, scoring="f1_macro").fit(texts, emotions)
    seconds = time.perf_counter() - began
    stats = cache.stats()
    print(
        f"{grid}: {seconds:.1f} s, {stats['hits']} hits, {stats['misses']} misses, "
        f"best macro-F1 {fitted.best_score_:.3f}"
    )
    return seconds, stats


runs = {"cold cache: C": search({"logisticregression__C": [0.1, 1.0, 10.0]})}

# %%
# The first search embedded each of the 800 comments once (800 misses: the model ran
# on each) and read them back in the other fits (hits). The model itself was loaded
# once in this process; the clones share it.
#
# A warm cache
# ------------
# Another search on the same comments, over another parameter: every embedding comes
# from the cache, and the search costs the logistic regressions only.
runs["warm cache: class_weight"] = search(
    {"logisticregression__class_weight": [None, "balanced"], "logisticregression__C": [1.0]}
)
print(f"rows in the cache: {cache.count()}, in {cache.path}")

# %%
fig, (ax_time, ax_lookups) = plt.subplots(1, 2, figsize=(10, 3.5))
names = list(runs)
ax_time.barh(names, [seconds for seconds, _ in runs.values()], color="tab:blue")
ax_time.set_xlabel("seconds for the whole grid search")
ax_lookups.barh(names, [stats["misses"] for _, stats in runs.values()], label="misses (embedded)")
ax_lookups.barh(
    names,
    [stats["hits"] for _, stats in runs.values()],
    left=[stats["misses"] for _, stats in runs.values()],
    label="hits (read back)",
)
ax_lookups.set_xlabel("cache look-ups")
ax_lookups.legend(loc="upper right")
ax_lookups.set_yticks([])
fig.suptitle("TextEncoder in GridSearchCV: each comment embedded once")
plt.tight_layout()
plt.show()
