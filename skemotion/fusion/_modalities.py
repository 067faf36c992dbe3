"""Which columns belong to which modality, modality weights, and missing-modality masks.

Shared by every fusion estimator. A fusion estimator sees one wide matrix; it finds the
block of columns of each modality in one of two ways:

1. ``modalities=None`` (the default) and a DataFrame input: the columns are grouped by the
   prefix before ``"__"`` in their names, which is what :func:`make_multimodal_pipeline`'s
   ``ColumnTransformer`` writes (``face__au_00``, ``audio__audio_000``, ``text__text_000``).
   The names survive imbalanced-learn samplers (SMOTE returns a DataFrame with the same
   columns) and are checked again at predict time by scikit-learn's feature-name checks.
2. ``modalities={"face": slice(0, 35), "audio": [35, 36, ...]}``: explicit column
   positions (slices or lists of ints), or lists of column names for DataFrame input. This
   is the way for numpy input, where no names travel.
"""

import math
import numbers
import warnings
from itertools import product

import numpy as np
from sklearn.utils.validation import validate_data

from .._features import describe_columns, infinite_columns, text_columns

MODALITY_SEPARATOR = "__"
# The largest weight grid weight_grid builds: 3 modalities at step 0.01 (5,151 points)
# fit, 10 at step 0.1 (92,378 points) do not.
MAX_GRID_POINTS = 10_000


def weight_grid(names, step=0.25):
    """All modality weightings on a grid of the simplex, as dicts for a parameter grid.

    Parameters
    ----------
    names : sequence of str
        The modality names, e.g. ``["face", "audio"]``.
    step : float, default=0.25
        Grid spacing; ``1 / step`` must be a whole number.

    Returns
    -------
    grid : list of dict
        Each dict maps every modality to a weight in ``{0, step, 2 * step, ..., 1}``; the
        weights of each dict sum to 1. ``n`` modalities give
        ``C(1 / step + n - 1, n - 1)`` points: two at ``step=0.1`` give 11, three 66;
        grids of more than 10,000 points are refused.

    Examples
    --------
    >>> from skemotion.fusion import weight_grid
    >>> weight_grid(["face", "audio"], step=0.5)
    [{'face': 0.0, 'audio': 1.0}, {'face': 0.5, 'audio': 0.5}, {'face': 1.0, 'audio': 0.0}]
    >>> len(weight_grid(["text", "face", "audio"], step=0.25))
    15
    """
    if isinstance(names, str):
        raise ValueError(
            f"The 'names' parameter of weight_grid must be a sequence of modality names, "
            f"not a single string. Got {names!r}; pass a list: [{names!r}, ...]."
        )
    try:
        names = list(names)
    except TypeError:
        raise ValueError(
            f"The 'names' parameter of weight_grid must be a sequence of modality names, "
            f"e.g. ['face', 'audio']. Got {names!r} instead."
        ) from None
    if not names or len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"The 'names' parameter of weight_grid must be distinct modality names (str). "
            f"Got {names!r} instead."
        )
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not 0 < step <= 1:
        raise ValueError(
            f"The 'step' parameter of weight_grid must be a float in (0, 1]. Got {step!r} instead."
        )
    n_steps = round(1 / step)
    if abs(n_steps * step - 1) > 1e-9:
        raise ValueError(
            f"The 'step' parameter of weight_grid must divide 1 into whole steps "
            f"(0.5, 0.25, 0.2, 0.1, ...). Got {step!r} instead."
        )
    size = math.comb(n_steps + len(names) - 1, len(names) - 1)
    if size > MAX_GRID_POINTS:
        raise ValueError(
            f"weight_grid({len(names)} modalities, step={step}) has {size:,} points "
            f"(C(1/step + n - 1, n - 1)), more than {MAX_GRID_POINTS:,}: a grid search over "
            "it would fit the pipeline that many times per fold. Use a larger step, or "
            "sample the simplex with RandomizedSearchCV."
        )
    grid = []
    for counts in product(range(n_steps + 1), repeat=len(names) - 1):
        last = n_steps - sum(counts)
        if last < 0:
            continue
        grid.append(
            {name: round(c / n_steps, 10) for name, c in zip(names, (*counts, last), strict=True)}
        )
    return grid


def resolve_modalities(estimator, X_columns, n_features):
    """Return ``{modality: int index array}`` for the fitted input of `estimator`.

    `X_columns` is ``feature_names_in_`` (or None for numpy input). With
    ``estimator.modalities=None`` the blocks come from the column-name prefixes; otherwise
    from the explicit ``{modality: columns}`` spec, whose blocks must not overlap.
    """
    name = type(estimator).__name__
    if estimator.modalities is None:
        return _modalities_from_prefixes(name, X_columns)
    blocks = _modalities_from_spec(name, estimator.modalities, X_columns, n_features)
    _check_disjoint(name, blocks, X_columns)
    return blocks


