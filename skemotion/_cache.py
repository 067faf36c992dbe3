"""Persistent per-item embedding cache: an SQLite file, or a PostgreSQL server.

Frozen encoders embed each item once and share the result across scikit-learn
clones, cross-validation folds, grid-search candidates, joblib workers and, on a
server, machines. Vectors are stored as raw little-endian float32 bytes, never
pickled, so a cache is safe to read whoever wrote it.

:class:`EmbeddingCache` is the interface; the rows live in a store: the SQLite one
below (the embedded default), or ``_cache_postgres.PostgresStore`` for a
``postgresql://`` URL. Both also hold the claims by which processes that miss the
same keys at once encode each only once, and counters of every process's hits and
misses.

This module imports nothing of skemotion at import time (the cache's tests load it
by file in subprocesses); the PostgreSQL store is imported when a URL is used.
"""

import errno
import importlib
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
import warnings
import weakref
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "resolve_cache"]

SCHEMA_VERSION = 1
DEFAULT_FILENAME = "embeddings.sqlite"
_KEY_BYTES = 32  # a SHA-256 digest
_CHUNK = 500  # keys per SELECT; stays far below SQLite's bound-variable limit
_LOCK_RETRIES = 5
_LOCK_BACKOFF_S = 0.05
# SQLite says "disk I/O error" where it cannot grow its -shm file (SQLITE_IOERR_SHMSIZE)
# or write a page on a full disk; below this much free space that is what it means.
_NEARLY_FULL_BYTES = 1 << 20
_FULL_ERRNOS = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))

