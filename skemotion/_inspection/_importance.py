"""Permutation importance of whole modality blocks."""

import numbers
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import GroupKFold, check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._model_selection import _uses_groups, check_cv_groups, speaker_cv
from .._sklearn_compat import _safe_indexing
from ._split import NO_MODALITY, _as_1d, _blocks, _columns, _with_columns


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
        which transform each scored part once. Fitted when `cv` is None; otherwise it
        is cloned and fitted on each training part.
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
        the folds: each fold refits a clone of the whole pipeline on its training part
        and shuffles the modalities of its test part. An int is, for a classifier,
        ``StratifiedGroupKFold(cv)`` when `groups` are given (speaker-independent
        folds, see :func:`~skemotion.speaker_cv`) and ``StratifiedKFold(cv)``
        otherwise; for another estimator, ``GroupKFold(cv)`` with `groups` and
        ``KFold(cv)`` without.
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
    skemotion.modality_attributions : Per-prediction attributions.
    skemotion.plots.ModalityAttributionDisplay : Per-prediction attributions, plotted.

    Notes
    -----
    Rows where a modality is missing (an all-NaN block) are shuffled with the others,
    so the missing values move to other samples. With `cv`, the folds' models are
    fitted without ``groups`` (a :class:`~skemotion.StackingFusionClassifier` then makes
    its inner folds without speakers), one fold at a time.

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
    y = _as_1d(y, caller, "y")
    if len(y) != X.shape[0]:
        raise ValueError(f"{caller}: X has {X.shape[0]} rows but y has {len(y)} labels.")
    rng = check_random_state(random_state)
    if cv is None:
        check_is_fitted(estimator)
        folds = [(estimator, X, y)]
    else:
        folds = _fitted_folds(estimator, X, y, cv, groups)
    names, baselines, losses = None, [], []
    for model, X_test, y_test in folds:  # one fitted model alive at a time
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


def _splitter(cv, X, y, groups, classifier):
    """The folds: an int with groups is by group (stratified for a classifier)."""
    if groups is None:
        return check_cv(cv, y, classifier=classifier)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return speaker_cv(cv) if classifier else GroupKFold(cv)
    return check_cv_groups(cv, groups, X=X, y=y, classifier=classifier)


def _fitted_folds(estimator, X, y, cv, groups):
    """Yield (model fitted on the training part, test X, test y) of each fold, in turn."""
    splitter = _splitter(cv, X, y, groups, is_classifier(estimator))
    if not _uses_groups(splitter):
        groups = None  # spare KFold's "groups is ignored" (check_cv_groups warned of leakage)
    for train, test in splitter.split(X, y, groups):
        model = clone(estimator).fit(_safe_indexing(X, train), y[train])
        yield model, _safe_indexing(X, test), y[test]


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
                warnings.filterwarnings("ignore", message=NO_MODALITY, category=UserWarning)
                lost[k, r] = baseline - float(scorer(scored, shuffled, y))
    return list(blocks), baseline, lost
