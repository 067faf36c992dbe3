"""Every private scikit-learn name skemotion uses, imported in one place.

scikit-learn's underscored API (parameter validation, ``_fit_context``, the metadata
routing helpers, the hooks of the HTML repr) carries no deprecation promise: a release
may move or rename it. The rest of the package imports these names from here, so that a
change in scikit-learn is handled in this one module, as skrub's ``_sklearn_compat.py``
does. The supported range is ``scikit-learn>=1.6`` (pyproject.toml); ``.ci/lowest-sklearn``
runs the tests against the lowest release.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_method_params,
    _check_sample_weight,
)

__all__ = [
    "DocLinkMixin",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_feature_names_in",
    "_check_method_params",
    "_check_sample_weight",
    "_fit_context",
    "_get_output_config",
    "_raise_for_params",
    "_routing_enabled",
    "_safe_indexing",
]

# The anchor sphinx's autoclass writes for each class of docs/api.md: ``skemotion.<name>``
# (every public estimator is documented under its top-level name).
DOC_LINK_TEMPLATE = "https://skemotion.readthedocs.io/en/latest/api.html#skemotion.{estimator_name}"


class DocLinkMixin:
    """Link an estimator's HTML repr (the "?" icon in Jupyter) to its skemotion API page.

    scikit-learn's ``BaseEstimator`` reads two class attributes: ``_doc_link_module``,
    the package whose estimators get a link (scikit-learn's own by default, so ours get
    none), and ``_doc_link_template``, formatted with ``estimator_name`` (and
    ``estimator_module``). Put the mixin before ``BaseEstimator`` in the bases so that
    these attributes win.
    """

    _doc_link_module = "skemotion"
    _doc_link_template = DOC_LINK_TEMPLATE
