"""matplotlib for the displays: imported when a plot is drawn, with an install hint."""

from ._optional import import_optional_dependency

EXTRA = "plot"


def check_matplotlib(caller):
    """Import and return matplotlib, or raise an ImportError naming `caller` and the extra."""
    return import_optional_dependency("matplotlib", extra=EXTRA, caller=caller)


def get_axes(ax, caller):
    """`ax`, or new axes on a new pyplot figure when None."""
    if ax is not None:
        return ax
    plt = import_optional_dependency("matplotlib.pyplot", extra=EXTRA, caller=caller)
    _, ax = plt.subplots()
    return ax
