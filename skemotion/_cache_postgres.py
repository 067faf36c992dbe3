"""The embedding cache's store on a PostgreSQL server (psycopg 3), for many machines.

:class:`~skemotion.EmbeddingCache` picks this store for a ``postgresql://`` (or
``postgres://``) URL; the SQLite file stays the embedded default. The rows, their
guarantees and the cache's interface are the same: vectors are raw little-endian
float32 bytes keyed by ``(namespace, key)``, the first writer of a key wins, and each
write is one transaction, so a writer killed mid-chunk leaves whole chunks or
nothing (the server rolls back what a lost connection left open).

Each read or write of a chunk is one round trip: keys travel as one array
(``key = ANY(%s)``), rows as three arrays unnested into one ``INSERT``. The tables
carry a ``skemotion_`` prefix, so that they can live in a database other programs use;
their schema has a version, checked on connect.

This module imports nothing of skemotion: the cache's tests load ``_cache.py`` (and,
through it, this file) in subprocesses without the package.
"""

import importlib
import re
import threading
import time
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_VERSION = 1
EXTRA = "postgres"
# Keys per statement: one round trip each; PostgreSQL has no bound on an array's size
# that matters here, the chunk bounds the memory of one reply (5,000 x 384-d = 7.7 MB).
CHUNK = 5000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS skemotion_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS skemotion_embeddings ("
    " namespace TEXT NOT NULL, key BYTEA NOT NULL, dim INTEGER NOT NULL,"
    " vector BYTEA NOT NULL, PRIMARY KEY (namespace, key))",
    "CREATE TABLE IF NOT EXISTS skemotion_claims ("
    " namespace TEXT NOT NULL, key BYTEA NOT NULL, owner TEXT NOT NULL,"
    " expires DOUBLE PRECISION NOT NULL, PRIMARY KEY (namespace, key))",
    "CREATE TABLE IF NOT EXISTS skemotion_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
)
# Held while the tables are created: CREATE TABLE IF NOT EXISTS races with itself.
_SCHEMA_LOCK = 0x736B656D  # "skem"


def is_postgres_url(location):
    return isinstance(location, str) and location.startswith(SCHEMES)


def check_url(url):
    """Refuse a URL that does not parse, naming it (password hidden) and the form to use."""
    try:
        _ = urlsplit(url).port  # also checks the brackets of an IPv6 host and the port
    except ValueError as exc:
        shown = re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)  # urlsplit cannot redact it
        raise ValueError(
            f"cannot use {shown!r} as a PostgreSQL cache: the URL does not parse ({exc}). "
            "Write it as postgresql://user@host:5432/db, postgresql://user@[::1]/db or "
            "postgresql:///db?host=/var/run/postgresql."
        ) from None


def redacted(url):
    """The URL with its password hidden, for messages and ``cache.path``."""
    parts = urlsplit(url)
    # libpq also reads a password from the query (?password=...), and from options.
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _psycopg(caller="EmbeddingCache"):
    try:
        return importlib.import_module("psycopg")
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs psycopg 3 for a PostgreSQL cache: pip install "
            f"'skemotion[{EXTRA}]' (or pass cache= a file path for the SQLite cache)"
        ) from exc


