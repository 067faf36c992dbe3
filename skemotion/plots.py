"""Plots for emotion recognition results, in scikit-learn's Display style.

- :class:`ConfusionMatrixDisplay`: scikit-learn's, with defaults for emotion data
  (rows normalised to recall, so that a rare emotion shows as clearly as a common one).
- :class:`ModalityWeightsDisplay`: the cross-validated score of a grid search against
  the modality weights it tried (``fusion__weights``, see :func:`~skemotion.weight_grid`).
- :class:`EmotionTimelineDisplay`: the emotion probabilities over the time of a long
  recording, segment by segment (:func:`~skemotion.predict_timeline`).
- :class:`ModalityAttributionDisplay`: how much each modality moved each prediction of
  a fusion model, and on average per class.

All need matplotlib (``pip install 'skemotion[plot]'``), imported when a plot is drawn:
importing this module does not import it. As in scikit-learn, ``from_*`` class methods
compute and draw in one call, ``plot(ax=...)`` draws on given axes, and the drawn
objects are kept in attributes ending in ``_`` (``ax_``, ``figure_``, ...).
"""

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay as _SklearnConfusionMatrixDisplay

from ._docstrings import Substitution
from ._inspection import ModalityAttributionDisplay
from ._plotting import check_matplotlib, get_axes

# The parameters that both constructors of ConfusionMatrixDisplay pass to the plot,
# described once (continuation lines carry the indentation of a method's docstring).
_substitute_display_parameters = Substitution(
    display_parameters="""sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        normalize : {"true", "pred", "all"} or None, default="true"
            Normalise over the true labels (rows sum to 1: the recall of each
            emotion), the predicted labels, or all samples; None shows counts.
        display_labels : array-like of shape (n_classes,), default=None
            Tick labels; None uses `labels`.
        include_values : bool, default=True
            Write the value in each cell.
        xticks_rotation : {"vertical", "horizontal"} or float, default=45
            Rotation of the x tick labels; rotated labels are anchored at their end.
        values_format : str, default=None
            Format of the cell values; None: ``".2f"`` for fractions, else integers.
        cmap : str or matplotlib Colormap, default="Blues"
            Colormap.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        colorbar : bool, default=True
            Add a colorbar.
        im_kw, text_kw : dict, default=None
            Keyword arguments of ``imshow`` and of the cell texts."""
)

__all__ = [
    "ConfusionMatrixDisplay",
    "EmotionTimelineDisplay",
    "ModalityAttributionDisplay",
    "ModalityWeightsDisplay",
]


