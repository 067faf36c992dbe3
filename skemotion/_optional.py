"""Import heavy optional dependencies on first use, with an install hint on failure."""

import importlib


def import_optional_dependency(module_name, *, extra, caller):
    """Import and return `module_name`, or raise an ImportError that says how to install it.

    Parameters
    ----------
    module_name : str
        The module to import, e.g. ``"sentence_transformers"``.
    extra : str
        The skemotion extra that installs it, e.g. ``"text"``.
    caller : str
        What needs it, e.g. ``"TextEncoder"``; it opens the error message.
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        package = module_name.split(".")[0].replace("_", "-")
        raise ImportError(f"{caller} requires {package}: pip install 'skemotion[{extra}]'") from exc
