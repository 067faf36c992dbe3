"""LateFusionClassifier: one classifier per modality, probabilities combined by weights."""

import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metadata_routing import UNUSED
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_memory

from .._nanstats import nan_mean_var
from .._routing import check_groups, metadata_router, route_fit_params
from .._sklearn_compat import (
    DocLinkMixin,
    HasMethods,
    StrOptions,
    _check_method_params,
    _check_sample_weight,
    _fit_context,
)
from .._targets import check_labels, plain
from ._modalities import (
    check_present_in_training,
    presence,
    present_rows,
    resolve_modalities,
    resolve_weights,
    validate_features,
    warn_no_modality,
)

_EPS = 1e-12


def _fit_modality(estimator, X, y, fit_params):
    """Fit one modality's classifier; a function so that joblib.Memory can cache it."""
    return estimator.fit(X, y, **fit_params)


def _estimator_has(attr):
    def check(self):
        if hasattr(self, "estimators_"):
            return all(hasattr(est, attr) for est in self.estimators_.values())
        return hasattr(self.estimator, attr)

    return check


class _PerModalityClassifier(DocLinkMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """What late and stacking fusion share: one fitted clone of `estimator` per modality.

    Subclasses combine the per-modality probabilities (:meth:`_probas`) in
    ``predict_proba``, and may route metadata to more children
    (:meth:`_routing_children`).
    """

    # fit passes sample_weight on to the per-modality classifiers and uses none itself.
    __metadata_request__fit = {"sample_weight": UNUSED}

    def _routing_children(self):
        """The estimators that ``fit`` passes metadata to, by routing name."""
        return {"estimator": self.estimator}

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        With ``sklearn.set_config(enable_metadata_routing=True)``, the metadata passed
        to ``fit`` (``sample_weight`` and any other) go to `estimator`'s ``fit`` as it
        requests them (``estimator.set_fit_request(sample_weight=True)``). See
        scikit-learn's Metadata Routing User Guide.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` encapsulating
            routing information.
        """
        return metadata_router(self, self._routing_children())

    def _fit_modalities(self, X, y, sample_weight, fit_params, groups=None):
        """Validate, encode the labels, route the metadata, fit one classifier per modality.

        Returns ``(X, y_enc, present, routed)``: X validated and mean-imputed where a
        present block has a NaN, the encoded labels, the presence mask and the metadata
        routed to each child (:func:`~skemotion._routing.route_fit_params`).
        """
        check_labels(y, type(self).__name__)
        X, y = validate_features(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        name = type(self).__name__
        self._le = LabelEncoder().fit(y)
        self.classes_ = self._le.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{name} needs samples of at least 2 classes in the data; got "
                f"only one class: {plain(self.classes_[0])!r}."
            )
        y_enc = self._le.transform(y)
        self.class_prior_ = np.bincount(y_enc, minlength=len(self.classes_)) / len(y_enc)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        routed = route_fit_params(
            self, self._routing_children(), fit_params, sample_weight=sample_weight,
            groups=check_groups(self, groups, X.shape[0]),
        )  # fmt: skip
        self.modalities_ = resolve_modalities(
            self, getattr(self, "feature_names_in_", None), X.shape[1]
        )
        self._check_modality_params()
        present = presence(X, self.modalities_)
        self.mean_, _, _ = nan_mean_var(X)
        check_present_in_training(self, present, self.modalities_)
        observed = ~np.isnan(X)
        X = np.where(observed | ~present_rows(present, self.modalities_, X.shape[1]), X, self.mean_)
        memory = self.memory
        if isinstance(memory, (str, os.PathLike)):
            memory = os.path.expanduser(os.fspath(memory))  # joblib takes "~" literally
        fit_modality = check_memory(memory).cache(_fit_modality)
        self.estimators_ = {}
        for k, (modality, cols) in enumerate(self.modalities_.items()):
            rows = present[:, k]
            if len(np.unique(y_enc[rows])) < 2:
                raise ValueError(
                    f"{name}: modality {modality!r} is present only in samples "
                    "of one class; its classifier cannot be fit."
                )
            self.estimators_[modality] = fit_modality(
                clone(self.estimator),
                X[np.ix_(rows, cols)],
                y_enc[rows],
                _check_method_params(X, routed.estimator.fit, indices=np.flatnonzero(rows)),
            )
        return X, y_enc, present, routed

    def _check_modality_params(self):
        """Check parameters that depend on the modalities found (a hook)."""

    def _probas(self, X):
        """Per-modality probabilities (n_modalities, n_samples, n_classes) and presence."""
        check_is_fitted(self)
        X = validate_features(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        present = presence(X, self.modalities_)
        observed = ~np.isnan(X)
        X = np.where(observed | ~present_rows(present, self.modalities_, X.shape[1]), X, self.mean_)
        probas = np.full((len(self.modalities_), X.shape[0], len(self.classes_)), np.nan)
        for k, (modality, cols) in enumerate(self.modalities_.items()):
            rows = present[:, k]
            if rows.any():
                est = self.estimators_[modality]
                # A modality's model may have seen only some classes (missing data in fit).
                probas[k][np.ix_(rows, est.classes_)] = est.predict_proba(X[np.ix_(rows, cols)])
                probas[k][rows] = np.nan_to_num(probas[k][rows], nan=0.0)
        return probas, present

    def predict(self, X):
        """Predict the class with the highest fused probability.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_proba_per_modality(self, X):
        """Each modality's own class probabilities, before fusion.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features.

        Returns
        -------
        probas : dict of str to ndarray of shape (n_samples, n_classes)
            Rows of samples where the modality is missing are NaN.
        """
        probas, _ = self._probas(X)
        return dict(zip(self.modalities_, probas, strict=True))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class LateFusionClassifier(_PerModalityClassifier):
    """Fit one classifier per modality and combine their probabilities with weights.

    Each modality's block of columns gets its own clone of `estimator`. The fused
    probability of a sample is the weighted mean (``rule="mean"``) or the weighted
    geometric mean, renormalised (``rule="product"``), of the per-modality probabilities.
    The weights are hyperparameters: they do not change the fitted models, and
    :class:`~sklearn.model_selection.GridSearchCV` tunes them with
    ``{"fusion__weights": weight_grid([...])}``.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        The base classifier, cloned once per modality. Its own parameters (e.g.
        ``class_weight="balanced"``) apply to every modality; tune them as
        ``estimator__<param>``.
    weights : dict, sequence of float or None, default=None
        The weight of each modality: ``{"face": 0.7, "audio": 0.3}``, or one value per
        modality in the order of ``modalities_``. None weighs them equally. Weights are
        relative: they are renormalised to sum to 1 over the modalities present in each
        sample.
    rule : {"product", "mean"}, default="product"
        ``"product"``: weighted geometric mean (a weighted product of experts),
        renormalised over the classes: a class must be plausible to every modality.
        ``"mean"``: weighted arithmetic mean of the probabilities. The product won in
        every configuration measured on RAVDESS face + voice (by actor; e.g. 0.876 vs
        0.828 accuracy with equal weights and speaker normalisation,
        benchmarks/results/fusion.md), hence the default.
    modalities : dict or None, default=None
        Which columns belong to which modality. None reads it from DataFrame column
        names prefixed ``"<modality>__"`` (what :func:`make_multimodal_pipeline` writes);
        otherwise ``{modality: slice | list of int | list of column names}``, needed for
        numpy input. A column may belong to one modality only; columns in no modality
        are not used.
    memory : str, path-like, joblib.Memory or None, default=None
        Where to cache each modality's fitted classifier (as
        :class:`~sklearn.pipeline.Pipeline` caches its transformers). The key is the
        classifier's parameters and the modality's training rows, not `weights` or
        `rule`, so a grid search over weights and rule fits each modality's classifier
        once per fold instead of once per candidate. None caches nothing; a str or
        path is a :class:`joblib.Memory` folder (``~`` expanded).

    Attributes
    ----------
    estimators_ : dict of str to estimator
        The fitted clone of `estimator` for each modality.
    modalities_ : dict of str to ndarray of int
        The column positions of each modality.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    mean_ : ndarray of shape (`n_features_in_`,)
        Per-column training mean over present values; imputes isolated NaN.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data; predicted for a sample with no modality.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    EarlyFusion : Per-modality normalisation and weighted concatenation.
    AttentionFusionClassifier : A small neural network attending over modalities.
    weight_grid : A grid of modality weights for a grid search.

    Notes
    -----
    Missing modalities: a modality whose whole block is NaN for a sample (what the
    encoders give with ``missing="nan"``) is absent for that sample. In ``fit``, each
    modality's classifier is trained on the rows where that modality is present. In
    ``predict_proba``, the weights are renormalised over the present modalities of each
    sample (if those all have weight 0, the present modalities count equally); a sample
    with no modality at all gets ``class_prior_``, with a warning. A NaN in a block that
    is otherwise present is imputed with the column's training mean (``mean_``).

    ``sample_weight`` in ``fit`` reaches each per-modality classifier, fitted on the
    weights of its modality's rows. Without metadata routing it is passed to the
    classifier's ``fit``, and to a :class:`~sklearn.pipeline.Pipeline`'s final step as
    ``<step>__sample_weight`` (an error if that step does not take it). With
    ``sklearn.set_config(enable_metadata_routing=True)`` it goes where the classifier
    requests it: ``make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
    LogisticRegression().set_fit_request(sample_weight=True))``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion.fusion import LateFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 60)
    >>> X = np.column_stack([y + rng.normal(0, 1, 60), y + rng.normal(0, 2, 60)])
    >>> clf = LateFusionClassifier(LogisticRegression(), weights=[0.8, 0.2],
    ...                            modalities={"face": [0], "audio": [1]}).fit(X, y)
    >>> clf.predict_proba(X[:2]).round(2)
    array([[0.56, 0.44],
           [0.35, 0.65]])
    >>> X[0, 0] = np.nan  # face missing for the first sample: audio alone decides
    >>> clf.predict_proba(X[:1]).round(2)
    array([[0.44, 0.56]])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "weights": [dict, "array-like", None],
        "rule": [StrOptions({"mean", "product"})],
        "modalities": [dict, None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(self, estimator, *, weights=None, rule="product", modalities=None, memory=None):
        self.estimator = estimator
        self.weights = weights
        self.rule = rule
        self.modalities = modalities
        self.memory = memory

    # `estimator` is validated in its own fit, not here.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a clone of `estimator` on each modality's columns.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features side by side; an all-NaN block is a missing modality.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each per-modality classifier's ``fit`` (see Notes).
        **fit_params : dict
            Other metadata for `estimator`'s ``fit``. Only with
            ``sklearn.set_config(enable_metadata_routing=True)``, routed as `estimator`
            requests them.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._fit_modalities(X, y, sample_weight, fit_params)
        return self

    def _check_modality_params(self):
        resolve_weights(self, list(self.modalities_))  # fail early on a bad spelling

    def _sample_weights(self, present):
        """Weights per sample and modality, renormalised over the present modalities."""
        base = resolve_weights(self, list(self.modalities_))
        w = present * base
        zero = w.sum(axis=1) == 0
        w[zero] = present[zero]  # present modalities all weigh 0: count them equally
        total = w.sum(axis=1, keepdims=True)
        none = warn_no_modality(self, present, stacklevel=3)
        return np.divide(w, total, out=np.zeros_like(w), where=total > 0), none

    def _fuse(self, probas, w, none):
        if self.rule == "mean":
            fused = np.einsum("msc,sm->sc", np.nan_to_num(probas, nan=0.0), w)
        else:
            logp = np.log(np.clip(np.nan_to_num(probas, nan=1.0), _EPS, None))
            log_fused = np.einsum("msc,sm->sc", logp, w)
            log_fused -= log_fused.max(axis=1, keepdims=True)
            fused = np.exp(log_fused)
        fused[none] = self.class_prior_
        return fused / fused.sum(axis=1, keepdims=True)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Fused class probabilities.

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
        w, none = self._sample_weights(present)
        return self._fuse(probas, w, none)

    def explain(self, X):
        """How much each modality contributed to each sample's predicted class.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features.

        Returns
        -------
        attribution : DataFrame of shape (n_samples, n_modalities + 3)
            ``predicted`` (the label), ``proba`` (its fused probability), then one
            column per modality with its contribution to that probability: with
            ``rule="mean"``, ``w_m * p_m(predicted)``, where ``w_m`` is the weight
            renormalised over the sample's present modalities, so the columns sum to
            ``proba``; with ``rule="product"``, ``w_m * log p_m(predicted)``, which sum to
            the unnormalised log-probability (more negative: the modality argued against
            the class). Missing modalities contribute 0. ``present`` counts the modalities
            present.
        """
        probas, present = self._probas(X)
        w, none = self._sample_weights(present)
        fused = self._fuse(probas, w, none)
        pred = np.argmax(fused, axis=1)
        rows = np.arange(len(pred))
        picked = probas[:, rows, pred]  # (n_modalities, n_samples)
        if self.rule == "mean":
            contrib = w.T * np.nan_to_num(picked, nan=0.0)
        else:
            contrib = w.T * np.log(np.clip(np.nan_to_num(picked, nan=1.0), _EPS, None))
        index = getattr(X, "index", None)
        frame = pd.DataFrame(contrib.T, columns=list(self.modalities_), index=index)
        frame.insert(0, "proba", fused[rows, pred])
        frame.insert(0, "predicted", self.classes_[pred])
        frame["present"] = present.sum(axis=1)
        return frame
