"""Which modality drove a prediction, and which modality a model needs.

- :class:`ModalityAttributionDisplay` (exported from :mod:`skemotion.plots`): per
  prediction and averaged per class, how much each modality moved the fused
  probability (or, for :class:`~skemotion.AttentionFusionClassifier`, how much the
  attention looked at it).
- :func:`modality_importance`: permutation importance of whole modality blocks, on
  held-out folds when given a splitter.

Both find the modality blocks where a fitted model reads them: the ``modalities_`` of
its fusion step (:class:`~skemotion.LateFusionClassifier`,
:class:`~skemotion.StackingFusionClassifier`, :class:`~skemotion.AttentionFusionClassifier`,
:class:`~skemotion.EarlyFusion`), inside a pipeline of
:func:`~skemotion.make_multimodal_pipeline` or not. The steps before it (encoders,
speaker normalisation) run once; the modalities are then removed or shuffled in the
fusion step's input, so no item is encoded again.
"""

import math
import numbers
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ._model_selection import _uses_groups, check_cv_groups, speaker_cv
from ._optional import import_optional_dependency
from ._sklearn_compat import _safe_indexing
from ._targets import plain
from .fusion import AttentionFusionClassifier, LateFusionClassifier
from .fusion._modalities import _check_disjoint, _modalities_from_prefixes, _modalities_from_spec

EXTRA = "plot"
METHODS = ("shapley", "explain", "attention")
KINDS = ("per_class", "per_sample")
# Exact Shapley values evaluate the model on every subset of modalities: 2**M passes.
MAX_SHAPLEY_MODALITIES = 10
# The warning of the fusion estimators for rows with no modality: expected in the
# empty coalition of the Shapley values, where every modality is removed on purpose.
_NO_MODALITY = r".*sample\(s\) have no modality present"
_VALUE_LABELS = {
    "shapley": "mean Shapley value (change in P(class))",
    "explain": "mean contribution (explain)",
    "attention": "mean attention weight",
}


# --- where a model reads its modalities ----------------------------------------------------


def fusion_split(estimator):
    """Split a fitted model where its modality blocks are read.

    Returns ``(head, tail, modalities)``, or None when no step has ``modalities_``:
    `head` is the list of fitted steps that turn the model's input into the fusion
    step's input (samplers, which act in ``fit`` only, are skipped when applied),
    `tail` the model from the fusion step on (the fusion step itself when it is the
    last step), `modalities` its ``{modality: column positions}`` in the tail's input.
    """
    if hasattr(estimator, "modalities_"):
        return [], estimator, estimator.modalities_
    steps = getattr(estimator, "steps", None)
    if not steps:
        return None
    for i, (_, step) in enumerate(steps):
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        found = fusion_split(step)
        if found is None:
            continue
        head, tail, modalities = found
        last = i == len(steps) - 1
        before = [s for _, s in steps[:i]]
        if tail is step:
            return before, (step if last else estimator[i:]), modalities
        if last:  # a pipeline as the last step, with the fusion step inside it
            return before + head, tail, modalities
        raise ValueError(
            f"{type(estimator).__name__}: the fusion step is inside step {steps[i][0]!r}, "
            "which other steps follow; put the fusion step (or the pipeline holding it) "
            "last."
        )
    return None


def transform_head(head, X):
    """`X` through the fitted steps of `head`, as at predict time (samplers skipped)."""
    for step in head:
        if step is None or isinstance(step, str) or hasattr(step, "fit_resample"):
            continue
        X = step.transform(X)
    return X


def _with_columns(X, cols, values):
    """A copy of `X` whose columns `cols` are set to `values` (a scalar or an array)."""
    if isinstance(X, pd.DataFrame):
        X = X.copy()
        X.iloc[:, cols] = values
        return X
    X = np.array(X, copy=True)
    if np.isscalar(values) and X.dtype.kind not in "fc":
        X = X.astype(float)  # room for NaN
    X[:, cols] = values
    return X


def _as_array(values, caller, what):
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{caller}: {what} must be 1-D, one entry per sample; got {values.shape}.")
    return values


# --- attributions ----------------------------------------------------------------------------


