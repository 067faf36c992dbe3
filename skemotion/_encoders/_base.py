"""What every encoder shares, in two layers.

``BaseItemEncoder`` is a batched, cached transformer of items (texts, images, clips)
into fixed-size rows: input handling, missing items (before and after decoding),
decoding in threads, the embedding cache, progress, feature names. AudioFeatures, a
fixed recipe without a neural network, needs only this.

``BaseFrozenEncoder`` adds a frozen pretrained model on a device: lazy loading through
a process-wide registry, ``device`` and ``precision``, pickling without weights.
"""

import hashlib
import json
import os
import threading
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._cache import EmbeddingCache, resolve_cache
from .._config import get_config
from .._device import PRECISIONS, check_device_string, resolve_device, resolve_dtype
from .._malloc import keep_large_blocks_on_the_heap
from .._optional import import_optional_dependency
from .._sklearn_compat import (
    DocLinkMixin,
    Interval,
    Options,
    StrOptions,
    _fit_context,
    _get_output_config,
)
from ._hashing import file_digest
from ._items import as_items, describe_position, is_missing
from ._segment import Segment, segment_key_bytes
from ._video import is_video_file

# Items are encoded and written to the cache in chunks of this many batches, so an
# interrupted run keeps what it has computed and the progress bar moves steadily.
_BATCHES_PER_CHUNK = 8
# Bump when a change in how we encode would make older cached embeddings wrong.
_FINGERPRINT_VERSION = 1


class _ModelRegistry:
    """Loaded frozen models shared by every encoder (and clone) in this process.

    Frozen weights are read-only, so the clones that GridSearchCV makes for each
    fold and candidate can share one copy instead of loading it again each time.
    """

    def __init__(self, max_models=4):
        self.max_models = max_models
        self._models = OrderedDict()
        self._lock = threading.RLock()

    def get(self, key, load):
        with self._lock:
            if key not in self._models:
                self._models[key] = load()
                while len(self._models) > self.max_models:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            return self._models[key]

    def clear(self):
        with self._lock:
            self._models.clear()


MODEL_REGISTRY = _ModelRegistry()
_OUTPUT_DIMS = {}  # (encoder class, model source) -> embedding size


class MissingAfterDecoding(NamedTuple):
    """How an encoder words an item that decodes to nothing to encode (no face found).

    ``_decode`` returns :data:`DECODED_TO_NOTHING` for such an item: its row is then
    missing and follows the ``missing`` policy, as a None item would, and the cache
    remembers the outcome (a row of NaN), so the item is not decoded again.
    """

    reason: str  # "the Haar cascade found no face (no_face='missing')"
    count_phrase: str  # "found no face in"
    noun: str  # "image"
    fix: str  # "Pass no_face='full' to encode whole images instead."


class FellBack(NamedTuple):
    """What ``_decode`` returns when it took the encoder's documented fallback.

    ``value`` is encoded as usual; the encoder's ``_fallback_warning`` reports how many
    of the items a call encoded fell back (e.g. the whole image for lack of a face).
    """

    value: object


DECODED_TO_NOTHING = object()  # returned by _decode: the item holds nothing to encode
# How often a process polls for the rows of keys another process is encoding: from
# 50 ms, doubling to 1 s, so a short wait costs little and a long one few queries.
_FIRST_POLL_S, _LAST_POLL_S = 0.05, 1.0


class _SharedResult(NamedTuple):
    vectors: dict
    hits: int  # keys another process stored while this one waited


