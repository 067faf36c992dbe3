"""Where a fitted model reads its modality blocks, and copies of its input with blocks changed."""

import numpy as np
import pandas as pd

from ..fusion._modalities import _check_disjoint, _modalities_from_prefixes, _modalities_from_spec

# The warning of the fusion estimators for rows with no modality: expected where every
# modality of a row is removed (or shuffled away) on purpose, not the user's data.
NO_MODALITY = r".*sample\(s\) have no modality present"


def fusion_split(estimator):
    """Split a fitted model where its modality blocks are read.

    Returns ``(head, tail, modalities)``, or None when no step has ``modalities_``:
    `head` is the list of fitted steps that turn the model's input into the fusion
    step's input (samplers, which act in ``fit`` only, are skipped when applied),
    `tail` the model from the fusion step on (the fusion step itself when it is the
    last step), `modalities` its ``{modality: column positions}`` in the tail's input.
    """
    if hasattr(estimator, "modalities_"):
        return [], estimator, estimator.modalities_
    steps = getattr(estimator, "steps", None)
    if not steps:
        return None
    for i, (_, step) in enumerate(steps):
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        found = fusion_split(step)
        if found is None:
            continue
        head, tail, modalities = found
        last = i == len(steps) - 1
        before = [s for _, s in steps[:i]]
        if tail is step:
            return before, (step if last else estimator[i:]), modalities
        if last:  # a pipeline as the last step, with the fusion step inside it
            return before + head, tail, modalities
        raise ValueError(
            f"{type(estimator).__name__}: the fusion step is inside step {steps[i][0]!r}, "
            "which other steps follow; put the fusion step (or the pipeline holding it) "
            "last."
        )
    return None


def split_or_raise(estimator, caller):
    """:func:`fusion_split`, or a ValueError naming the estimators that have blocks."""
    found = fusion_split(estimator)
    if found is None:
        raise ValueError(
            f"{caller}: {type(estimator).__name__} has no fusion step with modality "
            "blocks (modalities_): pass a fitted LateFusionClassifier, "
            "StackingFusionClassifier, AttentionFusionClassifier or EarlyFusion "
            "pipeline, or a make_multimodal_pipeline ending in one."
        )
    return found


def transform_head(head, X):
    """`X` through the fitted steps of `head`, as at predict time (samplers skipped)."""
    for step in head:
        if step is None or isinstance(step, str) or hasattr(step, "fit_resample"):
            continue
        X = step.transform(X)
    return X


def _blocks(model, X, modalities, caller):
    """(model to score, its input, {modality: column positions}) for a fitted model.

    `modalities` (``{modality: columns of X}``) takes blocks of `X` itself; None takes
    the fusion step's ``modalities_`` (at its input), or else the ``"<modality>__"``
    prefixes of X's column names.
    """
    if modalities is not None:
        columns = getattr(X, "columns", None)
        names = None if columns is None else [str(c) for c in columns]
        blocks = _modalities_from_spec(caller, modalities, names, X.shape[1])
        _check_disjoint(caller, blocks, names)
        return model, X, blocks
    found = fusion_split(model)
    if found is not None:
        head, tail, blocks = found
        return tail, transform_head(head, X), blocks
    columns = getattr(X, "columns", None)
    if columns is None:
        raise ValueError(
            f"{caller} cannot tell which columns of X belong to which modality: "
            f"{type(model).__name__} has no fusion step (modalities_) and X has no column "
            "names. Pass modalities={'face': slice(0, 35), 'audio': slice(35, None)}."
        )
    return model, X, _modalities_from_prefixes(caller, list(columns))


def _with_columns(X, cols, values):
    """A copy of `X` whose columns `cols` are set to `values` (a scalar or an array).

    Columns that are not float (ints, bools) become float first, as in the NumPy
    path, so that they can hold NaN or shuffled values of float columns.
    """
    if isinstance(X, pd.DataFrame):
        X = X.copy()
        for c in np.atleast_1d(np.arange(X.shape[1])[cols]):
            if X.dtypes.iloc[c].kind not in "fc":
                X.isetitem(c, X.iloc[:, c].astype(float))
        X.iloc[:, cols] = values
        return X
    X = np.array(X, copy=True)
    if X.dtype.kind not in "fc" and (np.isscalar(values) or np.asarray(values).dtype.kind == "f"):
        X = X.astype(float)  # room for NaN
    X[:, cols] = values
    return X


def _columns(X, cols):
    """The columns `cols` of `X` as an array (n_samples, n_cols)."""
    return X.iloc[:, cols].to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)[:, cols]


def _as_1d(values, caller, what):
    """`values` as a 1-D array, one entry per sample, or a ValueError naming `what`."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{caller}: {what} must be 1-D, one entry per sample; got {values.shape}.")
    return values