def _targets(tail, proba, y, n_samples, caller):
    """Column of the class each row is attributed to: y's where given, else the predicted."""
    if y is None:
        return np.argmax(proba, axis=1)
    y = _as_array(y, caller, "y")
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
                warnings.filterwarnings("ignore", message=_NO_MODALITY, category=UserWarning)
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


def _attention_attributions(tail, Xt, caller):
    """Per key modality, the mean attention weight over the present query modalities."""
    if not isinstance(tail, AttentionFusionClassifier):
        raise ValueError(
            f"{caller}: method='attention' reads the attention weights of an "
            f"AttentionFusionClassifier; the fusion step is a {type(tail).__name__}. Use "
            "method='shapley', which suits every fusion estimator."
        )
    weights = tail.attention_weights(Xt)
    n_present = np.count_nonzero(weights.sum(axis=2) > 0, axis=1)
    return weights.sum(axis=1) / np.maximum(n_present, 1)[:, None]


def _explain_attributions(tail, Xt, y, caller):
    if not isinstance(tail, LateFusionClassifier):
        raise ValueError(
            f"{caller}: method='explain' reads LateFusionClassifier.explain; the fusion "
            f"step is a {type(tail).__name__}. Use method='shapley', which suits every "
            "fusion estimator."
        )
    if y is not None:
        raise ValueError(
            f"{caller}: method='explain' attributes the predicted class only "
            "(LateFusionClassifier.explain); pass y=None, or method='shapley' to "
            "attribute the true class."
        )
    frame = tail.explain(Xt)
    return frame[list(tail.modalities_)].to_numpy(dtype=float)


