"""Per-prediction attributions of a fusion model to its modalities (no matplotlib)."""

import math
import warnings
from itertools import combinations

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from .._targets import plain
from ..fusion import AttentionFusionClassifier, LateFusionClassifier
from ._split import NO_MODALITY, _as_1d, _with_columns, split_or_raise, transform_head

METHODS = ("shapley", "explain", "attention")
# Exact Shapley values evaluate the model on every subset of modalities: 2**M passes.
MAX_SHAPLEY_MODALITIES = 10


def modality_attributions(estimator, X, y=None, *, method="shapley"):
    """How much each modality moved each prediction of a fitted fusion model.

    Each sample is attributed its *target* class: its true class when `y` is given,
    else its predicted class. The modality blocks are those of the model's fusion step
    (its ``modalities_``), at that step's input: the steps before it (encoders,
    speaker normalisation) transform `X` once. Three methods say what an attribution
    is:

    - ``"shapley"`` (any fusion model with ``predict_proba``): the exact Shapley value
      of each modality for the fused probability of the target class, the modalities
      being the players and a coalition's value the probability with the other
      modalities missing (their blocks set to NaN, which every fusion estimator
      handles). A sample's values sum to ``proba - baseline``: its probability of the
      target class minus the probability with no modality at all (``class_prior_``
      for late, stacking and attention fusion). Positive: the modality raised the
      probability of that class; a modality missing in the sample gets 0.
    - ``"explain"`` (:class:`~skemotion.LateFusionClassifier`, predicted class only): the
      columns of :meth:`~skemotion.LateFusionClassifier.explain`. With ``rule="mean"``
      they are ``w_m * p_m(class)`` and sum to ``proba``; with ``rule="product"`` they
      are ``w_m * log p_m(class)`` and sum to the log of the unnormalised fused
      probability.
    - ``"attention"`` (:class:`~skemotion.AttentionFusionClassifier`): for each modality,
      the attention weight the present modalities put on it, averaged over them (the
      mean over the present rows of
      :meth:`~skemotion.AttentionFusionClassifier.attention_weights`). A sample's values
      sum to 1 (0 for a sample with no modality); a missing modality gets 0. This is
      where the model looked, not how much the probability moved.

    Parameters
    ----------
    estimator : fitted estimator
        A fusion estimator (:class:`~skemotion.LateFusionClassifier`,
        :class:`~skemotion.StackingFusionClassifier`,
        :class:`~skemotion.AttentionFusionClassifier`, or a pipeline of
        :class:`~skemotion.EarlyFusion` and a classifier), or a pipeline whose fusion
        step (the step with ``modalities_``) comes last or starts its last part, e.g.
        what :func:`~skemotion.make_multimodal_pipeline` builds.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The model's input.
    y : array-like of shape (n_samples,) or None, default=None
        True labels: each sample is then attributed its true class (how much each
        modality moved the probability of the right answer). None attributes the
        predicted class.
    method : {"shapley", "explain", "attention"}, default="shapley"
        What an attribution is; see above.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``attributions`` (n_samples, n_modalities): the attribution of each modality
        per sample; ``target`` (n_samples,): the class each sample is attributed to;
        ``modalities`` (list of str): the modality of each column; ``classes``
        (n_classes,): the model's ``classes_``; ``per_class`` (n_classes,
        n_modalities): the mean attribution over the samples of each target class
        (NaN for a class that is no sample's target); ``class_counts`` (n_classes,):
        the number of samples of each target class; ``total`` (n_samples,): each
        sample's attributions summed over the modalities; ``proba`` (n_samples,): the
        fused probability of each sample's target class; ``baseline`` (n_samples,) or
        None: with ``"shapley"``, the probability of the target class with no modality.

    Raises
    ------
    ValueError
        If no step of `estimator` has modality blocks (``modalities_``), if `method`
        does not suit its fusion step, if `y` holds a label the model does not know,
        or if ``"shapley"`` would need more than 2**10 passes.

    See Also
    --------
    skemotion.plots.ModalityAttributionDisplay : These attributions, plotted.
    skemotion.modality_importance : How much a model's score needs each modality.

    Notes
    -----
    ``per_class[k]`` sums over the modalities to the mean of ``total`` over the
    samples whose target is class ``k``: with ``"shapley"``, the mean of
    ``proba - baseline``; with ``"explain"`` and ``rule="mean"``, the mean of
    ``proba``; with ``"attention"``, 1 less the share of those samples that have no
    modality at all.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion import LateFusionClassifier, modality_attributions
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 80)
    >>> X = np.column_stack([y + rng.normal(0, 0.5, 80), rng.normal(0, 1, 80)])
    >>> clf = LateFusionClassifier(LogisticRegression(),
    ...                            modalities={"face": [0], "audio": [1]}).fit(X, y)
    >>> result = modality_attributions(clf, X, y)
    >>> result.modalities, result.attributions.shape, result.per_class.shape
    (['face', 'audio'], (80, 2), (2, 2))
    >>> bool(np.allclose(result.total, result.proba - result.baseline))
    True
    """
    return _modality_attributions(estimator, X, y, method, "modality_attributions")


