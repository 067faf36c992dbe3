"""scikit-learn's private API comes in through one module, and every public estimator's
HTML repr links to its API page."""

import ast
import inspect
import re
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils import estimator_html_repr

import skemotion

PACKAGE = Path(skemotion.__file__).parent
API_PAGE = Path(__file__).parents[1] / "docs" / "api.md"

PUBLIC_ESTIMATORS = [
    cls
    for cls in (getattr(skemotion, name) for name in skemotion.__all__)
    if inspect.isclass(cls) and issubclass(cls, BaseEstimator)
]


def _instance(cls):
    """An unfitted instance: the meta-estimators need an estimator, the others nothing."""
    required = [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    return cls(LogisticRegression()) if required else cls()


def _private_sklearn_imports(path):
    """``(line, name)`` of each private scikit-learn module or name imported in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
            private_module = any(part.startswith("_") for part in node.module.split("."))
            names = [alias.name for alias in node.names]
            found += [
                (node.lineno, f"{node.module}.{name}")
                for name in names
                if private_module or name.startswith("_")
            ]
    return found


def test_private_scikit_learn_api_is_imported_only_by_the_compat_module():
    offenders = {
        str(path.relative_to(PACKAGE)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_sklearn_compat.py" and (imports := _private_sklearn_imports(path))
    }
    assert not offenders, f"import these from skemotion._sklearn_compat instead: {offenders}"


def test_the_registry_finds_the_estimators():
    names = {cls.__name__ for cls in PUBLIC_ESTIMATORS}
    assert {"LateFusionClassifier", "TextEncoder", "TunedOffsetClassifierCV"} <= names


@pytest.mark.parametrize("cls", PUBLIC_ESTIMATORS, ids=lambda cls: cls.__name__)
def test_html_repr_links_to_the_api_page(cls):
    url = f"https://skemotion.readthedocs.io/en/latest/api.html#skemotion.{cls.__name__}"
    estimator = _instance(cls)
    assert estimator._get_doc_link() == url
    assert f'href="{url}"' in estimator_html_repr(estimator)


@pytest.mark.skipif(not API_PAGE.exists(), reason="docs/ is not beside the tests")
@pytest.mark.parametrize("cls", PUBLIC_ESTIMATORS, ids=lambda cls: cls.__name__)
def test_the_link_anchor_is_on_the_api_page(cls):
    # sphinx's autoclass writes the anchor "skemotion.<name>" that the link points to.
    pattern = rf"^\.\. autoclass:: skemotion\.{cls.__name__}$"
    assert re.search(pattern, API_PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)