class ModalityAttributionDisplay:
    """How much each modality moved each prediction, and on average per class.

    Build it with :meth:`from_estimator` from a fitted fusion model (a
    :class:`~skemotion.LateFusionClassifier`, :class:`~skemotion.StackingFusionClassifier`,
    :class:`~skemotion.AttentionFusionClassifier` or :class:`~skemotion.EarlyFusion`
    pipeline, alone or as the last step of :func:`~skemotion.make_multimodal_pipeline`).
    Each sample is attributed its *target* class: its true class when ``y`` is given,
    else its predicted class. Three methods say what an attribution is:

    - ``"shapley"`` (any fusion model with ``predict_proba``): the exact Shapley value
      of each modality for the fused probability of the target class, the modalities
      being the players and a coalition's value the probability with the other
      modalities missing (their blocks set to NaN, which every fusion estimator
      handles). A sample's values sum to ``proba_ - baseline_``: its probability of the
      target class minus the probability with no modality at all (``class_prior_`` for
      late, stacking and attention fusion). Positive: the modality raised the
      probability of that class; a modality missing in the sample gets 0.
    - ``"explain"`` (:class:`~skemotion.LateFusionClassifier`, predicted class only): the
      columns of :meth:`~skemotion.LateFusionClassifier.explain`. With ``rule="mean"``
      they are ``w_m * p_m(class)`` and sum to ``proba_``; with ``rule="product"`` they
      are ``w_m * log p_m(class)`` and sum to the log of the unnormalised fused
      probability.
    - ``"attention"`` (:class:`~skemotion.AttentionFusionClassifier`): for each modality,
      the attention weight the present modalities put on it, averaged over them (the
      mean over the present rows of
      :meth:`~skemotion.AttentionFusionClassifier.attention_weights`). A sample's values
      sum to 1 (0 for a sample with no modality); a missing modality gets 0. This is
      where the model looked, not how much the probability moved.

    ``per_class_[k]`` is the mean of the attributions of the samples whose target is
    class ``k``, so its sum over the modalities is the mean of ``total_`` over those
    samples: with ``"shapley"``, the mean of ``proba_ - baseline_``; with
    ``"explain"`` and ``rule="mean"``, the mean of ``proba_``; with ``"attention"``, 1.
    A class that is no sample's target has a row of NaN.

    Parameters
    ----------
    attributions : array-like of shape (n_samples, n_modalities)
        The attribution of each modality, per sample.
    target : array-like of shape (n_samples,)
        The class each sample is attributed to.
    modalities : list of str
        The modality names, in the order of the columns of `attributions`.
    classes : array-like of shape (n_classes,)
        Every class, in the order of the rows of ``per_class_`` (the model's ``classes_``).
    method : {"shapley", "explain", "attention"}, default="shapley"
        What the attributions are (see above); it names the value axis.
    by : {"predicted", "true"}, default="predicted"
        Whether `target` holds the predicted or the true classes; it names the class axis.
    proba : array-like of shape (n_samples,) or None, default=None
        The fused probability of each sample's target class.
    baseline : array-like of shape (n_samples,) or None, default=None
        With ``"shapley"``: the probability of the target class with no modality.

    Attributes
    ----------
    attributions_ : ndarray of shape (n_samples, n_modalities)
        The attributions, as floats.
    target_ : ndarray of shape (n_samples,)
        The class each sample is attributed to.
    modalities_ : list of str
        The modality names.
    classes_ : ndarray of shape (n_classes,)
        The classes, in the order of the rows of ``per_class_``.
    per_class_ : ndarray of shape (n_classes, n_modalities)
        Mean attribution over the samples of each target class (NaN for a class without
        any).
    class_counts_ : ndarray of shape (n_classes,)
        Number of samples of each target class.
    total_ : ndarray of shape (n_samples,)
        Each sample's attributions summed over the modalities.
    proba_ : ndarray of shape (n_samples,) or None
        The fused probability of the target class.
    baseline_ : ndarray of shape (n_samples,) or None
        The probability of the target class with no modality (``"shapley"``).
    bars_ : dict of str to matplotlib BarContainer
        The bars of each modality (``kind="per_class"``); empty otherwise.
    totals_ : matplotlib Line2D or None
        The markers of each class's sum over the modalities (``kind="per_class"``).
    im_ : matplotlib AxesImage or None
        The heat map of the attributions (``kind="per_sample"``).
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    skemotion.modality_importance : How much a model's score needs each modality.
    skemotion.LateFusionClassifier.explain : Per-sample contributions of late fusion.
    skemotion.AttentionFusionClassifier.attention_weights : The attention per sample.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion import LateFusionClassifier
    >>> from skemotion.plots import ModalityAttributionDisplay
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 80)
    >>> X = np.column_stack([y + rng.normal(0, 0.5, 80), rng.normal(0, 1, 80)])
    >>> clf = LateFusionClassifier(LogisticRegression(),
    ...                            modalities={"face": [0], "audio": [1]}).fit(X, y)
    >>> disp = ModalityAttributionDisplay.from_estimator(clf, X, y)
    >>> disp.attributions_.shape, disp.per_class_.shape
    ((80, 2), (2, 2))
    >>> bool(np.allclose(disp.total_, disp.proba_ - disp.baseline_))
    True
    >>> bool((np.abs(disp.per_class_[:, 0]) > np.abs(disp.per_class_[:, 1])).all())
    True
    """

    def __init__(
        self,
        attributions,
        target,
        *,
        modalities,
        classes,
        method="shapley",
        by="predicted",
        proba=None,
        baseline=None,
    ):
        self.attributions = attributions
        self.target = target
        self.modalities = modalities
        self.classes = classes
        self.method = method
        self.by = by
        self.proba = proba
        self.baseline = baseline

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        method="shapley",
        kind="per_class",
        ax=None,
        colors=None,
        cmap=None,
    ):
        """Attribute a fitted fusion model's predictions on `X` to its modalities, and plot.

        Parameters
        ----------
        estimator : fitted estimator
            A fusion estimator, or a pipeline whose fusion step (the step with
            ``modalities_``) comes last or starts its last part, e.g. what
            :func:`~skemotion.make_multimodal_pipeline` builds.
        X : DataFrame or array-like of shape (n_samples, n_features)
            The model's input.
        y : array-like of shape (n_samples,) or None, default=None
            True labels: each sample is then attributed its true class (how much each
            modality moved the probability of the right answer). None attributes the
            predicted class.
        method : {"shapley", "explain", "attention"}, default="shapley"
            What an attribution is; see the class description.
        kind : {"per_class", "per_sample"}, default="per_class"
            What to draw; see :meth:`plot`.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        colors : dict or None, default=None
            Colour of some modalities' bars (``{"face": "tab:orange"}``).
        cmap : str or matplotlib Colormap or None, default=None
            Colormap of the heat map (``kind="per_sample"``); see :meth:`plot`.

        Returns
        -------
        display : ModalityAttributionDisplay
            The display, drawn.

        Raises
        ------
        ValueError
            If no step of `estimator` has modality blocks (``modalities_``), if
            `method` does not suit its fusion step, if `y` holds a label the model does
            not know, or if ``"shapley"`` would need more than 2**10 passes.
        """
        caller = f"{cls.__name__}.from_estimator"
        import_optional_dependency("matplotlib", extra=EXTRA, caller=caller)
        if method not in METHODS:
            raise ValueError(f"{caller}: method must be one of {METHODS}; got {method!r}.")
        check_is_fitted(estimator)
        head, tail, modalities = _split_or_raise(estimator, caller)
        if not hasattr(tail, "predict_proba"):
            raise ValueError(
                f"{caller}: the fusion model {type(tail).__name__} has no predict_proba; "
                "attributions are changes in probability. Use a classifier with "
                "predict_proba."
            )
        Xt = transform_head(head, X)
        proba = np.asarray(tail.predict_proba(Xt))
        targets = _targets(tail, proba, y, proba.shape[0], caller)
        baseline = None
        if method == "shapley":
            if len(modalities) > MAX_SHAPLEY_MODALITIES:
                raise ValueError(
                    f"{caller}: method='shapley' evaluates the model on every subset of "
                    f"the modalities, 2**{len(modalities)} passes here; at most "
                    f"{MAX_SHAPLEY_MODALITIES} modalities are supported."
                )
            attributions, baseline = shapley_attributions(tail, Xt, modalities, targets, proba)
        elif method == "explain":
            attributions = _explain_attributions(tail, Xt, y, caller)
        else:
            attributions = _attention_attributions(tail, Xt, caller)
        display = cls(
            attributions,
            tail.classes_[targets],
            modalities=list(modalities),
            classes=tail.classes_,
            method=method,
            by="predicted" if y is None else "true",
            proba=proba[np.arange(len(targets)), targets],
            baseline=baseline,
        )
        return display.plot(kind=kind, ax=ax, colors=colors, cmap=cmap)

    def plot(self, *, kind="per_class", ax=None, colors=None, cmap=None):
        """Draw the attributions per class (bars) or per sample (heat map).

        Parameters
        ----------
        kind : {"per_class", "per_sample"}, default="per_class"
            ``"per_class"``: for each class, one bar per modality, its mean
            attribution (``per_class_``), and a black marker at their sum.
            ``"per_sample"``: a heat map, one column per sample (grouped by target
            class), one row per modality.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        colors : dict or None, default=None
            Colour of some modalities' bars; the others take matplotlib's ``tab10``.
        cmap : str or matplotlib Colormap or None, default=None
            Colormap of the heat map; None: ``"RdBu_r"`` centred on 0 for changes in
            probability, ``"Blues"`` for attention weights.

        Returns
        -------
        display : ModalityAttributionDisplay
            The display, with its attributes (``per_class_``, ``ax_``, ...) set.
        """
        caller = f"{type(self).__name__}.plot"
        matplotlib = import_optional_dependency("matplotlib", extra=EXTRA, caller=caller)
        if kind not in KINDS:
            raise ValueError(f"{caller}: kind must be one of {KINDS}; got {kind!r}.")
        self._summarise(caller)
        ax = _axes(ax, caller)
        self.bars_, self.totals_, self.im_ = {}, None, None
        if kind == "per_class":
            self._plot_per_class(ax, matplotlib, colors)
        else:
            self._plot_per_sample(ax, cmap)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _summarise(self, caller):
        """Check the inputs and set the attributes that do not depend on the plot."""
        attributions = np.asarray(self.attributions, dtype=float)
        target = _as_array(self.target, caller, "target")
        modalities = [str(m) for m in self.modalities]
        if attributions.ndim != 2 or attributions.shape != (len(target), len(modalities)):
            raise ValueError(
                f"{caller}: attributions must have shape (n_samples, n_modalities) = "
                f"({len(target)}, {len(modalities)}); got {attributions.shape}."
            )
        if self.method not in METHODS:
            raise ValueError(f"{caller}: method must be one of {METHODS}; got {self.method!r}.")
        classes = np.asarray(self.classes)
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
            self.per_class_ = sums / counts[:, None]  # 0 / 0: NaN for an absent class
        self._codes = codes
        self.attributions_, self.target_, self.modalities_ = attributions, target, modalities
        self.classes_, self.class_counts_ = classes, counts
        self.total_ = attributions.sum(axis=1)
        self.proba_ = None if self.proba is None else np.asarray(self.proba, dtype=float)
        self.baseline_ = None if self.baseline is None else np.asarray(self.baseline, dtype=float)

    def _plot_per_class(self, ax, matplotlib, colors):
        n_classes, n_modalities = self.per_class_.shape
        cmap = matplotlib.colormaps["tab10"]
        width = 0.8 / n_modalities
        x = np.arange(n_classes)
        for k, modality in enumerate(self.modalities_):
            color = (colors or {}).get(modality, cmap(k % cmap.N))
            offset = (k - (n_modalities - 1) / 2) * width
            self.bars_[modality] = ax.bar(
                x + offset, self.per_class_[:, k], width, label=modality, color=color
            )
        (self.totals_,) = ax.plot(
            x, self.per_class_.sum(axis=1), "D", color="black", label="sum over modalities"
        )
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(
            x,
            [
                f"{plain(c)}\n(n={n})"
                for c, n in zip(self.classes_, self.class_counts_, strict=True)
            ],
        )
        ax.set(xlabel=f"{self.by} class", ylabel=_VALUE_LABELS[self.method])
        ax.legend(loc="best")

    def _plot_per_sample(self, ax, cmap):
        values = self.attributions_[np.argsort(self._codes, kind="stable")].T
        if self.method == "attention":
            kwargs = {"cmap": cmap or "Blues", "vmin": 0.0, "vmax": 1.0}
        else:
            bound = float(np.nanmax(np.abs(values))) if values.size else 1.0
            kwargs = {"cmap": cmap or "RdBu_r", "vmin": -bound, "vmax": bound}
        self.im_ = ax.imshow(values, aspect="auto", interpolation="nearest", **kwargs)
        ax.figure.colorbar(self.im_, ax=ax, label=_VALUE_LABELS[self.method].replace("mean ", ""))
        ax.set_yticks(np.arange(len(self.modalities_)), self.modalities_)
        edges = np.concatenate([[0], np.cumsum(self.class_counts_)])
        shown = self.class_counts_ > 0
        centres = (edges[:-1] + edges[1:]) / 2 - 0.5
        ax.set_xticks(
            centres[shown], [plain(c) for c in self.classes_[shown]], rotation=45, ha="right"
        )
        for edge in np.unique(edges[1:-1]):
            if 0 < edge < edges[-1]:  # between two classes' samples
                ax.axvline(edge - 0.5, color="black", linewidth=0.8)
        ax.set_xlabel(f"samples, grouped by {self.by} class")


