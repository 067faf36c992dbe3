"""Encode items on a Dask cluster, partition by partition, through a shared cache.

:func:`encode_dask` maps a skemotion encoder over the partitions of a dask collection
(a Series, a one-column DataFrame, a Bag or a 1-D Array of items). Each worker process
loads the model once (the encoders keep loaded models in a process-wide registry), and
every worker reads and writes the same embedding cache, in which the processes that
miss the same items encode each of them once.

Importing this module imports nothing of Dask: it is imported when
:func:`encode_dask` is first called (extra ``dask``).
"""

import copy
import sys
import threading

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._cache import EmbeddingCache, _resolve_location
from ._config import get_config
from ._encoders._base import BaseItemEncoder
from ._malloc import keep_large_blocks_on_the_heap
from ._optional import import_optional_dependency

__all__ = ["encode_dask"]

_CALLER = "encode_dask"
# The cache handles of this process's threads, one per thread and location: each its
# own connection, so that the threads of a worker do not queue on one handle's lock.
_thread_caches = threading.local()


def encode_dask(encoder, collection, *, feature_names=None):
    """Embed the items of a dask collection with `encoder`, partition by partition.

    Each partition is encoded by one task: the encoder (its parameters, never its
    weights) travels to the worker, which loads the model once and keeps it for every
    later partition and call (the encoders' process-wide model registry). The tasks
    share the encoder's embedding cache: items found there are not encoded again, and
    when several workers miss the same items at once each item is encoded by one of
    them (see :class:`~skemotion.EmbeddingCache`).

    Parameters
    ----------
    encoder : skemotion encoder
        A :class:`~skemotion.TextEncoder`, :class:`~skemotion.ImageEncoder`,
        :class:`~skemotion.FaceEncoder`, :class:`~skemotion.AudioFeatures` or
        :class:`~skemotion.AudioEncoder`, fitted or not. An unfitted encoder is fitted
        (its items checked) on each partition before it encodes it. Its ``cache`` is
        what the workers use; ``cache=None`` takes this process's
        :func:`~skemotion.set_config` default, since workers do not see it. The cache
        must be one that every worker reaches: a ``postgresql://`` URL, or an SQLite
        path on a local disk when the workers run on this machine.
    collection : dask Series, dask DataFrame with one column, dask Bag or 1-D dask Array
        The items, one per sample (texts, file paths, ...). File paths must name
        files that the workers can read.
    feature_names : array-like of str, default=None
        The output's column names, whose number is the embedding size, e.g.
        ``encoder.get_feature_names_out()`` of a fitted encoder. None asks the encoder
        at once, in one task on the cluster (where the model is loaded, as the work
        needs it anyway); an unfitted encoder is fitted there on the first partition.

    Returns
    -------
    embeddings : dask DataFrame or dask Array
        A dask DataFrame with one float32 column per feature (named as
        ``feature_names``), with the index and partitions of a Series or DataFrame;
        a 2-D float32 dask Array of shape ``(n_items, n_features)`` for a Bag (row
        counts unknown until computed) or an Array (the same row chunks). Nothing is
        encoded until it is computed.

    See Also
    --------
    skemotion.EmbeddingCache : The cache that the workers share.

    Notes
    -----
    Each worker process holds one copy of the model, whatever the number of
    partitions or calls; a worker with several threads shares it between them.
    Rows are written to the cache chunk by chunk (``batch_size`` x 8 items), so a
    partition of several chunks keeps the cluster busy and a worker that dies loses
    at most its unfinished chunk: its claims on the items it had not stored run out
    after ``skemotion._cache.CLAIM_LEASE_S`` (60 s), and Dask's retry of its
    partition, or any worker waiting for them, encodes them.

    Items that fail follow the encoder's ``missing`` and ``on_error`` parameters; an
    error names the partition and the item (its index label for a DataFrame).

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> from skemotion import EmbeddingCache, TextEncoder
    >>> from skemotion.parallel import encode_dask
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> texts = dd.read_csv("posts-*.csv")["text"]  # doctest: +SKIP
    >>> encoder = TextEncoder(cache="postgresql://emb@db-host/embeddings")
    >>> X = encode_dask(encoder, texts)  # doctest: +SKIP
    >>> X.to_parquet("embeddings/")  # doctest: +SKIP
    """
    import_optional_dependency("dask", extra="dask", caller=_CALLER)
    kind = _collection_kind(collection)
    _check_encoder(encoder)
    fitted = _is_fitted(encoder)
    if fitted:
        _check_column(encoder, collection, kind)
    shipped = _with_shared_cache(encoder)
    if feature_names is None:
        feature_names = _probe_feature_names(shipped, collection, fitted)
    names = _check_feature_names(feature_names)
    if kind == "dataframe":
        return _encode_frame(shipped, collection, names, fitted)
    if kind == "array":
        return _encode_array(shipped, collection, names, fitted)
    return _encode_bag(shipped, collection, names, fitted)


