"""Bad inputs that used to pass silently or fail deep inside a library: each must give an
error naming the item and the fix (issue 12). Other modules keep their own bad-input
tests (test_fusion_missing.py for missing modalities, test_speaker.py for speaker ids)."""

import numpy as np
import pandas as pd
import pytest
from _tiny_models import tiny_text_model_dir
from sklearn.linear_model import LogisticRegression

from skemotion import LateFusionClassifier, TextEncoder, TunedOffsetClassifierCV
from skemotion._items import as_items

# --- containers whose iteration is not the items -------------------------------------------


def test_a_dict_of_texts_is_refused_rather_than_embedding_its_keys():
    with pytest.raises(TypeError, match="got a dict, whose iteration gives its keys.*pd.Series"):
        TextEncoder(tiny_text_model_dir(), device="cpu").fit_transform({"id1": "I am happy"})


@pytest.mark.parametrize("container", [{"b", "a"}, frozenset({"b", "a"})])
def test_a_set_is_refused_as_it_has_no_order(container):
    with pytest.raises(TypeError, match="which has no order.*sorted"):
        as_items(container, caller="TextEncoder")


def test_a_series_built_from_a_dict_keeps_its_keys_as_the_index():
    items, index, _ = as_items(pd.Series({"id1": "I am happy"}), caller="TextEncoder")
    assert list(items) == ["I am happy"] and list(index) == ["id1"]


# --- labels ----------------------------------------------------------------------------------

_X = np.random.default_rng(0).normal(size=(6, 2))
_BAD_LABELS = [
    (["joy", "sad", None, "joy", "sad", "joy"], ValueError,
     "1 label\\(s\\) in y are missing.*row 2"),
    (pd.Series(["joy", "sad", 3, "joy", "sad", "joy"], dtype=object), TypeError,
     "mix types \\(string 'joy' at row 0 and number 3 at row 2\\).*astype\\(str\\)"),
]  # fmt: skip


@pytest.mark.parametrize("y, error, match", _BAD_LABELS)
@pytest.mark.parametrize(
    "estimator",
    [LateFusionClassifier(LogisticRegression(), modalities={"m": [0, 1]}),
     TunedOffsetClassifierCV(LogisticRegression(), cv=2)],
    ids=["late", "offsets"],
)  # fmt: skip
def test_missing_or_mixed_labels_are_named(estimator, y, error, match):
    with pytest.raises(error, match=match):
        estimator.fit(_X, y)
