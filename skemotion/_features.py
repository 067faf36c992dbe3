"""Which columns of a feature matrix hold text or infinite values, for errors naming them.

A column of strings (a speaker id left in X, a text not yet encoded) fails deep in
numpy with "could not convert string to float", which names no column.
"""

import math
import numbers

import numpy as np
import pandas as pd


def text_columns(X):
    """The names (DataFrame) or positions (2-D arrays, lists) of X's columns of text."""
    if isinstance(getattr(X, "dtypes", None), pd.Series):
        return [
            column
            for j, (column, dtype) in enumerate(X.dtypes.items())
            if not pd.api.types.is_numeric_dtype(dtype) and _holds_text(X.iloc[:, j].to_numpy())
        ]
    try:
        array = np.asarray(X, dtype=object)
    except ValueError:  # ragged rows: not a column problem
        return []
    if array.ndim != 2:
        return []
    return [j for j in range(array.shape[1]) if _holds_text(array[:, j])]


def infinite_columns(X):
    """The names (DataFrame) or positions of X's columns that hold inf or -inf."""
    values = np.asarray(X, dtype=object)
    where = np.flatnonzero(np.vectorize(_is_infinite, otypes=[bool])(values).any(axis=0))
    return [X.columns[j] for j in where] if hasattr(X, "columns") else list(where)


def _is_infinite(value):
    return isinstance(value, numbers.Real) and math.isinf(value)


def describe_columns(columns, *, named):
    """``'speaker', 'text'`` for names, ``column 1`` or ``columns 1, 4`` for positions."""
    shown = ", ".join(map(repr if named else str, columns[:5]))
    more = ", ..." if len(columns) > 5 else ""
    if named:
        return f"{shown}{more}"
    return f"column{'s' if len(columns) > 1 else ''} {shown}{more}"


def _holds_text(column):
    """Whether `column` has a string that is not a number ("ann", not "1.5")."""
    for value in column:
        if isinstance(value, (str, bytes)):
            try:
                float(value)
            except ValueError:
                return True
    return False
