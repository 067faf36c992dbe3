"""Metrics that respect class imbalance, reported together."""

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from ._targets import check_labels

#: Scorers for ``cross_validate(..., scoring=EMOTION_SCORING)``, named as in
#: :func:`emotion_report`.
EMOTION_SCORING = {
    "accuracy": "accuracy",
    "macro_f1": "f1_macro",
    "weighted_f1": "f1_weighted",
    "uar": "balanced_accuracy",
}


def emotion_report(y_true, y_pred, *, sample_weight=None, as_frame=False):
    """Accuracy, macro-F1, weighted-F1 and unweighted average recall, together.

    Emotion datasets are imbalanced (neutral dominates), so accuracy alone flatters a
    model that ignores rare emotions. The speech-emotion literature reports UAR
    (unweighted average recall: the mean of per-class recalls, i.e. balanced accuracy)
    beside accuracy (weighted average recall); text benchmarks such as MELD report
    weighted F1; macro-F1 weighs every emotion equally.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    as_frame : bool, default=False
        Return a one-row DataFrame instead of a dict.

    Returns
    -------
    report : dict or DataFrame
        ``accuracy``, ``macro_f1``, ``weighted_f1``, ``uar`` and ``n_samples``.

    Examples
    --------
    >>> from skemotion import emotion_report
    >>> y_true = ["neutral"] * 8 + ["anger", "joy"]
    >>> y_pred = ["neutral"] * 10
    >>> {k: round(v, 3) for k, v in emotion_report(y_true, y_pred).items()}
    {'accuracy': 0.8, 'macro_f1': 0.296, 'weighted_f1': 0.711, 'uar': 0.333, 'n_samples': 10}
    """
    _check_report_inputs(y_true, y_pred, sample_weight)
    kwargs = {"sample_weight": sample_weight}
    report = {
        "accuracy": float(accuracy_score(y_true, y_pred, **kwargs)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0, **kwargs)),
        "weighted_f1": float(
            f1_score(y_true, y_pred, average="weighted", zero_division=0, **kwargs)
        ),
        "uar": float(balanced_accuracy_score(y_true, y_pred, **kwargs)),
        "n_samples": int(np.asarray(y_true).shape[0]),
    }
    if as_frame:
        import pandas as pd

        return pd.DataFrame([report])
    return report


def _check_report_inputs(y_true, y_pred, sample_weight):
    """Name the usual mix-ups before scikit-learn's metrics fail on them."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        raise ValueError(
            f"emotion_report takes predicted labels as y_pred, got a 2-D array of shape "
            f"{y_pred.shape} (probabilities, one column per class?). Pass "
            "model.predict(X), not model.predict_proba(X)."
        )
    if y_pred.dtype.kind == "f" and y_true.dtype.kind in "OUS":
        raise ValueError(
            "emotion_report got float y_pred for labels that are strings: pass the "
            "predicted labels (model.predict(X)), not scores or probabilities."
        )
    if y_pred.dtype.kind in "iu" and y_true.dtype.kind in "US":
        raise ValueError(
            "emotion_report got integer y_pred for labels that are strings: encoded "
            "predictions? Pass model.predict(X), or model.classes_[codes] for the codes."
        )
    check_labels(y_true, "emotion_report (y_true)")
    check_labels(y_pred, "emotion_report (y_pred)")
    if sample_weight is not None and not np.any(np.asarray(sample_weight, dtype=float)):
        raise ValueError(
            "emotion_report got a sample_weight of zeros only: no sample would count. "
            "Pass positive weights, or sample_weight=None."
        )
    lengths = {"y_true": len(y_true), "y_pred": len(y_pred)}
    if sample_weight is not None:
        lengths["sample_weight"] = len(np.asarray(sample_weight).reshape(-1))
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(
            f"emotion_report needs one entry per sample in each argument, but {shown}."
        )
    if not len(y_true):
        raise ValueError("emotion_report got empty y_true and y_pred: there is nothing to score.")
    never_true = sorted(set(y_pred.tolist()) - set(y_true.tolist()), key=str)
    if never_true:
        warnings.warn(
            f"emotion_report: y_pred holds {len(never_true)} label(s) that are not in "
            f"y_true ({', '.join(map(repr, never_true[:5]))}): predicted, but never true "
            "here. UAR averages the recall over the labels of y_true only.",
            UserWarning,
            stacklevel=3,
        )
