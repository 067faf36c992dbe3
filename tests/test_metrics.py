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


# --- ROC-AUC from probabilities ------------------------------------------------------------


LABELS = ["anger", "joy", "sad"]


def _three_class_probabilities(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["anger", "joy", "sad"])[rng.integers(0, 3, n)]
    logits = rng.normal(size=(n, 3)) + 1.5 * (y[:, None] == np.array(["anger", "joy", "sad"]))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba, np.array(["anger", "joy", "sad"])[proba.argmax(axis=1)]


def test_emotion_report_roc_auc_is_scikit_learns_one_vs_rest_macro():
    from sklearn.metrics import roc_auc_score

    y, proba, pred = _three_class_probabilities()
    report = emotion_report(y, pred, y_proba=proba, labels=["anger", "joy", "sad"])
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert report["roc_auc"] == pytest.approx(expected)
    assert list(report) == ["accuracy", "macro_f1", "weighted_f1", "uar", "roc_auc", "n_samples"]
    # labels default to the sorted labels of y_true and y_pred: classes_' order.
    assert emotion_report(y, pred, y_proba=proba)["roc_auc"] == pytest.approx(expected)
    weights = np.linspace(0.5, 2, len(y))
    weighted = emotion_report(y, pred, y_proba=proba, sample_weight=weights)["roc_auc"]
    assert weighted == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=weights)
    )
    assert emotion_report(y, pred, y_proba=proba, as_frame=True).shape == (1, 6)


def test_emotion_report_roc_auc_binary_uses_the_positive_column():
    from sklearn.metrics import roc_auc_score

    y_true = ["calm", "calm", "angry", "angry", "calm"]
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.7, 0.3], [0.8, 0.2]])
    report = emotion_report(y_true, ["calm"] * 5, y_proba=proba, labels=["angry", "calm"])
    assert report["roc_auc"] == pytest.approx(
        roc_auc_score(np.array(y_true) == "calm", proba[:, 1])
    )


def test_emotion_report_roc_auc_does_not_need_rows_summing_to_one():
    from sklearn.metrics import roc_auc_score

    y, proba, pred = _three_class_probabilities()
    scaled = proba * np.linspace(1, 3, len(y))[:, None]  # per-row scale: ranks in a column move
    auc = emotion_report(y, pred, y_proba=scaled)["roc_auc"]
    per_label = [roc_auc_score(y == label, scaled[:, k]) for k, label in enumerate(LABELS)]
    assert auc == pytest.approx(np.mean(per_label))
    # Each column is ranked on its own: not the ROC-AUC of the rows as probabilities.
    assert auc != pytest.approx(emotion_report(y, pred, y_proba=proba)["roc_auc"])


def test_emotion_report_roc_auc_reads_the_columns_in_the_order_of_labels():
    from sklearn.metrics import roc_auc_score

    y, proba, pred = _three_class_probabilities()
    order = [2, 0, 1]  # columns sad, anger, joy
    labels = [LABELS[k] for k in order]
    report = emotion_report(y, pred, y_proba=proba[:, order], labels=labels)
    per_label = [roc_auc_score(y == label, proba[:, order][:, k]) for k, label in enumerate(labels)]
    assert report["roc_auc"] == pytest.approx(np.mean(per_label))
    assert report["roc_auc"] == pytest.approx(emotion_report(y, pred, y_proba=proba)["roc_auc"])
    # The same columns under sorted labels would pair them with the wrong emotions.
    swapped = emotion_report(y, pred, y_proba=proba[:, order], labels=LABELS)["roc_auc"]
    assert swapped != pytest.approx(report["roc_auc"])


def test_emotion_report_labels_without_y_proba_is_an_error():
    y, _, pred = _three_class_probabilities()
    with pytest.raises(ValueError, match="labels name the columns of y_proba, and y_proba is None"):
        emotion_report(y, pred, labels=LABELS)


def test_emotion_report_roc_auc_leaves_out_labels_absent_from_y_true_with_a_warning():
    from sklearn.metrics import roc_auc_score

    y, proba, pred = _three_class_probabilities()
    keep = y != "sad"
    pred = np.where(pred == "sad", "joy", pred)  # nothing predicted that is never true
    with pytest.warns(UserWarning, match=r"averaged over the 2 labels present.*'sad'"):
        report = emotion_report(
            y[keep], pred[keep], y_proba=proba[keep], labels=["anger", "joy", "sad"]
        )
    per_label = [
        roc_auc_score(y[keep] == label, proba[keep, k]) for k, label in enumerate(["anger", "joy"])
    ]
    assert report["roc_auc"] == pytest.approx(np.mean(per_label))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_proba": np.ones((4, 3))}, "y_proba has 3 columns but y_true and y_pred hold 2 labels"),
        ({"y_proba": np.ones(4)}, r"must have shape \(n_samples, n_classes\).*got shape \(4,\)"),
        ({"y_proba": np.ones((3, 2))}, "y_proba has 3 rows but y_true has 4 samples"),
        ({"y_proba": [[0.5, "x"]] * 4}, "must hold numbers"),
        ({"y_proba": np.full((4, 2), np.nan)}, "NaN or infinite"),
        ({"y_proba": np.ones((4, 2)), "labels": ["joy", "sad"]}, r"not in labels \('anger'\)"),
        ({"y_proba": np.ones((4, 2)), "labels": ["joy", "joy"]}, "must be distinct labels"),
        ({"y_proba": np.ones((4, 2)), "labels": ["anger", "joy", "sad"]}, "3 labels for the 2"),
    ],
)
def test_emotion_report_roc_auc_errors_name_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        emotion_report(["joy", "anger", "joy", "anger"], ["joy"] * 4, **kwargs)


def test_emotion_report_roc_auc_needs_two_true_labels():
    with pytest.raises(ValueError, match="at least two labels in y_true; got only 'joy'"):
        emotion_report(["joy"] * 3, ["joy"] * 3, y_proba=np.eye(3)[:, :2], labels=["joy", "sad"])
