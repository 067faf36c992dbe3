"""StackingFusionClassifier: a meta classifier on out-of-fold per-modality probabilities."""

import os
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.utils.metadata_routing import UNUSED

from .._routing import check_folds, inner_cv, metadata_router
from .._sklearn_compat import (
    HasMethods,
    Interval,
    _check_method_params,
    _fit_context,
    _routing_enabled,
)
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
    mean_ : ndarray of shape (`n_features_in_`,)
        Per-column training mean over present values; imputes isolated NaN.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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
    that recognises the speaker best. With
    ``sklearn.set_config(enable_metadata_routing=True)``, ``groups`` is routed to the
    inner splitter (an int `cv` requests it): ``pipe.fit(X, y, groups=speaker)`` and
    ``search.fit(X, y, groups=speaker)`` reach the inner folds as well as the outer ones.

    ``sample_weight`` reaches each per-modality classifier and the meta classifier as
    in :class:`LateFusionClassifier`; under metadata routing, as each one requests it
    (the default meta classifier always takes it).

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

    # fit passes groups on to the inner splitter and uses none itself (sample_weight: as
    # the base class says; naming it again here is an error in scikit-learn 1.6).
    __metadata_request__fit = {"groups": UNUSED}

    def _final_estimator(self):
        """`final_estimator`, or the default meta classifier."""
        if self.final_estimator is not None:
            return self.final_estimator
        default = LogisticRegression(C=0.1, max_iter=5000)
        if _routing_enabled():
            # Under routing a classifier gets sample_weight only if it requests it, and
            # no user can ask that of a default they never see.
            default.set_fit_request(sample_weight=True)
        return default

    def _routing_children(self):
        return {"estimator": self.estimator, "final_estimator": self._final_estimator()}

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        With ``sklearn.set_config(enable_metadata_routing=True)``, the metadata passed
        to ``fit`` go to `estimator`'s and `final_estimator`'s ``fit`` as they request
        them, and to the inner splitter's ``split`` (``groups``; an int `cv` is
        :class:`~sklearn.model_selection.StratifiedGroupKFold` there, which requests
        them). See scikit-learn's Metadata Routing User Guide.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` encapsulating
            routing information.
        """
        return metadata_router(self, self._routing_children(), cv=self.cv)

    # `estimator` and `final_estimator` are validated in their own fit, not here.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, sample_weight=None, **fit_params):
        """Fit the per-modality classifiers, then the meta classifier on out-of-fold probabilities.

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
        **fit_params : dict
            Other metadata for the classifiers' ``fit`` and the splitter. Only with
            ``sklearn.set_config(enable_metadata_routing=True)``, routed as they
            request them.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y_enc, present, routed = self._fit_modalities(
            X, y, sample_weight, fit_params, groups=groups
        )
        groups = routed.splitter.split.get("groups")
        check_folds(self, self.cv, self.classes_[y_enc], groups)
        out_of_fold = np.full((len(self.modalities_), X.shape[0], len(self.classes_)), np.nan)
        for k, cols in enumerate(self.modalities_.values()):
            rows = np.flatnonzero(present[:, k])
            out_of_fold[k][rows] = self._out_of_fold(
                X[np.ix_(rows, cols)], y_enc[rows],
                None if groups is None else groups[rows],
                _check_method_params(X, routed.estimator.fit, indices=rows),
            )  # fmt: skip
        meta = self._meta_features(out_of_fold, present)
        self.final_estimator_ = clone(self._final_estimator()).fit(
            meta, y_enc, **routed.final_estimator.fit
        )
        return self

    def _out_of_fold(self, X, y_enc, groups, fit_params):
        """Out-of-fold probabilities of one modality's rows, columns for every class."""
        # The folds are made here, not by cross_val_predict: under metadata routing it
        # takes no groups argument, and they have already been routed to this splitter.
        folds = list(inner_cv(self.cv, y_enc, groups).split(X, y_enc, groups))
        seen = np.unique(y_enc)
        proba = cross_val_predict(
            clone(self.estimator), X, y_enc, cv=folds, method="predict_proba", params=fit_params
        )
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