class PostgresStore:
    """One connection to the cache's tables on a PostgreSQL server."""

    def __init__(self, url):
        self.url = url
        self.name = redacted(url)
        self.read_only = False
        psycopg = _psycopg()
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise _connection_error(self.name, exc) from None
        except psycopg.ProgrammingError as exc:  # a malformed URL
            raise ValueError(
                f"cannot use {self.name!r} as an embedding cache: {exc}. Pass a URL such "
                "as postgresql://user@host/db or postgresql:///db?host=/socket/dir"
            ) from None
        self.lock = threading.Lock()
        try:
            self._init_schema(psycopg)
        except BaseException:
            self.conn.close()
            raise

    # --- schema -------------------------------------------------------------------------

    def _init_schema(self, psycopg):
        errors = psycopg.errors
        try:
            with self.conn.transaction():
                tables = self._tables()
                if {"skemotion_meta", "skemotion_embeddings"} - tables:
                    self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    for statement in _SCHEMA:
                        self.conn.execute(statement)
                    self.conn.execute(
                        "INSERT INTO skemotion_meta (name, value) VALUES ('schema_version', %s) "
                        "ON CONFLICT (name) DO NOTHING",
                        (str(SCHEMA_VERSION),),
                    )
                elif {"skemotion_claims", "skemotion_counters"} - tables:
                    self._add_tables(errors)
        except errors.InsufficientPrivilege as exc:
            raise PermissionError(
                f"the database of the embedding cache {self.name} has no skemotion tables "
                f"and its role may not create them ({exc.diag.message_primary}). Ask the "
                "database's owner to GRANT CREATE ON SCHEMA public to this role (or to "
                "create the cache once with a role that may), or pass cache= another URL."
            ) from None
        version = self.conn.execute(
            "SELECT value FROM skemotion_meta WHERE name = 'schema_version'"
        ).fetchone()
        if version is None or int(version[0]) > SCHEMA_VERSION:
            found = "none" if version is None else version[0]
            raise RuntimeError(
                f"embedding cache {self.name} has schema version {found}; this skemotion "
                f"understands {SCHEMA_VERSION}. Upgrade skemotion or pass cache= another URL."
            )
        self._check_writable(errors)

    def _add_tables(self, errors):
        """Claims and counters on a cache created without them: added, or read-only."""
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in _SCHEMA[2:]:
            self.conn.execute(statement)

    def _tables(self):
        rows = self.conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(current_schemas(false))"
        ).fetchall()
        return {name for (name,) in rows}

    def _check_writable(self, errors):
        row = self.conn.execute(
            "SELECT has_table_privilege('skemotion_embeddings', 'INSERT')"
        ).fetchone()
        self.read_only = not row[0]

    # --- rows -----------------------------------------------------------------------------

    def select(self, namespace, keys):
        rows = []
        for start in range(0, len(keys), CHUNK):
            rows += self.conn.execute(
                "SELECT key, dim, vector FROM skemotion_embeddings "
                "WHERE namespace = %s AND key = ANY(%s)",
                (namespace, keys[start : start + CHUNK]),
            ).fetchall()
        return rows

    def insert(self, namespace, rows):
        """Add `rows` ((key, dim, blob), ...) in one transaction; the first writer wins.

        Returns None, or why the rows were refused: ``"read-only"`` or ``("full",
        message)``.
        """
        psycopg = _psycopg()
        keys, dims, blobs = (list(column) for column in zip(*rows, strict=True))
        try:
            with self.conn.transaction():
                self.conn.execute(
                    "INSERT INTO skemotion_embeddings (namespace, key, dim, vector) "
                    "SELECT %s, * FROM unnest(%s::bytea[], %s::integer[], %s::bytea[]) "
                    "ON CONFLICT (namespace, key) DO NOTHING",
                    (namespace, keys, dims, blobs),
                )
        except psycopg.errors.DiskFull as exc:
            return ("full", str(exc).strip())
        except psycopg.errors.InsufficientPrivilege:
            self.read_only = True
            return "read-only"
        return None

    def dim(self, namespace):
        """The size of the namespace's vectors, or None while it has none."""
        row = self.conn.execute(
            "SELECT dim FROM skemotion_embeddings WHERE namespace = %s LIMIT 1", (namespace,)
        ).fetchone()
        return None if row is None else int(row[0])

    def count(self, namespace=None):
        if namespace is None:
            return self.conn.execute("SELECT COUNT(*) FROM skemotion_embeddings").fetchone()[0]
        return self.conn.execute(
            "SELECT COUNT(*) FROM skemotion_embeddings WHERE namespace = %s", (namespace,)
        ).fetchone()[0]

    def clear(self, namespace=None):
        with self.conn.transaction():
            if namespace is None:
                self.conn.execute("DELETE FROM skemotion_embeddings")
                self.conn.execute("DELETE FROM skemotion_claims")
            else:
                for table in ("skemotion_embeddings", "skemotion_claims"):
                    self.conn.execute(f"DELETE FROM {table} WHERE namespace = %s", (namespace,))

    # --- claims: which process encodes a key ---------------------------------------------

    def claim(self, namespace, keys, owner, lease_s):
        """The keys of `keys` this `owner` now holds: not stored, and not held by another
        owner whose lease is still running (expired leases are taken over)."""
        if self.read_only:
            return set(keys)  # nothing can be stored, so there is nothing to share
        now = time.time()
        won = set()
        with self.conn.transaction():
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                rows = self.conn.execute(
                    "INSERT INTO skemotion_claims AS c (namespace, key, owner, expires) "
                    "SELECT %s, k, %s, %s FROM unnest(%s::bytea[]) AS k "
                    "WHERE NOT EXISTS (SELECT 1 FROM skemotion_embeddings e "
                    "                  WHERE e.namespace = %s AND e.key = k) "
                    "ON CONFLICT (namespace, key) DO UPDATE "
                    "SET owner = EXCLUDED.owner, expires = EXCLUDED.expires "
                    "WHERE c.expires < %s OR c.owner = EXCLUDED.owner "
                    "RETURNING key",
                    (namespace, owner, now + lease_s, chunk, namespace, now),
                ).fetchall()
                won.update(bytes(key) for (key,) in rows)
        return won

    def release(self, namespace, keys, owner):
        if self.read_only or not keys:
            return
        with self.conn.transaction():
            self.conn.execute(
                "DELETE FROM skemotion_claims WHERE namespace = %s AND owner = %s "
                "AND key = ANY(%s)",
                (namespace, owner, list(keys)),
            )

    # --- counters shared by every process ------------------------------------------------

    def add_counts(self, hits, misses):
        if self.read_only or not (hits or misses):
            return
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO skemotion_counters (name, value) VALUES ('hits', %s), "
                "('misses', %s) ON CONFLICT (name) DO UPDATE "
                "SET value = skemotion_counters.value + EXCLUDED.value",
                (hits, misses),
            )

    def counts(self):
        rows = dict(self.conn.execute("SELECT name, value FROM skemotion_counters").fetchall())
        return int(rows.get("hits", 0)), int(rows.get("misses", 0))

    def reset_counts(self):
        if not self.read_only:
            self.conn.execute("DELETE FROM skemotion_counters")

    def close(self):
        self.conn.close()


def _connection_error(name, exc):
    """What a failed connection means, naming the server and the fix."""
    text = " ".join(str(exc).split()).rstrip("?.")  # libpq's lines and hints, as one
    if re.search(r"password authentication failed|peer authentication failed|"
                 r"no password supplied|role \".*\" does not exist", text, re.I):  # fmt: skip
        return PermissionError(
            f"the PostgreSQL server refused the embedding cache's login at {name}: {text}. "
            "Check the user and password in the URL (or ~/.pgpass), and that pg_hba.conf "
            "lets this user in."
        )
    if re.search(r'database ".*" does not exist', text):
        return ValueError(
            f"the database of the embedding cache {name} does not exist: {text}. Create it "
            "(createdb NAME) or pass cache= the URL of one that exists."
        )
    return ConnectionError(
        f"cannot reach the PostgreSQL server of the embedding cache {name}: {text}. Start "
        "the server (pg_ctlcluster 15 main start), check the host, port or socket folder "
        "in the URL, or pass cache= a file path for a local SQLite cache."
    )
