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
their schema has a version, checked on connect, and tables of those names that
another program made are refused. A connection the server ends (a restart, an idle
timeout) is opened again once and the operation run again: each is a read, or writes
in one transaction that the server rolled back, of rows whose first writer wins.

This module imports nothing of skemotion: the cache's tests load ``_cache.py`` (and,
through it, this file) in subprocesses without the package.
"""

import functools
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
# Reruns of a transaction the server rolled back (a deadlock, a serialisation conflict).
_ROLLBACK_RETRIES = 5
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
# The columns of each table, as _SCHEMA makes them: tables of these names that have
# other columns are another program's, and left untouched.
_COLUMNS = {
    "skemotion_meta": {"name": "text", "value": "text"},
    "skemotion_embeddings": {
        "namespace": "text",
        "key": "bytea",
        "dim": "integer",
        "vector": "bytea",
    },
    "skemotion_claims": {
        "namespace": "text",
        "key": "bytea",
        "owner": "text",
        "expires": "double precision",
    },
    "skemotion_counters": {"name": "text", "value": "bigint"},
}
# Held while the tables are created: CREATE TABLE IF NOT EXISTS races with itself.
_SCHEMA_LOCK = 0x736B656D  # "skem"


class ForeignTablesError(ValueError):
    """Tables named as the cache's that skemotion did not make (EmbeddingCache raises
    them as its CacheFileError)."""


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


def _reconnecting(method):
    """Run a method of the store, opening the connection again once if it was lost.

    Each method reads, or writes in one transaction (which the server rolls back when
    the connection ends before COMMIT) rows whose first writer wins, so running it again
    is safe; at worst a counter's increment whose COMMIT was lost in flight is counted
    twice. A transaction the server rolled back to break a deadlock (or a serialisation
    conflict) is run again, a few times. Any other error of the server is raised naming it.
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        psycopg = _psycopg()
        try:
            return _rerun_rolled_back(psycopg, method, self, *args, **kwargs)
        except psycopg.OperationalError as exc:
            if not self._lost():
                raise _server_error(self.name, exc, lost=False) from None
        self._reconnect(psycopg)  # names the server where it cannot be reached
        try:
            return method(self, *args, **kwargs)
        except psycopg.OperationalError as exc:
            raise _server_error(self.name, exc, self._lost()) from None

    return run


