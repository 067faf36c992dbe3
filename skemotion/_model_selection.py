"""Speaker-independent cross-validation, and a check that folds do not leak speakers."""

import numbers
import warnings

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, check_cv

from ._encoders._items import is_missing


class GroupLeakageWarning(UserWarning):
    """Cross-validation folds put samples of one group (speaker) in train and test.

    Issued by :func:`check_cv_groups`; make it an error with
    ``warnings.simplefilter("error", GroupLeakageWarning)``.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.model_selection import KFold
    >>> from skemotion import GroupLeakageWarning, check_cv_groups
    >>> speakers = ["ann", "bob", "eve", "ann", "bob", "eve"]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cv = check_cv_groups(KFold(3), speakers)
    >>> [warning.category is GroupLeakageWarning for warning in caught]
    [True]
    """


def speaker_cv(n_splits=5, *, shuffle=False, random_state=None):
    """Speaker-independent, class-stratified K-fold: ``StratifiedGroupKFold``.

    Pass the speaker (actor, subject) of each sample as ``groups``: every speaker's
    samples then fall in one test fold, and each fold keeps the class proportions as
    well as the groups allow. Random splits leak the speaker's voice and face into
    training and inflate scores badly (RAVDESS: 95.8% random split vs 48.1%
    leave-one-speaker-out, published).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds.
    shuffle : bool, default=False
        Shuffle the groups before splitting.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (only with ``shuffle=True``).

    Returns
    -------
    cv : SpeakerGroupKFold
        A ``StratifiedGroupKFold`` that names the fix when ``split`` gets no groups,
        or groups with missing values, or fewer groups than folds; pass the speakers
        as ``groups`` to its ``split``.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score  # doctest: +SKIP
    >>> cross_val_score(model, X, y, cv=speaker_cv(5), groups=speaker)  # doctest: +SKIP
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise ValueError(
            f"speaker_cv needs n_splits, the number of folds, as an int of at least 2 (each "
            f"speaker's samples are tested once, by a model fitted on the others); got "
            f"{n_splits!r}."
        )
    if random_state is not None and not shuffle:
        raise ValueError(
            f"speaker_cv(random_state={random_state!r}) has no effect without shuffling: "
            "pass shuffle=True to shuffle the speakers with that seed, or leave "
            "random_state=None."
        )
    return SpeakerGroupKFold(n_splits=n_splits, shuffle=shuffle, random_state=random_state)


class SpeakerGroupKFold(StratifiedGroupKFold):
    """``StratifiedGroupKFold`` that says what is wrong with the groups it is given.

    scikit-learn's splitter reads ``groups=None`` as one group ("cannot have number of
    splits greater than the number of groups: 1") and fails to sort groups holding
    None; this one names the problem and the fix first. Made by :func:`speaker_cv`.
    """

    def split(self, X, y=None, groups=None):
        """Split as ``StratifiedGroupKFold.split``, after checking `groups`."""
        check_groups(groups, len(X), caller=f"speaker_cv({self.n_splits})")
        n_groups = len(np.unique(np.asarray(groups)))
        if n_groups < self.n_splits:
            fix = (
                f"Pass speaker_cv(n_splits) with n_splits <= {n_groups}."
                if n_groups >= 2
                else "Speaker-independent folds need samples of at least 2 speakers."
            )
            raise ValueError(
                f"speaker_cv({self.n_splits}) needs at least {self.n_splits} groups "
                f"(speakers) to give each fold its own, but groups holds {n_groups}. {fix}"
            )
        return super().split(X, y, groups)


def check_groups(groups, n_samples, *, caller):
    """Refuse groups that are missing, of the wrong length or with missing values."""
    if groups is None:
        raise ValueError(
            f"{caller} splits by speaker but got groups=None. Pass the speaker (actor, "
            "subject) of each sample as groups=, e.g. cross_val_score(model, X, y, "
            "cv=speaker_cv(5), groups=speakers)."
        )
    groups = np.asarray(groups, dtype=object)
    if groups.ndim != 1 or len(groups) != n_samples:
        raise ValueError(
            f"{caller} got groups of shape {groups.shape} for {n_samples} samples: pass "
            "one group (speaker) per sample, in the samples' order."
        )
    missing = [i for i, group in enumerate(groups) if is_missing(group)]
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{caller} got {len(missing)} missing group(s) (None or NaN, at positions "
            f"{shown}): every sample needs its speaker. Fill them in, or drop those samples."
        )


def check_cv_groups(cv, groups, *, X=None, y=None, classifier=True):
    """Warn when cross-validation would put one group's samples in train and test.

    Call it where the groups of a dataset are known (a benchmark, ``skemotion
    evaluate``, a dataset loader's ``group`` column) before cross-validating. It runs the
    splitter with the groups (group-aware splitters use them, others ignore them) and
    checks each fold: a group in both the training and the test part means speaker
    leakage, reported by a :class:`GroupLeakageWarning` that names the fix. This works
    for any splitter, including iterables of (train, test) indices, without relying on
    class names.

    Parameters
    ----------
    cv : int, cross-validation generator or iterable
        As for :func:`~sklearn.model_selection.cross_validate`.
    groups : array-like of shape (n_samples,)
        The group (speaker) of each sample.
    X : array-like of shape (n_samples, n_features), default=None
        The data; only its length matters (a placeholder is used when None).
    y : array-like of shape (n_samples,), default=None
        The labels, for stratified splitters.
    classifier : bool, default=True
        Whether an integer `cv` means stratified folds, as for a classifier.

    Returns
    -------
    cv : cross-validation generator
        ``check_cv(cv, y, classifier=classifier)``, ready to pass on.

    Examples
    --------
    >>> from skemotion import check_cv_groups, speaker_cv
    >>> speakers = ["ann", "bob", "eve", "ann", "bob", "eve"]
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> check_cv_groups(speaker_cv(3), speakers, y=y)  # each speaker in one test fold
    SpeakerGroupKFold(n_splits=3, random_state=None, shuffle=False)
    """
    n_samples = len(X) if X is not None else len(y) if y is not None else None
    if groups is not None and n_samples is None:
        n_samples = len(groups)
    check_groups(groups, n_samples, caller="check_cv_groups")
    groups = np.asarray(groups)
    if X is None:
        X = np.zeros((groups.shape[0], 1))
    cv = check_cv(cv, y, classifier=classifier)
    leaking = []
    split_groups = groups if _uses_groups(cv) else None  # spare KFold's "ignored" warning
    for k, (train, test) in enumerate(cv.split(X, y, split_groups)):
        shared = np.intersect1d(groups[train], groups[test])
        if shared.size:
            leaking.append((k, shared.size))
    if leaking:
        n_splits = cv.get_n_splits(X, y, split_groups)
        folds = ", ".join(f"fold {k}: {n} group(s)" for k, n in leaking[:5])
        warnings.warn(
            f"{type(cv).__name__} puts samples of the same group (speaker) in both the "
            f"training and the test part of {len(leaking)} of {n_splits} "
            f"folds ({folds}); scores will be optimistic. Use a group-aware splitter such "
            "as skemotion.speaker_cv() (StratifiedGroupKFold) and pass groups=.",
            GroupLeakageWarning,
            stacklevel=2,
        )
    return cv


def _uses_groups(cv):
    """Whether `cv.split` reads `groups` (scikit-learn's metadata request), True if unknown."""
    try:
        return bool(cv.get_metadata_routing().split.requests.get("groups", False))
    except AttributeError:
        return True
