"""Metrics that respect class imbalance, reported together."""

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

from ._targets import check_labels, plain

#: Scorers for ``cross_validate(..., scoring=EMOTION_SCORING)``, named as in
#: :func:`emotion_report`.
EMOTION_SCORING = {
    "accuracy": "accuracy",
    "macro_f1": "f1_macro",
    "weighted_f1": "f1_weighted",
    "uar": "balanced_accuracy",
}


def emotion_report(
    y_true, y_pred, *, y_proba=None, labels=None, sample_weight=None, as_frame=False
):
    """Accuracy, macro-F1, weighted-F1, unweighted average recall and ROC-AUC, together.

    Emotion datasets are imbalanced (neutral dominates), so accuracy alone flatters a
    model that ignores rare emotions. The speech-emotion literature reports UAR
    (unweighted average recall: the mean of per-class recalls, i.e. balanced accuracy)
    beside accuracy (weighted average recall); text benchmarks such as MELD report
    weighted F1; macro-F1 weighs every emotion equally. Given the predicted
    probabilities, the report adds the one-vs-rest macro ROC-AUC, which scores how
    well the probabilities rank the samples of each emotion above the others, whatever
    the decision threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    y_proba : array-like of shape (n_samples, n_classes), default=None
        Predicted probabilities (``model.predict_proba(X)``), one column per label of
        `labels`; rows need not sum to 1 (any scores that rank the samples do). When
        given, the report has ``roc_auc``.
    labels : array-like of shape (n_classes,), default=None
        The label of each column of `y_proba`, in order: pass ``model.classes_``. None
        takes the sorted labels found in `y_true` and `y_pred`, which is
        ``model.classes_`` when every class the model knows is among them (scikit-learn
        classifiers sort their classes); `y_proba` must then have as many columns. Only
        with `y_proba`: without it, passing `labels` is an error.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    as_frame : bool, default=False
        Return a one-row DataFrame instead of a dict.

    Returns
    -------
    report : dict or DataFrame
        ``accuracy``, ``macro_f1``, ``weighted_f1``, ``uar``, ``roc_auc`` (with
        `y_proba` only) and ``n_samples``.

    Notes
    -----
    ``roc_auc`` is the mean, over the labels present in `y_true`, of the ROC-AUC of
    that label against all others, scored by its column of `y_proba` (what
    ``sklearn.metrics.roc_auc_score(y_true, y_proba, multi_class="ovr",
    average="macro")`` computes when every label is present). With two labels it
    follows scikit-learn's binary convention: the ROC-AUC of the second label of
    `labels` against the first, scored by the second column alone (the first column is
    not read; where each row sums to 1, it gives the first label the same ROC-AUC). A
    label of `labels` that no sample of `y_true` has (a rare emotion absent from a
    small test fold) has no ROC-AUC: it is left out of the mean, with a warning naming
    it. A label of `y_true` missing from `labels` is an error, as is a `y_true` with a
    single label.

    Examples
    --------
    >>> from skemotion import emotion_report
    >>> y_true = ["neutral"] * 8 + ["anger", "joy"]
    >>> y_pred = ["neutral"] * 10
    >>> {k: round(v, 3) for k, v in emotion_report(y_true, y_pred).items()}
    {'accuracy': 0.8, 'macro_f1': 0.296, 'weighted_f1': 0.711, 'uar': 0.333, 'n_samples': 10}

    With probabilities (columns in the order of ``labels``, the model's ``classes_``):

    >>> y_true, y_pred = ["joy", "anger", "joy", "fear"], ["joy", "anger", "anger", "fear"]
    >>> y_proba = [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.7, 0.1, 0.2], [0.2, 0.7, 0.1]]
    >>> report = emotion_report(y_true, y_pred, y_proba=y_proba,
    ...                         labels=["anger", "fear", "joy"])
    >>> round(report["roc_auc"], 3)
    0.889
    """
    _check_report_inputs(y_true, y_pred, sample_weight)
    if labels is not None and y_proba is None:
        raise ValueError(
            "emotion_report's labels name the columns of y_proba, and y_proba is None: "
            "pass y_proba=model.predict_proba(X) with labels=model.classes_, or leave "
            "labels out."
        )
    kwargs = {"sample_weight": sample_weight}
    report = {
        "accuracy": float(accuracy_score(y_true, y_pred, **kwargs)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0, **kwargs)),
        "weighted_f1": float(
            f1_score(y_true, y_pred, average="weighted", zero_division=0, **kwargs)
        ),
        "uar": float(balanced_accuracy_score(y_true, y_pred, **kwargs)),
    }
    if y_proba is not None:
        report["roc_auc"] = _roc_auc(y_true, y_pred, y_proba, labels, sample_weight)
    report["n_samples"] = int(np.asarray(y_true).shape[0])
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


