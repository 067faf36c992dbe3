"""Bad inputs for the fitted estimators: fusion, speaker normalisation, offsets, CV, metrics.

Small synthetic numeric data only (no encoders): two modalities of two columns each,
``face__a, face__b, audio__a, audio__b``, whose values carry the label. Every fusion
estimator is fed the same bad inputs, so that they answer them the same way:

- ``early fusion``: ``make_pipeline(EarlyFusion(...), LogisticRegression())`` where a
  label is involved, ``EarlyFusion`` alone where only X is;
- ``late fusion``, ``stacking fusion`` (``cv=3``), ``attention fusion`` (tiny network,
  10 epochs at a high learning rate, which learns these easy data).

The declared names follow one convention: an error about a column names the column and
the word of the fix (``numeric``, ``one modality``); one about a label names its row; one
about a parameter names the parameter.
"""

import time
import warnings
from functools import partial

import numpy as np
import pandas as pd

from ._registry import WrongResult, add

AREA = "estimators"
COLUMNS = ["face__a", "face__b", "audio__a", "audio__b"]
POSITIONS = {"face": [0, 1], "audio": [2, 3]}
N = 40
KINDS = {
    "early": "early fusion",
    "late": "late fusion",
    "stacking": "stacking fusion",
    "attention": "attention fusion",
}
CLASSIFIERS = ("late", "stacking", "attention")


# --- data and estimators ----------------------------------------------------------------------


def _frame(n=N, labels=("joy", "sad"), seed=0):
    """(X DataFrame of the four columns, y array of str): the label shows in every column."""
    rng = np.random.default_rng(seed)
    code = np.arange(n) % len(labels)
    X = pd.DataFrame({c: code + rng.normal(0, 0.4, n) for c in COLUMNS})
    return X, np.asarray(labels)[code]


def _numpy(n=N, labels=("joy", "sad")):
    X, y = _frame(n, labels)
    return X.to_numpy(), y


def _lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500)


def _make(kind, **params):
    """The estimator of `kind`; `params` are the fusion step's."""
    from sklearn.pipeline import make_pipeline

    from skemotion.fusion import (
        AttentionFusionClassifier,
        EarlyFusion,
        LateFusionClassifier,
        StackingFusionClassifier,
    )

    if kind == "early":
        return make_pipeline(EarlyFusion(**params), _lr())
    if kind == "late":
        return LateFusionClassifier(_lr(), **params)
    if kind == "stacking":
        return StackingFusionClassifier(_lr(), cv=3, **params)
    defaults = dict(
        hidden_dim=8, n_heads=2, max_epochs=10, learning_rate=0.03, batch_size=16,
        random_state=0, device="cpu",
    )  # fmt: skip
    return AttentionFusionClassifier(**{**defaults, **params})


def _fusion_step(estimator):
    """The fusion estimator itself (EarlyFusion inside its pipeline)."""
    return estimator[0] if hasattr(estimator, "steps") else estimator


def _early(**params):
    from skemotion.fusion import EarlyFusion

    return EarlyFusion(**params)


def _same(a, b, what, atol=1e-9):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise WrongResult(f"{what}: shapes {a.shape} and {b.shape}")
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        if not np.allclose(a, b, atol=atol, equal_nan=True):
            raise WrongResult(f"{what}: largest difference {np.nanmax(np.abs(a - b)):.3g}")
    elif not np.array_equal(a, b):
        raise WrongResult(f"{what}: {a[:4]!r} vs {b[:4]!r}")


def _proper_proba(proba, n_rows, n_classes, what):
    proba = np.asarray(proba)
    if proba.shape != (n_rows, n_classes):
        raise WrongResult(f"{what}: shape {proba.shape}, expected {(n_rows, n_classes)}")
    if not np.all(np.isfinite(proba)) or not np.allclose(proba.sum(axis=1), 1.0):
        raise WrongResult(f"{what}: probabilities not finite or not summing to 1: {proba[:2]}")


def _output(kind, estimator, X):
    """What `estimator` gives for X: transform for EarlyFusion, else predict_proba."""
    if kind == "early" and not hasattr(estimator, "steps"):
        return estimator.transform(X)
    return estimator.predict_proba(X)


def _fitted(kind, X=None, y=None, **params):
    if X is None:
        X, y = _frame()
    return _make(kind, **params).fit(X, y)


def _register(kinds, name, expect, function, *, names=(), timeout=120.0):
    """One case per kind: ``"<kind label>: <name>"`` running ``function(kind)``."""
    for kind in kinds:
        case_names = names(kind) if callable(names) else names
        add(
            AREA,
            f"{KINDS[kind]}: {name}",
            expect,
            partial(function, kind),
            names=case_names,
            timeout=timeout,
        )


ALL = tuple(KINDS)
# Stacking validates X, y and modalities in the code it shares with late fusion.
NO_STACK = ("early", "late", "attention")

# --- X that is not numeric --------------------------------------------------------------------


def _string_column(kind):
    X, y = _frame()
    X["face__b"] = np.where(y == "joy", "smiling", "frowning")
    _make(kind).fit(X, y)


