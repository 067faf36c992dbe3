"""Import heavy optional dependencies on first use, with an install hint on failure."""

import functools
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


def lazy_torch_module(*, module, extra, caller):
    """Make a function that defines a ``torch.nn.Module`` class into its lazy builder.

    The decorated function takes the torch module and returns the class; the builder
    imports torch and defines the class on its first call only (so that importing
    skemotion, or collecting its doctests, never imports torch) and returns that same
    class on every call. The class is named as if defined at the top of `module`,
    whose ``__getattr__`` can then return it, so that instances pickle and unpickle.

    Parameters
    ----------
    module : str
        The ``__name__`` of the module that holds the builder.
    extra : str
        The skemotion extra that installs torch there.
    caller : str
        What needs torch, for the ImportError.
    """

    def decorator(define):
        @functools.cache
        def build():
            torch = import_optional_dependency("torch", extra=extra, caller=caller)
            cls = define(torch)
            cls.__module__, cls.__qualname__ = module, cls.__name__
            return cls

        build.__doc__ = define.__doc__
        return build

    return decorator