# How long a claim on keys holds before another process may take them over: the
# claimer renews it after each chunk it stores, so it only runs out when the claimer
# died (or hangs); then its unfinished keys are encoded by whoever waits for them.
CLAIM_LEASE_S = 60.0
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS embeddings ("
    " namespace TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL,"
    " vector BLOB NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID",
)
# Added to caches made before them (older skemotion ignores them: same schema version).
_SHARING_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS claims ("
    " namespace TEXT NOT NULL, key BLOB NOT NULL, owner TEXT NOT NULL,"
    " expires REAL NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)
# The first writer wins, except over a damaged row (a vector not of its dim floats),
# which is replaced: it is never served, and left in place it would never be rewritten.
_INSERT = (
    "INSERT INTO embeddings (namespace, key, dim, vector) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (namespace, key) DO UPDATE SET dim = excluded.dim, vector = excluded.vector "
    "WHERE length(embeddings.vector) != 4 * embeddings.dim"
)

# Connections inherited through fork(). SQLite forbids using them in the child, and
# closing one there counts as use, so the child keeps them referenced and untouched.
_orphans = []
_instances = weakref.WeakSet()
# resolve_cache(): one handle (and one connection) per database file and process.
_shared = {}
_shared_lock = threading.Lock()


class EmbeddingCache:
    """Persistent cache of per-item embeddings, shared across processes and machines.

    Each row maps ``(namespace, key)`` to one float32 vector. ``namespace`` is the
    fingerprint of the encoder that made the vector, ``key`` the SHA-256 digest of
    the item, so a row never goes stale: another model or another item gets
    another row.

    Parameters
    ----------
    path : str or path-like
        Where the cache lives. A ``postgresql://`` (or ``postgres://``) URL is a
        database on a PostgreSQL server, shared by every machine that reaches it
        (``postgresql://user@host/db``, ``postgresql:///db?host=/socket/dir``; extra
        ``postgres``). Anything else is an SQLite file on this machine; ``~`` is
        expanded. An existing directory, or a path without a suffix, is a folder
        that holds ``embeddings.sqlite``; any other path is the database file
        itself. Missing folders are created when the database is first used.

    Attributes
    ----------
    path : pathlib.Path or str
        Absolute path of the database file, or the server's URL with its password
        hidden (read-only).
    hits : int
        Keys found by :meth:`get_many` and by the encoders through this handle.
    misses : int
        Keys not found through this handle (encoded by it).

    Notes
    -----
    An SQLite cache is opened on first use, in WAL mode, so that readers never
    block and several processes can write at once. Each :meth:`put_many` is one
    transaction: a process killed while writing leaves whole batches or nothing.
    WAL needs a local file system; do not put the cache on a network share (use a
    PostgreSQL server to share one between machines). A new database file is
    readable and writable by its owner only.

    A PostgreSQL cache keeps the same rows and guarantees in tables named
    ``skemotion_*`` (created on first use, if the role may; a schema version is
    checked), reading and writing each chunk of keys in one round trip.

    When several processes miss the same items at once (the workers of a parallel
    grid search, of a Dask cluster), each item is encoded by one of them: an
    encoder claims the keys it is about to encode, the others wait for their rows
    instead of encoding them too, and a claim whose process died expires after
    ``CLAIM_LEASE_S`` (60 s) and is taken over. :meth:`stats` counts the hits and
    misses of every process that used the store, so after a parallel search the
    misses are the items encoded.

    A cache degrades rather than fails: a read-only file (or folder, or a role
    without the right to insert) still serves its rows, with a warning that nothing
    new is stored; when the disk is full, the vectors that could not be stored are
    reported in a warning and the encoders return them all the same. A path that
    cannot hold a cache (a parent that is a file, a folder that cannot be written,
    another program's database, a file that is not SQLite) or a server that cannot
    be used (unreachable, refusing the login, without the tables and the right to
    create them) raises an error naming it and the fix.

    A handle is cheap to pickle: only the path or URL travels, and the unpickled
    copy opens its own connection and starts with zeroed counters.
    ``copy.deepcopy`` (and so :func:`sklearn.base.clone`) returns the same handle.

    Examples
    --------
    >>> import hashlib, tempfile
    >>> import numpy as np
    >>> from skemotion import EmbeddingCache
    >>> tmp = tempfile.TemporaryDirectory()
    >>> cache = EmbeddingCache(tmp.name)
    >>> cache.path.name
    'embeddings.sqlite'
    >>> key = hashlib.sha256(b"What a lovely day!").digest()
    >>> cache.put_many("3f2a9c", [key], np.ones((1, 4)))
    >>> cache.get_many("3f2a9c", [key])[key]
    array([1., 1., 1., 1.], dtype=float32)
    >>> cache.get_many("another-encoder", [key])
    {}
    >>> cache.stats()
    {'hits': 1, 'misses': 1, 'rows': 1}
    >>> cache.close()
    >>> tmp.cleanup()
    """

    def __init__(self, path):
        self._setup(_resolve_location(path))

    def _setup(self, location):
        self._location = location
        self._lock = threading.Lock()
        self._store = None
        self._pid = None
        self._warned_read_only = False
        self._dims = {}  # namespace -> the size of its vectors, once known
        self._warned_full = False
        self.hits = 0
        self.misses = 0
        # Who holds a claim, by (process, thread): readable in the database.
        self._owners = {}
        _instances.add(self)

    @property
    def path(self):
        """The database file (a :class:`pathlib.Path`), or the server URL (a str)."""
        if isinstance(self._location, Path):
            return self._location
        return _postgres().redacted(self._location)

    def get_many(self, namespace, keys):
        """Look up vectors by key.

        Parameters
        ----------
        namespace : str
            Fingerprint of the encoder.
        keys : iterable of bytes
            SHA-256 digests (32 bytes each) of the items.

        Returns
        -------
        found : dict of bytes to ndarray
            The keys that are in the cache, each mapped to a writable 1-D float32
            array. Missing keys are left out.
        """
        keys = _check_keys(keys)  # once: an iterator would be spent by the lookup
        found = self._lookup(namespace, keys)
        self._record(len(found), len(set(keys)) - len(found))
        return found

    def put_many(self, namespace, keys, vectors):
        """Store vectors, all in one transaction.

        Keys already present keep their first value: rows are keyed by content,
        so a second writer would store the same vector anyway.

        Parameters
        ----------
        namespace : str
            Fingerprint of the encoder.
        keys : sequence of bytes
            SHA-256 digests (32 bytes each) of the items.
        vectors : array-like of shape (n_keys, dim) or sequence of 1-D arrays
            Float vectors, one per key. They are stored as float32; NaN is kept,
            infinite values (also from overflow to float32) are refused.
        """
        _check_namespace(namespace)
        keys = _check_keys(keys)
        encoded = _encode_vectors(vectors, len(keys))
        rows = [(key, dim, blob) for key, (dim, blob) in zip(keys, encoded, strict=True)]
        if not rows:
            return
        with self._lock:
            store = self._connection()
            self._check_dim(store, namespace, {dim for _, dim, _ in rows})
            if store.read_only:
                self._warn_read_only(len(rows))
                return
            refused = store.insert(namespace, rows)
            if refused == "read-only":
                self._warn_read_only(len(rows))
            elif refused is not None:  # ("full", the store's message)
                warnings.warn(
                    f"EmbeddingCache could not store {len(rows)} embedding(s) in {self.path}: "
                    f"the disk is full ({refused[1]}). They are returned all the same, but "
                    "not cached; free some space or pass cache= a path on another disk.",
                    UserWarning,
                    stacklevel=3,
                )

    def _check_dim(self, store, namespace, dims):
        """Refuse vectors of another size than the namespace's (one encoder, one size)."""
        if len(dims) > 1:
            raise ValueError(
                f"EmbeddingCache.put_many got vectors of {len(dims)} sizes in one call "
                f"({', '.join(map(str, sorted(dims)))} floats): one namespace is one "
                "encoder's output, of one size."
            )
        if namespace not in self._dims:
            stored = store.dim(namespace)
            if stored is None:
                stored = next(iter(dims))
            self._dims[namespace] = stored
        wrong = sorted(dims - {self._dims[namespace]})
        if wrong:
            raise ValueError(
                f"EmbeddingCache {self.path}: namespace {namespace!r} holds vectors of "
                f"{self._dims[namespace]} floats, but put_many got vectors of "
                f"{', '.join(map(str, wrong))}. One namespace is one encoder's output: "
                "store vectors of another size under another namespace."
            )

    def _warn_read_only(self, n_vectors=None):
        if self._warned_read_only:
            return  # once per handle: a grid search would repeat it for every fold
        self._warned_read_only = True
        lost = "nothing new is" if n_vectors is None else f"the {n_vectors} just computed are"
        full = getattr(self._store, "opened_full", None)
        if full:
            warnings.warn(
                f"EmbeddingCache {self.path} could not be opened for writing: the disk is "
                f"full ({full}). The embeddings it holds, if any, are served and the others "
                f"computed and returned all the same, but {lost} stored (nor any later "
                "ones, until the cache is opened again). Free some space or pass cache= a "
                "path on another disk.",
                UserWarning,
                stacklevel=4,
            )
            return
        warnings.warn(
            f"EmbeddingCache {self.path} is read-only: the embeddings it holds are served, "
            f"but {lost} stored (nor any later ones), and its counters are not updated. "
            "Make the cache writable, or pass cache= a writable path to store them.",
            UserWarning,
            stacklevel=4,
        )

    def _warn_full(self, message):
        if self._warned_full:
            return  # once per handle, as above
        self._warned_full = True
        warnings.warn(
            f"EmbeddingCache {self.path}: the disk is full ({message}). Embeddings are "
            "served and returned all the same, but claims and counters are not updated (so "
            "stats() misses these lookups); free some space or pass cache= a path on "
            "another disk.",
            UserWarning,
            stacklevel=4,
        )

    # --- what the encoders use: lookups, claims, counters ---------------------------------

    def _lookup(self, namespace, keys):
        """The vectors of the keys present, without counting them."""
        _check_namespace(namespace)
        unique = list(dict.fromkeys(_check_keys(keys)))
        if not unique:
            return {}
        with self._lock:
            return dict(_decode(self._connection().select(namespace, unique)))

    def _claim(self, namespace, keys):
        """The keys of `keys` this handle may encode now: not stored and not being
        encoded by another process (or its claim expired). Renews its own claims."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return set()
        with self._lock:
            store = self._connection()
            won = store.claim(namespace, keys, self._claim_owner(), CLAIM_LEASE_S)
            self._warn_if_full(store)
            return won

    def _release(self, namespace, keys):
        """Give up the claims on `keys` (stored, or failed to encode)."""
        if keys:
            with self._lock:
                store = self._connection()
                store.release(namespace, list(keys), self._claim_owner())
                self._warn_if_full(store)

    def _record(self, hits, misses):
        """Count lookups: in this handle, and in the store for every process to see."""
        with self._lock:
            self.hits += hits
            self.misses += misses
            store = self._connection()
            store.add_counts(hits, misses)
            self._warn_if_full(store)

    def _warn_if_full(self, store):
        full = getattr(store, "full", None)  # the SQLite store's; a server reports its own
        if full:
            self._warn_full(full)

    def _claim_owner(self):
        """Who holds this thread's claims: one owner per handle, process and thread.

        Per thread, since two threads encoding with one handle (a threaded joblib or
        Dask worker) must not take each other's claims for their own.
        """
        here = (os.getpid(), threading.get_ident())
        owner = self._owners.get(here)
        if owner is None:
            owner = f"{socket.gethostname()}:{here[0]}:{here[1]}:{uuid.uuid4().hex[:8]}"
            self._owners[here] = owner
        return owner

    # --- size, counters, connection -------------------------------------------------------

    def count(self, namespace=None):
        """Return the number of rows, in all namespaces or in one.

        Parameters
        ----------
        namespace : str, default=None
            Fingerprint of one encoder; None counts the rows of every namespace.

        Returns
        -------
        int
            The number of rows.
        """
        with self._lock:
            return self._connection().count(namespace)

    def __len__(self):
        return self.count()

    def clear(self, namespace=None):
        """Delete the rows of one namespace, or all rows when ``namespace`` is None.

        Parameters
        ----------
        namespace : str, default=None
            Fingerprint of the encoder whose rows to delete; None deletes every row.
        """
        with self._lock:
            store = self._connection()
            if getattr(store, "opened_full", None):
                raise OSError(
                    errno.ENOSPC,
                    f"cannot clear the embedding cache {self.path}: the disk is full, so it "
                    "was opened read-only. Free some space and try again, or delete the file.",
                )
            if store.read_only:
                raise PermissionError(
                    f"cannot clear the embedding cache {self.path}: it is read-only. Make "
                    "it (and its folder) writable, or delete the file."
                )
            store.clear(namespace)
            if namespace is None:
                self._dims.clear()  # an empty namespace takes vectors of any size again
            else:
                self._dims.pop(namespace, None)

    def stats(self):
        """Return the lookups of every process that used the store, and its size.

        Returns
        -------
        dict
            ``{"hits": ..., "misses": ..., "rows": ...}``: the keys found and not found
            (and so encoded) by every process that used this store since it was
            created or :meth:`reset_stats`, and :meth:`count`. A read-only store
            keeps no counters: its figures are this handle's (:attr:`hits`,
            :attr:`misses`).
        """
        with self._lock:
            store = self._connection()
            hits, misses = (self.hits, self.misses) if store.read_only else store.counts()
            rows = store.count(None)
        return {"hits": hits, "misses": misses, "rows": rows}

    def reset_stats(self):
        """Set the counters of the store and of this handle back to zero."""
        with self._lock:
            self.hits = 0
            self.misses = 0
            self._connection().reset_counts()

    def close(self):
        """Close the connection. The handle stays usable and reopens on next use."""
        with self._lock:
            if self._store is not None and self._pid == os.getpid():
                self._store.close()
                self._store = None
            self._orphan()  # a connection inherited through fork() is left alone

    def _connection(self):
        # Called with self._lock held.
        if self._store is not None and self._pid != os.getpid():
            self._orphan()  # forked child: the parent's connection is not ours
        if self._store is None:
            self._store = _open_store(self._location)
            self._pid = os.getpid()
            if self._store.read_only:
                self._warn_read_only()  # also where every item will be a hit
        return self._store

    def _orphan(self):
        if self._store is not None:
            _orphans.append(self._store)
        self._store = None

    def __getstate__(self):
        # Only the location travels (e.g. to joblib/loky workers); the copy reconnects.
        return {"path": str(self._location)}

    def __setstate__(self, state):
        self._setup(_resolve_location(state["path"]))

    def __deepcopy__(self, memo):
        # A cache is a handle on a shared store, not a value. sklearn's clone()
        # deep-copies non-estimator parameters: clones must share this handle,
        # its connection and its counters rather than each open a new one.
        return self

    def __repr__(self):
        return f"{type(self).__name__}({str(self.path)!r})"


def _postgres():
    """The PostgreSQL store's module, imported when a URL is first used."""
    return importlib.import_module("skemotion._cache_postgres")


