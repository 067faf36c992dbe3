"""TunedOffsetClassifierCV: per-class decision offsets tuned on held-out scores."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import cross_val_predict
from sklearn.svm import LinearSVC

from skemotion import TunedOffsetClassifierCV
from skemotion._sklearn_compat import InvalidParameterError
from skemotion._thresholds import _score_from_counts


@pytest.fixture
def imbalanced():
    X, y = make_classification(
        n_samples=3000, n_classes=3, n_informative=4, weights=[0.8, 0.15, 0.05], random_state=0
    )
    labels = np.array(["neutral", "joy", "disgust"], dtype=object)[y]
    # With a few dozen minority samples the offsets fit noise; 2,000 rows are enough here.
    return X[:2000], labels[:2000], X[2000:], labels[2000:]


def test_offsets_raise_macro_f1_on_unseen_data(imbalanced):
    X, y, X_test, y_test = imbalanced
    plain = LogisticRegression().fit(X, y)
    tuned = TunedOffsetClassifierCV(LogisticRegression()).fit(X, y)
    assert set(tuned.classes_) == {"neutral", "joy", "disgust"}
    assert tuned.offsets_.min() == 0
    assert tuned.n_iter_ >= 1
    # the offsets are tuned on out-of-fold predictions of the same 5 folds
    oof = cross_val_predict(LogisticRegression(), X, y, cv=5)
    assert tuned.best_score_ > f1_score(y, oof, average="macro")
    assert f1_score(y_test, tuned.predict(X_test), average="macro") > f1_score(
        y_test, plain.predict(X_test), average="macro"
    )


def test_predict_is_argmax_of_log_proba_plus_offsets(imbalanced):
    X, y, X_test, _ = imbalanced
    tuned = TunedOffsetClassifierCV(LogisticRegression()).fit(X, y)
    proba = tuned.predict_proba(X_test)
    np.testing.assert_array_equal(proba, tuned.estimator_.predict_proba(X_test))
    expected = tuned.classes_[np.argmax(np.log(proba) + tuned.offsets_, axis=1)]
    np.testing.assert_array_equal(tuned.predict(X_test), expected)


def test_frozen_estimator_is_tuned_on_the_data_given_and_not_refitted(imbalanced):
    X, y, X_val, y_val = imbalanced
    fitted = LogisticRegression().fit(X, y)
    coef = fitted.coef_.copy()
    tuned = TunedOffsetClassifierCV(FrozenEstimator(fitted)).fit(X_val, y_val)
    np.testing.assert_array_equal(fitted.coef_, coef)
    np.testing.assert_array_equal(tuned.predict_proba(X_val), fitted.predict_proba(X_val))
    # the frozen model scores all of X_val, so best_score_ is the score on X_val
    assert tuned.best_score_ == pytest.approx(
        f1_score(y_val, tuned.predict(X_val), average="macro")
    )
    assert tuned.best_score_ >= f1_score(y_val, fitted.predict(X_val), average="macro")


def test_decision_function_binary_and_callable_scoring():
    X, y = make_classification(n_samples=400, weights=[0.9, 0.1], random_state=1)
    scoring = balanced_accuracy_score
    tuned = TunedOffsetClassifierCV(LinearSVC(), scoring=scoring).fit(X, y)
    decision = tuned.decision_function(X)
    assert decision.ndim == 1
    shift = tuned.offsets_[1] - tuned.offsets_[0]
    np.testing.assert_array_equal(tuned.predict(X), (decision + shift > 0).astype(int))
    assert not hasattr(tuned, "predict_proba")
    oof = cross_val_predict(LinearSVC(), X, y, cv=5)
    assert tuned.best_score_ >= balanced_accuracy_score(y, oof)


@pytest.mark.parametrize("name", ["f1_macro", "f1_weighted", "balanced_accuracy", "accuracy"])
def test_scores_from_counts_match_scikit_learn(name):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    y_true[y_true == 3] = 0  # a class predicted but never true
    reference = {
        "f1_macro": lambda: f1_score(y_true, y_pred, average="macro"),
        "f1_weighted": lambda: f1_score(y_true, y_pred, average="weighted"),
        "balanced_accuracy": lambda: balanced_accuracy_score(y_true, y_pred),
        "accuracy": lambda: np.mean(y_true == y_pred),
    }[name]
    counts = np.bincount(y_true * 5 + y_pred, minlength=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
        expected = reference()
    assert _score_from_counts(name, counts) == pytest.approx(expected)


def test_custom_offsets_grid_keeps_zero(imbalanced):
    X, y, _, _ = imbalanced
    tuned = TunedOffsetClassifierCV(LogisticRegression(), offsets=[0.5, 1.0]).fit(X, y)
    assert set(np.round(tuned.offsets_, 6)) <= {0.0, 0.5, 1.0}


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"scoring": "roc_auc"}, InvalidParameterError, "'scoring' parameter"),
        ({"max_iter": 0}, InvalidParameterError, "'max_iter' parameter"),
        ({"offsets": [[1.0]]}, ValueError, "'offsets' parameter .* 1-D"),
        ({"offsets": [np.inf]}, ValueError, "finite floats"),
        ({"cv": [(np.arange(1000, 2000), np.arange(500))]}, ValueError, "leaves out 1500 "),
    ],
)
def test_bad_parameters_say_what_is_wrong(params, error, match, imbalanced):
    X, y, _, _ = imbalanced
    with pytest.raises(error, match=match):
        TunedOffsetClassifierCV(LogisticRegression(), **params).fit(X, y)


def test_missing_response_method_is_named(imbalanced):
    X, y, _, _ = imbalanced
    from sklearn.naive_bayes import GaussianNB

    with pytest.raises(AttributeError, match="GaussianNB has no decision_function"):
        TunedOffsetClassifierCV(GaussianNB(), response_method="decision_function").fit(X, y)


def test_labels_unknown_to_a_frozen_estimator_are_refused(imbalanced):
    X, y, X_val, y_val = imbalanced
    fitted = LogisticRegression().fit(X, y)
    y_val = np.where(y_val == "joy", "fear", y_val)
    with pytest.raises(ValueError, match="labels the estimator does not know.*'fear'"):
        TunedOffsetClassifierCV(FrozenEstimator(fitted)).fit(X_val, y_val)


def test_clone_keeps_parameters():
    tuned = TunedOffsetClassifierCV(LogisticRegression(C=3), scoring="accuracy", cv=3)
    params = clone(tuned).get_params()
    assert params["scoring"] == "accuracy" and params["cv"] == 3
    assert params["estimator__C"] == 3
