"""TunedOffsetClassifierCV: per-class decision offsets tuned on held-out data for a metric."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import UNUSED
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, indexable

from ._routing import check_folds, check_groups, inner_cv, metadata_router, route_fit_params
from ._sklearn_compat import (
    DocLinkMixin,
    HasMethods,
    Interval,
    StrOptions,
    _check_method_params,
    _check_sample_weight,
    _fit_context,
    _safe_indexing,
)
from ._targets import check_labels, plain

_SCORES = {"f1_macro", "f1_weighted", "balanced_accuracy", "accuracy"}


def _estimator_has(attr):
    def check(self):
        return hasattr(getattr(self, "estimator_", self.estimator), attr)

    return check


class TunedOffsetClassifierCV(DocLinkMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Add per-class offsets to a classifier's scores, tuned on held-out data for a metric.

    The multiclass counterpart of
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV`. A classifier
    predicts the class of highest score; on imbalanced data that argmax favours the
    frequent classes, and ``class_weight="balanced"`` can overshoot the other way.
    This meta-estimator predicts ``argmax(score + offsets_)`` instead, where the
    score is the log-probability (or the decision function) and ``offsets_`` holds one
    value per class, chosen to maximise `scoring` (macro-F1 by default) on
    out-of-fold scores. Adding ``offsets_[k]`` to the log-probability of class ``k``
    multiplies its probability by ``exp(offsets_[k])``: a prior correction learnt for
    the metric.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` or ``decision_function``
        The classifier whose decisions are shifted. To tune the offsets of an already
        fitted classifier on a validation set, wrap it in
        :class:`~sklearn.frozen.FrozenEstimator` and call ``fit(X_val, y_val)``: it is
        then neither cloned nor refitted, and `cv` is not used (all of ``X_val`` is
        held out).
    scoring : {"f1_macro", "f1_weighted", "balanced_accuracy", "accuracy"} or callable, \
default="f1_macro"
        What the offsets maximise, computed on out-of-fold predictions. A callable is
        called as ``scoring(y_true, y_pred)`` and must return a float, higher better.
    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        Which scores the offsets are added to: the log of ``predict_proba``, or
        ``decision_function``. ``"auto"`` uses ``predict_proba`` when the estimator has
        it.
    cv : int, cross-validation generator, iterable or None, default=5
        How the out-of-fold scores are made (unless `estimator` is a
        :class:`~sklearn.frozen.FrozenEstimator`), as in
        :func:`~sklearn.model_selection.cross_val_predict`: an int (None: 5) is the
        number of folds of :class:`~sklearn.model_selection.StratifiedGroupKFold` when
        ``groups`` are passed to ``fit`` (folds by speaker; :func:`speaker_cv` is the
        same) and of :class:`~sklearn.model_selection.StratifiedKFold` otherwise. A
        splitter gets ``groups`` in ``split``. Each sample must be in exactly one
        validation fold.
    offsets : array-like of float or None, default=None
        The candidate values of each class's offset. None means
        ``np.linspace(-3, 3, 61)`` (steps of 0.1, that is probability factors from
        0.05 to 20 with ``predict_proba``).
    max_iter : int, default=10
        Most passes of coordinate ascent over the classes; the search stops earlier
        when a pass changes no offset.

    Attributes
    ----------
    estimator_ : estimator
        `estimator` fitted on all of ``X`` (the estimator itself for a
        :class:`~sklearn.frozen.FrozenEstimator`).
    classes_ : ndarray of shape (n_classes,)
        The class labels, as in ``estimator_.classes_``.
    offsets_ : ndarray of shape (n_classes,)
        The offset added to each class's score; the smallest is 0.
    best_score_ : float
        `scoring` of the out-of-fold predictions with ``offsets_``.
    n_iter_ : int
        Passes of coordinate ascent run.
    n_features_in_ : int
        Number of features seen by ``estimator_``, when it has this attribute.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen by ``estimator_``, when it has this attribute.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : The binary decision threshold.
    skemotion.emotion_report : Macro-F1, weighted-F1 and UAR together.

    Notes
    -----
    The offsets are found by coordinate ascent: starting from zero, each class's
    offset in turn is set to the candidate that maximises `scoring` with the others
    fixed (the first best one, and only on a strict improvement), until a pass changes
    nothing. Only ``predict`` uses the offsets: ``predict_proba`` and
    ``decision_function`` return the estimator's own, unshifted values.

    The offsets fit the data they are tuned on, so ``best_score_`` is optimistic:
    judge the model on data used neither to fit it nor to tune it. With speakers in the
    data, pass them as ``groups``: out-of-fold scores of speakers seen in training are
    more confident than those of new speakers, and offsets tuned on them would be too.

    ``sample_weight`` reaches every fit of `estimator` (a
    :class:`~sklearn.pipeline.Pipeline`'s final step as ``<step>__sample_weight``);
    the offsets maximise the unweighted `scoring`. With
    ``sklearn.set_config(enable_metadata_routing=True)``, ``sample_weight`` and other
    metadata go where `estimator` requests them, and ``groups`` to the splitter.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import f1_score
    >>> from skemotion import TunedOffsetClassifierCV
    >>> X, y = make_classification(n_samples=3000, n_classes=3, n_informative=4,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    >>> plain = LogisticRegression().fit(X_train, y_train)
    >>> tuned = TunedOffsetClassifierCV(LogisticRegression()).fit(X_train, y_train)
    >>> tuned.offsets_.shape
    (3,)
    >>> def macro_f1(model):
    ...     return f1_score(y_test, model.predict(X_test), average="macro")
    >>> macro_f1(tuned) > macro_f1(plain)
    True
    """

    _parameter_constraints = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
        ],
        "scoring": [StrOptions(_SCORES), callable],
        "response_method": [StrOptions({"auto", "predict_proba", "decision_function"})],
        "cv": ["cv_object"],
        "offsets": ["array-like", None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    # fit passes these on to the estimator and the splitter, and uses none itself.
    __metadata_request__fit = {"sample_weight": UNUSED, "groups": UNUSED}

    def __init__(
        self,
        estimator,
        *,
        scoring="f1_macro",
        response_method="auto",
        cv=5,
        offsets=None,
        max_iter=10,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.response_method = response_method
        self.cv = cv
        self.offsets = offsets
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=False)  # the estimator is validated in its fit
    def fit(self, X, y, groups=None, sample_weight=None, **fit_params):
        """Fit the estimator on all data and tune the offsets on out-of-fold scores.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
            Training data, as the estimator takes it (texts for a text pipeline).
        y : array-like of shape (n_samples,)
            Target labels.
        groups : array-like of shape (n_samples,), default=None
            The speaker of each sample, for folds by speaker (see `cv`).
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every fit of `estimator`.
        **fit_params : dict
            Other metadata for `estimator`'s ``fit`` and the splitter. Only with
            ``sklearn.set_config(enable_metadata_routing=True)``, routed as they
            request them.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y = indexable(X, y)
        # Before column_or_1d, which turns ["joy", None, 3] into the strings "None", "3".
        check_labels(y, "TunedOffsetClassifierCV")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        candidates = self._candidates()
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        routed = route_fit_params(
            self, {"estimator": self.estimator}, fit_params, sample_weight=sample_weight,
            groups=check_groups(self, groups, len(y)),
        )  # fmt: skip
        if len(y) and len(np.unique(y)) < 2:  # before the estimator fails in its own words
            raise ValueError(
                "TunedOffsetClassifierCV needs samples of at least 2 classes; got only "
                f"one class: {plain(np.asarray(y)[0])!r}."
            )
        self.estimator_ = clone(self.estimator).fit(X, y, **routed.estimator.fit)
        self.classes_ = self.estimator_.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "TunedOffsetClassifierCV needs samples of at least 2 classes; got only "
                f"one class: {plain(self.classes_[0])!r}."
            )
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"TunedOffsetClassifierCV: y holds labels the estimator does not know, e.g. "
                f"{y[unknown][0]!r}; its classes_ are {list(self.classes_)!r}."
            )
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        scores, y_true = self._out_of_fold_scores(X, y, routed)
        offsets, self.best_score_, self.n_iter_ = _coordinate_ascent(
            scores, y_true, candidates, self._score_function(), self.max_iter
        )
        self.offsets_ = offsets - offsets.min()
        return self

    def predict(self, X):
        """Predict the class of highest score plus offset.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
            Samples, as the estimator takes them.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        scores = self._scores(self.estimator_, X)
        return self.classes_[np.argmax(scores + self.offsets_, axis=1)]

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """The estimator's class probabilities, not shifted by the offsets.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
            Samples, as the estimator takes them.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``estimator_.predict_proba(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The estimator's decision function, not shifted by the offsets.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
            Samples, as the estimator takes them.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``estimator_.decision_function(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        With ``sklearn.set_config(enable_metadata_routing=True)``, the metadata passed
        to ``fit`` go to `estimator`'s ``fit`` as it requests them, and to the
        splitter's ``split`` (``groups``; an int `cv` is
        :class:`~sklearn.model_selection.StratifiedGroupKFold` there, which requests
        them). See scikit-learn's Metadata Routing User Guide.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` encapsulating
            routing information.
        """
        return metadata_router(self, {"estimator": self.estimator}, cv=self.cv)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator).input_tags
        tags.input_tags.sparse = inner.sparse
        tags.input_tags.string = inner.string
        tags.input_tags.allow_nan = inner.allow_nan
        return tags

    # --- helpers ---------------------------------------------------------------------------

    def _candidates(self):
        if self.offsets is None:
            return np.linspace(-3.0, 3.0, 61)
        candidates = np.asarray(self.offsets, dtype=np.float64)
        if candidates.ndim != 1 or candidates.size == 0 or not np.isfinite(candidates).all():
            raise ValueError(
                "The 'offsets' parameter of TunedOffsetClassifierCV must be a non-empty 1-D "
                f"array-like of finite floats or None. Got {self.offsets!r} instead."
            )
        return np.unique(np.append(candidates, 0.0))  # 0 keeps "no offset" possible

    def _method(self, estimator):
        if self.response_method != "auto":
            return self.response_method
        return "predict_proba" if hasattr(estimator, "predict_proba") else "decision_function"

    def _scores(self, estimator, X):
        """Scores of shape (n_samples, n_classes of `estimator`)."""
        method = self._method(estimator)
        if not hasattr(estimator, method):
            raise AttributeError(
                f"The 'response_method' parameter of TunedOffsetClassifierCV is {method!r}, "
                f"but {type(estimator).__name__} has no {method} method. Use "
                "response_method='auto' or a classifier that has it."
            )
        values = np.asarray(getattr(estimator, method)(X), dtype=np.float64)
        if method == "predict_proba":
            return np.log(np.maximum(values, np.finfo(np.float64).tiny))
        if values.ndim == 1:  # binary decision_function: the score of classes_[1]
            return np.column_stack([np.zeros_like(values), values])
        return values

    def _out_of_fold_scores(self, X, y, routed):
        """Scores of every sample from a model that did not see it, in classes_ order."""
        y_true = np.searchsorted(self.classes_, y)
        if isinstance(self.estimator, FrozenEstimator):  # fitted elsewhere: X is held out
            return self._scores(self.estimator_, X), y_true
        split_params = routed.splitter.split
        check_folds(self, self.cv, y, split_params.get("groups"))
        cv = inner_cv(self.cv, y, split_params.get("groups"))
        scores = np.full((len(y), len(self.classes_)), -np.inf)
        seen = np.zeros(len(y), dtype=int)
        for train, test in cv.split(X, y, **split_params):
            fit_params = _check_method_params(X, routed.estimator.fit, indices=train)
            model = clone(self.estimator).fit(_safe_indexing(X, train), y[train], **fit_params)
            columns = np.searchsorted(self.classes_, model.classes_)
            scores[np.ix_(test, columns)] = self._scores(model, _safe_indexing(X, test))
            seen[test] += 1
        if not np.all(seen == 1):
            raise ValueError(
                "The 'cv' parameter of TunedOffsetClassifierCV must put each sample in "
                f"exactly one validation fold; got {self.cv!r}, which leaves out "
                f"{int(np.sum(seen == 0))} and repeats {int(np.sum(seen > 1))} samples."
            )
        return scores, y_true

    def _score_function(self):
        if callable(self.scoring):
            classes = self.classes_
            return lambda y_true, y_pred: float(self.scoring(classes[y_true], classes[y_pred]))
        n_classes = len(self.classes_)
        return lambda y_true, y_pred: _score_from_counts(
            self.scoring, np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2)
        )


