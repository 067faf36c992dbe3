"""EarlyFusion: per-modality normalisation, imputation of missing modalities, weighted
concatenation."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._nanstats import nan_mean_var, std_or_one
from .._sklearn_compat import DocLinkMixin, StrOptions, _check_feature_names_in, _fit_context
from .._targets import check_labels
from ._modalities import (
    check_present_in_training,
    presence,
    resolve_modalities,
    resolve_weights,
    validate_features,
    warn_no_modality,
)


class EarlyFusion(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Normalise each modality's block of features, weigh it, and concatenate.

    A transformer that feeds any classifier. Each modality is scaled on its own, so a
    modality with many or large features does not drown the others; a weight then sets
    each modality's share.

    Parameters
    ----------
    weights : dict, sequence of float or None, default=None
        The weight of each modality: ``{"face": 0.6, "audio": 0.4}``, or one value per
        modality in the order of ``modalities_``. They are relative: rescaled to average
        1 over the modalities (so equal weights leave the blocks unscaled), then each
        block is multiplied by ``sqrt(weight)``, so that the block's share of squared
        distances and of the total variance (what linear models, kernels and k-NN see)
        is proportional to its weight. None weighs the modalities equally.
    norm : {"standard", "l2", "block", "none"}, default="standard"
        Per-modality normalisation. ``"standard"``: each column to zero mean and unit
        variance. ``"block"``: standardise, then divide the block by the square root of
        its number of columns, so each modality has the same total variance whatever
        its width. ``"l2"``: each sample's block (after imputation) to unit L2 norm.
        ``"none"``: unscaled.
    add_indicator : bool, default=False
        Append one column per modality, 1.0 where it is present and 0.0 where it is
        missing, so that the classifier can tell an imputed block from a real one.
    modalities : dict or None, default=None
        Which columns belong to which modality. None reads it from DataFrame column
        names prefixed ``"<modality>__"`` (what :func:`make_multimodal_pipeline`
        writes); otherwise ``{modality: slice | list of int | list of column names}``.
        A column may belong to one modality only. Columns in no modality are
        normalised like the others and keep weight 1 (the average of the rescaled
        weights); give them a modality of their own to weigh them.

    Attributes
    ----------
    modalities_ : dict of str to ndarray of int
        The column positions of each modality.
    mean_ : ndarray of shape (`n_features_in_`,)
        Per-column mean over the training rows where the value is present.
    scale_ : ndarray of shape (`n_features_in_`,)
        Per-column scale applied (standard deviation, times ``sqrt(width)`` with
        ``norm="block"``; ones for ``"l2"`` and ``"none"``).
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    LateFusionClassifier : One classifier per modality, probabilities combined.

    Notes
    -----
    Missing modalities: a NaN value (a block that is all NaN for a sample when the
    modality is missing, or a single missing value) is imputed with the column's training
    mean, which is 0 after ``"standard"`` or ``"block"`` scaling; with ``"l2"`` a wholly
    missing block becomes zeros. Means and scales are computed over the present values,
    so fitting with missing modalities works. Output columns keep the input names, and the
    indicator columns are named ``<modality>__present``.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.fusion import EarlyFusion
    >>> X = np.array([[1.0, 10.0, 100.0], [3.0, np.nan, np.nan], [5.0, 30.0, 300.0]])
    >>> fusion = EarlyFusion(weights=[4, 1], add_indicator=True,
    ...                      modalities={"face": [0], "audio": [1, 2]})
    >>> fusion.fit_transform(X).round(2)
    array([[-1.55, -0.63, -0.63,  1.  ,  1.  ],
           [ 0.  ,  0.  ,  0.  ,  1.  ,  0.  ],
           [ 1.55,  0.63,  0.63,  1.  ,  1.  ]])
    """

    _parameter_constraints = {
        "weights": [dict, "array-like", None],
        "norm": [StrOptions({"standard", "block", "l2", "none"})],
        "add_indicator": ["boolean"],
        "modalities": [dict, None],
    }

    def __init__(self, weights=None, *, norm="standard", add_indicator=False, modalities=None):
        self.weights = weights
        self.norm = norm
        self.add_indicator = add_indicator
        self.modalities = modalities

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each column's mean and scale over its present values.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features side by side; NaN marks missing values.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        # y is not used, but a pipeline passes the classifier's labels through here:
        # name a missing or mixed-type label before the classifier's sort fails on it.
        check_labels(y, type(self).__name__)
        X = validate_features(self, X, ensure_all_finite="allow-nan", dtype=np.float64)
        self.modalities_ = resolve_modalities(
            self, getattr(self, "feature_names_in_", None), X.shape[1]
        )
        resolve_weights(self, list(self.modalities_))
        check_present_in_training(self, presence(X, self.modalities_), self.modalities_)
        self.mean_, var, _ = nan_mean_var(X)
        if self.norm in ("standard", "block"):
            scale = std_or_one(var)
            if self.norm == "block":
                for cols in self.modalities_.values():
                    scale[cols] *= np.sqrt(len(cols))
        else:
            scale = np.ones(X.shape[1])
        self.scale_ = scale
        return self

    def transform(self, X):
        """Normalise, impute, weigh and concatenate the modalities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; NaN marks missing values.

        Returns
        -------
        X_fused : ndarray of shape (n_samples, n_features_out)
            The weighted blocks in the input's column order, then the presence
            indicators when ``add_indicator=True``.
        """
        check_is_fitted(self)
        X = validate_features(
            self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64, copy=True
        )
        present = presence(X, self.modalities_)
        warn_no_modality(
            self,
            present,
            stacklevel=2,
            fallback=(
                "they become the training means, and the classifier predicts them from no "
                "information"
            ),
        )
        X = np.where(np.isnan(X), self.mean_, X)
        X = (X - (self.mean_ if self.norm in ("standard", "block") else 0.0)) / self.scale_
        base = resolve_weights(self, list(self.modalities_))
        base = base * len(base) / base.sum()
        for k, cols in enumerate(self.modalities_.values()):
            block = X[:, cols]
            if self.norm == "l2":
                norms = np.linalg.norm(block, axis=1, keepdims=True)
                block = np.divide(block, norms, out=np.zeros_like(block), where=norms > 0)
                block[~present[:, k]] = 0.0
            X[:, cols] = block * np.sqrt(base[k])
        if self.add_indicator:
            X = np.hstack([X, present.astype(np.float64)])
        return X

    def get_feature_names_out(self, input_features=None):
        """Output names: the input names, then ``<modality>__present`` indicators.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; defaults to ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names, then one ``<modality>__present`` per modality when
            ``add_indicator=True``.
        """
        check_is_fitted(self)
        names = list(_check_feature_names_in(self, input_features))
        if self.add_indicator:
            names += [f"{m}__present" for m in self.modalities_]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