def _axes(ax, caller):
    """`ax`, or new axes on a new pyplot figure when None."""
    if ax is not None:
        return ax
    plt = import_optional_dependency("matplotlib.pyplot", extra=EXTRA, caller=caller)
    _, ax = plt.subplots()
    return ax


def _split_or_raise(estimator, caller):
    found = fusion_split(estimator)
    if found is None:
        raise ValueError(
            f"{caller}: {type(estimator).__name__} has no fusion step with modality "
            "blocks (modalities_): pass a fitted LateFusionClassifier, "
            "StackingFusionClassifier, AttentionFusionClassifier or EarlyFusion "
            "pipeline, or a make_multimodal_pipeline ending in one."
        )
    return found


# --- permutation importance of modalities ----------------------------------------------------


def modality_importance(
    estimator,
    X,
    y,
    *,
    scoring=None,
    n_repeats=5,
    cv=None,
    groups=None,
    random_state=None,
    modalities=None,
):
    """Permutation importance of whole modalities: the score lost when one is shuffled.

    For each modality, the rows of all its columns are permuted together (the face
    features of one clip go with the voice of another), which breaks the link between
    that modality and the labels while keeping the modality's own distribution and the
    other modalities intact. The importance is the score with the data as they are
    minus the score with the modality shuffled, as in
    :func:`sklearn.inspection.permutation_importance`, of which this is the version
    for blocks of columns.

    Parameters
    ----------
    estimator : estimator
        A fusion estimator, or a pipeline holding one (what
        :func:`~skemotion.make_multimodal_pipeline` builds): its modalities are shuffled
        in the fusion step's input, after the encoders and any speaker normalisation,
        so each item is encoded once. Fitted when `cv` is None; otherwise it is cloned
        and fitted on each training part.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The model's input.
    y : array-like of shape (n_samples,)
        True labels.
    scoring : str, callable or None, default=None
        One scorer, as for :func:`~sklearn.model_selection.cross_validate`
        (``"f1_macro"``, ``"balanced_accuracy"``); None uses the estimator's ``score``
        (accuracy).
    n_repeats : int, default=5
        Permutations per modality (per fold).
    cv : int, cross-validation generator, iterable or None, default=None
        None scores the fitted `estimator` on `X` as given (pass held-out data). Else
        the folds: each fold refits a clone on its training part and shuffles the
        modalities of its test part. An int is ``StratifiedGroupKFold(cv)`` when
        `groups` are given (speaker-independent folds, see
        :func:`~skemotion.speaker_cv`) and ``StratifiedKFold(cv)`` otherwise.
    groups : array-like of shape (n_samples,) or None, default=None
        The speaker of each sample, passed to the splitter; a splitter that would put
        one speaker in both parts of a fold gets a
        :class:`~skemotion.GroupLeakageWarning`. Only with `cv`.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations.
    modalities : dict or None, default=None
        ``{modality: columns of X}`` (slices, positions or names), to shuffle blocks
        of `X` itself, for a model without a fusion step. None takes the modalities of
        the fusion step, or else the ``"<modality>__"`` prefixes of X's column names.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``importances_mean`` and ``importances_std`` (n_modalities,): mean and standard
        deviation over all permutations of all folds; ``importances``
        (n_modalities, n_folds * n_repeats): the score lost in each permutation, fold
        by fold; ``modalities`` (list of str): the modality of each row;
        ``baseline_scores`` (n_folds,): the score of each fold with nothing shuffled.

    See Also
    --------
    sklearn.inspection.permutation_importance : The same, one column at a time.
    skemotion.plots.ModalityAttributionDisplay : Per-prediction attributions.

    Notes
    -----
    Rows where a modality is missing (an all-NaN block) are shuffled with the others,
    so the missing values move to other samples. With `cv`, the folds' models are
    fitted without ``groups`` (a :class:`~skemotion.StackingFusionClassifier` then makes
    its inner folds without speakers).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion import LateFusionClassifier, modality_importance
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 120)
    >>> X = np.column_stack([y + rng.normal(0, 0.5, 120), rng.normal(0, 1, 120)])
    >>> clf = LateFusionClassifier(LogisticRegression(),
    ...                            modalities={"face": [0], "audio": [1]})
    >>> result = modality_importance(clf, X, y, cv=3, random_state=0)
    >>> result.modalities, result.importances.shape
    (['face', 'audio'], (2, 15))
    >>> bool(result.importances_mean[0] > 0.2 > abs(result.importances_mean[1]))
    True
    """
    caller = "modality_importance"
    _check_importance_params(n_repeats, scoring, cv, groups, caller)
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    y = _as_array(y, caller, "y")
    if len(y) != _n_rows(X):
        raise ValueError(f"{caller}: X has {_n_rows(X)} rows but y has {len(y)} labels.")
    rng = check_random_state(random_state)
    if cv is None:
        check_is_fitted(estimator)
        folds = [(estimator, X, y)]
    else:
        folds = _fitted_folds(estimator, X, y, cv, groups)
    names, baselines, losses = None, [], []
    for model, X_test, y_test in folds:
        fold_names, baseline, lost = _permutation_losses(
            model, X_test, y_test, scoring, n_repeats, rng, modalities, caller
        )
        if names is not None and fold_names != names:
            raise ValueError(
                f"{caller}: the folds' models have different modalities ({names} and "
                f"{fold_names}); a modality missing from a training part? Pass modalities=."
            )
        names = fold_names
        baselines.append(baseline)
        losses.append(lost)
    importances = np.concatenate(losses, axis=1)
    return Bunch(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
        modalities=names,
        baseline_scores=np.asarray(baselines),
    )


