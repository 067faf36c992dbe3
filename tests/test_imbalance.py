"""The imbalance recipe of docs/imbalance.md fits and predicts on the bundled GoEmotions sample."""

import numpy as np
import pytest
from conftest import needs_minilm
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline, make_union

from skemotion import TextEncoder, TunedOffsetClassifierCV, emotion_report
from skemotion.datasets import load_goemotions_sample


@pytest.mark.slow
@needs_minilm
def test_recipe_fits_tunes_offsets_and_predicts_on_the_sample(tmp_path):
    X, y = load_goemotions_sample(return_X_y=True)
    # 800 of the 4,000 rows keep the test fast; the split keeps every class in each part.
    X, _, y, _ = train_test_split(X, y, train_size=800, stratify=y, random_state=0)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=400, stratify=y, random_state=0
    )
    X_dev, X_test, y_dev, y_test = train_test_split(
        X_rest, y_rest, train_size=200, stratify=y_rest, random_state=0
    )
    model = make_pipeline(
        make_union(
            TextEncoder(cache=tmp_path),
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3),
        ),
        LogisticRegression(max_iter=3000),
    ).fit(X_train, y_train)
    tuned = TunedOffsetClassifierCV(FrozenEstimator(model)).fit(X_dev, y_dev)

    assert list(tuned.classes_) == sorted(set(y))
    assert tuned.offsets_.shape == (7,)
    y_pred = tuned.predict(X_test)
    assert set(y_pred) <= set(y)
    report = emotion_report(y_test, y_pred)
    assert report["n_samples"] == 200
    # the offsets were tuned on dev only: the frozen model is unchanged
    np.testing.assert_array_equal(tuned.predict_proba(X_test), model.predict_proba(X_test))
    # fewer rows than the benchmark, but far above chance (1/7)
    assert report["macro_f1"] > 0.2