def _speaker_left_in_x(kind):
    X, y = _frame()
    X.insert(0, "speaker", np.repeat(["ann", "bob", "eve", "joe"], N // 4))
    params = {"modalities": {"face": ["face__a", "face__b"], "audio": ["audio__a", "audio__b"]}}
    _make(kind, **params).fit(X, y)


def _string_column_numpy(kind):
    X, y = _numpy()
    X = X.astype(object)
    X[:, 1] = "smiling"
    _make(kind, modalities=POSITIONS).fit(X, y)


_register(ALL, "a string column in a modality", "error", _string_column,
          names=("face__b", "numeric"))  # fmt: skip
_register(NO_STACK, "the speaker id column left in X", "error", _speaker_left_in_x,
          names=("speaker", "numeric"))  # fmt: skip
_register(("early", "late"), "a string column in numpy input", "error", _string_column_numpy,
          names=("column 1", "numeric"))  # fmt: skip


# --- missing values and infinities ------------------------------------------------------------


def _modality_missing_in_every_row(kind):
    X, y = _frame()
    X[["audio__a", "audio__b"]] = np.nan
    _make(kind).fit(X, y)


def _row_with_no_modality(kind):
    X, y = _frame()
    empty = X.iloc[:2].copy()
    empty.iloc[0, :] = np.nan
    if kind == "early":
        fusion = _early().fit(X)
        out = fusion.transform(empty)
        if not np.allclose(out[0], 0.0):
            raise WrongResult(f"a row with no modality became {out[0]}, not the means (0)")
        return
    estimator = _fitted(kind, X, y)
    proba = estimator.predict_proba(empty)
    if not np.allclose(proba[0], estimator.class_prior_):
        raise WrongResult(f"a row with no modality got {proba[0]}, not class_prior_")
    _proper_proba(proba, 2, 2, "predict_proba")


def _modality_missing_at_predict(kind):
    X, y = _frame()
    missing = X.copy()
    missing[["audio__a", "audio__b"]] = np.nan
    if kind == "early":
        out = _early().fit(X).transform(missing)
        if not np.allclose(out[:, 2:], 0.0) or not np.all(np.isfinite(out)):
            raise WrongResult("a missing audio block is not imputed with the means (0)")
        return
    estimator = _fitted(kind, X, y)
    proba = estimator.predict_proba(missing)
    _proper_proba(proba, N, 2, "predict_proba with audio missing")
    if kind == "late":
        face = estimator.predict_proba_per_modality(X)["face"]
        _same(proba, face, "late fusion with audio missing vs face alone")
    if (estimator.predict(missing) == y).mean() < 0.8:
        raise WrongResult("with audio missing, face alone should still predict well")


def _inf_at_fit(kind):
    X, y = _frame()
    X.iloc[3, 1] = np.inf
    _make(kind).fit(X, y)


def _inf_at_predict(kind):
    X, y = _frame()
    estimator = _fitted(kind, X, y)
    X.iloc[3, 1] = -np.inf
    _output(kind, estimator, X)


def _isolated_nan(kind):
    """One NaN in a block that is otherwise present: imputed with the training mean."""
    X, y = _frame()
    estimator = _fitted(kind, X, y)
    holed = X.copy()
    holed.iloc[3, 1] = np.nan
    filled = X.copy()
    filled.iloc[3, 1] = _fusion_step(estimator).mean_[1]
    _same(_output(kind, estimator, holed), _output(kind, estimator, filled),
          "a lone NaN vs the column's training mean")  # fmt: skip


_register(ALL, "NaN in every row of one modality at fit", "error",
          _modality_missing_in_every_row, names=("'audio'", "missing"))  # fmt: skip
_register(ALL, "a predict row with no modality at all", "fallback", _row_with_no_modality,
          names=("no modality",))  # fmt: skip
_register(ALL, "one modality missing in every predict row", "handled",
          _modality_missing_at_predict)  # fmt: skip
_register(ALL, "inf in X at fit", "error", _inf_at_fit, names=("face__b", "inf"))
_register(("early", "late"), "-inf in X at predict", "error", _inf_at_predict,
          names=("face__b", "inf"))  # fmt: skip
_register(NO_STACK, "a lone NaN in a present block", "handled", _isolated_nan)


# --- sizes --------------------------------------------------------------------------------------


def _zero_rows(kind):
    X, y = _frame()
    if kind == "early":
        _early().fit(X.iloc[:0])
    else:
        _make(kind).fit(X.iloc[:0], y[:0])


def _predict_zero_rows(kind):
    X, y = _frame()
    estimator = _fitted(kind, X, y)
    _output(kind, estimator, X.iloc[:0])


def _one_row(kind):
    X, y = _frame()
    _make(kind).fit(X.iloc[:1], y[:1])


def _one_class(kind):
    X, _ = _frame()
    _make(kind).fit(X, np.full(N, "joy"))


def _early_one_row():
    X, _ = _frame()
    out = _early().fit(X.iloc[:1]).transform(X.iloc[:1])
    if not np.allclose(out, 0.0):
        raise WrongResult(f"one training row, transformed, should be 0 (its own mean): {out}")


_register(ALL, "fit on 0 rows", "error", _zero_rows, names=("0 sample",))
_register(("early", "late"), "predict on 0 rows", "error", _predict_zero_rows,
          names=("0 sample",))  # fmt: skip
_register(CLASSIFIERS, "fit on 1 row", "error", _one_row, names=("2 classes",))
_register(CLASSIFIERS, "labels of one class only", "error", _one_class,
          names=("2 classes", "joy"))  # fmt: skip
add(AREA, "early fusion: fit on 1 row (transformer alone)", "handled", _early_one_row)


# --- labels -------------------------------------------------------------------------------------


def _fit_labels(kind, y):
    X, _ = _frame()
    return _make(kind).fit(X, y)


def _labels(kind, make_y):
    _fit_labels(kind, make_y())


def _y_none(kind):
    X, _ = _frame()
    _make(kind).fit(X, None)


def _none_label():
    y = list(_frame()[1])
    y[2] = None
    return y


def _nan_label_float():
    y = (np.arange(N) % 2).astype(float)
    y[2] = np.nan
    return y


def _nan_label_in_strings():
    y = list(_frame()[1])
    y[2] = np.nan
    return y


def _mixed_str_int():
    y = list(_frame()[1])
    y[2] = 3
    return y


def _continuous():
    return np.random.default_rng(0).random(N)


def _bool_labels(kind):
    X, y = _frame()
    yb = y == "joy"
    estimator = _make(kind).fit(X, yb)
    pred = estimator.predict(X)
    if pred.dtype != bool or set(pred.tolist()) - {True, False}:
        raise WrongResult(f"bool labels predicted as {pred.dtype}: {pred[:4]}")
    if (pred == yb).mean() < 0.9:
        raise WrongResult("bool labels are not learnt")


def _float_labels(kind):
    X, y = _frame()
    yf = (y == "sad").astype(float)
    estimator = _make(kind).fit(X, yf)
    _same(estimator.classes_, [0.0, 1.0], "classes_ of float labels")
    pred = estimator.predict(X)
    if pred.dtype.kind != "f" or (pred == yf).mean() < 0.9:
        raise WrongResult(f"float labels predicted as {pred.dtype}: {pred[:4]}")


def _y_wrong_length(kind):
    X, y = _frame()
    _make(kind).fit(X, y[:-1])


def _y_column_vector(kind):
    X, y = _frame()
    estimator = _make(kind).fit(X, y[:, None])
    reference = _make(kind).fit(X, y)
    _same(estimator.predict_proba(X), reference.predict_proba(X), "y as a column vs 1-D")


def _y_two_columns(kind):
    X, y = _frame()
    _make(kind).fit(X, np.column_stack([y, y]))


def _sample_weight_wrong_length(kind):
    X, y = _frame()
    _make(kind).fit(X, y, sample_weight=np.ones(N - 1))


_register(NO_STACK, "y is None", "error", _y_none, names=("y",))
_register((*CLASSIFIERS, "early"), "a None label", "error",
          partial(_labels, make_y=_none_label), names=("row 2", "missing"))  # fmt: skip
_register(NO_STACK, "a NaN label among float labels", "error",
          partial(_labels, make_y=_nan_label_float), names=("row 2", "missing"))  # fmt: skip
_register(("late", "attention"), "a NaN label among string labels", "error",
          partial(_labels, make_y=_nan_label_in_strings), names=("row 2", "missing"))  # fmt: skip
_register((*CLASSIFIERS, "early"), "labels mixing str and int", "error",
          partial(_labels, make_y=_mixed_str_int), names=("row 2", "astype"))  # fmt: skip
_register(("late", "attention"), "continuous float labels", "error",
          partial(_labels, make_y=_continuous), names=("y", "continuous"))  # fmt: skip
_register(CLASSIFIERS, "bool labels", "handled", _bool_labels)
_register(("late", "attention"), "whole-number float labels", "handled", _float_labels)
_register(("late", "attention"), "y one shorter than X", "error", _y_wrong_length,
          names=("y", "39", "40"))  # fmt: skip
_register(("late", "attention"), "y as a column vector", "fallback", _y_column_vector,
          names=("ravel",))  # fmt: skip
_register(("late", "attention"), "y with two columns", "error", _y_two_columns,
          names=("y", "(40, 2)"))  # fmt: skip
_register(("late", "attention"), "sample_weight one shorter than X", "error",
          _sample_weight_wrong_length, names=("sample_weight", "39", "40"))  # fmt: skip


# --- which columns belong to which modality ---------------------------------------------------


def _with_modalities(kind, modalities, X=None):
    X_, y = _frame()
    X = X_ if X is None else X
    if kind == "early":
        return _early(modalities=modalities).fit(X)
    return _make(kind, modalities=modalities).fit(X, y)


def _overlap(kind):
    _with_modalities(kind, {"face": ["face__a", "face__b"], "audio": ["face__b", "audio__a"]})


def _overlap_positions(kind):
    X, _ = _numpy()
    _with_modalities(kind, {"face": slice(0, 2), "audio": [1, 2, 3]}, X)


def _missing_column(kind):
    _with_modalities(kind, {"face": ["face__a", "face__z"], "audio": ["audio__a", "audio__b"]})


def _empty_dict(kind):
    _with_modalities(kind, {})


def _empty_list(kind):
    _with_modalities(kind, {"face": [], "audio": ["audio__a", "audio__b"]})


def _zero_width_slice(kind):
    X, _ = _numpy()
    _with_modalities(kind, {"face": slice(2, 2), "audio": slice(2, 4)}, X)


def _out_of_range(kind):
    X, _ = _numpy()
    _with_modalities(kind, {"face": [0, 1], "audio": [2, 7]}, X)


def _numpy_without_modalities(kind):
    X, _ = _numpy()
    _with_modalities(kind, None, X)


def _list_of_lists_without_modalities(kind):
    X, _ = _numpy()
    _with_modalities(kind, None, X.tolist())


def _unprefixed_column(kind):
    X, _ = _frame()
    X["loudness"] = 1.0
    _with_modalities(kind, None, X)


def _columns_outside_every_modality(kind):
    """Documented: EarlyFusion normalises them (weight 1); the classifiers do not use them."""
    X, y = _frame()
    X["extra"] = np.random.default_rng(1).normal(5.0, 3.0, N)
    spec = {"face": ["face__a", "face__b"], "audio": ["audio__a", "audio__b"]}
    if kind == "early":
        out = _early(modalities=spec).fit(X).transform(X)
        extra = X["extra"].to_numpy()
        _same(out[:, 4], (extra - extra.mean()) / extra.std(), "the column in no modality")
        return
    estimator = _make(kind, modalities=spec).fit(X, y)
    changed = X.assign(extra=-X["extra"] * 100)
    _same(estimator.predict_proba(X), estimator.predict_proba(changed),
          "predictions after changing a column in no modality")  # fmt: skip
    reference = _make(kind, modalities=spec).fit(X.drop(columns="extra"), y)
    _same(estimator.predict_proba(X), reference.predict_proba(X.drop(columns="extra")),
          "fitted with and without a column in no modality")  # fmt: skip


def _duplicate_columns(kind):
    X, _ = _frame()
    X.columns = ["face__a", "face__a", "audio__a", "audio__b"]
    _with_modalities(kind, None, X)


def _int_column_names_without_modalities(kind):
    X, _ = _frame()
    _with_modalities(kind, None, X.set_axis(range(4), axis=1))


def _int_column_names_with_positions(kind):
    X, y = _frame()
    named = X.set_axis(range(4), axis=1)
    if kind == "early":
        _same(_early(modalities=POSITIONS).fit(named).transform(named),
              _early(modalities=POSITIONS).fit(X.to_numpy()).transform(X.to_numpy()),
              "int-named columns vs numpy")  # fmt: skip
        return
    a = _make(kind, modalities=POSITIONS).fit(named, y).predict_proba(named)
    b = _make(kind, modalities=POSITIONS).fit(X.to_numpy(), y).predict_proba(X.to_numpy())
    _same(a, b, "int-named columns vs numpy")


def _mixed_column_name_types(kind):
    X, _ = _frame()
    _with_modalities(kind, None, X.set_axis(["face__a", 1, "audio__a", "audio__b"], axis=1))


_register(NO_STACK, "modalities sharing a column", "error", _overlap,
          names=("face__b", "one modality"))  # fmt: skip
_register(("early", "late"), "modalities sharing a column position", "error",
          _overlap_positions, names=("position 1", "one modality"))  # fmt: skip
_register(NO_STACK, "a modality naming a column not in X", "error", _missing_column,
          names=("face__z",))  # fmt: skip
_register(
    ("early", "late"), "modalities an empty dict", "error", _empty_dict, names=("modalities",)
)
_register(NO_STACK, "a modality with an empty column list", "error", _empty_list,
          names=("'face'", "no column"))  # fmt: skip
_register(("early", "late"), "a modality of a zero-width slice", "error", _zero_width_slice,
          names=("'face'", "no column"))  # fmt: skip
_register(("early", "late"), "a modality position out of range", "error", _out_of_range,
          names=("'audio'", "out of range"))  # fmt: skip
_register(NO_STACK, "numpy X without modalities", "error", _numpy_without_modalities,
          names=("modalities",))  # fmt: skip
_register(("late", "attention"), "list-of-lists X without modalities", "error",
          _list_of_lists_without_modalities, names=("modalities",))  # fmt: skip
_register(NO_STACK, "a column without a modality prefix", "error", _unprefixed_column,
          names=("loudness", "modalities"))  # fmt: skip
_register(ALL, "columns outside every modality", "handled", _columns_outside_every_modality)
_register(NO_STACK, "duplicate column names", "error", _duplicate_columns,
          names=("face__a", "unique"))  # fmt: skip
_register(("early", "late"), "int column names without modalities", "error",
          _int_column_names_without_modalities, names=("modalities", "str"))  # fmt: skip
_register(("late", "attention"), "int column names with modality positions", "handled",
          _int_column_names_with_positions)  # fmt: skip
_register(("late",), "column names mixing str and int", "error", _mixed_column_name_types,
          names=("astype(str)",))  # fmt: skip


# --- modality weights (EarlyFusion and LateFusionClassifier have them) ------------------------


def _weights(kind, weights):
    X, y = _frame()
    if kind == "early":
        return _early(weights=weights).fit(X).transform(X)
    return _make(kind, weights=weights).fit(X, y).predict_proba(X)


def _weights_not_summing_to_one(kind):
    relative = _weights(kind, {"face": 3.0, "audio": 1.0})
    _same(relative, _weights(kind, {"face": 0.75, "audio": 0.25}), "weights 3:1 vs 0.75:0.25")


def _weights_as_list(kind):
    _same(_weights(kind, [0.75, 0.25]), _weights(kind, {"face": 0.75, "audio": 0.25}),
          "weights as a list in modalities_ order vs a dict")  # fmt: skip


def _zero_weight_on_the_only_present_modality():
    """Documented: present modalities all of weight 0 count equally."""
    X, y = _frame()
    estimator = _make("late", weights={"face": 0.0, "audio": 1.0}).fit(X, y)
    missing = X.assign(audio__a=np.nan, audio__b=np.nan)
    face = estimator.predict_proba_per_modality(X)["face"]
    _same(estimator.predict_proba(missing), face, "face alone (weight 0) with audio missing")


for _name, _bad, _names in [
    ("negative", {"face": -0.5, "audio": 1.5}, ("weights", "non-negative")),
    ("with an unknown modality", {"face": 0.5, "voice": 0.5}, ("weights", "'voice'", "'audio'")),
    ("all zero", {"face": 0.0, "audio": 0.0}, ("weights", "zero")),
    ("a list of the wrong length", [0.2, 0.3, 0.5], ("weights", "3 value")),
    ("NaN", {"face": np.nan, "audio": 1.0}, ("weights", "finite")),
    ("a string", "face", ("weights",)),
]:
    _register(("early", "late"), f"weights {_name}", "error",
              partial(_weights, weights=_bad), names=_names)  # fmt: skip
_register(("early", "late"), "weights not summing to 1", "handled", _weights_not_summing_to_one)
_register(("early", "late"), "weights as a list", "handled", _weights_as_list)
add(AREA, "late fusion: weight 0 on the only present modality", "handled",
    _zero_weight_on_the_only_present_modality)  # fmt: skip


# --- containers and feature names at predict --------------------------------------------------


def _list_of_lists(kind):
    X, y = _numpy()
    if kind == "early":
        a = _early(modalities=POSITIONS).fit(X.tolist()).transform(X.tolist())
        b = _early(modalities=POSITIONS).fit(X).transform(X)
    else:
        a = _make(kind, modalities=POSITIONS).fit(X.tolist(), list(y)).predict_proba(X.tolist())
        b = _make(kind, modalities=POSITIONS).fit(X, y).predict_proba(X)
    _same(a, b, "list of lists vs numpy")


def _dataframe_then_numpy(kind):
    X, y = _frame()
    estimator = _early().fit(X) if kind == "early" else _fitted(kind, X, y)
    _same(_output(kind, estimator, X.to_numpy()), _output(kind, estimator, X),
          "predict on numpy after fit on a DataFrame")  # fmt: skip


def _renamed_column_at_predict(kind):
    X, y = _frame()
    estimator = _early().fit(X) if kind == "early" else _fitted(kind, X, y)
    _output(kind, estimator, X.rename(columns={"face__b": "face__z"}))


def _reordered_columns_at_predict(kind):
    X, y = _frame()
    estimator = _fitted(kind, X, y)
    _output(kind, estimator, X[["audio__a", "audio__b", "face__a", "face__b"]])


def _too_few_columns_at_predict(kind):
    X, y = _numpy()
    estimator = _make(kind, modalities=POSITIONS).fit(X, y)
    estimator.predict(X[:, :3])


def _proba_column_order(kind):
    """predict_proba's columns follow classes_ (sorted), whatever order the labels come in."""
    X, y = _frame(n=60, labels=("sad", "joy", "angry"))
    estimator = _make(kind).fit(X, y)
    _same(estimator.classes_, np.array(["angry", "joy", "sad"]), "classes_")
    proba = estimator.predict_proba(X)
    _proper_proba(proba, 60, 3, "predict_proba")
    by_column = estimator.classes_[np.argmax(proba, axis=1)]
    _same(estimator.predict(X), by_column, "predict vs classes_[argmax(predict_proba)]")
    if (by_column == y).mean() < 0.8:
        raise WrongResult(f"predict_proba's columns are not in classes_ order: {by_column[:6]}")


_register(ALL, "X as a list of lists", "handled", _list_of_lists)
_register(NO_STACK, "predict on numpy after fit on a DataFrame", "handled", _dataframe_then_numpy)
_register(NO_STACK, "a column renamed at predict", "error", _renamed_column_at_predict,
          names=("face__z",))  # fmt: skip
_register(("late",), "columns reordered at predict", "error", _reordered_columns_at_predict,
          names=("order",))  # fmt: skip
_register(("late", "attention"), "numpy X with a column fewer at predict", "error",
          _too_few_columns_at_predict, names=("3 features", "4"))  # fmt: skip
_register(("early", *CLASSIFIERS), "predict_proba column order", "handled", _proba_column_order)


# --- estimator-specific ------------------------------------------------------------------------


def _modality_in_one_class_only(kind):
    X, y = _frame()
    X.loc[y == "sad", ["audio__a", "audio__b"]] = np.nan
    _make(kind).fit(X, y)


def _stacking_cv_above_class_size():
    X, y = _frame()
    y = y.astype(object)  # not y.copy(): a '<U3' array would store "fear" as "fea"
    y[[0, 2]] = "fear"  # 2 samples of fear, cv=3
    _make("stacking").fit(X, y)


def _stacking_groups_wrong_length():
    X, y = _frame()
    _make("stacking").fit(X, y, groups=np.arange(N - 1) % 4)


def _stacking_fewer_groups_than_folds():
    X, y = _frame()
    _make("stacking").fit(X, y, groups=np.arange(N) % 2)


def _stacking_none_group():
    X, y = _frame()
    groups = list(np.repeat(["ann", "bob", "eve", "joe"], N // 4))
    groups[5] = None
    _make("stacking").fit(X, y, groups=groups)


def _attention_heads_not_dividing():
    X, y = _frame()
    _make("attention", hidden_dim=9, n_heads=2).fit(X, y)


_register(("late", "stacking"), "a modality present in one class only", "error",
          _modality_in_one_class_only, names=("'audio'", "one class"))  # fmt: skip
add(AREA, "stacking fusion: a class smaller than cv", "fallback", _stacking_cv_above_class_size,
    names=("cv", "fear"))  # fmt: skip
add(AREA, "stacking fusion: groups one shorter than X", "error", _stacking_groups_wrong_length,
    names=("groups", "39"))  # fmt: skip
add(AREA, "stacking fusion: fewer groups than cv folds", "error",
    _stacking_fewer_groups_than_folds, names=("groups", "cv"))  # fmt: skip
add(AREA, "stacking fusion: a None group", "error", _stacking_none_group,
    names=("groups", "5"))  # fmt: skip
add(AREA, "attention fusion: n_heads not dividing hidden_dim", "error",
    _attention_heads_not_dividing, names=("n_heads",))  # fmt: skip


# --- TunedOffsetClassifierCV ------------------------------------------------------------------


def _tuned(**params):
    from skemotion import TunedOffsetClassifierCV

    return TunedOffsetClassifierCV(_lr(), **{"cv": 3, **params})


def _tuned_labels(make_y):
    X, _ = _numpy()
    _tuned().fit(X, make_y())


def _tuned_cv_above_class_size():
    X, y = _numpy()
    y = y.astype(object)  # as above: "fear" must not be cut to the array's '<U3'
    y[[0, 2]] = "fear"
    _tuned(cv=5).fit(X, y)


def _tuned_groups_wrong_length():
    X, y = _numpy()
    _tuned().fit(X, y, groups=np.arange(N - 1) % 4)


def _tuned_fewer_groups_than_folds():
    X, y = _numpy()
    _tuned(cv=5).fit(X, y, groups=np.arange(N) % 3)


def _tuned_none_group():
    X, y = _numpy()
    groups = list(np.repeat(["ann", "bob", "eve", "joe"], N // 4))
    groups[5] = None
    _tuned().fit(X, y, groups=groups)


def _tuned_groups_by_speaker():
    """groups with an int cv: folds by speaker, each speaker in one validation fold."""
    X, y = _numpy()
    groups = np.repeat(["ann", "bob", "eve", "joe"], N // 4)
    model = _tuned().fit(X, y, groups=groups)
    if model.offsets_.shape != (2,) or model.offsets_.min() != 0:
        raise WrongResult(f"offsets_ {model.offsets_}")
    if (model.predict(X) == y).mean() < 0.9:
        raise WrongResult("tuned offsets spoil an easy problem")


def _tuned_one_class():
    X, _ = _numpy()
    _tuned().fit(X, np.full(N, "joy"))


def _tuned_nan_offsets():
    X, y = _numpy()
    _tuned(offsets=[-1.0, np.nan, 1.0]).fit(X, y)


add(AREA, "offsets: a NaN among string labels (list)", "error",
    partial(_tuned_labels, _nan_label_in_strings), names=("row 2", "missing"))  # fmt: skip
add(AREA, "offsets: an int among string labels (list)", "error",
    partial(_tuned_labels, _mixed_str_int), names=("row 2", "astype"))  # fmt: skip
add(AREA, "offsets: a None label (list)", "error", partial(_tuned_labels, _none_label),
    names=("row 2", "missing"))  # fmt: skip
add(AREA, "offsets: a NaN label among float labels", "error",
    partial(_tuned_labels, _nan_label_float), names=("row 2", "missing"))  # fmt: skip
add(AREA, "offsets: a class smaller than cv", "fallback", _tuned_cv_above_class_size,
    names=("cv", "fear"))  # fmt: skip
add(AREA, "offsets: groups one shorter than X", "error", _tuned_groups_wrong_length,
    names=("groups", "39"))  # fmt: skip
add(AREA, "offsets: fewer groups than cv folds", "error", _tuned_fewer_groups_than_folds,
    names=("groups", "cv"))  # fmt: skip
add(AREA, "offsets: a None group", "error", _tuned_none_group, names=("groups", "5"))
add(AREA, "offsets: groups by speaker with an int cv", "handled", _tuned_groups_by_speaker)
add(AREA, "offsets: labels of one class only", "error", _tuned_one_class,
    names=("2 classes", "joy"))  # fmt: skip
add(AREA, "offsets: NaN among the candidate offsets", "error", _tuned_nan_offsets,
    names=("offsets", "finite"))  # fmt: skip


# --- speaker_cv and check_cv_groups -----------------------------------------------------------

_SPEAKERS = np.repeat(["ann", "bob", "eve", "joe"], 3)
_Y12 = np.tile([0, 1, 0], 4)


def _speaker_cv(*args, **kwargs):
    from skemotion import speaker_cv

    return speaker_cv(*args, **kwargs)


def _check_cv_groups(cv, groups, **kwargs):
    from skemotion import check_cv_groups

    return check_cv_groups(cv, groups, **kwargs)


def _split_without_groups():
    list(_speaker_cv(2).split(np.zeros((12, 1)), _Y12))


def _cross_val_without_groups():
    from sklearn.model_selection import cross_val_score

    X, y = _numpy()
    cross_val_score(_lr(), X, y, cv=_speaker_cv(2))


def _check_groups_none():
    _check_cv_groups(_speaker_cv(2), None, y=_Y12)


def _check_groups_short():
    _check_cv_groups(_speaker_cv(2), _SPEAKERS[:8], X=np.zeros((12, 2)), y=_Y12)


def _check_groups_none_values():
    groups = _SPEAKERS.astype(object)
    groups[4] = None
    _check_cv_groups(_speaker_cv(2), groups, y=_Y12)


def _check_groups_nan_values():
    groups = np.repeat([1.0, 2.0, 3.0, 4.0], 3)
    groups[4] = np.nan
    _check_cv_groups(_speaker_cv(2), groups, y=_Y12)


def _check_groups_one_group():
    _check_cv_groups(_speaker_cv(2), np.full(12, "ann"), y=_Y12)


def _check_groups_more_folds_than_groups():
    _check_cv_groups(_speaker_cv(5), _SPEAKERS, y=_Y12)


def _split_more_folds_than_groups():
    list(_speaker_cv(5).split(np.zeros((12, 1)), _Y12, _SPEAKERS))


def _check_groups_kfold_leaks():
    from sklearn.model_selection import KFold

    _check_cv_groups(KFold(3), _SPEAKERS)


def _check_groups_speaker_cv_clean():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cv = _check_cv_groups(_speaker_cv(2), list(_SPEAKERS), y=_Y12)
    for train, test in cv.split(np.zeros((12, 1)), _Y12, _SPEAKERS):
        if set(_SPEAKERS[train]) & set(_SPEAKERS[test]):
            raise WrongResult("speaker_cv put a speaker in train and test")


def _check_groups_2d():
    _check_cv_groups(_speaker_cv(2), _SPEAKERS.reshape(6, 2), y=_Y12[:6])


def _speaker_cv_one_split():
    _speaker_cv(1)


def _speaker_cv_seed_without_shuffle():
    list(_speaker_cv(2, random_state=0).split(np.zeros((12, 1)), _Y12, _SPEAKERS))


add(AREA, "speaker_cv: split without groups", "error", _split_without_groups,
    names=("groups", "speaker"))  # fmt: skip
add(AREA, "speaker_cv: cross_val_score without groups", "error", _cross_val_without_groups,
    names=("groups", "speaker"))  # fmt: skip
add(AREA, "check_cv_groups: groups None", "error", _check_groups_none, names=("groups",))
add(AREA, "check_cv_groups: groups shorter than X", "error", _check_groups_short,
    names=("groups", "8", "12"))  # fmt: skip
add(AREA, "check_cv_groups: a None group", "error", _check_groups_none_values,
    names=("groups", "4"))  # fmt: skip
add(AREA, "check_cv_groups: a NaN group", "error", _check_groups_nan_values,
    names=("groups", "4"))  # fmt: skip
add(AREA, "check_cv_groups: one group only", "error", _check_groups_one_group,
    names=("groups", "1"))  # fmt: skip
add(AREA, "check_cv_groups: more folds than groups", "error",
    _check_groups_more_folds_than_groups, names=("n_splits", "4"))  # fmt: skip
add(AREA, "speaker_cv: split into more folds than groups", "error",
    _split_more_folds_than_groups, names=("n_splits", "4"))  # fmt: skip
add(AREA, "check_cv_groups: KFold leaking speakers", "fallback", _check_groups_kfold_leaks,
    names=("KFold", "speaker_cv"))  # fmt: skip
add(AREA, "check_cv_groups: speaker_cv with groups as a list", "handled",
    _check_groups_speaker_cv_clean)  # fmt: skip
add(AREA, "check_cv_groups: 2-D groups", "error", _check_groups_2d, names=("groups",))
add(AREA, "speaker_cv: n_splits=1", "error", _speaker_cv_one_split, names=("n_splits",))
add(AREA, "speaker_cv: random_state without shuffle", "error",
    _speaker_cv_seed_without_shuffle, names=("random_state", "shuffle"))  # fmt: skip


# --- SpeakerNormalizer ------------------------------------------------------------------------


def _speaker_frame(n_per=6, speakers=("ann", "bob", "eve")):
    rng = np.random.default_rng(0)
    ids = np.repeat(list(speakers), n_per)
    offset = np.repeat(np.arange(len(speakers)) * 10.0, n_per)
    return pd.DataFrame(
        {
            "speaker": ids,
            "pitch": offset + rng.normal(0, 1, ids.size),
            "energy": offset * 2 + rng.normal(0, 2, ids.size),
        }
    )


def _normalizer(**params):
    from skemotion import SpeakerNormalizer

    return SpeakerNormalizer(**params)


def _speaker_column_missing():
    _normalizer().fit(_speaker_frame().rename(columns={"speaker": "actor"}))


def _speaker_string_feature():
    X = _speaker_frame()
    X["mood"] = np.where(X["pitch"] > 10, "loud", "quiet")
    _normalizer().fit(X)


def _speaker_only_column():
    _normalizer().fit(_speaker_frame()[["speaker"]])


def _speaker_only_column_numpy():
    _normalizer(speaker=0).fit(np.repeat([[1], [2], [3]], 3, axis=0))


def _speaker_position_out_of_range():
    X = _speaker_frame()
    X["speaker"] = X["speaker"].map({"ann": 1, "bob": 2, "eve": 3})
    _normalizer(speaker=5).fit(X.to_numpy())


def _speaker_name_on_numpy():
    _normalizer(speaker="actor").fit(np.zeros((6, 3)))


def _unseen_speaker(min_samples):
    """Documented: a new speaker's statistics come from their own rows, shrunk below min_samples."""
    X = _speaker_frame()
    normalizer = _normalizer(min_samples=min_samples).fit(X)
    new = pd.DataFrame({"speaker": ["zoe"] * 3, "pitch": [50.0, 52.0, 54.0],
                        "energy": [100.0, 110.0, 90.0]})  # fmt: skip
    out = normalizer.transform(new)
    values = new[["pitch", "energy"]].to_numpy()
    trust = min(3 / min_samples, 1.0)
    mean = trust * values.mean(axis=0) + (1 - trust) * normalizer.mean_
    var = trust * values.var(axis=0) + (1 - trust) * normalizer.var_
    _same(out, (values - mean) / np.sqrt(var), "a new speaker's rows")


def _speaker_with_one_row():
    X = pd.concat([_speaker_frame(), _speaker_frame(1, ("solo",))], ignore_index=True)
    out = _normalizer(min_samples=1).fit_transform(X)
    if not np.all(np.isfinite(out)):
        raise WrongResult("a speaker with one row gives NaN or inf")
    if not np.allclose(out[-1], 0.0):
        raise WrongResult(f"a one-row speaker, with min_samples=1, should be 0: {out[-1]}")


def _nan_speaker_id():
    X = _speaker_frame()
    X.loc[4, "speaker"] = np.nan
    _normalizer().fit(X)


def _none_speaker_id_at_transform():
    X = _speaker_frame()
    normalizer = _normalizer().fit(X)
    X.loc[4, "speaker"] = None
    normalizer.transform(X)


def _mixed_speaker_id_types():
    X = _speaker_frame()
    X["speaker"] = X["speaker"].map({"ann": 1, "bob": "bob", "eve": 3}).astype(object)
    out = _normalizer(min_samples=1).fit_transform(X)
    for speaker in X["speaker"].unique():
        rows = (X["speaker"] == speaker).to_numpy()
        if not np.allclose(out[rows].mean(axis=0), 0.0, atol=1e-9):
            raise WrongResult(f"speaker {speaker!r} is not centred")


def _speaker_inf_feature():
    X = _speaker_frame()
    X.loc[3, "pitch"] = np.inf
    _normalizer().fit(X)


def _speaker_missing_at_transform():
    normalizer = _normalizer().fit(_speaker_frame())
    normalizer.transform(_speaker_frame().drop(columns="speaker"))


def _speaker_nan_feature_stays_nan():
    X = _speaker_frame()
    X.loc[2, "pitch"] = np.nan
    out = _normalizer(min_samples=1).fit_transform(X)
    if not np.isnan(out[2, 0]) or np.isnan(out[2, 1]) or np.isnan(np.delete(out[:, 0], 2)).any():
        raise WrongResult("a NaN feature should stay NaN, and only there")


def _speaker_list_id():
    X = _speaker_frame().astype({"speaker": object})
    X.at[3, "speaker"] = ["ann"]
    _normalizer().fit(X)


add(AREA, "speaker normalizer: the speaker column missing", "error", _speaker_column_missing,
    names=("'speaker'", "speaker="))  # fmt: skip
add(AREA, "speaker normalizer: a string feature column", "error", _speaker_string_feature,
    names=("mood", "numeric"))  # fmt: skip
add(AREA, "speaker normalizer: only the speaker column", "error", _speaker_only_column,
    names=("speaker", "feature"))  # fmt: skip
add(AREA, "speaker normalizer: numpy with only the speaker column", "error",
    _speaker_only_column_numpy, names=("speaker", "feature"))  # fmt: skip
add(AREA, "speaker normalizer: speaker=5 on numpy of 3 columns", "error",
    _speaker_position_out_of_range, names=("5", "3 columns", "range"))  # fmt: skip
add(AREA, "speaker normalizer: a column name on numpy", "error", _speaker_name_on_numpy,
    names=("'actor'", "DataFrame"))  # fmt: skip
add(AREA, "speaker normalizer: unseen speaker at transform (3 rows, min_samples=1)", "handled",
    partial(_unseen_speaker, 1))  # fmt: skip
add(AREA, "speaker normalizer: unseen speaker at transform (3 rows, min_samples=5)", "handled",
    partial(_unseen_speaker, 5))  # fmt: skip
add(AREA, "speaker normalizer: a speaker with one row", "handled", _speaker_with_one_row)
add(AREA, "speaker normalizer: a NaN speaker id", "error", _nan_speaker_id,
    names=("row 4", "speaker"))  # fmt: skip
add(AREA, "speaker normalizer: a None speaker id at transform", "error",
    _none_speaker_id_at_transform, names=("row 4", "speaker"))  # fmt: skip
add(AREA, "speaker normalizer: speaker ids mixing int and str", "handled",
    _mixed_speaker_id_types)  # fmt: skip
add(AREA, "speaker normalizer: inf in a feature", "error", _speaker_inf_feature,
    names=("pitch", "inf"))  # fmt: skip
add(AREA, "speaker normalizer: the speaker column dropped at transform", "error",
    _speaker_missing_at_transform, names=("speaker",))  # fmt: skip
add(AREA, "speaker normalizer: a NaN feature value stays NaN", "handled",
    _speaker_nan_feature_stays_nan)  # fmt: skip
add(AREA, "speaker normalizer: a list as a speaker id", "error", _speaker_list_id,
    names=("row 3", "list"))  # fmt: skip


# --- weight_grid ------------------------------------------------------------------------------


def _weight_grid(*args, **kwargs):
    from skemotion import weight_grid

    return weight_grid(*args, **kwargs)


def _grid_ten_modalities():
    start = time.perf_counter()
    try:
        grid = _weight_grid([f"m{i}" for i in range(10)], step=0.1)
    finally:
        if time.perf_counter() - start > 2.0:
            raise WrongResult("weight_grid took over 2 s to answer for 10 modalities at 0.1")
    raise WrongResult(f"weight_grid built {len(grid):,} points for 10 modalities at step 0.1")


def _grid_sums_to_one(names, step, size):
    grid = _weight_grid(names, step=step)
    if len(grid) != size:
        raise WrongResult(f"{len(grid)} points, expected {size}")
    for point in grid:
        if list(point) != list(names) or abs(sum(point.values()) - 1) > 1e-9:
            raise WrongResult(f"a point {point} does not weigh every modality to a sum of 1")
        if min(point.values()) < 0:
            raise WrongResult(f"a negative weight in {point}")


def _grid_from_generator():
    got = _weight_grid((name for name in ["face", "audio"]), step=0.5)
    _same(np.array([list(p.values()) for p in got]), [[0, 1], [0.5, 0.5], [1, 0]], "grid")


for _name, _args, _kwargs, _names in [
    ("a string as modalities", ("face",), {}, ("'face'", "list")),
    ("step 0", (["face", "audio"],), {"step": 0}, ("step", "0")),
    ("a negative step", (["face", "audio"],), {"step": -0.25}, ("step", "-0.25")),
    ("step above 1", (["face", "audio"],), {"step": 1.5}, ("step", "1.5")),
    ("step 0.3 not dividing 1", (["face", "audio"],), {"step": 0.3}, ("step", "0.3")),
    ("step as a string", (["face", "audio"],), {"step": "0.25"}, ("step",)),
    ("step True", (["face", "audio"],), {"step": True}, ("step", "True")),
    ("step NaN", (["face", "audio"],), {"step": float("nan")}, ("step", "nan")),
    ("duplicate modality names", (["face", "audio", "face"],), {}, ("face", "distinct")),
    ("no modalities", ([],), {}, ("names",)),
    ("modalities None", (None,), {}, ("names",)),
    ("non-string modality names", ([1, 2],), {}, ("names", "str")),
]:
    add(AREA, f"weight_grid: {_name}", "error",
        partial(_weight_grid, *_args, **_kwargs), names=_names)  # fmt: skip
add(AREA, "weight_grid: 10 modalities at step 0.1", "error", _grid_ten_modalities,
    names=("92,378",))  # fmt: skip
add(AREA, "weight_grid: one modality", "handled",
    partial(_grid_sums_to_one, ["face"], 0.25, 1))  # fmt: skip
add(AREA, "weight_grid: step 1", "handled",
    partial(_grid_sums_to_one, ["face", "audio", "text"], 1.0, 3))  # fmt: skip
add(AREA, "weight_grid: step 1/3", "handled",
    partial(_grid_sums_to_one, ["face", "audio"], 1 / 3, 4))  # fmt: skip
add(AREA, "weight_grid: step as numpy float", "handled",
    partial(_grid_sums_to_one, ["face", "audio", "text"], np.float32(0.1), 66))  # fmt: skip
add(AREA, "weight_grid: modalities from a generator", "handled", _grid_from_generator)


# --- emotion_report ---------------------------------------------------------------------------

_TRUE = np.array(["joy", "sad", "joy", "angry", "sad", "joy", "angry", "sad", "joy", "sad"])


def _report(*args, **kwargs):
    from skemotion import emotion_report

    return emotion_report(*args, **kwargs)


def _report_probabilities():
    proba = np.random.default_rng(0).dirichlet(np.ones(3), size=10)
    _report(_TRUE, proba)


def _report_class_never_true():
    y_pred = _TRUE.copy()
    y_pred[[0, 5]] = "fear"
    _report(_TRUE, y_pred)


def _report_encoded_predictions():
    codes = np.unique(_TRUE, return_inverse=True)[1]
    _report(_TRUE, codes)


def _report_nan_label():
    y_true = _TRUE.astype(object)
    y_true[3] = np.nan
    _report(y_true, _TRUE)


def _report_series_index():
    """Positional, as scikit-learn's metrics: a Series' index is not used to align."""
    y_true = pd.Series(_TRUE, index=range(10))
    y_pred = pd.Series(_TRUE, index=range(9, -1, -1))
    if _report(y_true, y_pred)["accuracy"] != 1.0:
        raise WrongResult("emotion_report aligned two Series by their index")


def _report_frame():
    frame = _report(_TRUE, _TRUE, as_frame=True)
    if list(frame.columns) != ["accuracy", "macro_f1", "weighted_f1", "uar", "n_samples"]:
        raise WrongResult(f"columns {list(frame.columns)}")
    if frame.shape != (1, 5) or frame["n_samples"].iloc[0] != 10:
        raise WrongResult(f"frame {frame}")


def _report_weights_zero():
    _report(_TRUE, _TRUE, sample_weight=np.zeros(10))


add(AREA, "emotion_report: probabilities as y_pred", "error", _report_probabilities,
    names=("y_pred", "predict"))  # fmt: skip
add(AREA, "emotion_report: sample_weight one shorter", "error",
    lambda: _report(_TRUE, _TRUE, sample_weight=np.ones(9)),
    names=("sample_weight", "9", "10"))  # fmt: skip
add(AREA, "emotion_report: a predicted label never in y_true", "fallback",
    _report_class_never_true, names=("fear", "y_true"))  # fmt: skip
add(AREA, "emotion_report: empty inputs", "error", lambda: _report([], []),
    names=("y_true", "empty"))  # fmt: skip
add(AREA, "emotion_report: y_pred shorter than y_true", "error",
    lambda: _report(_TRUE, _TRUE[:8]), names=("y_true", "y_pred", "8", "10"))  # fmt: skip
add(AREA, "emotion_report: encoded ints against string labels", "error",
    _report_encoded_predictions, names=("y_pred", "classes_"))  # fmt: skip
add(AREA, "emotion_report: a NaN true label", "error", _report_nan_label,
    names=("y_true", "row 3"))  # fmt: skip
add(AREA, "emotion_report: Series with different indexes", "handled", _report_series_index)
add(AREA, "emotion_report: as_frame", "handled", _report_frame)
add(AREA, "emotion_report: all sample weights zero", "error", _report_weights_zero,
    names=("sample_weight", "zero"))  # fmt: skip


# --- make_multimodal_pipeline and predict_timeline --------------------------------------------


def _pipeline_frame():
    X, y = _frame()
    X = X.rename(columns=lambda c: c.replace("__", "_"))
    X["actor"] = np.repeat(["ann", "bob", "eve", "joe"], N // 4)
    return X, y


def _multimodal(**kwargs):
    from skemotion import LateFusionClassifier, make_multimodal_pipeline

    encoders = {
        "face": ("passthrough", ["face_a", "face_b"]),
        "audio": ("passthrough", ["audio_a", "audio_b"]),
    }
    return make_multimodal_pipeline(encoders, fusion=LateFusionClassifier(_lr()), **kwargs)


def _pipeline_speaker_column_missing():
    X, y = _pipeline_frame()
    _multimodal(speaker="speaker").fit(X, y)


def _pipeline_string_passthrough():
    X, y = _pipeline_frame()
    X["face_b"] = np.where(y == "joy", "smiling", "frowning")
    _multimodal().fit(X, y)


def _pipeline_with_speaker():
    X, y = _pipeline_frame()
    pipe = _multimodal(speaker="actor").fit(X, y)
    if (pipe.predict(X) == y).mean() < 0.9:
        raise WrongResult("the speaker-normalised pipeline does not learn an easy problem")
    if list(pipe.named_steps["fusion"].modalities_) != ["face", "audio"]:
        raise WrongResult(f"modalities {pipe.named_steps['fusion'].modalities_}")


def _pipeline_modality_named_speaker():
    from skemotion import LateFusionClassifier, make_multimodal_pipeline

    make_multimodal_pipeline({"speaker": ("passthrough", ["face_a"])},
                             fusion=LateFusionClassifier(_lr()), speaker="actor")  # fmt: skip


def _timeline_recording_array():
    from skemotion import predict_timeline

    X, y = _numpy()
    predict_timeline(_make("late", modalities=POSITIONS).fit(X, y), np.zeros(16000))


def _timeline_wrong_column():
    from skemotion import predict_timeline

    X, y = _pipeline_frame()
    predict_timeline(_multimodal().fit(X, y), "speech.wav", column="audio_path")


add(AREA, "pipeline: the speaker column not in X", "error", _pipeline_speaker_column_missing,
    names=("'speaker'", "speaker="))  # fmt: skip
add(AREA, "pipeline: a string column passed through", "error", _pipeline_string_passthrough,
    names=("face_b", "numeric"))  # fmt: skip
add(AREA, "pipeline: speaker normalisation on a clean frame", "handled", _pipeline_with_speaker)
add(AREA, "pipeline: a modality named 'speaker' with speaker=", "error",
    _pipeline_modality_named_speaker, names=("'speaker'", "Rename"))  # fmt: skip
add(AREA, "timeline: a waveform instead of a recording path", "error",
    _timeline_recording_array, names=("recording", "soundfile.write"))  # fmt: skip
add(AREA, "timeline: a column the pipeline was not fitted on", "error", _timeline_wrong_column,
    names=("audio_path", "column=None"))  # fmt: skip
