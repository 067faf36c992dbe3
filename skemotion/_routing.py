"""Metadata (sample_weight, groups) for skemotion's meta-estimators, routed or not.

With ``sklearn.set_config(enable_metadata_routing=True)`` a meta-estimator declares its
children in ``get_metadata_routing`` and scikit-learn's ``process_routing`` hands each
child the metadata it requested. Without routing, the scikit-learn convention is that
``sample_weight`` goes to every child's ``fit``, and ``groups`` to the CV splitter;
:func:`route_fit_params` gives both cases the same shape,
``routed[child]["fit"]`` and ``routed["splitter"]["split"]``, as ``process_routing`` does.
"""

import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from ._encoders._items import is_missing
from ._sklearn_compat import _raise_for_params, _routing_enabled

# The number of folds of cv=None, as in scikit-learn.
_DEFAULT_FOLDS = 5
# metadata_router's cv when the owner runs no cross-validation (None means 5 folds).
_NO_CV = object()


def _fit_to_fit():
    """The method mapping of a child fitted in the owner's ``fit``."""
    return MethodMapping().add(caller="fit", callee="fit")


def _fit_to_split():
    """The method mapping of a CV splitter run in the owner's ``fit``."""
    return MethodMapping().add(caller="fit", callee="split")


def metadata_router(owner, children, *, cv=_NO_CV):
    """A ``MetadataRouter`` of `owner`: each child's ``fit``, and the splitter of `cv`.

    `children` maps a name (the key of ``routed[name]`` in ``fit``) to an estimator.
    An int `cv` is declared as ``StratifiedGroupKFold``, which requests ``groups``: the
    owners split by group when groups are passed (see :func:`inner_cv`).

    The owner's own requests are declared too: ``score``'s ``sample_weight`` (from
    ``ClassifierMixin``), without which ``Pipeline.score`` refuses the pipeline under
    routing. The owner marks the metadata of its ``fit`` ``UNUSED`` (its
    ``__metadata_request__fit``): it routes them to its children and uses none itself.
    """
    router = MetadataRouter(owner=type(owner).__name__).add_self_request(owner)
    for name, child in children.items():
        router.add(**{name: child}, method_mapping=_fit_to_fit())
    if cv is not _NO_CV:
        router.add(splitter=_declared_splitter(cv), method_mapping=_fit_to_split())
    return router


def _declared_splitter(cv):
    if cv is None or isinstance(cv, Integral):
        return StratifiedGroupKFold(_DEFAULT_FOLDS if cv is None else cv)
    return check_cv(cv, classifier=True)


def inner_cv(cv, y, groups):
    """The splitter of `cv`: an int (or None) is stratified, and by group with groups."""
    if cv is None or isinstance(cv, Integral):
        n_splits = _DEFAULT_FOLDS if cv is None else cv
        return StratifiedKFold(n_splits) if groups is None else StratifiedGroupKFold(n_splits)
    return check_cv(cv, y, classifier=True)


def route_fit_params(owner, children, params, *, sample_weight=None, groups=None):
    """The metadata of ``owner.fit`` for each child and for the splitter.

    Parameters
    ----------
    owner : estimator
        The meta-estimator being fitted; it implements ``get_metadata_routing``.
    children : dict of str to estimator
        The estimators that ``sample_weight`` reaches without routing, by their names
        in ``get_metadata_routing``.
    params : dict
        The other metadata passed to ``owner.fit`` (its ``**fit_params``), only accepted
        with metadata routing enabled.
    sample_weight, groups : array-like or None
        The metadata that ``owner.fit`` names; None is not passed on.

    Returns
    -------
    routed : Bunch
        ``routed[name]["fit"]`` for each child, ``routed["splitter"]["split"]``.
    """
    if _routing_enabled():
        metadata = {"sample_weight": sample_weight, "groups": groups, **params}
        return process_routing(
            owner, "fit", **{key: value for key, value in metadata.items() if value is not None}
        )
    _raise_for_params(params, owner, "fit")
    routed = Bunch(
        **{
            name: Bunch(fit=sample_weight_params(owner, child, sample_weight, role=name))
            for name, child in children.items()
        }
    )
    routed["splitter"] = Bunch(split={} if groups is None else {"groups": groups})
    return routed


def sample_weight_params(owner, estimator, sample_weight, *, role="estimator"):
    """Without routing: the ``fit`` keyword arguments that give `estimator` the weights.

    A :class:`~sklearn.pipeline.Pipeline` takes them as ``<last step>__sample_weight``,
    for its final step (nested pipelines nest the prefix), which is how scikit-learn's
    ``Pipeline.fit`` has always accepted them.
    """
    if sample_weight is None:
        return {}
    key = _sample_weight_key(estimator)
    if key is None:
        final = _final_step(estimator)
        inside = "" if final is estimator else " (the final step of its Pipeline)"
        raise TypeError(
            f"{type(owner).__name__} got sample_weight, but its {role} "
            f"{type(final).__name__}{inside} does not accept sample_weight in fit. Use "
            "a classifier that does, or class_weight, or drop sample_weight."
        )
    return {key: sample_weight}


def _sample_weight_key(estimator):
    """The fit keyword that carries the weights to `estimator`, None where none does."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        inner = None if last is None or last == "passthrough" else _sample_weight_key(last)
        return None if inner is None else f"{name}__{inner}"
    parameters = inspect.signature(estimator.fit).parameters.values()
    # A fit(**kwargs) (GridSearchCV, VotingClassifier) hands sample_weight on itself.
    if any(p.name == "sample_weight" or p.kind is p.VAR_KEYWORD for p in parameters):
        return "sample_weight"
    return None


def _final_step(estimator):
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def check_groups(owner, groups, n_samples):
    """`groups` as an array of one group per sample, or None."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"{type(owner).__name__}: groups has {groups.shape[0]} entries for "
            f"{n_samples} samples. Pass one group (speaker) per sample."
        )
    missing = np.flatnonzero([is_missing(group) for group in groups])
    if missing.size:
        raise ValueError(
            f"{type(owner).__name__}: {missing.size} of the groups are missing (None or "
            f"NaN; first at row {missing[0]}). Every sample needs its group (speaker): "
            "fill them in, or drop those samples."
        )
    return groups


def check_folds(owner, cv, y, groups):
    """Name the fix where an int `cv` cannot be split as asked (see :func:`inner_cv`).

    By group: fewer groups than folds is an error (scikit-learn's names neither `cv` nor
    the owner). Stratified: a class with fewer samples than folds is left out of some
    training folds; scikit-learn warns without naming the class.
    """
    if not (cv is None or isinstance(cv, Integral)):
        return
    n_splits = _DEFAULT_FOLDS if cv is None else cv
    name = type(owner).__name__
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < n_splits:
            raise ValueError(
                f"{name}: cv={n_splits} makes folds by group (speaker), but groups holds "
                f"{n_groups}. Pass cv={max(n_groups, 2)} or fewer"
                + ("." if n_groups >= 2 else ", with samples of at least 2 groups.")
            )
        return
    labels, counts = np.unique(y, return_counts=True)
    if counts.min() < n_splits:
        rare = labels[counts < n_splits]
        shown = ", ".join(
            repr(label.item() if hasattr(label, "item") else label) for label in rare[:3]
        )
        warnings.warn(
            f"{name}: class(es) {shown} have fewer samples ({counts.min()} at least) than "
            f"the cv={n_splits} folds, so some folds are fitted without them. Pass a "
            "smaller cv, or give those classes more samples.",
            UserWarning,
            stacklevel=3,
        )