# --- checks -----------------------------------------------------------------------------


def _collection_kind(collection):
    """``"dataframe"``, ``"bag"`` or ``"array"``; a clear error for anything else."""
    # A dask collection's module is imported already: look there, importing nothing.
    dd, db, da = (sys.modules.get(f"dask.{name}") for name in ("dataframe", "bag", "array"))
    if dd is not None and isinstance(collection, dd.Series):
        return "dataframe"
    if dd is not None and isinstance(collection, dd.DataFrame):
        columns = list(collection.columns)
        if len(columns) != 1:
            raise ValueError(
                f"{_CALLER} takes one column of items; got a dask DataFrame with "
                f"{len(columns)} columns {columns!r:.200}. Select the column of items, "
                "e.g. ddf['text'] (or ddf[['text']])."
            )
        return "dataframe"
    if db is not None and isinstance(collection, db.Bag):
        return "bag"
    if da is not None and isinstance(collection, da.Array):
        if collection.ndim == 2 and collection.shape[1] == 1:
            raise ValueError(
                f"{_CALLER} takes a 1-D dask Array of items; got shape "
                f"{collection.shape}. Pass array[:, 0]."
            )
        if collection.ndim != 1:
            raise ValueError(
                f"{_CALLER} takes a 1-D dask Array of items (one per sample); got one of "
                f"shape {collection.shape}."
            )
        return "array"
    raise TypeError(
        f"{_CALLER} takes a dask Series, a one-column dask DataFrame, a dask Bag or a "
        f"1-D dask Array of items; got {type(collection).__name__}. For items in memory, "
        "call encoder.fit_transform(items); to spread them over a cluster, wrap them, "
        "e.g. dask.dataframe.from_pandas(pd.Series(items), npartitions=8) or "
        "dask.bag.from_sequence(items, npartitions=8)."
    )


def _check_encoder(encoder):
    if not isinstance(encoder, BaseItemEncoder):
        raise TypeError(
            f"{_CALLER} takes a skemotion encoder (TextEncoder, ImageEncoder, FaceEncoder, "
            f"AudioFeatures, AudioEncoder); got {type(encoder).__name__}. To run a whole "
            "pipeline on a cluster, use joblib.parallel_config('dask') around its fit."
        )


def _is_fitted(encoder):
    try:
        check_is_fitted(encoder)
    except Exception:  # NotFittedError
        return False
    return True


def _check_column(encoder, collection, kind):
    fitted = getattr(encoder, "feature_names_in_", None)
    column = getattr(collection, "columns", None)
    if kind != "dataframe" or fitted is None or column is None:
        return
    if list(column) != list(fitted):
        raise ValueError(
            f"{type(encoder).__name__} was fitted on column {fitted[0]!r} but the dask "
            f"DataFrame's column is {list(column)[0]!r}. Pass the same column, or an "
            "unfitted encoder."
        )


def _check_feature_names(feature_names):
    if isinstance(feature_names, str):
        raise TypeError(
            f"feature_names must be a list of column names, got the str {feature_names!r}; "
            "pass encoder.get_feature_names_out() of a fitted encoder, or None."
        )
    names = [str(name) for name in feature_names]
    if not names:
        raise ValueError("feature_names is empty; pass one name per feature, or None.")
    if len(set(names)) != len(names):
        raise ValueError(f"feature_names must be distinct; got {names!r:.200}.")
    return np.asarray(names, dtype=object)


def _with_shared_cache(encoder):
    """A copy of `encoder` whose cache the workers resolve to the same store.

    ``cache=None`` would be the workers' own (unset) default: the caller's default is
    written in. A relative SQLite path would be resolved in each worker's folder: the
    absolute path of its file is written in instead.
    """
    cache = encoder.cache if encoder.cache is not None else get_config()["cache"]
    if cache is None:
        cache = False
    elif isinstance(cache, EmbeddingCache):
        cache = str(cache._location)
    elif cache is not False:
        try:
            cache = str(_resolve_location(cache))
        except TypeError as exc:
            raise TypeError(
                f"The 'cache' parameter of {type(encoder).__name__} must be None, False, a "
                f"path, a postgresql:// URL or an EmbeddingCache; got {cache!r}."
            ) from exc
    shipped = copy.copy(encoder)
    shipped.cache = cache  # a plain attribute: the parameter, as set_params would set it
    return shipped


# --- the tasks ----------------------------------------------------------------------------