def _modality_attributions(estimator, X, y, method, caller):
    if method not in METHODS:
        raise ValueError(f"{caller}: method must be one of {METHODS}; got {method!r}.")
    check_is_fitted(estimator)
    head, tail, modalities = split_or_raise(estimator, caller)
    _check_method(tail, method, y, len(modalities), caller)  # before any pass of the model
    Xt = transform_head(head, X)
    proba = np.asarray(tail.predict_proba(Xt))
    targets = _targets(tail, proba, y, proba.shape[0], caller)
    baseline = None
    if method == "shapley":
        attributions, baseline = shapley_attributions(tail, Xt, modalities, targets, proba)
    elif method == "explain":
        frame = tail.explain(Xt)
        attributions = frame[list(tail.modalities_)].to_numpy(dtype=float)
    else:
        attributions = _attention_attributions(tail, Xt)
    result, _ = summarise(
        attributions,
        tail.classes_[targets],
        list(modalities),
        tail.classes_,
        proba=proba[np.arange(len(targets)), targets],
        baseline=baseline,
        caller=caller,
    )
    return result


def _check_method(tail, method, y, n_modalities, caller):
    """The fusion step `tail` can give `method`'s attributions, or a ValueError."""
    if not hasattr(tail, "predict_proba"):
        raise ValueError(
            f"{caller}: the fusion model {type(tail).__name__} has no predict_proba; "
            "attributions are changes in probability. Use a classifier with "
            "predict_proba."
        )
    if method == "shapley" and n_modalities > MAX_SHAPLEY_MODALITIES:
        raise ValueError(
            f"{caller}: method='shapley' evaluates the model on every subset of the "
            f"modalities, 2**{n_modalities} passes here; at most "
            f"{MAX_SHAPLEY_MODALITIES} modalities are supported."
        )
    if method == "explain":
        if not isinstance(tail, LateFusionClassifier):
            raise ValueError(
                f"{caller}: method='explain' reads LateFusionClassifier.explain; the "
                f"fusion step is a {type(tail).__name__}. Use method='shapley', which "
                "suits every fusion estimator."
            )
        if y is not None:
            raise ValueError(
                f"{caller}: method='explain' attributes the predicted class only "
                "(LateFusionClassifier.explain); pass y=None, or method='shapley' to "
                "attribute the true class."
            )
    if method == "attention" and not isinstance(tail, AttentionFusionClassifier):
        raise ValueError(
            f"{caller}: method='attention' reads the attention weights of an "
            f"AttentionFusionClassifier; the fusion step is a {type(tail).__name__}. Use "
            "method='shapley', which suits every fusion estimator."
        )