def _modalities_from_prefixes(name, X_columns):
    """Group the columns by the prefix before ``"__"``, in order of first appearance."""
    if X_columns is None:
        raise ValueError(
            f"{name} cannot tell which columns belong to which modality: the input has "
            "no column names. Pass a DataFrame whose columns are prefixed "
            "'<modality>__' (what make_multimodal_pipeline's ColumnTransformer writes), "
            "or pass modalities={'face': slice(0, 35), 'audio': slice(35, None)}."
        )
    blocks = {}
    unprefixed = []
    for position, column in enumerate(map(str, X_columns)):
        if MODALITY_SEPARATOR in column:
            blocks.setdefault(column.split(MODALITY_SEPARATOR, 1)[0], []).append(position)
        else:
            unprefixed.append(column)
    if unprefixed:
        shown = ", ".join(repr(c) for c in unprefixed[:5])
        raise ValueError(
            f"{name} maps columns to modalities by the prefix before '__' in their names, "
            f"but {len(unprefixed)} column(s) have none: {shown}. Build the pipeline "
            "with make_multimodal_pipeline (verbose_feature_names_out=True), rename the "
            "columns '<modality>__<feature>', or pass modalities={name: columns}."
        )
    return {m: np.asarray(cols, dtype=np.intp) for m, cols in blocks.items()}


def _modalities_from_spec(name, spec, X_columns, n_features):
    """The column positions of each modality of an explicit ``modalities`` dict."""
    if not isinstance(spec, dict) or not spec:
        raise ValueError(
            f"The 'modalities' parameter of {name} must be None or a non-empty dict "
            f"{{modality: slice, list of column positions or list of column names}}. "
            f"Got {spec!r} instead."
        )
    positions = {str(c): i for i, c in enumerate(X_columns)} if X_columns is not None else None
    blocks = {}
    for modality, columns in spec.items():
        where = f"The 'modalities' parameter of {name}: modality {modality!r}"
        cols = _block_positions(where, columns, positions, n_features)
        if cols.size == 0:
            raise ValueError(
                f"{where} selects no column of the {n_features} feature(s) in the input."
            )
        blocks[str(modality)] = cols
    return blocks


def _block_positions(where, columns, positions, n_features):
    """One modality's columns (slice, ints or names) as an array of positions.

    `where` starts the error messages; `positions` maps column names to positions
    (None for numpy input).
    """
    if isinstance(columns, slice):
        return np.arange(n_features)[columns]
    if isinstance(columns, (str, numbers.Integral)) or not hasattr(columns, "__iter__"):
        columns = [columns]  # a single column; other kinds are rejected below
    columns = list(columns)
    if columns and all(isinstance(c, str) for c in columns):
        return _named_positions(where, columns, positions)
    if all(isinstance(c, numbers.Integral) for c in columns):
        cols = np.asarray(columns, dtype=np.intp)
        if cols.size and (cols.min() < -n_features or cols.max() >= n_features):
            raise ValueError(
                f"{where} has column positions out of range for {n_features} feature(s)."
            )
        return cols % n_features if n_features else cols
    raise ValueError(
        f"{where} must be a slice, a list of ints or a list of column names. "
        f"Got {columns!r} instead."
    )


def _named_positions(where, columns, positions):
    """The positions of named columns, which only a DataFrame input has."""
    if positions is None:
        raise ValueError(
            f"{where} names columns, but the input has no column names (numpy). Pass "
            "a DataFrame, or give column positions (a slice or list of ints)."
        )
    unknown = [c for c in columns if c not in positions]
    if unknown:
        raise ValueError(f"{where} names columns that are not in the input: {unknown[:5]!r}.")
    return np.asarray([positions[c] for c in columns], dtype=np.intp)


def _check_disjoint(name, blocks, X_columns):
    """A column in two modalities would be fitted and weighted twice: refuse it."""
    owner = {}
    for modality, cols in blocks.items():
        for col in cols.tolist():
            if col in owner and owner[col] != modality:
                label = repr(str(X_columns[col])) if X_columns is not None else f"position {col}"
                raise ValueError(
                    f"The 'modalities' parameter of {name}: column {label} belongs to both "
                    f"{owner[col]!r} and {modality!r}. Give each column to one modality."
                )
            owner[col] = modality


def resolve_weights(estimator, names):
    """Return the modality weights aligned with `names` as a float array (not normalised)."""
    weights = estimator.weights
    cls = type(estimator).__name__
    if weights is None:
        return np.ones(len(names))
    if isinstance(weights, dict):
        unknown = sorted(set(map(str, weights)) - set(names))
        absent = [n for n in names if n not in weights]
        if unknown or absent:
            raise ValueError(
                f"The 'weights' parameter of {cls} must give a weight to each modality "
                f"{names!r}. Got {weights!r} instead (unknown: {unknown!r}, "
                f"without a weight: {absent!r})."
            )
        values = np.asarray([weights[n] for n in names], dtype=float)
    else:
        values = np.asarray(weights, dtype=float).ravel()
        if values.shape[0] != len(names):
            raise ValueError(
                f"The 'weights' parameter of {cls} has {values.shape[0]} value(s) but there "
                f"are {len(names)} modalities {names!r}. Pass one weight per modality, in "
                "this order, or a dict {modality: weight}."
            )
    if not np.all(np.isfinite(values)) or np.any(values < 0) or values.sum() <= 0:
        raise ValueError(
            f"The 'weights' parameter of {cls} must be non-negative, finite and not all "
            f"zero. Got {weights!r} instead."
        )
    return values


