"""Turn what users pass to an encoder into a flat array of items, one per sample."""

import numbers

import numpy as np
import pandas as pd


def as_items(X, *, caller):
    """Return ``(items, index, column_name)`` for the one column of items in `X`.

    `X` may be a list or tuple, a 1-D array, a 2-D array with one column, a pandas
    Series, or a one-column DataFrame (what ``ColumnTransformer`` passes). `items` is a
    1-D object array; `index` holds the pandas index labels (or None) so that error
    messages can name a row the way the user knows it; `column_name` is the column's
    name when `X` is a DataFrame.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{caller} expects a sequence of items (one per sample), got a single "
            f"{type(X).__name__}. Wrap it in a list: [{X!r:.40}]."
        )
    if isinstance(X, pd.DataFrame):
        _check_single_column(X.shape, caller, columns=list(X.columns))
        return _object_array(X.iloc[:, 0]), X.index, X.columns[0]
    if isinstance(X, pd.Series):
        return _object_array(X), X.index, None
    if not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
        X = np.asarray(X)  # array-likes such as xarray or tensor wrappers
    if isinstance(X, np.ndarray):
        if X.ndim == 2:
            _check_single_column(X.shape, caller)
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(
                f"{caller} expects a 1-D array of items or a 2-D array with one column; "
                f"got an array of shape {X.shape}."
            )
        return _object_array(X), None, None
    if isinstance(X, dict) or hasattr(X, "keys"):
        # Iterating a mapping gives its keys: the items would silently be the ids.
        raise TypeError(
            f"{caller} expects a sequence of items (one per sample), got a "
            f"{type(X).__name__}, whose iteration gives its keys. Pass its values "
            "(list(d.values())) or a pandas Series (pd.Series(d)), which keeps the keys as "
            "the index."
        )
    if isinstance(X, (set, frozenset)):
        raise TypeError(
            f"{caller} expects a sequence of items (one per sample), got a "
            f"{type(X).__name__}, which has no order: the rows of the output would match no "
            "order you know. Pass a list (sorted(...) for a fixed order)."
        )
    if hasattr(X, "__iter__") and not hasattr(X, "__len__"):
        # fit_transform reads X twice (fit, then transform): a generator would be spent.
        raise TypeError(
            f"{caller} expects a sequence of items, got a one-pass iterator "
            f"({type(X).__name__}). Pass list(...) of it instead."
        )
    if hasattr(X, "__iter__"):
        X = list(X)
        if X and all(isinstance(row, list) and len(row) == 1 for row in X):
            X = [row[0] for row in X]  # a 2-D list with one column, e.g. from .tolist()
        return _object_array(X), None, None
    raise TypeError(
        f"{caller} expects a list, 1-D array, pandas Series or one-column DataFrame of "
        f"items; got {type(X).__name__}."
    )


def _check_single_column(shape, caller, columns=None):
    if len(shape) == 2 and shape[1] == 1:
        return
    if shape[1] == 0:  # scikit-learn's own wording for this case
        raise ValueError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is "
            f"required: {caller} reads one column of items."
        )
    named = f" {columns!r}" if columns is not None else ""
    raise ValueError(
        f"{caller} encodes one column of items, but got 2-D input with {shape[1]} "
        f"columns{named}. Select the column (df['text']), or give each column its own "
        "encoder with make_column_transformer / ColumnTransformer."
    )


def _object_array(values):
    # Filled element by element: np.array(list_of_arrays) would try to stack equally
    # shaped items (images, waveforms) into one N-D array.
    values = list(values)
    items = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        items[i] = value
    return items


def is_missing(item):
    """Whether `item` marks a missing value: None, NaN, pandas NA or NaT."""
    if item is None or item is pd.NA or item is pd.NaT:
        return True
    return isinstance(item, numbers.Real) and not isinstance(item, bool) and item != item


def describe_position(position, index):
    """Name a row as the user knows it: its position, and its index label if any."""
    label = _plain(index[position] if index is not None else position)
    if label == position:
        return f"item {position}"
    return f"item {position} (index {label!r})"


def _plain(label):
    """8 and ('s1', 1), not np.int64(8) and ('s1', np.int64(1)), for messages."""
    if isinstance(label, tuple):
        return tuple(_plain(part) for part in label)
    return label.item() if isinstance(label, np.generic) else label
