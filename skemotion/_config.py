"""Global configuration: defaults that apply to every encoder unless overridden."""

import threading
from contextlib import contextmanager

_global_config = {"cache": None}
_lock = threading.Lock()


def get_config():
    """Return a copy of skemotion's global configuration.

    Returns
    -------
    config : dict
        Keys are the parameters of :func:`set_config`.

    See Also
    --------
    set_config : Set the global configuration.
    config_context : Change the configuration within a ``with`` block.

    Examples
    --------
    >>> from skemotion import get_config
    >>> sorted(get_config())
    ['cache']
    """
    return dict(_global_config)


def set_config(*, cache=None):
    """Set skemotion's global configuration.

    Parameters
    ----------
    cache : str, path-like, EmbeddingCache or None, default=None
        The embedding cache used by every encoder whose own ``cache`` parameter is
        None. A path names an SQLite file (or a folder, which then holds
        ``embeddings.sqlite``). None turns the default cache off.

    Notes
    -----
    The configuration lives in the current process. Worker processes started by
    joblib (``n_jobs`` in ``GridSearchCV``) do not see it: pass ``cache=`` to the
    encoders themselves when fitting in parallel.

    Examples
    --------
    >>> from skemotion import set_config, get_config
    >>> set_config(cache=None)
    >>> get_config()["cache"] is None
    True
    """
    with _lock:
        _global_config["cache"] = cache


@contextmanager
def config_context(*, cache=None):
    """Change skemotion's global configuration within a ``with`` block.

    Parameters
    ----------
    cache : str, path-like, EmbeddingCache or None, default=None
        See :func:`set_config`.

    Yields
    ------
    None
        The previous configuration is restored when the block ends.

    Examples
    --------
    >>> from skemotion import config_context, get_config
    >>> with config_context(cache="/tmp/skemotion-cache"):
    ...     get_config()["cache"]
    '/tmp/skemotion-cache'
    """
    old = get_config()
    set_config(cache=cache)
    try:
        yield
    finally:
        set_config(**old)