class ConfusionMatrixDisplay(_SklearnConfusionMatrixDisplay):
    """Confusion matrix: scikit-learn's display with defaults suited to emotion data.

    The same class as :class:`sklearn.metrics.ConfusionMatrixDisplay` (a subclass: the
    constructor, :meth:`plot` and the attributes are scikit-learn's), with other
    defaults in :meth:`from_predictions` and :meth:`from_estimator`:

    - ``normalize="true"``: each row (true emotion) sums to 1, so the diagonal is each
      emotion's recall and a rare emotion reads as clearly as a frequent one; pass
      ``normalize=None`` for counts;
    - ``values_format=".2f"`` when normalised, ``cmap="Blues"``;
    - ``xticks_rotation=45``, with the labels anchored at their right end, so that
      emotion names do not overlap.

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        The confusion matrix.
    display_labels : ndarray of shape (n_classes,), default=None
        Labels of the rows and columns; None shows 0 to n_classes - 1.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The image of the matrix.
    text_ : ndarray of shape (n_classes, n_classes) of matplotlib Text, or None
        The values written in the cells; None when ``include_values=False``.
    ax_ : matplotlib Axes
        Axes with the confusion matrix.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : The display this one builds on.
    skemotion.emotion_report : Accuracy, macro-F1, weighted-F1 and UAR together.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skemotion.plots import ConfusionMatrixDisplay
    >>> y_true = ["joy", "joy", "joy", "anger", "fear"]
    >>> y_pred = ["joy", "joy", "anger", "anger", "joy"]
    >>> disp = ConfusionMatrixDisplay.from_predictions(y_true, y_pred)
    >>> disp.confusion_matrix.round(2)
    array([[1.  , 0.  , 0.  ],
           [0.  , 0.  , 1.  ],
           [0.33, 0.  , 0.67]])
    >>> [t.get_text() for t in disp.ax_.get_xticklabels()]
    ['anger', 'fear', 'joy']
    """

    def plot(
        self,
        *,
        include_values=True,
        cmap="Blues",
        xticks_rotation=45,
        values_format=None,
        ax=None,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Plot the confusion matrix (scikit-learn's ``plot`` with this class's defaults).

        Parameters
        ----------
        include_values : bool, default=True
            Write the value in each cell.
        cmap : str or matplotlib Colormap, default="Blues"
            Colormap.
        xticks_rotation : {"vertical", "horizontal"} or float, default=45
            Rotation of the x tick labels; rotated labels are anchored at their end.
        values_format : str, default=None
            Format of the cell values; None: ``".2f"`` for fractions, else integers.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        colorbar : bool, default=True
            Add a colorbar.
        im_kw, text_kw : dict, default=None
            Keyword arguments of ``imshow`` and of the cell texts.

        Returns
        -------
        display : ConfusionMatrixDisplay
            The display, with ``im_``, ``text_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        if values_format is None and np.asarray(self.confusion_matrix).dtype.kind == "f":
            values_format = ".2f"
        super().plot(
            include_values=include_values,
            cmap=cmap,
            xticks_rotation=xticks_rotation,
            values_format=values_format,
            ax=ax,
            colorbar=colorbar,
            im_kw=im_kw,
            text_kw=text_kw,
        )
        if xticks_rotation not in ("horizontal", 0):
            for label in self.ax_.get_xticklabels():
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
        return self

    @classmethod
    @_substitute_display_parameters
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        labels=None,
        sample_weight=None,
        normalize="true",
        display_labels=None,
        include_values=True,
        xticks_rotation=45,
        values_format=None,
        cmap="Blues",
        ax=None,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Plot the confusion matrix of true and predicted labels.

        The parameters are those of scikit-learn's
        :meth:`sklearn.metrics.ConfusionMatrixDisplay.from_predictions`, with defaults
        suited to emotion data: ``normalize="true"``, ``cmap="Blues"``,
        ``xticks_rotation=45``.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like of shape (n_samples,)
            Predicted labels.
        labels : array-like of shape (n_classes,), default=None
            The order of the rows and columns (say the dataset's ``target_names``);
            None sorts the labels found in `y_true` and `y_pred`.
        %(display_parameters)s

        Returns
        -------
        display : ConfusionMatrixDisplay
            The display, with ``im_``, ``text_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib(f"{cls.__name__}.from_predictions")
        return super().from_predictions(
            y_true,
            y_pred,
            labels=labels,
            sample_weight=sample_weight,
            normalize=normalize,
            display_labels=display_labels,
            include_values=include_values,
            xticks_rotation=xticks_rotation,
            values_format=values_format,
            cmap=cmap,
            ax=ax,
            colorbar=colorbar,
            im_kw=im_kw,
            text_kw=text_kw,
        )

    @classmethod
    @_substitute_display_parameters
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        labels=None,
        sample_weight=None,
        normalize="true",
        display_labels=None,
        include_values=True,
        xticks_rotation=45,
        values_format=None,
        cmap="Blues",
        ax=None,
        colorbar=True,
        im_kw=None,
        text_kw=None,
    ):
        """Plot the confusion matrix of a fitted classifier's predictions on `X`.

        The parameters are those of scikit-learn's
        :meth:`sklearn.metrics.ConfusionMatrixDisplay.from_estimator`, with the defaults
        of :meth:`from_predictions`.

        Parameters
        ----------
        estimator : estimator instance
            A fitted classifier, or a fitted pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            Input of ``estimator.predict``.
        y : array-like of shape (n_samples,)
            True labels.
        labels : array-like of shape (n_classes,), default=None
            The order of the rows and columns (say the dataset's ``target_names``);
            None sorts the labels found in `y` and in the predictions.
        %(display_parameters)s

        Returns
        -------
        display : ConfusionMatrixDisplay
            The display, with ``im_``, ``text_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        return super().from_estimator(
            estimator,
            X,
            y,
            labels=labels,
            sample_weight=sample_weight,
            normalize=normalize,
            display_labels=display_labels,
            include_values=include_values,
            xticks_rotation=xticks_rotation,
            values_format=values_format,
            cmap=cmap,
            ax=ax,
            colorbar=colorbar,
            im_kw=im_kw,
            text_kw=text_kw,
        )


class ModalityWeightsDisplay:
    """Cross-validated score against modality weights, from a grid search's results.

    Build it with :meth:`from_cv_results`. Weights are relative (as in
    :class:`~skemotion.LateFusionClassifier` and :class:`~skemotion.EarlyFusion`), so
    each candidate's weights are renormalised to sum to 1 before plotting.

    With two modalities the plot has one line: the mean test score (± one standard
    deviation over the folds, shaded) against the weight of the first modality, the
    second's weight being 1 minus it. With more modalities a score is a function of
    several weights, so the plot has one line per modality: at each weight of that
    modality, the best mean test score among the candidates that give it that weight
    (a profile of the score surface). The same rule applies to grids that also tune
    other parameters (``fusion__rule``, ``C``): each point is the best candidate at that
    weight. The best candidate overall is marked with a star on every line.

    Parameters
    ----------
    weights : DataFrame of shape (n_candidates, n_modalities)
        Each candidate's weights (renormalised to sum to 1), one column per modality.
    mean_scores : array-like of shape (n_candidates,)
        Mean test score of each candidate.
    std_scores : array-like of shape (n_candidates,) or None, default=None
        Standard deviation of the test score over the folds; None draws no band.
    score_name : str or None, default=None
        Name of the score on the y axis (``"f1_macro"``); None writes "test score".

    Attributes
    ----------
    curves_ : dict of str to DataFrame
        Per plotted modality: ``weight``, ``mean``, ``std`` and ``candidate`` (the
        row of the candidate plotted at that weight), sorted by weight.
    best_index_ : int
        Row of the best candidate (highest mean score; the first one on a tie).
    lines_ : dict of str to matplotlib Line2D
        The line of each plotted modality.
    fills_ : dict of str to matplotlib PolyCollection or None
        The ± one standard deviation band of each line.
    best_markers_ : dict of str to matplotlib Line2D
        The star marking the best candidate on each line.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    skemotion.weight_grid : The grid of modality weights to search.
    skemotion.LateFusionClassifier : Late fusion, whose ``weights`` this plots.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skemotion.plots import ModalityWeightsDisplay
    >>> cv_results = {
    ...     "param_fusion__weights": [{"face": 0.0, "audio": 1.0},
    ...                               {"face": 0.5, "audio": 0.5},
    ...                               {"face": 1.0, "audio": 0.0}],
    ...     "mean_test_score": [0.45, 0.61, 0.55],
    ...     "std_test_score": [0.05, 0.04, 0.06],
    ... }
    >>> disp = ModalityWeightsDisplay.from_cv_results(cv_results)
    >>> disp.lines_["face"].get_xdata().tolist(), disp.lines_["face"].get_ydata().tolist()
    ([0.0, 0.5, 1.0], [0.45, 0.61, 0.55])
    >>> disp.ax_.get_xlabel()
    'weight of face (audio = 1 - face)'
    """

    def __init__(self, weights, mean_scores, std_scores=None, *, score_name=None):
        self.weights = weights
        self.mean_scores = mean_scores
        self.std_scores = std_scores
        self.score_name = score_name

    @classmethod
    def from_cv_results(
        cls,
        cv_results,
        *,
        param=None,
        metric=None,
        modalities=None,
        modality=None,
        score_name=None,
        ax=None,
        show_std=True,
        line_kw=None,
    ):
        """Plot the score of each modality weighting a grid search tried.

        Parameters
        ----------
        cv_results : dict or fitted search estimator
            A ``cv_results_`` dict, or a fitted :class:`~sklearn.model_selection.GridSearchCV`
            (or any search with ``cv_results_``), whose ``scoring`` then names the y axis.
        param : str or None, default=None
            The searched weights parameter, as in the grid (``"fusion__weights"``).
            None uses ``"fusion__weights"`` (the fusion step of
            :func:`~skemotion.make_multimodal_pipeline`) when searched, else the one
            searched parameter whose name ends in ``weights``.
        metric : str or None, default=None
            Which score, for multi-metric searches (``scoring={"uar": ..., ...}``): the
            plot reads ``mean_test_<metric>``. None reads ``mean_test_score``, or the
            search's ``refit`` metric.
        modalities : list of str or None, default=None
            Names of the modalities when the weights are sequences (one value per
            modality); ignored for dicts, whose keys name them. None names sequence
            positions ``"modality 0"``, ``"modality 1"``, ...
        modality : str, list of str or None, default=None
            Which modalities' weights to put on the x axis, one line each. None: the
            first modality when there are two, every modality otherwise.
        score_name : str or None, default=None
            Name of the score on the y axis; None: the metric's name, or the search's
            `scoring` when it is a string.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        show_std : bool, default=True
            Shade ± one standard deviation of the score over the folds.
        line_kw : dict or None, default=None
            Keyword arguments of the lines' ``ax.plot``.

        Returns
        -------
        display : ModalityWeightsDisplay

        Raises
        ------
        ValueError
            If the search did not tune modality weights (no ``param_fusion__weights``
            in the results), if the scores of `metric` are not there, or if a weight
            value is neither a dict, a sequence of numbers nor None.
        """
        caller = f"{cls.__name__}.from_cv_results"
        check_matplotlib(caller)
        results, scoring = _results_of(cv_results, caller)
        key = _weights_key(results, param, caller)
        metric = _metric(results, metric, cv_results, caller)
        values = list(results[key])
        mean = np.asarray(results[f"mean_test_{metric}"], dtype=float)
        std_key = f"std_test_{metric}"
        std = np.asarray(results[std_key], dtype=float) if std_key in results else None
        weights, keep = _weights_frame(values, modalities, key, caller)
        keep &= np.isfinite(mean)
        if not keep.any():
            raise ValueError(
                f"{caller}: no candidate has both modality weights in {key!r} and a finite "
                f"'mean_test_{metric}'; there is nothing to plot."
            )
        if score_name is None:
            score_name = _score_name(metric, scoring)
        display = cls(
            weights[keep].reset_index(drop=True),
            mean[keep],
            None if std is None else std[keep],
            score_name=score_name,
        )
        return display.plot(modality=modality, ax=ax, show_std=show_std, line_kw=line_kw)

    def plot(self, *, modality=None, ax=None, show_std=True, line_kw=None):
        """Draw the score against the weights.

        Parameters
        ----------
        modality : str, list of str or None, default=None
            Which modalities' weights to put on the x axis, one line each. None: the
            first modality when there are two, every modality otherwise.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        show_std : bool, default=True
            Shade ± one standard deviation over the folds (when `std_scores` is given).
        line_kw : dict or None, default=None
            Keyword arguments of the lines' ``ax.plot``.

        Returns
        -------
        display : ModalityWeightsDisplay
            The display, with ``curves_``, ``lines_``, ``fills_``, ``best_markers_``,
            ``ax_`` and ``figure_`` set.
        """
        caller = f"{type(self).__name__}.plot"
        check_matplotlib(caller)
        weights = pd.DataFrame(self.weights)
        mean = np.asarray(self.mean_scores, dtype=float)
        std = None if self.std_scores is None else np.asarray(self.std_scores, dtype=float)
        names = list(weights.columns)
        shown = _shown_modalities(modality, names, caller)
        ax = get_axes(ax, caller)
        self.best_index_ = int(np.argmax(mean))
        best = weights.iloc[self.best_index_]
        self.curves_, self.lines_, self.fills_, self.best_markers_ = {}, {}, {}, {}
        for name in shown:
            curve = _profile(weights[name].to_numpy(), mean, std)
            self.curves_[name] = curve
            kwargs = {"marker": "o", "label": name if len(shown) > 1 else None, **(line_kw or {})}
            (line,) = ax.plot(curve["weight"].to_numpy(), curve["mean"].to_numpy(), **kwargs)
            self.lines_[name] = line
            self.fills_[name] = None
            if show_std and std is not None:
                self.fills_[name] = ax.fill_between(
                    curve["weight"].to_numpy(),
                    (curve["mean"] - curve["std"]).to_numpy(),
                    (curve["mean"] + curve["std"]).to_numpy(),
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
        for name, line in self.lines_.items():  # after the lines: last in the legend
            (self.best_markers_[name],) = ax.plot(
                [best[name]],
                [mean[self.best_index_]],
                marker="*",
                markersize=14,
                linestyle="none",
                color=line.get_color(),
            )
        best_text = ", ".join(f"{name} {best[name]:.2g}" for name in names)
        # One legend entry for the star, whatever the number of lines.
        next(iter(self.best_markers_.values())).set_label(
            f"best: {best_text} ({mean[self.best_index_]:.3f})"
        )
        if len(names) == 2 and len(shown) == 1:
            other = names[1] if shown[0] == names[0] else names[0]
            xlabel = f"weight of {shown[0]} ({other} = 1 - {shown[0]})"
        elif len(shown) == 1:
            xlabel = f"weight of {shown[0]} (best candidate at each weight)"
        else:
            xlabel = "weight of the modality (best candidate at each weight)"
        spread = " ± 1 std" if show_std and std is not None else ""
        ylabel = f"{self.score_name or 'test score'}: mean{spread} over CV folds"
        ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(-0.05, 1.05))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _results_of(cv_results, caller):
    """The results mapping and the search's scoring (None for a plain dict)."""
    if isinstance(cv_results, Mapping):
        return cv_results, None
    if hasattr(cv_results, "cv_results_"):
        return cv_results.cv_results_, getattr(cv_results, "scoring", None)
    if hasattr(cv_results, "fit"):
        raise ValueError(
            f"{caller}: this {type(cv_results).__name__} has no cv_results_: fit it "
            "first, or pass its cv_results_ dict."
        )
    raise TypeError(
        f"{caller}: cv_results must be a search's cv_results_ dict or a fitted search "
        f"(GridSearchCV). Got {type(cv_results).__name__} instead."
    )


def _weights_key(results, param, caller):
    params = sorted(key[len("param_") :] for key in results if key.startswith("param_"))
    if param is None:
        ends = [p for p in params if p.endswith("weights")]
        param = "fusion__weights" if "fusion__weights" in params or len(ends) != 1 else ends[0]
    key = f"param_{param}"
    if key not in results:
        raise ValueError(
            f"{caller}: the search results have no {key!r}: the modality weights were not "
            f"tuned (searched parameters: {params}). Search them, as in "
            "GridSearchCV(pipe, {'fusion__weights': weight_grid(['face', 'audio'])}), or "
            "pass param='<step>__weights' for a fusion step of another name."
        )
    return key


def _metric(results, metric, search, caller):
    if metric is None:
        refit = getattr(search, "refit", None)
        metric = "score" if "mean_test_score" in results or not isinstance(refit, str) else refit
    if f"mean_test_{metric}" not in results:
        found = sorted(k[len("mean_test_") :] for k in results if k.startswith("mean_test_"))
        raise ValueError(
            f"{caller}: the search results have no 'mean_test_{metric}'; the scores there "
            f"are {found}. Pass metric= one of them."
        )
    return metric


def _score_name(metric, scoring):
    if metric != "score":
        return metric
    return scoring if isinstance(scoring, str) else None


def _weights_frame(values, modalities, key, caller):
    """(DataFrame of renormalised weights, boolean mask of the usable candidates)."""
    names = None
    rows, keep = [], []
    for i, value in enumerate(values):
        if value is np.ma.masked:  # a grid of several dicts, this one without `key`
            rows.append(None)
            keep.append(False)
            continue
        if isinstance(value, Mapping):
            row_names = list(value)
            row = [value[name] for name in row_names]
        elif value is None:
            row_names, row = None, None
        elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            row = list(value)
            row_names = (
                list(modalities)
                if modalities is not None
                else [f"modality {j}" for j in range(len(row))]
            )
        else:
            raise ValueError(
                f"{caller}: candidate {i} of {key!r} is {value!r}; modality weights must "
                "be dicts {modality: weight}, sequences of numbers or None."
            )
        if row is not None:
            if not all(isinstance(w, numbers.Real) for w in row) or len(row) != len(row_names):
                raise ValueError(
                    f"{caller}: candidate {i} of {key!r} is {value!r}; expected one number "
                    f"per modality ({row_names})."
                )
            if names is None:
                names = row_names
            elif sorted(names) != sorted(row_names):
                raise ValueError(
                    f"{caller}: candidates of {key!r} weigh different modalities: "
                    f"{names} and {row_names} (candidate {i})."
                )
            row = dict(zip(row_names, row, strict=True))
        rows.append(row)
        keep.append(True)
    if names is None:
        raise ValueError(
            f"{caller}: no candidate of {key!r} gives modality weights (all None or "
            "missing); there is nothing to plot."
        )
    table = np.full((len(rows), len(names)), 1.0 / len(names))  # None: equal weights
    for i, row in enumerate(rows):
        if row is not None:
            w = np.array([float(row[name]) for name in names])
            total = w.sum()
            # All zero counts equally, as LateFusionClassifier does.
            table[i] = w / total if total > 0 else 1.0 / len(names)
    return pd.DataFrame(table.round(10), columns=names), np.array(keep, dtype=bool)


def _shown_modalities(modality, names, caller):
    if modality is None:
        return names[:1] if len(names) == 2 else names
    shown = [modality] if isinstance(modality, str) else list(modality)
    unknown = [m for m in shown if m not in names]
    if unknown or not shown:
        raise ValueError(
            f"{caller}: modality={modality!r} names no modality of the weights; they are {names}."
        )
    return shown


def _profile(weight, mean, std):
    """Per distinct weight, the candidate with the best mean score (first on a tie)."""
    frame = pd.DataFrame(
        {
            "weight": weight,
            "mean": mean,
            "std": np.zeros_like(mean) if std is None else std,
            "candidate": np.arange(len(mean)),
        }
    )
    best = frame.sort_values(["weight", "mean", "candidate"], ascending=[True, False, True])
    return best.drop_duplicates("weight").reset_index(drop=True)


class EmotionTimelineDisplay:
    """Emotion probabilities over the time of a recording, from :func:`~skemotion.predict_timeline`.

    Build it with :meth:`from_timeline`. Each segment of speech is a stretch of the
    time axis: its probability of each emotion is drawn over it, as one line per
    emotion (``kind="lines"``, the stretch shaded in the colour of the emotion
    predicted there) or as bands stacked to 1 (``kind="stacked"``). Between segments
    (no speech) nothing is drawn. A timeline without probabilities (a classifier
    without ``predict_proba``) shows the shaded segments only.

    Parameters
    ----------
    start : array-like of shape (n_segments,)
        Where each segment starts, in seconds.
    end : array-like of shape (n_segments,)
        Where each segment ends, in seconds.
    emotion : array-like of shape (n_segments,)
        The emotion predicted for each segment.
    proba : DataFrame of shape (n_segments, n_classes) or None, default=None
        The probability of each class (one column per class, named by it), or None.

    Attributes
    ----------
    classes_ : list
        The emotions, in the order of the probability columns (then any predicted
        emotion without one).
    colors_ : dict
        The colour of each emotion.
    lines_ : dict of matplotlib Line2D
        The line of each emotion (``kind="lines"``); empty otherwise.
    fills_ : dict of matplotlib PolyCollection
        The band of each emotion (``kind="stacked"``); empty otherwise.
    spans_ : list of matplotlib Patch
        The shaded stretch of each segment, in time order; empty when not shaded.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    skemotion.predict_timeline : The timeline this plots.
    skemotion.SpeechSegmenter : How the segments are found.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skemotion.plots import EmotionTimelineDisplay
    >>> timeline = pd.DataFrame({
    ...     "start": [0.5, 3.0, 6.2], "end": [2.4, 5.1, 8.0],
    ...     "emotion": ["calm", "angry", "angry"],
    ...     "proba_angry": [0.2, 0.7, 0.9], "proba_calm": [0.8, 0.3, 0.1],
    ... })
    >>> disp = EmotionTimelineDisplay.from_timeline(timeline)
    >>> sorted(disp.lines_), len(disp.spans_)
    (['angry', 'calm'], 3)
    >>> disp.ax_.get_xlabel()
    'time (s)'
    """

    def __init__(self, start, end, emotion, proba=None):
        self.start = start
        self.end = end
        self.emotion = emotion
        self.proba = proba

    @classmethod
    def from_timeline(
        cls,
        timeline,
        *,
        kind="lines",
        shade=None,
        colors=None,
        ax=None,
        line_kw=None,
        span_kw=None,
    ):
        """Plot a timeline: the DataFrame :func:`~skemotion.predict_timeline` returns.

        Parameters
        ----------
        timeline : DataFrame
            Columns ``start``, ``end`` (seconds) and ``emotion``, and optionally
            ``proba_<class>`` for each class.
        kind : {"lines", "stacked"}, default="lines"
            One line per emotion, or the probabilities stacked to 1 as bands.
        shade : bool or None, default=None
            Shade each segment in the colour of its predicted emotion. None: shade
            with ``kind="lines"`` and without probabilities, not under stacked bands.
        colors : dict or None, default=None
            Colour of some emotions (``{"angry": "red"}``); the others take the
            colours of matplotlib's ``tab10`` (``tab20`` beyond ten) in class order.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        line_kw : dict or None, default=None
            Keyword arguments of the lines' ``ax.plot`` (or the bands'
            ``ax.fill_between``).
        span_kw : dict or None, default=None
            Keyword arguments of the shaded segments' ``ax.axvspan``.

        Returns
        -------
        display : EmotionTimelineDisplay
            The display, with ``classes_``, ``colors_``, ``lines_``, ``fills_``,
            ``spans_``, ``ax_`` and ``figure_`` set.
        """
        caller = f"{cls.__name__}.from_timeline"
        check_matplotlib(caller)
        if not isinstance(timeline, pd.DataFrame):
            raise TypeError(
                f"{caller}: timeline must be a DataFrame (what predict_timeline returns); "
                f"got {type(timeline).__name__}."
            )
        missing = [name for name in ("start", "end", "emotion") if name not in timeline]
        if missing:
            raise ValueError(
                f"{caller}: the timeline has no column {missing} (its columns: "
                f"{list(timeline.columns)}); pass the DataFrame predict_timeline returns, "
                "with start, end, emotion and proba_<class> columns."
            )
        proba_columns = [name for name in timeline.columns if str(name).startswith("proba_")]
        proba = None
        if proba_columns:
            proba = timeline[proba_columns].copy()
            proba.columns = [str(name)[len("proba_") :] for name in proba_columns]
        display = cls(
            timeline["start"].to_numpy(),
            timeline["end"].to_numpy(),
            timeline["emotion"].to_numpy(),
            proba,
        )
        return display.plot(
            kind=kind, shade=shade, colors=colors, ax=ax, line_kw=line_kw, span_kw=span_kw
        )

    def plot(self, *, kind="lines", shade=None, colors=None, ax=None, line_kw=None, span_kw=None):
        """Draw the timeline.

        Parameters
        ----------
        kind : {"lines", "stacked"}, default="lines"
            One line per emotion, or the probabilities stacked to 1 as bands.
        shade : bool or None, default=None
            Shade each segment in the colour of its predicted emotion. None: shade
            with ``kind="lines"`` and without probabilities, not under stacked bands.
        colors : dict or None, default=None
            Colour of some emotions; the others take ``tab10`` (``tab20``) colours.
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        line_kw : dict or None, default=None
            Keyword arguments of the lines' ``ax.plot`` (the bands' ``fill_between``).
        span_kw : dict or None, default=None
            Keyword arguments of the shaded segments' ``ax.axvspan``.

        Returns
        -------
        display : EmotionTimelineDisplay
            The display, with ``classes_``, ``colors_``, ``lines_``, ``fills_``,
            ``spans_``, ``ax_`` and ``figure_`` set.
        """
        caller = f"{type(self).__name__}.plot"
        check_matplotlib(caller)
        if kind not in ("lines", "stacked"):
            raise ValueError(f"{caller}: kind must be 'lines' or 'stacked'; got {kind!r}.")
        start, end, emotion, proba = _timeline_arrays(self, caller)
        classes = [] if proba is None else list(proba.columns)
        classes += sorted({e for e in emotion.tolist() if e not in classes}, key=str)
        self.classes_ = classes
        self.colors_ = _class_colors(classes, colors, caller)
        ax = get_axes(ax, caller)
        self.lines_, self.fills_, self.spans_ = {}, {}, []
        order = np.argsort(start, kind="stable")
        start, end, emotion = start[order], end[order], emotion[order]
        if proba is not None:
            values = proba.to_numpy(dtype=float)[order]
            # Each segment from its start to its end, then a gap (NaN) before the next.
            x = np.column_stack([start, end, np.full(start.size, np.nan)]).ravel()
            lower = np.zeros(x.size)
            for k, name in enumerate(proba.columns):
                y = np.column_stack([values[:, k], values[:, k], np.full(start.size, np.nan)])
                y = y.ravel()
                if kind == "lines":
                    kwargs = {"color": self.colors_[name], "label": str(name), **(line_kw or {})}
                    (self.lines_[name],) = ax.plot(x, y, **kwargs)
                else:
                    kwargs = {
                        "color": self.colors_[name],
                        "label": str(name),
                        "alpha": 0.8,
                        "linewidth": 0,
                        **(line_kw or {}),
                    }
                    upper = lower + np.nan_to_num(y)
                    self.fills_[name] = ax.fill_between(
                        x, lower, upper, where=np.isfinite(y), **kwargs
                    )
                    lower = upper
        if shade is None:
            shade = kind == "lines" or proba is None
        if shade:
            labelled = set(self.lines_) | set(self.fills_)
            for a, b, name in zip(start, end, emotion, strict=True):
                kwargs = {"color": self.colors_[name], "alpha": 0.15, "linewidth": 0}
                if name not in labelled:  # one legend entry per emotion without a line
                    kwargs["label"] = f"{name} (predicted)"
                    labelled.add(name)
                self.spans_.append(ax.axvspan(a, b, **{**kwargs, **(span_kw or {})}))
        ax.set_xlabel("time (s)")
        if proba is not None:
            ax.set(ylabel="probability", ylim=(0, 1.02))
        else:
            ax.set_yticks([])
        if start.size:
            ax.set_xlim(min(0.0, float(start.min())), float(end.max()))
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _timeline_arrays(display, caller):
    """start, end, emotion as arrays and proba as a DataFrame (or None), checked."""
    start = np.asarray(display.start, dtype=float).ravel()
    end = np.asarray(display.end, dtype=float).ravel()
    emotion = np.asarray(display.emotion, dtype=object).ravel()
    if not start.size == end.size == emotion.size:
        raise ValueError(
            f"{caller}: start, end and emotion must have one value per segment; got "
            f"{start.size}, {end.size} and {emotion.size}."
        )
    if not (np.isfinite(start).all() and np.isfinite(end).all()) or (end < start).any():
        raise ValueError(
            f"{caller}: each segment needs finite times with start <= end (seconds); "
            "pass the timeline predict_timeline returns."
        )
    proba = display.proba
    if proba is not None:
        proba = pd.DataFrame(proba)
        if len(proba) != start.size:
            raise ValueError(f"{caller}: proba has {len(proba)} rows for {start.size} segments.")
        values = proba.to_numpy(dtype=float)
        if not np.isfinite(values).all() or (values < 0).any() or (values > 1 + 1e-6).any():
            raise ValueError(f"{caller}: probabilities must be finite, in [0, 1].")
    return start, end, emotion, proba


def _class_colors(classes, colors, caller):
    """A colour per class: the given ones, then tab10 (tab20 beyond ten) in class order."""
    matplotlib = check_matplotlib(caller)
    if colors is not None and not isinstance(colors, Mapping):
        raise TypeError(
            f"{caller}: colors must be a dict {{emotion: colour}}; got {type(colors).__name__}."
        )
    cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
    result = {}
    for k, name in enumerate(classes):
        given = (colors or {}).get(name)
        result[name] = given if given is not None else cmap(k % cmap.N)
    return result