class BaseItemEncoder(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Base class of encoders that turn each item into a fixed-size row, through a cache.

    Subclasses set ``_modality`` and ``_extra`` and implement ``_loaded``,
    ``_model_identity``, ``_item_error``, ``_item_bytes``, ``_encode_batch`` and
    ``_output_dim``. Everything else (input handling, missing items, the cache,
    batching, decoding threads, feature names) lives here, once.

    Parameters
    ----------
    batch_size : int, default=32
        Number of items encoded at once.
    cache : None, False, str, path-like or EmbeddingCache, default=None
        Where embeddings are stored and looked up. None uses the global default
        (:func:`skemotion.set_config`); False turns caching off.
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing item (None, NaN) becomes: an error naming its row, or a row
        of zeros or of NaN.
    verbose : bool or int, default=False
        Show a progress bar when there are more than two batches to encode.
    """

    _parameter_constraints = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache": [None, Options(bool, {False}), str, os.PathLike, EmbeddingCache],
        "missing": [StrOptions({"error", "zeros", "nan"})],
        "verbose": ["verbose"],
    }
    _modality = "item"
    _extra = "all"
    # Encoders whose items need I/O or conversion (files, images, audio) decode them in
    # a few threads, overlapping with the model; for texts a thread would only cost.
    _decode_in_threads = False
    # Encoders whose items may be file paths set the bytes that precede a file's content
    # in its cache key; None: a str item is the content itself (text).
    _file_key_prefix = None
    # The name this encoder's embeddings are cached under. Written out rather than taken
    # from ``__module__``, so that moving a file never invalidates a user's cache. A
    # subclass that does not set its own (a user's) is named by its module and class.
    _fingerprint_name = None
    # Encoders whose _decode may return DECODED_TO_NOTHING say how (MissingAfterDecoding).
    _missing_after_decoding = None

    # --- what subclasses provide -------------------------------------------------------

    def _loaded(self):
        """What encodes the items (a loaded network, a feature recipe), ready for use.

        Called in the calling thread before any item is decoded, and passed to
        ``_encode_batch``; it raises if a library or the weights are missing.
        """
        raise NotImplementedError

    def _model_identity(self):
        """A JSON-able identity of what maps items to rows (weights' digest, recipe)."""
        raise NotImplementedError

    def _item_error(self, item):
        """Why a present (non-missing) item cannot be encoded, or None if it can."""
        return None

    def _item_bytes(self, item):
        """The bytes that identify an in-memory item's content, for the cache key.

        File paths never reach this when ``_file_key_prefix`` is set: their key is the
        digest of the prefix and the file's bytes.
        """
        raise NotImplementedError

    def _encode_batch(self, model, items):
        """Embed a list of decoded items with `model` (what ``_loaded`` returned).

        Returns a float array of shape (len(items), n_features).
        """
        raise NotImplementedError

    def _output_dim(self):
        """The number of output features, without encoding anything if possible."""
        raise NotImplementedError

    def _fallback_warning(self, n_fallbacks, n_encoded):
        """The warning for items whose ``_decode`` returned :class:`FellBack`."""
        return (
            f"{type(self).__name__} took its fallback for {n_fallbacks} of the "
            f"{n_encoded} item(s) it encoded."
        )

    def _fingerprint_dtype(self):
        """The precision the rows are computed in, part of the cache fingerprint."""
        return "float32"

    def _output_params(self):
        """Parameters other than the weights that change the embeddings."""
        return {}

    def _decode(self, item):
        """Turn an item into what ``_encode_batch`` takes (read a file, convert an image).

        Runs in worker threads when ``_decode_in_threads`` is true; an exception here
        is reported with the item's name (or skipped with ``on_error="skip"``). Return
        :data:`DECODED_TO_NOTHING` for an item that holds nothing to encode, or
        :class:`FellBack` around what is encoded after a documented fallback.
        """
        return item

    def _check_params(self):
        """Checks of parameters that `_parameter_constraints` cannot express (in fit)."""

    def _import_decoding_libraries(self):
        """Import what ``_decode`` needs, in the calling thread, before decoding starts.

        A library that several decoding threads import for the first time at once can
        be seen half-initialised by all but one of them (OpenCV then has "no attribute
        'data'") or crash in its native start-up.
        """

    def _check_setup(self):
        """Checks of the machinery's own parameters (the device), in fit."""

    def _is_missing_item(self, item):
        return is_missing(item)

    def _length_hint(self, item):
        """A cheap size of an item; similar sizes are batched together to limit padding."""
        return 0

    # --- scikit-learn API --------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the items; the pretrained model itself is not trained.

        Parameters
        ----------
        X : list, 1-D array, pandas Series or one-column DataFrame
            The items, one per sample.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The encoder.
        """
        self._check_setup()
        self._check_params()
        items, index, column = as_items(X, caller=type(self).__name__)
        if not len(items):
            raise ValueError(
                f"Found array with 0 sample(s) (shape=(0, 1)) while a minimum of 1 is "
                f"required by {type(self).__name__}."
            )
        self._check_items(items, index)
        self.n_features_in_ = 1
        if isinstance(column, str):
            self.feature_names_in_ = np.asarray([column], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X):
        """Embed each item with the frozen model, reusing cached embeddings.

        Parameters
        ----------
        X : list, 1-D array, pandas Series or one-column DataFrame
            The items, one per sample.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features), dtype float32
            One row per item; missing items follow the ``missing`` policy.
        """
        check_is_fitted(self)
        # set_params after fit is checked too: batch_size=0 or device="gpu" would fail
        # deep in the encoding, missing="drop" would pass unnoticed.
        self._validate_params()
        self._check_setup()
        items, index, column = as_items(X, caller=type(self).__name__)
        self._check_column_name(column)
        present = self._check_items(items, index)
        # Once per process: glibc would give each item's freed blocks back to the
        # system and fault them in again for the next (see skemotion/_malloc.py).
        keep_large_blocks_on_the_heap()
        vectors = self._embed(items, np.flatnonzero(present), index)
        if vectors:
            dim = self._check_row_sizes(vectors)
            self._saw_output_dim(dim)
        else:
            dim = self._output_dim()
        out = np.full((len(items), dim), self._fill_value(), dtype=np.float32)
        for row, vector in vectors.items():
            out[row] = vector
        return _with_the_series_index(self, out, X, index)

    def _check_row_sizes(self, vectors):
        """The size of the rows, all equal; else the cache holds rows of another encoder.

        Only a cache written by other means can hold them (it refuses vectors of
        another size than its namespace's): name it and the fix, rather than fail in
        numpy's words.
        """
        sizes = {len(vector) for vector in vectors.values()}
        if len(sizes) == 1:
            return sizes.pop()
        cache = resolve_cache(self.cache)
        raise ValueError(
            f"{type(self).__name__} got rows of {len(sizes)} sizes "
            f"({', '.join(map(str, sorted(sizes)))}) for one model: the embedding cache "
            f"{getattr(cache, 'path', '')} holds rows of another size under this "
            "encoder's fingerprint. Clear them (EmbeddingCache(path).clear()) or delete "
            "the cache, or pass cache= another path."
        )

    def _saw_output_dim(self, dim):
        """Hear the size of rows just read or encoded (frozen models remember it)."""

    def _fill_value(self):
        """What the rows of missing (or skipped) items hold."""
        return np.nan if self.missing == "nan" else 0.0

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``<modality>_000``, ``<modality>_001``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names depend only on the embedding size.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per embedding dimension.
        """
        check_is_fitted(self)
        dim = self._output_dim()
        width = max(3, len(str(dim - 1)))
        return np.asarray([f"{self._modality}_{i:0{width}d}" for i in range(dim)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True  # a single column, as ColumnTransformer passes
        tags.input_tags.allow_nan = self.missing != "error"
        tags.transformer_tags.preserves_dtype = []  # always float32 embeddings
        return tags

    # --- items -------------------------------------------------------------------------

    def _check_items(self, items, index):
        """Validate every item; return the boolean mask of present (non-missing) items.

        Items that are valid but probably not what was meant (``_item_notice``) are
        named in one warning per call, the first few of them.
        """
        present = np.ones(len(items), dtype=bool)
        notices = []
        for position, item in enumerate(items):
            if self._is_missing_item(item):
                present[position] = False
                if self.missing == "error":
                    raise ValueError(
                        f"{self._where(position, index)} is missing ({item!r}). Pass "
                        "missing='zeros' or missing='nan' to encode missing items as a row "
                        "of zeros or NaN, or drop the row."
                    )
            elif (problem := self._item_error(item)) is not None:
                raise TypeError(f"{self._where(position, index)} {problem}")
            elif (notice := self._item_notice(item)) is not None:
                notices.append((position, notice))
        if notices:
            self._warn_notices(notices, items, index)
        return present

    def _item_notice(self, item):
        """``(phrase, fix)`` for a valid item that is probably not what was meant, or None.

        Such an item is encoded as it is, and named in a warning: "audio item 0 (...)"
        then the phrase ("has float samples up to 32,767, where float audio is expected
        in [-1, 1]"), then the fix, once however many items need it.
        """
        return None

    def _warn_notices(self, notices, items, index, shown=3):
        """One warning naming the first `shown` of the ``(position, (phrase, fix))``."""
        named = "; ".join(
            f"{self._modality} {describe_position(position, index)}"
            f"{self._item_label(items[position])} {phrase}"
            for position, (phrase, _) in notices[:shown]
        )
        more = f"; and {len(notices) - shown} more item(s)" if len(notices) > shown else ""
        fixes = " ".join(dict.fromkeys(fix for _, (_, fix) in notices))
        warnings.warn(
            f"{type(self).__name__}: {named}{more}. {fixes} Until then they are encoded as given.",
            UserWarning,
            stacklevel=4,
        )

    def _where(self, position, index, item=None):
        """Name an item as the user knows it: 'ImageEncoder: image item 3 ('a.jpg')'."""
        label = self._item_label(item) if item is not None else ""
        where = f"{self._modality} {describe_position(position, index)}{label}"
        return f"{type(self).__name__}: {where}"

    def _item_label(self, item):
        """How error messages show an item beside its position: here, a file's path."""
        if isinstance(item, (str, os.PathLike)):
            return f" ({os.fspath(item)!r})"
        return ""

    def _check_column_name(self, column):
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None and column is not None and column != fitted[0]:
            raise ValueError(
                f"{type(self).__name__} was fitted on column {fitted[0]!r} but is "
                f"transforming column {column!r}. Pass the same column."
            )

    # --- embedding, through the cache ----------------------------------------------------

    def _embed(self, items, rows, index):
        """Return ``{row: vector}`` for `rows`, encoding only what the cache lacks.

        Rows whose item fails to load are absent from the result when
        ``on_error="skip"``; otherwise the first failure raises, naming the item.
        Rows whose item decoded to nothing follow the ``missing`` policy.
        """
        errors = _ItemErrors(self, items, index)
        cache = self._resolved_cache()
        if cache is None:
            groups = {row: [row] for row in rows}
            vectors, fallbacks = self._encode_groups(items, groups, errors)
        else:
            # Identical items share one key, so each distinct item is encoded once.
            groups = {}
            for row in rows:
                key = errors.call(row, self._item_key, items[row])
                if key is not None:
                    groups.setdefault(key, []).append(row)
            namespace = self._fingerprint()
            vectors = cache._lookup(namespace, list(groups))
            todo = {key: group for key, group in groups.items() if key not in vectors}
            encoded, fallbacks = self._encode_shared(items, todo, errors, cache, namespace)
            cache._record(len(groups) - len(todo) + encoded.hits, 0)
            vectors.update(encoded.vectors)
        errors.warn_skipped()
        if fallbacks[0]:
            warnings.warn(self._fallback_warning(*fallbacks), UserWarning, stacklevel=3)
        by_row = {row: vectors[g] for g, group in groups.items() if g in vectors for row in group}
        return self._drop_decoded_to_nothing(by_row, items, index, len(rows))

    def _encode_shared(self, items, todo, errors, cache, namespace):
        """Encode the groups of `todo` that no other process is encoding; wait for the rest.

        Several processes may miss the same keys at once (a parallel grid search, a Dask
        cluster sharing the cache): each claims in the store the keys it is about to
        encode, and waits for the rows of the keys others claimed, taking over those
        whose claim expired (its process died). So each key is encoded once. Returns
        the vectors and the hits (keys others stored meanwhile); the misses are
        counted by _encode_groups, chunk by chunk.
        """
        vectors, hits = {}, 0
        fallbacks = [0, 0]
        pending, poll = dict(todo), _FIRST_POLL_S
        while pending:
            mine = cache._claim(namespace, list(pending))
            if mine:
                claimed = {key: group for key, group in pending.items() if key in mine}
                try:
                    encoded, chunk_fallbacks = self._encode_groups(
                        items, claimed, errors, cache, namespace, renew=True
                    )
                finally:
                    cache._release(namespace, list(claimed))
                vectors.update(encoded)
                fallbacks = [a + b for a, b in zip(fallbacks, chunk_fallbacks, strict=True)]
                pending = {key: group for key, group in pending.items() if key not in mine}
                poll = _FIRST_POLL_S
            if pending:  # claimed by others: their rows, once stored
                found = cache._lookup(namespace, list(pending))
                vectors.update(found)
                hits += len(found)
                pending = {key: group for key, group in pending.items() if key not in found}
                if pending and not found:
                    time.sleep(poll)
                    poll = min(2 * poll, _LAST_POLL_S)
        return _SharedResult(vectors, hits), tuple(fallbacks)

    def _encode_groups(self, items, groups, errors, cache=None, namespace=None, renew=False):
        """Encode one item per group, in length-sorted chunks; cache each chunk when done.

        While the model encodes one chunk, the next chunk's items are decoded (files
        read, images converted) in worker threads, so the model is not kept waiting.
        Returns the vectors by group and ``(items that fell back, items encoded)``.
        With `renew`, the claims on the chunks still to encode are renewed after each.
        """
        first = {g: items[group[0]] for g, group in groups.items()}
        order = sorted(first, key=lambda g: self._length_hint(first[g]))
        size = self.batch_size * _BATCHES_PER_CHUNK
        chunks = [order[start : start + size] for start in range(0, len(order), size)]
        vectors, fallbacks = {}, [0, 0]
        # Loaded in this thread before decoding starts: decoding may need the model
        # (its preprocessing), and a failed load must raise once, as itself, rather
        # than as every item's failure (which on_error="skip" would swallow).
        model = self._model if chunks else None
        if chunks and self._decode_in_threads:
            self._import_decoding_libraries()
        with self._progress_bar(len(order)) as bar, _Decoder(self) as decoder:
            pending = decoder.submit([first[g] for g in chunks[0]]) if chunks else None
            for k, chunk in enumerate(chunks):
                decoded = pending.results()
                if k + 1 < len(chunks):
                    pending = decoder.submit([first[g] for g in chunks[k + 1]])
                encoded = self._encode_chunk(model, chunk, decoded, groups, errors, fallbacks)
                if cache is not None:
                    if encoded:
                        cache.put_many(namespace, list(encoded), np.stack(list(encoded.values())))
                    # Counted as each chunk is done: a process killed later has its
                    # finished chunks counted (the misses are the items encoded).
                    cache._record(0, len(chunk))
                if renew and k + 1 < len(chunks):
                    # Still encoding: the claims on the chunks to come must not expire.
                    cache._claim(namespace, [g for later in chunks[k + 1 :] for g in later])
                vectors.update(encoded)
                bar.update(len(chunk))
        return vectors, tuple(fallbacks)

    def _encode_chunk(self, model, chunk, decoded, groups, errors, fallbacks):
        """Encode a chunk's decoded items; an item that decoded to nothing gets NaN."""
        ids, values, nothing = [], [], []
        for g, (value, exc) in zip(chunk, decoded, strict=True):
            if exc is not None:
                errors.fail(groups[g][0], exc)
            elif value is DECODED_TO_NOTHING:
                nothing.append(g)
            else:
                if isinstance(value, FellBack):
                    fallbacks[0] += 1
                    value = value.value
                ids.append(g)
                values.append(value)
        fallbacks[1] += len(values)
        encoded = {}
        if values:
            rows = np.asarray(self._encode_batch(model, values), np.float32)
            encoded.update(zip(ids, rows, strict=True))
        if nothing:
            # A row of NaN marks the outcome in the cache: models' outputs are finite.
            empty = np.full(self._output_dim(), np.nan, np.float32)
            encoded.update((g, empty) for g in nothing)
        return encoded

    def _drop_decoded_to_nothing(self, vectors, items, index, n_items):
        """Apply the ``missing`` policy to rows whose item decoded to nothing."""
        if self._missing_after_decoding is None:
            return vectors
        nothing = sorted(row for row, vector in vectors.items() if np.isnan(vector).all())
        if not nothing:
            return vectors
        how = self._missing_after_decoding
        if self.missing == "error":
            raise ValueError(
                f"{self._where(nothing[0], index, items[nothing[0]])}: {how.reason}, so the "
                "row is missing. Pass missing='zeros' or missing='nan' to fill such rows. "
                f"{how.fix}"
            )
        shown = ", ".join(self._where(row, index, items[row]) for row in nothing[:5])
        more = f" and {len(nothing) - 5} more" if len(nothing) > 5 else ""
        warnings.warn(
            f"{type(self).__name__} {how.count_phrase} {len(nothing)} of the {n_items} "
            f"{how.noun}(s) and filled their rows with {self._fill_value()} "
            f"(missing={self.missing!r}): {shown}{more}. {how.fix}",
            UserWarning,
            stacklevel=4,
        )
        nothing = set(nothing)
        return {row: vector for row, vector in vectors.items() if row not in nothing}

    def _item_key(self, item):
        if self._file_key_prefix is not None and isinstance(item, Segment):
            # A segment: its recording's content, then its bounds.
            recording = self._item_key(item.source)
            return hashlib.sha256(recording + segment_key_bytes(item)).digest()
        if self._file_key_prefix is not None and isinstance(item, (str, os.PathLike)):
            # A file is keyed by its bytes, not its path (a renamed copy is the same
            # item); the digest is memoised, so folds and candidates read it once.
            digest = file_digest(item, self._file_key_prefix)
            if is_video_file(item) and (sampling := self._video_sampling_bytes()):
                return hashlib.sha256(digest + sampling).digest()
            return digest
        return hashlib.sha256(self._item_bytes(item)).digest()

    def _video_sampling_bytes(self):
        """What decides which of a video's frames are read (the frame rate), for its key.

        In the video's key rather than in the fingerprint: it changes videos' rows
        and no other item's. b"" where the encoder reads no frames (the audio track).
        """
        return b""

    def _progress_bar(self, total):
        if self.verbose and total > 2 * self.batch_size:
            tqdm = import_optional_dependency("tqdm", extra=self._extra, caller=type(self).__name__)
            return tqdm.tqdm(total=total, unit=self._modality, desc=type(self).__name__)
        return _NoProgress()

    def _resolved_cache(self):
        cache = self.cache if self.cache is not None else get_config()["cache"]
        return resolve_cache(cache)

    def _fingerprint(self):
        """Identify everything that shapes the embeddings: class, weights, parameters."""
        spec = {
            "encoder": self._encoder_name(),
            "version": _FINGERPRINT_VERSION,
            "model": self._model_identity(),
            "dtype": self._fingerprint_dtype(),
            "params": self._output_params(),
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    @classmethod
    def _encoder_name(cls):
        """The encoder's stable name in the fingerprint; only the class's own counts."""
        own = cls.__dict__.get("_fingerprint_name")
        return own if own is not None else f"{cls.__module__}.{cls.__qualname__}"

    @property
    def _model(self):
        return self._loaded()


class BaseFrozenEncoder(BaseItemEncoder):
    """Base class of encoders that embed items with a frozen pretrained model.

    Adds to :class:`BaseItemEncoder` the model on a device: subclasses implement
    ``_model_source``, ``_load_model``, ``_model_identity`` and ``_embedding_dim``
    (and ``_weights_key`` where the weights are files). The loaded model lives in a
    process-wide registry, never on the instance.

    Parameters
    ----------
    batch_size : int, default=32
        Number of items the model encodes at once.
    device : str, default="auto"
        ``"auto"`` picks cuda, then mps, then cpu when the model loads; or name one:
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    precision : {"auto", "float32", "float16", "bfloat16"}, default="auto"
        Weights' precision. ``"auto"`` is float16 on cuda and float32 elsewhere.
        The output is float32 in every case.
    cache : None, False, str, path-like or EmbeddingCache, default=None
        Where embeddings are stored and looked up. None uses the global default
        (:func:`skemotion.set_config`); False turns caching off.
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing item (None, NaN) becomes: an error naming its row, or a row
        of zeros or of NaN.
    verbose : bool or int, default=False
        Show a progress bar when there are more than two batches to encode.
    """

    _parameter_constraints = {
        **BaseItemEncoder._parameter_constraints,
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    # --- what subclasses provide -------------------------------------------------------

    def _model_source(self):
        """Where the weights come from: a local path, or a name to load by."""
        raise NotImplementedError

    def _load_model(self, source, device, dtype):
        """Load the frozen model onto `device` in `dtype`, ready for inference."""
        raise NotImplementedError

    def _weights_key(self):
        """The digest of the weights on disk, part of the loaded model's registry key.

        So that weights rewritten in place are loaded again instead of served from
        memory (their embeddings are stored under the new weights' fingerprint). Must
        not load the model; "" where there is nothing on disk to digest yet.
        """
        return ""

    def _embedding_dim(self, model):
        """The number of output features of the loaded model."""
        raise NotImplementedError

    # --- the frozen model ----------------------------------------------------------------

    def _check_setup(self):
        check_device_string(self.device, type(self).__name__)

    def _device_and_dtype(self):
        caller = type(self).__name__
        device = resolve_device(self.device, caller, self._extra)
        return device, resolve_dtype(self.precision, device, caller, self._extra)

    def _fingerprint_dtype(self):
        return str(self._device_and_dtype()[1])

    def _loaded(self):
        # Looked up in the process-wide registry rather than stored on the instance:
        # transform must not change the estimator's state, clones share one copy of
        # the weights, and pickles never carry them.
        device, dtype = self._device_and_dtype()
        source = self._model_source()
        key = (type(self).__qualname__, str(source), str(device), str(dtype),
               self._weights_key())  # fmt: skip
        return MODEL_REGISTRY.get(key, lambda: self._load_model(source, device, dtype))

    def _dim_key(self):
        params = json.dumps(self._output_params(), sort_keys=True)  # may change the size
        return (type(self).__qualname__, str(self._model_source()), params)

    def _saw_output_dim(self, dim):
        # Remembered so that feature names after a warm-cache transform load no model.
        _OUTPUT_DIMS.setdefault(self._dim_key(), dim)

    def _output_dim(self):
        """The embedding size, remembered per model so that a warm cache loads no weights."""
        key = self._dim_key()
        if key not in _OUTPUT_DIMS:
            _OUTPUT_DIMS[key] = int(self._embedding_dim(self._model))
        return _OUTPUT_DIMS[key]


class _ItemErrors:
    """Report items that fail to load: raise at the first, or collect and warn (skip)."""

    def __init__(self, encoder, items, index):
        self.encoder, self.items, self.index = encoder, items, index
        # Encoders that cannot fail on a valid item (text) have no on_error parameter.
        self.skip = getattr(encoder, "on_error", "raise") == "skip"
        self.skipped = []

    def call(self, row, func, *args):
        try:
            return func(*args)
        except Exception as exc:
            self.fail(row, exc)
            return None

    def fail(self, row, exc):
        message = f"{self.encoder._where(row, self.index, self.items[row])}: {exc}"
        if not self.skip:
            raise ValueError(message) from exc
        self.skipped.append(message)

    def warn_skipped(self):
        if not self.skipped:
            return
        shown = "; ".join(self.skipped[:5])
        more = f"; and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        warnings.warn(
            f"{type(self.encoder).__name__} could not encode {len(self.skipped)} item(s) "
            f"and filled their rows with {self.encoder._fill_value()} (on_error='skip'): "
            f"{shown}{more}. Fix or drop these items to silence this warning.",
            UserWarning,
            stacklevel=4,
        )


class _Decoder:
    """Decode a chunk of items, in worker threads when the encoder asks for it."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.pool = None

    def __enter__(self):
        if self.encoder._decode_in_threads:
            self.pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
        return self

    def __exit__(self, *exc_info):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return False

    def submit(self, items):
        if self.pool is None:
            return _Pending([_Done(self._safe_decode, item) for item in items])
        return _Pending([self.pool.submit(self._safe_decode, item) for item in items])

    def _safe_decode(self, item):
        try:
            return self.encoder._decode(item), None
        except Exception as exc:
            return None, exc


class _Pending:
    def __init__(self, futures):
        self.futures = futures

    def results(self):
        return [future.result() for future in self.futures]


class _Done:
    """A 'future' computed when asked for: decoding in the calling thread."""

    def __init__(self, func, item):
        self.func, self.item = func, item

    def result(self):
        return self.func(self.item)


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def update(self, n):
        pass


def _with_the_series_index(encoder, out, X, index):
    """`out` as a DataFrame on a pandas Series' index, where pandas output is set.

    scikit-learn before 1.7 gives pandas output the input's index only when the input
    is a DataFrame: the rows of a Series (what a ColumnTransformer passes for a column
    named by a string) got 0..n-1, and ColumnTransformer then joined them with the other
    columns' rows by those labels, which in a cross-validation fold do not match.
    scikit-learn's wrapper names the columns of a DataFrame returned here.
    """
    if (
        not isinstance(X, pd.Series)
        or _get_output_config("transform", encoder)["dense"] != "pandas"
    ):
        return out
    return pd.DataFrame(out, index=index)
