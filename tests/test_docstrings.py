"""numpydoc validation of the public API's docstrings, as scikit-learn and skrub run it.

Every public class (with its public methods and properties) and function of
``skemotion``, ``skemotion.fusion``, ``skemotion.datasets`` and ``skemotion.plots`` is
checked. Methods inherited from scikit-learn (``get_params``, ``set_output``, ...) are
scikit-learn's to document, and are left out. To check one object by hand::

    python -m pytest tests/test_docstrings.py -k LateFusionClassifier
"""

import importlib
import inspect

import pytest
from numpydoc.validate import validate

PUBLIC_MODULES = ["skemotion", "skemotion.fusion", "skemotion.datasets", "skemotion.plots"]

# Checks that scikit-learn and skrub do not enforce either:
#  - GL01, GL02: where the summary starts, and blank lines around it (this lets a
#    property have a one-line docstring);
#  - RT02: the Returns line may name the returned object, not only its type;
#  - SA01: a See Also section where it helps, not on every object;
#  - ES01: an extended summary where the summary line does not say it all.
IGNORED_CHECKS = {"GL01", "GL02", "RT02", "SA01", "ES01"}
# A method is shown by its class's Examples.
IGNORED_FOR_METHODS = {"EX01"}


def _defined_in_skemotion(member):
    target = member.fget if isinstance(member, property) else member
    return (getattr(target, "__module__", None) or "").startswith("skemotion")


def _public_members(cls):
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        member = static if isinstance(static, property) else getattr(cls, name)
        if (callable(member) or isinstance(member, property)) and _defined_in_skemotion(member):
            yield name


def _public_objects():
    """(public import path, is a method) of each object to validate, each object once."""
    seen = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue  # constants such as __version__, or a re-export seen already
            seen.add(id(obj))
            path = f"{module_name}.{name}"
            yield path, False
            if inspect.isclass(obj):
                for member in _public_members(obj):
                    yield f"{path}.{member}", True


OBJECTS = list(_public_objects())


def test_the_public_api_is_found():
    paths = {path for path, _ in OBJECTS}
    for path in [
        "skemotion.TextEncoder",
        "skemotion.TextEncoder.transform",
        "skemotion.LateFusionClassifier.predict_proba",
        "skemotion.EmbeddingCache.path",
        "skemotion.datasets.load_ravdess",
        "skemotion.plots.ConfusionMatrixDisplay.from_predictions",
    ]:
        assert path in paths
    assert "skemotion.TextEncoder.get_params" not in paths  # scikit-learn's


@pytest.mark.parametrize("path, is_method", OBJECTS, ids=[path for path, _ in OBJECTS])
def test_docstring_follows_numpydoc(path, is_method):
    ignored = IGNORED_CHECKS | (IGNORED_FOR_METHODS if is_method else set())
    result = validate(path)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code not in ignored]
    assert not errors, f"{path} ({result['file']}):\n" + "\n".join(errors)