def _open_store(location):
    if isinstance(location, Path):
        return SQLiteStore(location)
    postgres = _postgres()
    try:
        return postgres.PostgresStore(location)
    except postgres.ForeignTablesError as exc:  # the server's "another program's file"
        raise CacheFileError(str(exc)) from None


def resolve_cache(cache):
    """Turn an encoder's ``cache`` parameter into an :class:`EmbeddingCache` or None.

    Parameters
    ----------
    cache : None, False, str, path-like or EmbeddingCache
        None and False mean no cache. A path gives the handle shared by the whole
        process for that database file, so encoders given the same path share one
        connection.

    Returns
    -------
    cache : EmbeddingCache or None
    """
    if cache is None or cache is False:
        return None
    if isinstance(cache, EmbeddingCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        location = _resolve_location(cache)
        with _shared_lock:
            if location not in _shared:
                _shared[location] = EmbeddingCache(location)
            return _shared[location]
    raise TypeError(
        "cache must be None, False, a str or path-like naming a database file or "
        "folder, a postgresql:// URL, or an EmbeddingCache; got "
        f"{cache!r} of type {type(cache).__name__}"
    )


_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _resolve_location(location):
    """A PostgreSQL URL as it is (a str), or the resolved path of the SQLite file."""
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        _postgres().check_url(location)
        return location
    if isinstance(location, str) and (scheme := _URL_SCHEME.match(location)):
        raise ValueError(
            f"EmbeddingCache cannot use a {scheme.group(1)}:// URL: it takes a file or "
            "folder path (SQLite) or a postgresql:// URL, such as "
            "postgresql://user@host/db or postgresql:///db?host=/var/run/postgresql."
        )
    return _resolve_path(location)


def _resolve_path(path):
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(
            "EmbeddingCache takes a str or path-like naming a database file or folder, or "
            f"a postgresql:// URL; got {path!r:.80} of type {type(path).__name__}. For no "
            "cache, pass cache=False to the encoder."
        ) from None
    if not isinstance(path, str):
        raise TypeError(f"path must be a str or path-like naming a str, got {path!r}")
    if not path.strip():
        raise ValueError(
            f"EmbeddingCache got an empty path ({path!r}), which names no file. Pass a "
            "file or folder for the cache, or cache=False for none."
        )
    if "\0" in path:
        raise ValueError(
            f"EmbeddingCache got a path with a NUL character (a null byte) ({path!r}): no "
            "file can be named so. Pass cache= a path without it."
        )
    path = Path(path).expanduser()
    try:
        if path.is_dir() or not path.suffix:
            path = path / DEFAULT_FILENAME
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long
        raise OSError(
            f"cannot use {path} as the embedding cache: {exc}. Pass cache= a plain file "
            "or folder path."
        ) from None


class SQLiteStore:
    """The cache's rows, claims and counters in an SQLite file (one connection)."""

    def __init__(self, path):
        self.path = path
        self.full = None  # why claims and counters could not be written, once they could not
        # Why the cache could not be opened for writing (the disk is full), or None: it is
        # then read-only, and empty where the file holds no cache yet.
        self.opened_full = None
        try:
            self.conn, self.read_only = _retry(_connect, path)
        except _DiskFull as exc:
            self.opened_full = exc.message
            self.conn, self.read_only = _connect_on_a_full_disk(path), True

    def select(self, namespace, keys):
        rows = []
        for start in range(0, len(keys), _CHUNK):
            rows += _retry(_select, self.conn, namespace, keys[start : start + _CHUNK])
        return rows

    def insert(self, namespace, rows):
        """Add `rows` ((key, dim, blob), ...) in one transaction; the first writer wins.

        Returns None, or why the rows were refused: ``"read-only"`` or ``("full",
        message)``.
        """
        params = [(namespace, key, dim, blob) for key, dim, blob in rows]
        try:
            _retry(_insert, self.conn, params)
        except sqlite3.OperationalError as exc:
            if _is_error(exc, "SQLITE_FULL", "database or disk is full"):
                self.full = str(exc)
                return ("full", str(exc))
            if _is_error(exc, "SQLITE_READONLY", "readonly database"):
                self.read_only = True
                return "read-only"
            raise _cache_error(self.path, exc) from exc
        return None

    def dim(self, namespace):
        """The size of the namespace's vectors, or None while it has none."""
        row = _retry(
            lambda: self.conn.execute(
                "SELECT dim FROM embeddings WHERE namespace = ? LIMIT 1", (namespace,)
            ).fetchone()
        )
        return None if row is None else int(row[0])

    def count(self, namespace=None):
        sql, args = "SELECT COUNT(*) FROM embeddings", ()
        if namespace is not None:
            sql, args = sql + " WHERE namespace = ?", (namespace,)
        return _retry(_scalar, self.conn, sql, args)

    def clear(self, namespace=None):
        where, args = ("", ()) if namespace is None else (" WHERE namespace = ?", (namespace,))

        def delete(conn):
            conn.execute("DELETE FROM embeddings" + where, args)
            if _has_sharing_tables(conn):
                conn.execute("DELETE FROM claims" + where, args)

        _retry(_transaction, self.conn, delete)

    def claim(self, namespace, keys, owner, lease_s):
        """The keys of `keys` this `owner` now holds: not stored, and not held by another
        owner whose lease is still running (expired leases are taken over)."""
        if self.read_only or self.full:
            return set(keys)  # nothing can be stored, so there is nothing to share

        def claim(conn):
            return _claim(conn, namespace, keys, owner, lease_s)

        return self._unless_full(claim, set(keys))

    def release(self, namespace, keys, owner):
        if self.read_only:
            return

        def delete(conn):
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                conn.execute(
                    f"DELETE FROM claims WHERE namespace = ? AND owner = ? AND key IN ({marks})",
                    (namespace, owner, *chunk),
                )

        self._unless_full(delete, None)

    def add_counts(self, hits, misses):
        if self.read_only or self.full or not (hits or misses):
            return
        sql = (
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
        )

        def add(conn):
            conn.executemany(sql, [("hits", hits), ("misses", misses)])

        self._unless_full(add, None)

    def _unless_full(self, func, fallback):
        """Run `func` in a transaction; on a full disk note it in ``full`` and return
        `fallback` (the claims and counters are bookkeeping: the rows are what count)."""
        try:
            return _retry(_transaction, self.conn, func)
        except sqlite3.OperationalError as exc:
            if not _is_error(exc, "SQLITE_FULL", "database or disk is full"):
                raise _cache_error(self.path, exc) from exc
            self.full = str(exc)
            return fallback

    def counts(self):
        rows = dict(self.conn.execute("SELECT name, value FROM counters").fetchall())
        return int(rows.get("hits", 0)), int(rows.get("misses", 0))

    def reset_counts(self):
        if not self.read_only:
            _retry(_transaction, self.conn, lambda c: c.execute("DELETE FROM counters"))

    def close(self):
        self.conn.close()


def _claim(conn, namespace, keys, owner, lease_s):
    """Within a transaction: claim each key that is neither stored nor held by a live claim."""
    now = time.time()
    won = set()
    for key in keys:
        cursor = conn.execute(
            "INSERT INTO claims (namespace, key, owner, expires) "
            "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM embeddings "
            "WHERE namespace = ? AND key = ? AND length(vector) = 4 * dim) "
            "ON CONFLICT (namespace, key) DO UPDATE "
            "SET owner = excluded.owner, expires = excluded.expires "
            "WHERE claims.expires < ? OR claims.owner = excluded.owner",
            (namespace, key, owner, now + lease_s, namespace, key, now),
        )
        if cursor.rowcount > 0:
            won.add(key)
    return won


def _has_sharing_tables(conn):
    return {"claims", "counters"} <= _tables(conn)


def _retry(func, *args):
    # busy_timeout makes SQLite wait for locks, but some conflicts (e.g. while
    # another process recovers the WAL) return "locked" at once: back off a bit.
    for attempt in range(_LOCK_RETRIES):
        try:
            return func(*args)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _LOCK_RETRIES - 1:
                raise
        time.sleep(_LOCK_BACKOFF_S * 2**attempt)


def _connect(path):
    """Open the cache: ``(connection, read_only)``; read-only where it cannot be written."""
    if path.exists() and not path.is_file():
        raise OSError(
            f"cannot use {path} as an embedding cache: it exists but is not a regular file "
            "(a FIFO, socket or device). Pass cache= a new file or folder."
        )
    if path.exists() and not os.access(path, os.R_OK):
        raise PermissionError(
            f"cannot read the embedding cache {path}: permission denied. Make it readable "
            "for the user running skemotion, or pass cache= another path."
        )
    if path.exists() and not _writable(path):
        return _connect_read_only(path), True
    _create_private_file(path)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        version = _transaction(conn, lambda c: _init_schema(c, path))
    except sqlite3.OperationalError as exc:
        conn.close()
        if _is_error(exc, "SQLITE_READONLY", "readonly database"):
            return _connect_read_only(path), True  # e.g. a read-only mount, even for root
        if "locked" in str(exc):
            raise  # retried by the caller
        if _is_disk_full(path, exc):
            raise _DiskFull(str(exc)) from exc
        raise _cache_error(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _cache_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    _check_version(path, version, conn)
    return conn, False


class _DiskFull(Exception):
    """The cache could not be opened for writing: the disk is full (SQLiteStore opens it
    read-only instead)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _is_disk_full(path, exc):
    if _is_error(exc, "SQLITE_FULL", "database or disk is full"):
        return True
    if not _is_error(exc, "SQLITE_IOERR_SHMSIZE", "disk I/O error"):
        return False
    try:
        usage = os.statvfs(path.parent)
    except OSError:
        return False
    return usage.f_bavail * usage.f_frsize < _NEARLY_FULL_BYTES


def _connect_on_a_full_disk(path):
    """The cache read-only, where it cannot be opened for writing as the disk is full.

    An existing cache serves its rows; where there is none yet (no file, an empty one,
    or one whose tables could not be written), an empty database in memory stands for
    it, so that every item is a miss, encoded and returned, and nothing is stored.
    """
    conn = _connect_read_only(path, empty_ok=True) if _may_hold_tables(path) else None
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        for statement in _SCHEMA + _SHARING_SCHEMA:
            conn.execute(statement)
    return conn


def _may_hold_tables(path):
    """Whether the file may hold a cache's tables: more than the first page of a database.

    A new cache whose creation a full disk cut short holds that page at most; it is not
    opened (a read-only connection would leave a 32 KiB -shm file on the full disk).
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    except OSError:
        return True  # the read-only connection names what is wrong
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return size > 0  # an empty file is a new cache; anything else is named
    page = int.from_bytes(header[16:18], "big")
    return size > (65536 if page == 1 else page)


def _writable(path):
    # WAL writes beside the database (-wal, -shm files): the folder must be writable too.
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _create_private_file(path):
    """Create the folders and an empty database file readable by its owner only.

    SQLite would create the file with the umask's permissions (often world-readable);
    embeddings can reveal what was encoded, so a new cache is private. SQLite gives its
    -wal and -shm files the database file's permissions.
    """
    _check_parents(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: an existing file is never opened here. Closing any descriptor of a
        # file drops every POSIX lock this process holds on it, so opening the database
        # file beside another connection of this process would void that connection's
        # locks (seen as "disk I/O error" when a worker opened a second handle).
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except PermissionError as exc:
        raise PermissionError(
            f"cannot create the embedding cache {path}: the folder {path.parent} is not "
            "writable. Pass cache= a folder you can write to, or cache=False."
        ) from exc
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise _DiskFull(exc.strerror or str(exc)) from exc
        raise


def _check_parents(path):
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot create the embedding cache {path}: {parent} is a file, not a "
                    "folder. Pass cache= a folder (or a path inside one)."
                )
            return


def _connect_read_only(path, empty_ok=False):
    """Open a cache that cannot be written: its rows are served, nothing is stored.

    With `empty_ok`, a database without any table (one whose creation was cut short)
    gives None rather than an error.
    """
    uri = path.as_uri()
    for flags in ("mode=ro", "immutable=1"):
        # mode=ro still needs to create the WAL's -shm file beside a database that was
        # left in WAL mode; immutable=1 reads the file alone (no writer can be running
        # in a folder nobody can write to).
        conn = sqlite3.connect(
            f"{uri}?{flags}", uri=True, timeout=60, isolation_level=None, check_same_thread=False
        )
        try:
            if empty_ok and not _tables(conn):
                conn.close()
                return None
            version = _read_schema_version(conn, path)
        except sqlite3.OperationalError as exc:
            conn.close()
            if flags == "immutable=1":
                raise _cache_error(path, exc) from exc
            continue
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _cache_error(path, exc) from exc
        _check_version(path, version, conn)
        return conn
    raise AssertionError("unreachable")  # pragma: no cover


def _check_version(path, version, conn):
    if version > SCHEMA_VERSION:
        conn.close()
        raise RuntimeError(
            f"embedding cache {path} has schema version {version}, newer than this "
            f"skemotion understands ({SCHEMA_VERSION}); upgrade skemotion or use another path"
        )


def _init_schema(conn, path):
    tables = _tables(conn)
    if tables and not {"meta", "embeddings"} <= tables:
        raise _foreign_database(path, tables)
    for statement in _SCHEMA + _SHARING_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    return _read_schema_version(conn, path)


def _read_schema_version(conn, path):
    tables = _tables(conn)
    if not {"meta", "embeddings"} <= tables:
        raise _foreign_database(path, tables)
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise _foreign_database(path, tables)
    return int(row[0])


def _tables(conn):
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


class CacheFileError(ValueError):
    """A cache file that is not a cache: another program's database, or damaged.

    A ValueError, as before; a type of its own so that the command line does not take
    it for an item that cannot be read.
    """


def _foreign_database(path, tables):
    shown = ", ".join(sorted(tables)) or "none"
    return CacheFileError(
        f"{path} is an SQLite database that skemotion did not create (its tables: {shown}); "
        "it is left untouched. Pass cache= a new file or folder for the embedding cache."
    )


def _is_error(exc, code_name, words):
    """Whether an sqlite3 error is of a kind (by its code on Python >= 3.11, else words)."""
    return getattr(exc, "sqlite_errorname", None) == code_name or words in str(exc)


def _cache_error(path, exc):
    """An error that names the cache file and what to do, from an sqlite3 error."""
    if _is_error(exc, "SQLITE_CORRUPT", "malformed"):
        return CacheFileError(
            f"the embedding cache {path} is damaged ({exc}). Delete it (delete {path.name} "
            f"and any {path.name}-wal and -shm beside it; the embeddings are computed again "
            "and stored anew), or pass cache= another path."
        )
    if "not a database" in str(exc) or _is_error(exc, "SQLITE_NOTADB", "not a database"):
        return CacheFileError(
            f"cannot use {path} as an embedding cache: it is not an SQLite database ({exc}). "
            "Pass cache= a new file or folder, or delete the file if it is a damaged cache."
        )
    return sqlite3.DatabaseError(
        f"cannot use {path} as an embedding cache: {exc}. Check the file and its folder, "
        "or pass cache= another path (cache=False to encode without a cache)."
    )


def _transaction(conn, func):
    # IMMEDIATE takes the write lock up front, so the transaction cannot fail
    # halfway with "locked" when it upgrades from reading to writing.
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = func(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _insert(conn, params):
    _transaction(conn, lambda c: c.executemany(_INSERT, params))


def _scalar(conn, sql, args):
    return conn.execute(sql, args).fetchone()[0]


def _select(conn, namespace, keys):
    marks = ", ".join("?" * len(keys))
    sql = f"SELECT key, dim, vector FROM embeddings WHERE namespace = ? AND key IN ({marks})"
    return conn.execute(sql, (namespace, *keys)).fetchall()


def _decode(rows):
    for key, dim, blob in rows:
        # Transactions make a short row impossible; never hand one out anyway.
        if isinstance(blob, bytes) and dim > 0 and len(blob) == 4 * dim:
            yield bytes(key), np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _check_namespace(namespace):
    if not isinstance(namespace, str) or not namespace:
        raise ValueError(f"namespace must be a non-empty str, got {namespace!r}")


def _check_keys(keys):
    if isinstance(keys, (bytes, str)):
        raise ValueError("keys must be a sequence of 32-byte digests, not a single bytes or str")
    keys = list(keys)
    for key in keys:
        if type(key) is not bytes or len(key) != _KEY_BYTES:
            raise ValueError(
                f"each key must be a {_KEY_BYTES}-byte SHA-256 digest (bytes), got {key!r:.80}"
            )
    return keys


def _encode_vectors(vectors, n_keys):
    if hasattr(vectors, "__array__"):
        vectors = np.asarray(vectors)  # a DataFrame: its rows, not its column labels
    if isinstance(vectors, np.ndarray) and vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-D (n_keys, dim), got shape {vectors.shape}")
    vectors = vectors if isinstance(vectors, np.ndarray) else list(vectors)
    if len(vectors) != n_keys:
        raise ValueError(f"got {n_keys} keys but {len(vectors)} vectors")
    return [_encode_vector(vector, i) for i, vector in enumerate(vectors)]


def _encode_vector(vector, i):
    vector = np.asarray(vector)
    if vector.ndim != 1 or vector.size == 0 or vector.dtype.kind != "f":
        raise ValueError(
            f"vector {i} must be a non-empty 1-D float array, "
            f"got shape {vector.shape} and dtype {vector.dtype}"
        )
    with np.errstate(over="ignore"):  # overflow is reported below, as a ValueError
        vector = vector.astype("<f4")
    if np.isinf(vector).any():
        raise ValueError(f"vector {i} has infinite values (or values too large for float32)")
    return vector.size, vector.tobytes()


def _after_fork_in_child():
    # A lock held by another parent thread at fork time would stay locked forever.
    for cache in list(_instances):
        cache._lock = threading.Lock()
        cache._orphan()
    global _shared_lock
    _shared_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
