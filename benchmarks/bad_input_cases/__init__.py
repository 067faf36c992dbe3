"""Bad inputs fed to every encoder, fusion estimator, the cache and the CLI.

Each public module here (items, audio, images, estimators, cache, cli, datasets)
registers its cases (see _registry.py); benchmarks/sweep_bad_inputs.py runs them in a
watched child process and writes benchmarks/results/bad_inputs.md.
"""

import importlib
import pkgutil


def load_all():
    """Import every case module, which registers its cases; return the registry."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    from ._registry import CASES

    return CASES