def _check_importance_params(n_repeats, scoring, cv, groups, caller):
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(
            f"The 'n_repeats' parameter of {caller} must be an int of at least 1. "
            f"Got {n_repeats!r} instead."
        )
    if isinstance(scoring, (list, tuple, set, dict)):
        raise ValueError(
            f"The 'scoring' parameter of {caller} must be one scorer (a str, a callable "
            f"or None). Got {scoring!r}; call it once per metric."
        )
    if groups is not None and cv is None:
        raise ValueError(
            f"{caller}: groups are passed to the splitter of cv, but cv is None (the "
            "fitted estimator is scored on X as given). Pass cv=5 for folds by group, "
            "or leave groups out."
        )


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _splitter(cv, X, y, groups, classifier):
    """The folds: an int with groups is by group (stratified for a classifier)."""
    from sklearn.model_selection import GroupKFold

    if groups is None:
        return check_cv(cv, y, classifier=classifier)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return speaker_cv(cv) if classifier else GroupKFold(cv)
    return check_cv_groups(cv, groups, X=X, y=y, classifier=classifier)


def _fitted_folds(estimator, X, y, cv, groups):
    """(model fitted on the training part, test X, test y) of each fold."""
    splitter = _splitter(cv, X, y, groups, is_classifier(estimator))
    if not _uses_groups(splitter):
        groups = None  # spare KFold's "groups is ignored" (check_cv_groups warned of leakage)
    folds = []
    for train, test in splitter.split(X, y, groups):
        model = clone(estimator).fit(_safe_indexing(X, train), y[train])
        folds.append((model, _safe_indexing(X, test), y[test]))
    return folds


