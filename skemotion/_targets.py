"""Checks of emotion labels (y) that name the problem before scikit-learn's internals do."""

import numbers

import numpy as np
import pandas as pd


def check_labels(y, caller):
    """Refuse missing labels and labels mixing strings with numbers, naming a row.

    Left alone, both fail deep inside numpy's sort (``'<' not supported between
    instances of 'NoneType' and 'str'``) or are silently turned into strings.
    Returns nothing; `y` is not changed.
    """
    if y is None:  # no target at all: scikit-learn's own check says so
        return
    values = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
    if values.dtype.kind not in ("f", "O"):
        return
    values = values.ravel()
    missing = np.flatnonzero(pd.isna(values))
    if values.dtype.kind == "f" and not missing.size:
        return
    if missing.size:
        raise ValueError(
            f"{caller}: {missing.size} label(s) in y are missing (None or NaN; first at "
            f"row {missing[0]}). Drop those samples, or give them a label."
        )
    kinds = {}
    for row, label in enumerate(values):
        kind = (
            "string"
            if isinstance(label, str)
            else (
                "number" if isinstance(label, (numbers.Number, np.number)) else type(label).__name__
            )
        )
        kinds.setdefault(kind, (row, label))
    if len(kinds) > 1:
        shown = " and ".join(
            f"{kind} {label!r} at row {row}" for kind, (row, label) in list(kinds.items())[:2]
        )
        raise TypeError(
            f"{caller}: the labels in y mix types ({shown}). Give every label the same "
            "type, e.g. y.astype(str)."
        )


def plain(label):
    """A label as its user wrote it: ``'joy'`` and ``3``, not ``np.str_('joy')``."""
    return label.item() if isinstance(label, np.generic) else label
