"""ModalityAttributionDisplay: the attributions of :func:`modality_attributions`, drawn.

Exported from :mod:`skemotion.plots`, beside the other displays.
"""

from collections.abc import Mapping

import numpy as np

from .._plotting import check_matplotlib, get_axes
from .._targets import plain
from ._attributions import METHODS, _modality_attributions, summarise

KINDS = ("per_class", "per_sample")
BY = ("predicted", "true")
_VALUE_LABELS = {
    "shapley": "mean Shapley value (change in P(class))",
    "explain": "mean contribution (explain)",
    "attention": "mean attention weight",
}


class ModalityAttributionDisplay:
    """How much each modality moved each prediction, and on average per class.

    Build it with :meth:`from_estimator` from a fitted fusion model (a
    :class:`~skemotion.LateFusionClassifier`, :class:`~skemotion.StackingFusionClassifier`,
    :class:`~skemotion.AttentionFusionClassifier` or :class:`~skemotion.EarlyFusion`
    pipeline, alone or as the last step of :func:`~skemotion.make_multimodal_pipeline`),
    which computes the attributions with :func:`~skemotion.modality_attributions`
    (without a plot, that function gives the same numbers). Each sample is attributed
    its *target* class: its true class when ``y`` is given, else its predicted class.
    What an attribution is under each method (``"shapley"``, ``"explain"``,
    ``"attention"``) and what it sums to is described in
    :func:`~skemotion.modality_attributions`; here its ``proba`` and ``baseline`` are
    the attributes ``proba_`` and ``baseline_``.

    ``per_class_[k]`` is the mean of the attributions of the samples whose target is
    class ``k``, so its sum over the modalities is the mean of ``total_`` over those
    samples: with ``"shapley"``, the mean of ``proba_ - baseline_``; with
    ``"explain"`` and ``rule="mean"``, the mean of ``proba_``; with ``"attention"``, 1
    less the share of those samples that have no modality at all (1 when every sample
    has one). A class that is no sample's target has a row of NaN.

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
    skemotion.modality_attributions : The same attributions, without a plot.
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
        check_matplotlib(caller)
        _check_kind(kind, caller)  # before the attributions, which take passes of the model
        result = _modality_attributions(estimator, X, y, method, caller)
        display = cls(
            result.attributions,
            result.target,
            modalities=result.modalities,
            classes=result.classes,
            method=method,
            by="predicted" if y is None else "true",
            proba=result.proba,
            baseline=result.baseline,
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
        matplotlib = check_matplotlib(caller)
        _check_kind(kind, caller)
        self._summarise(caller)
        colors = self._check_colors(colors, caller)
        ax = get_axes(ax, caller)
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
        if self.method not in METHODS:
            raise ValueError(f"{caller}: method must be one of {METHODS}; got {self.method!r}.")
        if self.by not in BY:
            raise ValueError(
                f"{caller}: by must be one of {BY} (whether target holds the predicted or "
                f"the true classes); got {self.by!r}."
            )
        result, self._codes = summarise(
            self.attributions,
            self.target,
            self.modalities,
            self.classes,
            proba=self.proba,
            baseline=self.baseline,
            caller=caller,
        )
        self.attributions_, self.target_ = result.attributions, result.target
        self.modalities_, self.classes_ = result.modalities, result.classes
        self.per_class_, self.class_counts_ = result.per_class, result.class_counts
        self.total_, self.proba_, self.baseline_ = result.total, result.proba, result.baseline

    def _check_colors(self, colors, caller):
        if colors is None:
            return {}
        if not isinstance(colors, Mapping):
            raise TypeError(
                f"{caller}: colors must be a dict {{modality: colour}}; got "
                f"{type(colors).__name__}."
            )
        unknown = [name for name in colors if name not in self.modalities_]
        if unknown:
            raise ValueError(
                f"{caller}: colors names {', '.join(map(repr, unknown))}, which "
                f"{'is not a modality' if len(unknown) == 1 else 'are not modalities'}; "
                f"the modalities are {self.modalities_!r}."
            )
        return colors

    def _plot_per_class(self, ax, matplotlib, colors):
        n_classes, n_modalities = self.per_class_.shape
        cmap = matplotlib.colormaps["tab10"]
        width = 0.8 / n_modalities
        x = np.arange(n_classes)
        for k, modality in enumerate(self.modalities_):
            color = colors.get(modality, cmap(k % cmap.N))
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


def _check_kind(kind, caller):
    if kind not in KINDS:
        raise ValueError(f"{caller}: kind must be one of {KINDS}; got {kind!r}.")