def _blocks(model, X, modalities, caller):
    """(model to score, its input, {modality: column positions}) for a fitted model."""
    if modalities is not None:
        columns = getattr(X, "columns", None)
        names = None if columns is None else [str(c) for c in columns]
        blocks = _modalities_from_spec(caller, modalities, names, X.shape[1])
        _check_disjoint(caller, blocks, names)
        return model, X, blocks
    found = fusion_split(model)
    if found is not None:
        head, tail, blocks = found
        return tail, transform_head(head, X), blocks
    columns = getattr(X, "columns", None)
    if columns is None:
        raise ValueError(
            f"{caller} cannot tell which columns of X belong to which modality: "
            f"{type(model).__name__} has no fusion step (modalities_) and X has no column "
            "names. Pass modalities={'face': slice(0, 35), 'audio': slice(35, None)}."
        )
    return model, X, _modalities_from_prefixes(caller, list(columns))


def _permutation_losses(model, X, y, scoring, n_repeats, rng, modalities, caller):
    """Modality names, the score as is, and the score lost per modality and permutation."""
    scored, Xt, blocks = _blocks(model, X, modalities, caller)
    scorer = check_scoring(scored, scoring=scoring)
    baseline = float(scorer(scored, Xt, y))
    lost = np.empty((len(blocks), n_repeats))
    for r in range(n_repeats):
        order = rng.permutation(len(y))  # the same shuffle of rows for every modality
        for k, cols in enumerate(blocks.values()):
            shuffled = _with_columns(Xt, cols, _columns(Xt, cols)[order])
            with warnings.catch_warnings():
                # Shuffled missing blocks can leave a row with none: not the user's data.
                warnings.filterwarnings("ignore", message=_NO_MODALITY, category=UserWarning)
                lost[k, r] = baseline - float(scorer(scored, shuffled, y))
    return list(blocks), baseline, lost


def _columns(X, cols):
    return X.iloc[:, cols].to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)[:, cols]