def _score_from_counts(name, counts):
    """`name` of one confusion matrix given as flat counts (true * n_classes + pred)."""
    n_classes = int(np.sqrt(counts.size))
    confusion = counts.reshape(n_classes, n_classes)
    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    if name == "accuracy":
        return tp.sum() / support.sum()
    present = support > 0  # classes absent from y_true do not count, as in scikit-learn
    if name == "balanced_accuracy":
        return float(np.mean(tp[present] / support[present]))
    denominator = support + confusion.sum(axis=0)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(n_classes), where=denominator > 0)
    if name == "f1_weighted":
        return float(np.sum(f1 * support) / support.sum())
    # f1_macro over the labels present in y_true or y_pred, as f1_score(average="macro")
    return float(np.mean(f1[denominator > 0]))


def _coordinate_ascent(scores, y_true, candidates, score, max_iter):
    """Per-class offsets maximising ``score(y_true, argmax(scores + offsets))``."""
    n_classes = scores.shape[1]
    offsets = np.zeros(n_classes)
    best = score(y_true, np.argmax(scores, axis=1))
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        changed = False
        for k in range(n_classes):
            y_pred = _predictions_over(scores + offsets, k, candidates - offsets[k])
            values = np.array([score(y_true, column) for column in y_pred.T])
            i = int(np.argmax(values))
            if values[i] > best + 1e-12:
                best, offsets[k], changed = float(values[i]), candidates[i], True
        if not changed:
            break
    return offsets, best, n_iter


def _predictions_over(scores, k, shifts):
    """argmax of `scores` with ``shifts[j]`` added to column k, for every j: (n, len(shifts))."""
    others = scores.copy()
    others[:, k] = -np.inf
    rival = np.argmax(others, axis=1)
    rival_score = others[np.arange(len(scores)), rival]
    own = scores[:, k, None] + shifts[None, :]
    # np.argmax keeps the first of tied maxima: class k wins a tie only against later classes
    wins = (own > rival_score[:, None]) | ((own == rival_score[:, None]) & (k < rival[:, None]))
    return np.where(wins, k, rival[:, None])
