"""Tests of StackingFusionClassifier on small synthetic data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from test_fusion import _drop, _lr, _two_modalities
from threadpoolctl import threadpool_limits

from skemotion import make_multimodal_pipeline
from skemotion.fusion import LateFusionClassifier, StackingFusionClassifier


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def test_meta_classifier_learns_from_out_of_fold_probabilities():
    X, y = _two_modalities()
    clf = StackingFusionClassifier(_lr()).fit(X, y)
    assert list(clf.estimators_) == ["face", "audio"]
    # Two modalities x 3 classes of log-probabilities, then 2 presence indicators.
    assert clf.final_estimator_.n_features_in_ == 8
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert clf.score(X, y) >= LateFusionClassifier(_lr()).fit(X, y).score(X, y) - 0.05


class _RecordingGroupKFold(GroupKFold):
    seen = []

    def split(self, X, y=None, groups=None):
        type(self).seen.append(None if groups is None else np.asarray(groups))
        return super().split(X, y, groups)


def test_groups_make_the_inner_folds_speaker_independent():
    X, y = _two_modalities()
    speaker = np.repeat(np.arange(10), 20)
    _RecordingGroupKFold.seen = []
    StackingFusionClassifier(_lr(), cv=_RecordingGroupKFold(5)).fit(X, y, groups=speaker)
    assert len(_RecordingGroupKFold.seen) == 2  # one inner CV per modality
    np.testing.assert_array_equal(_RecordingGroupKFold.seen[0], speaker)
    # An int cv with groups: tests/test_routing.py::test_an_int_cv_with_groups_splits_by_group


def test_groups_reach_the_fusion_step_of_a_pipeline():
    X, y = _two_modalities()
    frame = X.rename(columns=lambda c: c.replace("__", "_"))
    encoders = {"face": ("passthrough", list(frame.columns[:4])),
                "audio": ("passthrough", list(frame.columns[4:]))}  # fmt: skip
    pipe = make_multimodal_pipeline(encoders, StackingFusionClassifier(_lr()))
    speaker = np.repeat(np.arange(10), 20)
    pipe.fit(frame, y, fusion__groups=speaker)
    assert pipe.score(frame, y) > 0.7


def test_missing_modalities_in_fit_and_predict():
    X, y = _two_modalities()
    Xm = _drop(X, "audio", slice(0, 60))
    clf = StackingFusionClassifier(_lr()).fit(Xm, y)
    proba = clf.predict_proba(_drop(X, "face", [1]))
    assert np.isfinite(proba).all()
    with pytest.warns(UserWarning, match="1 sample\\(s\\) have no modality present"):
        proba = clf.predict_proba(_drop(_drop(X, "face", [0]), "audio", [0]))
    np.testing.assert_allclose(proba[0], clf.class_prior_)


def test_modality_missing_in_every_training_row_is_an_error():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="modality 'audio' is missing .* in every training"):
        StackingFusionClassifier(_lr()).fit(_drop(X, "audio", slice(None)), y)


def test_groups_of_the_wrong_length_is_an_error():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="groups has 3 entries for 200 samples"):
        StackingFusionClassifier(_lr()).fit(X, y, groups=[1, 2, 3])


def test_sample_weight_reaches_every_model():
    X, y = _two_modalities(weights=[0.7, 0.2, 0.1])
    weight = np.where(y == "sad", 5.0, 1.0)
    clf = StackingFusionClassifier(LogisticRegression(max_iter=1000)).fit(
        X, y, sample_weight=weight
    )
    plain = StackingFusionClassifier(LogisticRegression(max_iter=1000)).fit(X, y)
    assert (clf.predict(X) == "sad").sum() > (plain.predict(X) == "sad").sum()


def test_cross_validated_like_any_classifier():
    X, y = _two_modalities()
    pred = cross_val_predict(StackingFusionClassifier(_lr(), cv=3), pd.DataFrame(X), y, cv=3)
    assert np.mean(pred == y) > 0.7
