"""Tests of emotion_report, speaker_cv and check_cv_groups."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedGroupKFold, cross_validate
from sklearn.tree import DecisionTreeClassifier

from skemotion._metrics import EMOTION_SCORING, emotion_report
from skemotion._model_selection import GroupLeakageWarning, check_cv_groups, speaker_cv


def test_emotion_report_values():
    y_true = ["neutral"] * 8 + ["anger", "joy"]
    y_pred = ["neutral"] * 9 + ["joy"]
    report = emotion_report(y_true, y_pred)
    assert report["accuracy"] == pytest.approx(0.9)
    assert report["uar"] == pytest.approx((1 + 0 + 1) / 3)
    f1_neutral = 2 * 8 / (2 * 8 + 1)
    assert report["macro_f1"] == pytest.approx((f1_neutral + 0 + 1) / 3)
    assert report["weighted_f1"] == pytest.approx((8 * f1_neutral + 1) / 10)
    assert report["n_samples"] == 10
    frame = emotion_report(y_true, y_pred, as_frame=True)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (1, 5)


def test_emotion_report_sample_weight():
    report = emotion_report([0, 1], [0, 0], sample_weight=[3, 1])
    assert report["accuracy"] == pytest.approx(0.75)


def test_emotion_scoring_names_match_the_report():
    assert set(EMOTION_SCORING) == set(emotion_report([0, 1], [0, 1])) - {"n_samples"}
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.tile([0, 1], 20)
    scores = cross_validate(DecisionTreeClassifier(random_state=0), X, y, scoring=EMOTION_SCORING)
    assert {"test_uar", "test_macro_f1"} <= set(scores)


def _speakers(n_speakers=6, per=10):
    groups = np.tile(np.arange(n_speakers), per)  # speakers interleaved, as in a shuffled file
    y = np.repeat(np.arange(2), n_speakers * per // 2)
    return groups, y


def test_speaker_cv_keeps_each_speaker_in_one_fold():
    groups, y = _speakers()
    cv = speaker_cv(3)
    assert isinstance(cv, StratifiedGroupKFold) and cv.n_splits == 3
    for train, test in cv.split(np.zeros((len(y), 1)), y, groups):
        assert not set(groups[train]) & set(groups[test])


def test_check_cv_groups_warns_when_folds_leak_speakers():
    groups, y = _speakers()
    with pytest.warns(GroupLeakageWarning, match="KFold puts samples of the same group"):
        check_cv_groups(KFold(3), groups, y=y)
    with pytest.warns(GroupLeakageWarning, match="StratifiedKFold"):
        check_cv_groups(5, groups, y=y)  # an int means StratifiedKFold for classifiers


def test_check_cv_groups_is_silent_for_group_splitters_and_returns_the_cv():
    groups, y = _speakers()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cv = check_cv_groups(speaker_cv(3), groups, y=y)
        by_speaker = np.argsort(groups, kind="stable")
        folds = [(by_speaker[:30], by_speaker[30:])]  # an iterable of splits by speaker
        check_cv_groups(folds, groups)
    assert isinstance(cv, StratifiedGroupKFold)
