"""StackingFusionClassifier: a meta classifier on out-of-fold per-modality probabilities."""

import os
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import HasMethods, Interval

from ._late import _PerModalityClassifier
from ._modalities import warn_no_modality

# Log-probabilities floored at log(1e-6): a model's near-zero probabilities say "not this
# class" as clearly, and the meta classifier's inputs stay on one scale (it converges).
_PROBA_FLOOR = 1e-6


class StackingFusionClassifier(_PerModalityClassifier):
    """One classifier per modality, and a meta classifier that learns how to combine them.

    Each modality's block of columns gets its own clone of `estimator`, as in
    :class:`LateFusionClassifier`. Instead of fixed weights, a `final_estimator` is
    trained on the per-modality log-probabilities, so it can learn that one modality
    is to be trusted for some emotions and another for others. Its training data are
    out-of-fold probabilities (each sample predicted by per-modality models that did
    not see it), so that the meta classifier learns how the modalities behave on new
    data rather than on data they memorised.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        The base classifier, cloned once per modality.
    final_estimator : classifier with ``predict_proba`` or None, default=None
        The meta classifier. None is ``LogisticRegression(C=0.1, max_iter=5000)``:
        strongly regularised, as the meta features (log-probabilities of every class
        from every modality) are many and strongly correlated.
    cv : int, cross-validation generator or iterable, default=5
        The inner folds that give the out-of-fold probabilities. An int is
        ``StratifiedGroupKFold(cv)`` when ``groups`` are passed to ``fit`` (folds by
        speaker: what the meta classifier then sees is each modality on unseen
        speakers, as at test time) and ``StratifiedKFold(cv)`` otherwise.
        Each modality is split over the rows where it is present, so an iterable of
        ``(train, test)`` indices suits only data without missing modalities; pass
        a splitter otherwise.
    modalities : dict or None, default=None
        Which columns belong to which modality, as for :class:`LateFusionClassifier`.
    memory : str, path-like, joblib.Memory or None, default=None
        Where to cache each modality's classifier fitted on all training rows, as for
        :class:`LateFusionClassifier`.

    Attributes
    ----------
    estimators_ : dict of str to estimator
        The clone of `estimator` fitted on all training rows of each modality.
    final_estimator_ : estimator
        The fitted meta classifier.
    modalities_ : dict of str to ndarray of int
        The column positions of each modality.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    mean_ : ndarray of shape (n_features_in_,)
        Per-column training mean over present values; imputes isolated NaN.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    LateFusionClassifier : Per-modality probabilities combined with fixed weights.
    sklearn.ensemble.StackingClassifier : Stacking of several models on the same features.

    Notes
    -----
    The meta classifier's input, per sample: each modality's log-probabilities
    (probabilities floored at 1e-6), then one 0/1 column per modality telling whether it is
    present. A missing modality (an all-NaN block) contributes the log of the training
    class frequencies, which favour no emotion, and a 0 indicator; a sample with no
    modality at all gets ``class_prior_``, with a warning.

    Pass the speaker of each sample as ``groups`` to ``fit`` (in a pipeline:
    ``pipe.fit(X, y, fusion__groups=speaker)``; in a grid search:
    ``search.fit(X, y, groups=speaker, fusion__groups=speaker)``). Without it the
    inner folds mix speakers, the out-of-fold probabilities are more confident than
    they will be on new speakers, and the meta classifier over-trusts the modality
    that recognises the speaker best.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion.fusion import StackingFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 80)
    >>> X = np.column_stack([y + rng.normal(0, 1, 80), y + rng.normal(0, 2, 80)])
    >>> clf = StackingFusionClassifier(LogisticRegression(),
    ...                                modalities={"face": [0], "audio": [1]})
    >>> clf.fit(X, y, groups=np.repeat(np.arange(8), 10)).predict(X[:4])
    array([1, 1, 1, 0])
    >>> y[:4]
    array([1, 1, 1, 0])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "final_estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cv": [Interval(Integral, 2, None, closed="left"), HasMethods(["split"]), "array-like"],
        "modalities": [dict, None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(self, estimator, *, final_estimator=None, cv=5, modalities=None, memory=None):
        self.estimator = estimator
        self.final_estimator = final_estimator
        self.cv = cv
        self.modalities = modalities
        self.memory = memory

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit the per-modality classifiers, then the meta classifier on their out-of-fold
        probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features side by side; an all-NaN block is a missing modality.
        y : array-like of shape (n_samples,)
            Target labels.
        groups : array-like of shape (n_samples,), default=None
            The speaker of each sample, for inner folds by speaker.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each per-modality classifier's ``fit`` and to the meta classifier's.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y_enc, present, sample_weight = self._fit_modalities(X, y, sample_weight)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape[0] != X.shape[0]:
                raise ValueError(
                    f"StackingFusionClassifier: groups has {groups.shape[0]} entries for "
                    f"{X.shape[0]} samples. Pass one group (speaker) per sample."
                )
        out_of_fold = np.full((len(self.modalities_), X.shape[0], len(self.classes_)), np.nan)
        for k, cols in enumerate(self.modalities_.values()):
            rows = present[:, k]
            out_of_fold[k][rows] = self._out_of_fold(
                X[np.ix_(rows, cols)], y_enc[rows],
                None if groups is None else groups[rows],
                None if sample_weight is None else sample_weight[rows],
            )  # fmt: skip
        final = self.final_estimator
        if final is None:
            final = LogisticRegression(C=0.1, max_iter=5000)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        meta = self._meta_features(out_of_fold, present)
        self.final_estimator_ = clone(final).fit(meta, y_enc, **kwargs)
        return self

    def _out_of_fold(self, X, y_enc, groups, sample_weight):
        """Out-of-fold probabilities of one modality's rows, columns for every class."""
        cv = self.cv
        if isinstance(cv, Integral):
            cv = StratifiedKFold(cv) if groups is None else StratifiedGroupKFold(cv)
        params = {} if sample_weight is None else {"sample_weight": sample_weight}
        seen = np.unique(y_enc)
        proba = cross_val_predict(
            clone(self.estimator), X, y_enc, groups=groups, cv=cv, method="predict_proba",
            params=params,
        )  # fmt: skip
        full = np.zeros((X.shape[0], len(self.classes_)))
        full[:, seen] = proba
        return full

    def _meta_features(self, probas, present):
        """Log-probabilities per modality (class frequencies where missing), presence."""
        filled = np.where(present.T[:, :, None], probas, self.class_prior_)
        logp = np.log(np.clip(filled, _PROBA_FLOOR, None))
        return np.hstack([*logp, present.astype(np.float64)])

    def predict_proba(self, X):
        """Class probabilities of the meta classifier.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        probas, present = self._probas(X)
        final = self.final_estimator_
        proba = np.zeros((probas.shape[1], len(self.classes_)))
        proba[:, final.classes_] = final.predict_proba(self._meta_features(probas, present))
        none = warn_no_modality(self, present, stacklevel=2)
        proba[none] = self.class_prior_
        return proba
