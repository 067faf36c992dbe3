"""Per-column mean, variance and scale over the values that are present (not NaN).

One implementation for every estimator that standardises features with missing values:
the fusion estimators (a missing modality is an all-NaN block) and SpeakerNormalizer (per
speaker). A column, or a group's column, with no value gets mean 0 and variance 0.
"""

import numpy as np
from scipy import sparse


def safe_divide(numerator, denominator):
    """``numerator / denominator``, 0 where the denominator is 0 (no value to average)."""
    return np.divide(
        numerator, denominator, out=np.zeros(np.broadcast(numerator, denominator).shape),
        where=denominator > 0,
    )  # fmt: skip


def nan_mean_var(X, codes=None, n_groups=None):
    """Mean and (biased) variance of each column over its non-NaN values.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float values (computed in float64); NaN marks a missing value.
    codes : ndarray of int of shape (n_samples,) or None, default=None
        The group of each row, in ``range(n_groups)``, for statistics per group. None
        computes them over all rows.
    n_groups : int or None, default=None
        The number of groups; needed with `codes`.

    Returns
    -------
    mean, var : ndarray of float64 of shape (n_features,) or (n_groups, n_features)
        0 where a column (of a group) has no value.
    count : ndarray of int of the same shape
        The number of non-NaN values that each statistic is computed from.
    """
    # In float64 whatever the input: float32 sums of a constant column are not exact, and
    # their rounding noise would be mistaken for a (tiny) standard deviation.
    X = np.asarray(X, dtype=np.float64)
    observed = ~np.isnan(X)
    filled = np.where(observed, X, 0.0)
    if codes is None:
        count = observed.sum(axis=0)
        mean = safe_divide(filled.sum(axis=0), count)
        var = safe_divide((np.where(observed, X - mean, 0.0) ** 2).sum(axis=0), count)
        return mean, var, count
    n_samples = X.shape[0]
    # A (groups x rows) indicator matrix: per-group sums as one sparse product.
    member = sparse.csr_array(
        (np.ones(n_samples), (codes, np.arange(n_samples))), shape=(n_groups, n_samples)
    )
    count = member @ observed.astype(np.float64)
    mean = safe_divide(member @ filled, count)
    deviation = np.where(observed, X - mean[codes], 0.0)
    var = safe_divide(member @ deviation**2, count)
    return mean, var, count.astype(np.intp)


def std_or_one(var, dtype=np.float64):
    """``sqrt(var)``, with 1 for a constant column, so that dividing by it changes nothing.

    A standard deviation below 10 machine epsilons of `dtype` (the dtype the features
    are computed in) is rounding noise of a constant column, as for scikit-learn's
    ``StandardScaler``.
    """
    scale = np.sqrt(var)
    scale[scale < 10 * np.finfo(dtype).eps] = 1.0
    return scale