class PostgresStore:
    """One connection to the cache's tables on a PostgreSQL server."""

    def __init__(self, url):
        self.url = url
        self.name = redacted(url)
        self.read_only = False
        psycopg = _psycopg()
        self.conn = self._connect(psycopg)
        self.lock = threading.Lock()
        try:
            self._init_schema(psycopg)
        except psycopg.OperationalError as exc:  # e.g. the server ended the connection
            self.conn.close()
            raise _server_error(self.name, exc, self._lost(), retried=False) from None
        except BaseException:
            self.conn.close()
            raise

    def _connect(self, psycopg):
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise _connection_error(self.name, exc) from None
        except psycopg.ProgrammingError as exc:  # a malformed URL
            raise ValueError(
                f"cannot use {self.name!r} as an embedding cache: {exc}. Pass a URL such "
                "as postgresql://user@host/db or postgresql:///db?host=/socket/dir"
            ) from None

    def _lost(self):
        """Whether the connection is gone (ended by the server, or the network)."""
        return bool(getattr(self.conn, "broken", False) or self.conn.closed)

    def _reconnect(self, psycopg):
        try:
            self.conn.close()
        except psycopg.Error:  # pragma: no cover - closing a broken connection
            pass
        self.conn = self._connect(psycopg)

    # --- schema -------------------------------------------------------------------------

    def _init_schema(self, psycopg):
        errors = psycopg.errors
        role, search_path, schemas = self.conn.execute(
            "SELECT current_user, current_setting('search_path'), current_schemas(false)"
        ).fetchone()
        if not schemas:
            raise self._no_schema_error(role, search_path)
        try:
            with self.conn.transaction():
                tables = self._tables()
                if tables & set(_COLUMNS):
                    self._check_shapes()
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
                f"and its role may not create them ({exc.diag.message_primary}; the role: "
                f"{role!r}). "
                f"Ask the database's owner to GRANT CREATE ON SCHEMA {schemas[0]} TO {role} "
                "(or to create the cache once with a role that may), or pass cache= another "
                "URL."
            ) from None
        except errors.InvalidSchemaName:  # pragma: no cover - caught above, by the path
            raise self._no_schema_error(role, search_path) from None
        version = self.conn.execute(
            "SELECT value FROM skemotion_meta WHERE name = 'schema_version'"
        ).fetchone()
        if version is None or not version[0].isdigit() or int(version[0]) > SCHEMA_VERSION:
            found = "none" if version is None else version[0]
            found = found if version is None or found.isdigit() else repr(found)
            raise RuntimeError(
                f"embedding cache {self.name} has schema version {found}; this skemotion "
                f"understands {SCHEMA_VERSION}. Upgrade skemotion or pass cache= another URL."
            )
        self._check_writable(errors)

    def _no_schema_error(self, role, search_path):
        """No schema of the search path may be used: name the role, the schemas and the fix."""
        names = [
            role if name.strip() == "$user" else name.strip().strip('"')
            for name in search_path.split(",")
            if name.strip()
        ]
        existing = [
            name
            for (name,) in self.conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname",
                (names,),
            ).fetchall()
        ]
        if not existing:
            return ValueError(
                f"the embedding cache {self.name} has no schema to keep its tables in: its "
                f"search_path ({search_path}) names none that exists in the database. Create "
                "one (CREATE SCHEMA name), or set the URL's search_path to one that exists "
                "(options=-csearch_path=name), or pass cache= another URL."
            )
        schema = existing[0]
        return PermissionError(
            f"the role {role!r} of the embedding cache {self.name} may not use the schema "
            f"{schema} of its search_path ({search_path}). Ask the database's owner to GRANT "
            f"USAGE ON SCHEMA {schema} TO {role} (and CREATE, where the cache's tables are "
            "not made yet), or set the URL's search_path to a schema the role may use "
            "(options=-csearch_path=name), or pass cache= another URL."
        )

    def _check_shapes(self):
        """Refuse tables of the cache's names that have other columns (another program's)."""
        rows = self.conn.execute(
            "SELECT t.name, n.nspname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM unnest(%s::text[]) AS t(name) "
            "JOIN pg_class c ON c.oid = to_regclass(t.name) "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY t.name, a.attnum",
            (list(_COLUMNS),),
        ).fetchall()
        found = {}
        for table, schema, column, kind in rows:
            found.setdefault((table, schema), {})
            if column is not None:
                found[(table, schema)][column] = kind
        for (table, schema), columns in found.items():
            wanted = _COLUMNS[table]
            if any(columns.get(name) != kind for name, kind in wanted.items()):
                shown = ", ".join(f"{name} {kind}" for name, kind in columns.items())
                raise ForeignTablesError(
                    f"the embedding cache {self.name} finds a table {schema}.{table} that "
                    f"skemotion did not make (its columns: {shown or 'none'}; the cache's "
                    f"are {', '.join(f'{n} {k}' for n, k in wanted.items())}); it is left "
                    "untouched. Pass cache= the URL of another database, or set its "
                    "search_path to another schema (options=-csearch_path=name); drop the "
                    "table only if it is nobody's."
                )

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

    @_reconnecting
    def select(self, namespace, keys):
        rows = []
        for start in range(0, len(keys), CHUNK):
            rows += self.conn.execute(
                "SELECT key, dim, vector FROM skemotion_embeddings "
                "WHERE namespace = %s AND key = ANY(%s)",
                (namespace, keys[start : start + CHUNK]),
            ).fetchall()
        return rows

    @_reconnecting
    def insert(self, namespace, rows):
        """Add `rows` ((key, dim, blob), ...) in one transaction; the first writer wins.

        Returns None, or why the rows were refused: ``"read-only"`` or ``("full",
        message)``.
        """
        psycopg = _psycopg()
        rows = sorted(rows)  # by key: every transaction locks rows in one order
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

    @_reconnecting
    def dim(self, namespace):
        """The size of the namespace's vectors, or None while it has none."""
        row = self.conn.execute(
            "SELECT dim FROM skemotion_embeddings WHERE namespace = %s LIMIT 1", (namespace,)
        ).fetchone()
        return None if row is None else int(row[0])

    @_reconnecting
    def count(self, namespace=None):
        if namespace is None:
            return self.conn.execute("SELECT COUNT(*) FROM skemotion_embeddings").fetchone()[0]
        return self.conn.execute(
            "SELECT COUNT(*) FROM skemotion_embeddings WHERE namespace = %s", (namespace,)
        ).fetchone()[0]

    @_reconnecting
    def clear(self, namespace=None):
        with self.conn.transaction():
            if namespace is None:
                self.conn.execute("DELETE FROM skemotion_embeddings")
                self.conn.execute("DELETE FROM skemotion_claims")
            else:
                for table in ("skemotion_embeddings", "skemotion_claims"):
                    self.conn.execute(f"DELETE FROM {table} WHERE namespace = %s", (namespace,))

    # --- claims: which process encodes a key ---------------------------------------------

    @_reconnecting
    def claim(self, namespace, keys, owner, lease_s):
        """The keys of `keys` this `owner` now holds: not stored, and not held by another
        owner whose lease is still running (expired leases are taken over)."""
        if self.read_only:
            return set(keys)  # nothing can be stored, so there is nothing to share
        now = time.time()
        won = set()
        keys = sorted(keys)  # every transaction locks rows in one order: no deadlock
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

    @_reconnecting
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

    @_reconnecting
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

    @_reconnecting
    def counts(self):
        rows = dict(self.conn.execute("SELECT name, value FROM skemotion_counters").fetchall())
        return int(rows.get("hits", 0)), int(rows.get("misses", 0))

    @_reconnecting
    def reset_counts(self):
        if not self.read_only:
            self.conn.execute("DELETE FROM skemotion_counters")

    def close(self):
        self.conn.close()


def _rerun_rolled_back(psycopg, method, *args, **kwargs):
    """``method(*args, **kwargs)``, run again when the server rolled its transaction back."""
    for attempt in range(_ROLLBACK_RETRIES):
        try:
            return method(*args, **kwargs)
        except (  # SQLSTATE class 40: the server rolled the transaction back
            psycopg.errors.TransactionRollback,
            psycopg.errors.DeadlockDetected,
            psycopg.errors.SerializationFailure,
        ):
            if attempt == _ROLLBACK_RETRIES - 1:
                raise
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _server_error(name, exc, lost, retried=True):
    """An error of the server in the middle of a session, naming it and what to do."""
    text = " ".join(str(exc).split()).rstrip(".")
    if lost:
        again = ", also after connecting again once" if retried else ""
        return ConnectionError(
            f"the PostgreSQL server of the embedding cache {name} ended the connection "
            f"({text}){again}. Check that the server is up and "
            "stays up (its log says why it ended the connection), or pass cache= a file "
            "path for a local SQLite cache."
        )
    return RuntimeError(
        f"the PostgreSQL server of the embedding cache {name} could not complete the "
        f"operation: {text}. Check the server (its log, its settings such as "
        "statement_timeout), or pass cache= another URL or a file path."
    )


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