def _thread_cache(location):
    """This thread's handle on the store at `location` (False or None: no cache)."""
    if location is None or location is False:
        return False
    handles = getattr(_thread_caches, "handles", None)
    if handles is None:
        handles = _thread_caches.handles = {}
    if location not in handles:
        handles[location] = EmbeddingCache(location)
    return handles[location]


def _ready(encoder, items, fitted):
    """The encoder a task runs: fitted on `items` if it was not, with its thread's cache."""
    keep_large_blocks_on_the_heap()  # once per worker: its nanny's setting slows encoding
    encoder = copy.copy(encoder) if fitted else clone(encoder).fit(items)
    encoder.cache = _thread_cache(encoder.cache)
    return encoder


def _feature_names_task(encoder, items, fitted):
    """Run on the cluster: the output names (loads the model there, once per worker)."""
    if not fitted:
        if not len(items):
            raise ValueError(
                f"{_CALLER} fits an unfitted {type(encoder).__name__} on the first "
                "partition to learn its feature names, but that partition is empty. Fit "
                "the encoder first (encoder.fit(some_items)), pass "
                "feature_names=encoder.get_feature_names_out(), or repartition."
            )
    ready = _naming(_ready, "partition 0", encoder, items, fitted)
    return [str(name) for name in ready.get_feature_names_out()]


def _probe_feature_names(encoder, collection, fitted):
    import dask

    first = None if fitted else collection.to_delayed()[0]
    task = dask.delayed(_feature_names_task, pure=False)(encoder, first, fitted)
    (names,) = dask.compute(task)
    return names


def _naming(func, where, *args):
    """``func(*args)``, its errors about items prefixed with the partition they are in."""
    try:
        return func(*args)
    except (ValueError, TypeError) as exc:
        if type(exc) not in (ValueError, TypeError):
            raise
        # The encoders' errors name the item by its position in the partition: say which.
        raise type(exc)(f"{_CALLER}, {where}: {exc}") from exc


def _encode_items(encoder, items, names, fitted, where):
    """One task's rows: a float32 array of shape (len(items), len(names))."""
    if not len(items):
        return np.empty((0, len(names)), dtype=np.float32)
    X = _naming(lambda: _ready(encoder, items, fitted).transform(items), where)
    if X.shape[1] != len(names):
        raise ValueError(
            f"{_CALLER}, {where}: {type(encoder).__name__} gave {X.shape[1]} features but "
            f"feature_names has {len(names)}; pass the names of this encoder's output, or "
            "feature_names=None."
        )
    return X


def _frame_partition(part, encoder, names, fitted, n_partitions, partition_info=None):
    import pandas as pd

    number = partition_info["number"] if partition_info else 0
    where = f"partition {number} of {n_partitions}"
    X = _encode_items(encoder, part, names, fitted, where)
    return pd.DataFrame(X, index=part.index, columns=list(names))


def _encode_frame(encoder, collection, names, fitted):
    import pandas as pd

    meta = pd.DataFrame(
        {name: pd.Series(dtype=np.float32) for name in names},
        index=collection._meta.index,
    )
    return collection.map_partitions(
        _frame_partition,
        encoder,
        names,
        fitted,
        collection.npartitions,
        meta=meta,
        align_dataframes=False,
        enforce_metadata=False,
        transform_divisions=False,
    )


def _array_block(block, encoder, names, fitted, n_blocks, block_info=None):
    import pandas as pd

    info = block_info[0] if block_info else None
    number = info["chunk-location"][0] if info else 0
    start = info["array-location"][0][0] if info else 0
    # Indexed by position in the whole array, so that errors name the item as the user
    # knows it.
    items = pd.Series(np.asarray(block, dtype=object), index=range(start, start + len(block)))
    return _encode_items(encoder, items, names, fitted, f"block {number} of {n_blocks}")


def _encode_array(encoder, collection, names, fitted):
    return collection.map_blocks(
        _array_block,
        encoder,
        names,
        fitted,
        collection.numblocks[0],
        new_axis=1,
        chunks=(collection.chunks[0], (len(names),)),
        dtype=np.float32,
        meta=np.empty((0, 0), dtype=np.float32),
    )


def _bag_partition(part, encoder, names, fitted, number, n_partitions):
    items = list(part)
    return _encode_items(encoder, items, names, fitted, f"partition {number} of {n_partitions}")


def _encode_bag(encoder, collection, names, fitted):
    import dask
    import dask.array as da

    parts = collection.to_delayed()
    blocks = [
        da.from_delayed(
            dask.delayed(_bag_partition, pure=True)(part, encoder, names, fitted, k, len(parts)),
            shape=(np.nan, len(names)),
            dtype=np.float32,
            meta=np.empty((0, len(names)), dtype=np.float32),
        )
        for k, part in enumerate(parts)
    ]
    return da.concatenate(blocks, axis=0)