def _targets(tail, proba, y, n_samples, caller):
    """Column of the class each row is attributed to: y's where given, else the predicted."""
    if y is None:
        return np.argmax(proba, axis=1)
    y = _as_1d(y, caller, "y")
    if len(y) != n_samples:
        raise ValueError(f"{caller}: X has {n_samples} rows but y has {len(y)} labels.")
    index = {plain(label): k for k, label in enumerate(tail.classes_)}
    unknown = sorted({plain(label) for label in y} - set(index), key=str)
    if unknown:
        raise ValueError(
            f"{caller}: y holds label(s) the model was not fitted on "
            f"({', '.join(map(repr, unknown[:5]))}); its classes are "
            f"{[plain(c) for c in tail.classes_]!r}. Pass the labels of the model's classes."
        )
    return np.array([index[plain(label)] for label in y], dtype=np.intp)


def shapley_attributions(tail, Xt, modalities, targets, proba):
    """Exact Shapley values of the modalities for the probability of each row's target.

    The players are the modalities, the value of a coalition the fused probability of
    the row's target class with the other modalities missing (their blocks NaN). Returns
    the values (n_samples, n_modalities) and the value of the empty coalition.
    """
    names = list(modalities)
    n = len(names)
    rows = np.arange(len(targets))
    value = {(1 << n) - 1: proba[rows, targets]}
    for size in range(n):
        for kept in combinations(range(n), size):
            mask = sum(1 << k for k in kept)
            removed = [modalities[names[k]] for k in range(n) if k not in kept]
            X_missing = _with_columns(Xt, np.concatenate(removed), np.nan)
            with warnings.catch_warnings():
                # The empty coalition removes every modality on purpose.
                warnings.filterwarnings("ignore", message=NO_MODALITY, category=UserWarning)
                value[mask] = np.asarray(tail.predict_proba(X_missing))[rows, targets]
    phi = np.zeros((len(targets), n))
    for k in range(n):
        for mask, v in value.items():
            if mask & (1 << k):
                continue
            size = bin(mask).count("1")
            share = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            phi[:, k] += share * (value[mask | (1 << k)] - v)
    return phi, value[0]


def _attention_attributions(tail, Xt):
    """Per key modality, the mean attention weight over the present query modalities."""
    weights = tail.attention_weights(Xt)
    n_present = np.count_nonzero(weights.sum(axis=2) > 0, axis=1)
    return weights.sum(axis=1) / np.maximum(n_present, 1)[:, None]


def summarise(attributions, target, modalities, classes, *, proba, baseline, caller):
    """Check attributions and their targets; return them with per-class means.

    Returns the Bunch of :func:`modality_attributions` and the position of each
    sample's target in `classes`.
    """
    attributions = np.asarray(attributions, dtype=float)
    target = _as_1d(target, caller, "target")
    modalities = [str(m) for m in modalities]
    if attributions.ndim != 2 or attributions.shape != (len(target), len(modalities)):
        raise ValueError(
            f"{caller}: attributions must have shape (n_samples, n_modalities) = "
            f"({len(target)}, {len(modalities)}); got {attributions.shape}."
        )
    per_sample = {}
    for name, values in (("proba", proba), ("baseline", baseline)):
        if values is not None:
            values = np.asarray(values, dtype=float)
            if values.shape != target.shape:
                raise ValueError(
                    f"{caller}: {name} must have one value per sample, shape "
                    f"({len(target)},) like target; got {values.shape}."
                )
        per_sample[name] = values
    classes = np.asarray(classes)
    position = {plain(c): k for k, c in enumerate(classes)}
    unknown = sorted({plain(t) for t in target} - set(position), key=str)
    if unknown:
        raise ValueError(
            f"{caller}: target holds classes not in classes ({unknown[:5]!r}); pass "
            "every class as classes (the model's classes_)."
        )
    codes = np.array([position[plain(t)] for t in target], dtype=np.intp)
    counts = np.bincount(codes, minlength=len(classes))
    sums = np.zeros((len(classes), len(modalities)))
    np.add.at(sums, codes, attributions)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = sums / counts[:, None]  # 0 / 0: NaN for an absent class
    result = Bunch(
        attributions=attributions,
        target=target,
        modalities=modalities,
        classes=classes,
        per_class=per_class,
        class_counts=counts,
        total=attributions.sum(axis=1),
        **per_sample,
    )
    return result, codes