def _roc_auc(y_true, y_pred, y_proba, labels, sample_weight):
    """One-vs-rest macro ROC-AUC over the labels present in `y_true` (see Notes)."""
    y_true = np.asarray(y_true)
    y_proba = _check_proba(y_proba, len(y_true))
    labels = _proba_labels(labels, y_true, y_pred, y_proba.shape[1])
    unknown = sorted(set(y_true.tolist()) - set(labels.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"emotion_report: y_true holds {len(unknown)} label(s) that are not in labels "
            f"({', '.join(map(repr, unknown[:5]))}), so y_proba has no column for them. "
            "Pass labels=model.classes_ of a model fitted on every class."
        )
    present = [k for k, label in enumerate(labels) if np.any(y_true == label)]
    if len(present) < 2:
        raise ValueError(
            f"emotion_report: ROC-AUC needs samples of at least two labels in y_true; got "
            f"only {plain(y_true[0])!r}. Score more samples, or leave y_proba out."
        )
    if len(labels) == 2:  # sklearn's binary convention: the second column
        return float(roc_auc_score(y_true == labels[1], y_proba[:, 1], sample_weight=sample_weight))
    absent = [labels[k] for k in range(len(labels)) if k not in present]
    if absent:
        warnings.warn(
            f"emotion_report: roc_auc is averaged over the {len(present)} labels present "
            f"in y_true; {len(absent)} label(s) of labels have no true sample "
            f"({', '.join(map(repr, absent[:5]))}), so their one-vs-rest ROC-AUC is "
            "undefined and left out. Score a sample with every label to silence this.",
            UserWarning,
            stacklevel=3,
        )
    scores = [
        roc_auc_score(y_true == labels[k], y_proba[:, k], sample_weight=sample_weight)
        for k in present
    ]
    return float(np.mean(scores))


def _check_proba(y_proba, n_samples):
    """`y_proba` as a finite float array of shape (n_samples, n_columns), or an error."""
    try:
        y_proba = np.asarray(y_proba, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "emotion_report's y_proba must hold numbers, the probabilities of "
            "model.predict_proba(X); it holds values that are not numbers."
        ) from None
    if y_proba.ndim != 2 or y_proba.shape[1] < 2:
        raise ValueError(
            f"emotion_report's y_proba must have shape (n_samples, n_classes), one column "
            f"per class, as model.predict_proba(X) returns; got shape {y_proba.shape}. "
            "For two classes, pass both columns."
        )
    if y_proba.shape[0] != n_samples:
        raise ValueError(
            f"emotion_report's y_proba has {y_proba.shape[0]} rows but y_true has "
            f"{n_samples} samples: pass one row of probabilities per sample."
        )
    if not np.isfinite(y_proba).all():
        raise ValueError(
            "emotion_report's y_proba holds NaN or infinite values; pass finite "
            "probabilities (model.predict_proba(X))."
        )
    return y_proba


def _proba_labels(labels, y_true, y_pred, n_columns):
    """The label of each column of y_proba: `labels`, or the sorted labels seen."""
    if labels is None:
        labels = np.unique(np.concatenate([y_true, np.asarray(y_pred)]))
        if len(labels) != n_columns:
            raise ValueError(
                f"emotion_report's y_proba has {n_columns} columns but y_true and y_pred "
                f"hold {len(labels)} labels, so which column is which label is unknown. "
                "Pass labels=model.classes_, the order of predict_proba's columns."
            )
        return labels
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(set(labels.tolist())) != len(labels):
        raise ValueError(
            f"emotion_report's labels must be distinct labels, one per column of y_proba "
            f"(model.classes_); got {labels.tolist()!r}."
        )
    if len(labels) != n_columns:
        raise ValueError(
            f"emotion_report got {len(labels)} labels for the {n_columns} columns of "
            "y_proba: pass one label per column, in order (model.classes_)."
        )
    return labels