def presence(X, blocks):
    """Boolean ``(n_samples, n_modalities)``: True where a modality's block is not all-NaN."""
    return (
        np.column_stack([~np.all(np.isnan(X[:, cols]), axis=1) for cols in blocks.values()])
        if blocks
        else np.ones((X.shape[0], 0), dtype=bool)
    )


def check_present_in_training(estimator, present, blocks):
    """Refuse a modality that is missing (all NaN) in every training sample."""
    for k, modality in enumerate(blocks):
        if not present[:, k].any():
            raise ValueError(
                f"{type(estimator).__name__}: modality {modality!r} is missing (all NaN) in "
                "every training sample; there is nothing to fit it on. Drop the modality, "
                "or fit on data where it is present."
            )


def warn_no_modality(
    estimator,
    present,
    stacklevel=3,
    fallback="they get the training class frequencies (class_prior_)",
):
    """Warn about samples with no modality, saying what they get; return their mask."""
    none = ~present.any(axis=1)
    if none.any():
        warnings.warn(
            f"{type(estimator).__name__}: {int(none.sum())} sample(s) have no modality "
            f"present (every block is NaN); {fallback}. Drop these rows to silence this "
            "warning.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return none


def present_rows(present, blocks, n_features):
    """Broadcast the per-modality presence to a ``(n_samples, n_features)`` mask."""
    mask = np.zeros((present.shape[0], n_features), dtype=bool)
    for k, cols in enumerate(blocks.values()):
        mask[:, cols] |= present[:, [k]]
    return mask


def validate_features(estimator, X, *args, **kwargs):
    """``validate_data``, naming the columns at fault where scikit-learn's check does not.

    Named: repeated column names, columns of text (numpy's "could not convert string to
    float" names none), infinite values, and column names that are not all strings
    (scikit-learn then keeps none, so modalities cannot be read from their prefixes).
    """
    name = type(estimator).__name__
    columns = getattr(X, "columns", None)
    if columns is not None:
        _check_column_names(estimator, columns, reset=kwargs.get("reset", True))
    n_rows, n_labels = _length(X), _length(args[0] if args else None)
    if None not in (n_rows, n_labels) and n_rows != n_labels:
        raise ValueError(
            f"{name} got {n_rows} rows in X but {n_labels} labels in y: pass one label per row."
        )
    try:
        return validate_data(estimator, X, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        if "infinity" in str(exc):
            raise _infinite_values_error(name, X) from exc
        columns = text_columns(X)
        if not columns:
            raise
        shown = describe_columns(columns, named=hasattr(X, "columns"))
        raise ValueError(
            f"{type(estimator).__name__} got {len(columns)} column(s) of text in X "
            f"({shown}): fusion takes the numeric features the encoders output. Drop them "
            "from X (a speaker column goes to groups= or SpeakerNormalizer), or encode "
            "them first (make_multimodal_pipeline)."
        ) from exc


def _check_column_names(estimator, columns, *, reset):
    name = type(estimator).__name__
    repeated = columns[columns.duplicated()].unique()
    if len(repeated):
        shown = describe_columns(list(repeated), named=True)
        raise ValueError(
            f"{name} got X with repeated column names ({shown}): each column must have a "
            "unique name, or the modalities' columns are ambiguous."
        )
    not_str = [column for column in columns if not isinstance(column, str)]
    if reset and not_str and getattr(estimator, "modalities", ()) is None:
        shown = describe_columns(not_str, named=True)
        raise ValueError(
            f"{name} reads the modalities from the column names' prefixes, but "
            f"{len(not_str)} column name(s) of X are not str ({shown}), "
            "so scikit-learn keeps no names. Rename the columns '<modality>__<feature>' "
            "(X.columns.astype(str) at least), or pass modalities={name: columns}."
        )


def _infinite_values_error(name, X):
    columns = infinite_columns(X)
    return ValueError(
        f"{name} got infinite values (inf) in X, in {len(columns)} column(s) "
        f"({describe_columns(columns, named=hasattr(X, 'columns'))}). NaN marks a missing "
        "value; replace inf with NaN or a finite value (e.g. X.replace([np.inf, -np.inf], "
        "np.nan))."
    )


def _length(values):
    """Rows of an array, DataFrame, sparse matrix or list; None for anything else."""
    shape = getattr(values, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else None
    return len(values) if isinstance(values, (list, tuple)) else None
