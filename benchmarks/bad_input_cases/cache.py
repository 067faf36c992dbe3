"""Bad caches: paths that cannot hold one, read-only, damaged or foreign files, a full
disk, wrong keys and vectors, PostgreSQL URLs that cannot be used, and passwords.

The encoder cases use the tiny random text model; read-only files are made with
``chattr +i`` (root ignores permission bits), a full disk is a tiny tmpfs, and a
permission error is a child process without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH.
The PostgreSQL cases use a fresh schema of the local test database (as
tests/test_cache_postgres.py), dropped at the end; nothing else is connected to.
"""

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
import warnings
from pathlib import Path
from urllib.parse import quote

import numpy as np

import skemotion

from ._fixtures import immutable, run_cli, scratch, tiny_text_model, truncate, working_folder
from ._registry import WrongResult, add, case

AREA = "cache"
TEXTS = ["i am so happy", "i hate this", "this is sad"]
MORE = ["very joyful", "not sad at all"]
POSTGRES = os.environ.get(
    "SKEMOTION_TEST_POSTGRES", "postgresql:///skemotion_test?host=/var/run/postgresql"
)
PASSWORD = "s3cretPW"
_CACHE_FILE = str(Path(skemotion.__file__).parent / "_cache.py")
_OWN = str(Path(skemotion.__file__).parent)


# --- helpers ----------------------------------------------------------------------------------


def key(i):
    return hashlib.sha256(str(i).encode()).digest()


def _vectors(n, dim=4, start=0):
    return (np.arange(start, start + n * dim, dtype=np.float32).reshape(n, dim) + 1) / 7


def _cache(path):
    from skemotion import EmbeddingCache

    return EmbeddingCache(path)


def _encoder(cache):
    from skemotion import TextEncoder

    return TextEncoder(tiny_text_model(), device="cpu", cache=cache)


_REFERENCE = {}


def _reference(texts):
    texts = tuple(texts)
    if texts not in _REFERENCE:
        _REFERENCE[texts] = _encoder(False).fit_transform(list(texts))
    return _REFERENCE[texts]


def _check_same(X, texts, what="the embeddings"):
    want = _reference(texts)
    if X is None or np.shape(X) != want.shape or not np.allclose(X, want, atol=1e-5):
        raise WrongResult(f"{what} differ from those computed without a cache")


def _encode(cache, texts=TEXTS):
    """Encode `texts` through `cache` (a handle, closed after) and check the result."""
    try:
        X = _encoder(cache).fit_transform(list(texts))
    finally:
        if hasattr(cache, "close"):
            cache.close()
    _check_same(X, texts)
    return X


def _filled(path, n=3, dim=4):
    """A cache at `path` holding `n` rows of namespace 'ns'; returns (keys, vectors)."""
    keys, vectors = [key(i) for i in range(n)], _vectors(n, dim)
    cache = _cache(path)
    cache.put_many("ns", keys, vectors)
    cache.close()
    return keys, vectors


def _filled_by_encoder(path, texts=TEXTS):
    _encode(_cache(path), texts)


def _fill(folder):
    """Write zeros into `folder` until its disk is full."""
    with open(Path(folder) / "filler", "wb", buffering=0) as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)


@contextlib.contextmanager
def _small_disk(size="400k"):
    """A fresh tmpfs of `size`, unmounted after the block."""
    folder = scratch() / "disk"
    folder.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _leave_free(folder, kib):
    """Free `kib` KiB of the full disk of `folder` (room for SQLite's -shm, not much more)."""
    filler = Path(folder) / "filler"
    os.truncate(filler, max(0, filler.stat().st_size - kib * 1024))


def _collect(func):
    """Run `func` recording warnings; re-issue them (the judge sees them); return both."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func()
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return result, [str(w.message) for w in caught]


class ChildError(Exception):
    """An error a child process raised, with its type and message."""


_CHILD = r"""
import hashlib, importlib.util, json, sys, traceback, warnings
import numpy as np
spec = importlib.util.spec_from_file_location("skemotion_cache_child", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
EmbeddingCache = module.EmbeddingCache
def key(i):
    return hashlib.sha256(str(i).encode()).digest()
out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        exec(sys.argv[2])
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["foreign"] = not frames[-1].filename.startswith(sys.argv[3])
out["warnings"] = [str(w.message) for w in caught]
print(json.dumps(out))
"""


def _without_caps(snippet, caps="dac_override,dac_read_search"):
    """Run `snippet` (``out["result"] = ...``) in a child without the capabilities `caps`.

    Its warnings are issued again here; its error is raised again here, as from
    another library when it was raised outside skemotion.
    """
    drop = ",".join(f"-{cap}" for cap in caps.split(","))
    done = subprocess.run(
        ["setpriv", "--inh-caps=-all", f"--bounding-set={drop}", sys.executable, "-c", _CHILD]
        + [_CACHE_FILE, snippet, _OWN],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode or not done.stdout.strip():
        raise RuntimeError(f"the child failed: {done.stderr[-500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for message in out["warnings"]:
        warnings.warn(message, UserWarning, stacklevel=2)
    if "error" in out:
        error = ChildError(out["error"])
        if out["foreign"]:  # judged as raised by another library
            exec(
                compile("raise error", "<another library, in the child>", "exec"), {"error": error}
            )
        raise error
    return out.get("result")


# --- what is not a path ---------------------------------------------------------------------

for _name, _value, _names in [
    ("EmbeddingCache(None)", None, ("None", "path")),
    ("EmbeddingCache(123)", 123, ("123", "path")),
    ("EmbeddingCache(a list of paths)", ["a.sqlite", "b.sqlite"], ("list", "path")),
    ("EmbeddingCache(a dict)", {"path": "a.sqlite"}, ("dict", "path")),
    ("EmbeddingCache(bytes path)", b"x.sqlite", ("x.sqlite", "str")),
]:
    add(AREA, _name, "error", lambda value=_value: len(_cache(value)), names=_names)


@case(AREA, "error", names=("empty", "path"), id="EmbeddingCache('') refused")
def case_empty_path():
    with working_folder() as here:
        try:
            len(_cache(""))
        finally:
            if (here / "embeddings.sqlite").exists():
                warnings.warn(f"'' made {here / 'embeddings.sqlite'}", UserWarning, stacklevel=2)


@case(AREA, "error", names=("cache", "empty"), id="encoder cache='' refused")
def case_encoder_empty_cache():
    with working_folder() as here:
        _encoder("").fit_transform(TEXTS)
        if (here / "embeddings.sqlite").exists():
            warnings.warn("cache='' made ./embeddings.sqlite", UserWarning, stacklevel=2)


@case(AREA, "error", names=("cache", "empty"), id="encoder cache='   ' (blanks) refused")
def case_encoder_blank_cache():
    with working_folder():
        _encoder("   ").fit_transform(TEXTS)


add(
    AREA,
    "encoder cache=True refused",
    "error",
    lambda: _encoder(True).fit_transform(TEXTS),
    names=("cache", "True"),
)
add(
    AREA,
    "encoder cache=0 refused",
    "error",
    lambda: _encoder(0).fit_transform(TEXTS),
    names=("cache", "0"),
)


def _resolve(value):
    from skemotion._cache import resolve_cache

    return resolve_cache(value)


add(AREA, "resolve_cache(123)", "error", lambda: _resolve(123), names=("123", "cache"))
add(
    AREA,
    "path with a NUL byte",
    "error",
    lambda: len(_cache(str(scratch() / "a\x00b.sqlite"))),
    names=("null", "cache="),
)
add(
    AREA,
    "file name of 300 characters",
    "error",
    lambda: len(_cache(scratch() / ("x" * 300 + ".sqlite"))),
    names=("xxxxxxxxxx", "cache="),
)


# --- paths that cannot hold a cache --------------------------------------------------------


@case(AREA, "error", names=("loop.sqlite", "loop"))
def case_symlink_loop_as_the_cache_file():
    folder = scratch()
    (folder / "loop.sqlite").symlink_to(folder / "back.sqlite")
    (folder / "back.sqlite").symlink_to(folder / "loop.sqlite")
    len(_cache(folder / "loop.sqlite"))


@case(AREA, "handled")
def case_dangling_symlink_as_the_cache_file():
    folder = scratch()
    (folder / "link.sqlite").symlink_to(folder / "later" / "real.sqlite")
    keys, vectors = _filled(folder / "link.sqlite")
    found = _cache(folder / "link.sqlite").get_many("ns", keys)
    if len(found) != 3 or not np.array_equal(np.stack([found[k] for k in keys]), vectors):
        raise WrongResult("the rows stored through a dangling link are not read back")


@case(AREA, "error", names=("cache.sqlite", "file"), timeout=20)
def case_fifo_named_cache_sqlite():
    folder = scratch()
    os.mkfifo(folder / "cache.sqlite")
    len(_cache(folder / "cache.sqlite"))


add(AREA, "/dev/null as the cache", "error", lambda: len(_cache("/dev/null")), names=("/dev/null",))


@case(AREA, "error", names=("notes.txt", "cache="))
def case_parent_path_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("not a folder")
    len(_cache(folder / "notes.txt" / "cache.sqlite"))


@case(AREA, "error", names=("notes.txt", "cache="))
def case_grandparent_path_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("not a folder")
    len(_cache(folder / "notes.txt" / "sub" / "cache.sqlite"))


@case(AREA, "error", names=("README", "cache="))
def case_a_file_without_suffix_given_as_the_cache():
    folder = scratch()
    (folder / "README").write_text("a file, not a folder")
    len(_cache(folder / "README"))


@case(AREA, "error", names=("notes.txt", "cache="))
def case_encoder_cache_whose_parent_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("not a folder")
    _encoder(str(folder / "notes.txt" / "cache.sqlite")).fit_transform(TEXTS)


@case(AREA, "handled")
def case_existing_folder_with_a_dot_in_its_name_holds_the_file():
    folder = scratch() / "cache.d"
    folder.mkdir()
    cache = _cache(folder)
    if cache.path != (folder / "embeddings.sqlite").resolve():
        raise WrongResult(f"an existing folder gives {cache.path}, not a file inside it")
    _encode(cache)
    if not (folder / "embeddings.sqlite").is_file():
        raise WrongResult("no embeddings.sqlite in the folder")


@case(AREA, "handled")
def case_encoder_cache_folder_without_suffix_created_lazily():
    folder = scratch() / "new" / "emb"
    _encode(_cache(folder))
    if not (folder / "embeddings.sqlite").is_file():
        raise WrongResult(f"no {folder / 'embeddings.sqlite'} after encoding")


# --- folders and files that cannot be written ----------------------------------------------


@case(AREA, "error", names=("locked is not writable", "cache="))
def case_new_cache_in_a_read_only_folder():
    folder = scratch() / "locked"
    folder.mkdir()
    with immutable(folder):
        len(_cache(folder / "cache.sqlite"))


@case(AREA, "error", names=("locked is not writable", "cache="))
def case_encoder_new_cache_in_a_read_only_folder():
    folder = scratch() / "locked"
    folder.mkdir()
    with immutable(folder):
        _encoder(_cache(folder / "cache.sqlite")).fit_transform(TEXTS)


@case(AREA, "error", names=("locked is not writable", "cache="))
def case_new_cache_in_a_folder_without_write_permission():
    folder = scratch() / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        _without_caps(f"len(EmbeddingCache({str(folder / 'cache.sqlite')!r}))")
    finally:
        folder.chmod(0o700)


@case(AREA, "error", names=("secret.sqlite", "cache="))
def case_existing_cache_without_read_permission():
    folder = scratch()
    _filled(folder / "secret.sqlite")
    (folder / "secret.sqlite").chmod(0o000)
    _without_caps(f"len(EmbeddingCache({str(folder / 'secret.sqlite')!r}))")


@case(AREA, "fallback", names=("read-only",))
def case_cache_without_write_permission_serves_hits():
    folder = scratch() / "ro"
    folder.mkdir()
    path = folder / "cache.sqlite"
    _filled(path)
    path.chmod(0o400)
    folder.chmod(0o500)
    try:
        found = _without_caps(
            f"c = EmbeddingCache({str(path)!r})\n"
            "found = c.get_many('ns', [key(0), key(1), key(2)])\n"
            "c.put_many('ns', [key(9)], np.ones((1, 4)))\n"
            "out['result'] = len(found)"
        )
    finally:
        folder.chmod(0o700)
    if found != 3:
        raise WrongResult(f"{found} of the 3 rows were served")


@case(AREA, "fallback", names=("read-only",))
def case_read_only_file_with_every_item_a_hit():
    folder = scratch()
    path = folder / "cache.sqlite"
    _filled_by_encoder(path, TEXTS)
    with immutable(path, folder):
        _encode(_cache(path), TEXTS)


@case(AREA, "fallback", names=("read-only",))
def case_read_only_file_with_misses():
    folder = scratch()
    path = folder / "cache.sqlite"
    _filled_by_encoder(path, TEXTS)
    with immutable(path, folder):
        _encode(_cache(path), TEXTS + MORE)
        if _cache(path).count() != len(TEXTS):
            raise WrongResult("a read-only cache changed")


@case(AREA, "fallback", names=("read-only",))
def case_read_only_folder_writable_file_with_misses():
    folder = scratch()
    path = folder / "cache.sqlite"
    _filled_by_encoder(path, TEXTS)
    with immutable(folder):
        _encode(_cache(path), TEXTS + MORE)


@case(AREA, "handled")
def case_read_only_file_get_many_serves_its_rows():
    folder = scratch()
    keys, vectors = _filled(folder / "cache.sqlite")
    with immutable(folder / "cache.sqlite", folder):
        cache = _cache(folder / "cache.sqlite")
        found = cache.get_many("ns", keys + [key(99)])
        cache.close()
    if len(found) != 3 or not np.array_equal(np.stack([found[k] for k in keys]), vectors):
        raise WrongResult("a read-only cache does not serve its rows")


@case(AREA, "fallback", names=("read-only", "cache.sqlite"))
def case_read_only_file_put_many_warns_nothing_is_stored():
    folder = scratch()
    _filled(folder / "cache.sqlite")
    with immutable(folder / "cache.sqlite", folder):
        cache = _cache(folder / "cache.sqlite")
        cache.put_many("ns", [key(50)], _vectors(1))
        cache.close()


@case(AREA, "handled")
def case_read_only_file_stats_count_this_handle():
    folder = scratch()
    keys, _ = _filled(folder / "cache.sqlite")
    with immutable(folder / "cache.sqlite", folder):
        cache = _cache(folder / "cache.sqlite")
        cache.get_many("ns", keys + [key(99)])
        stats = cache.stats()
        cache.close()
    if stats != {"hits": 3, "misses": 1, "rows": 3}:
        raise WrongResult(f"stats() of a read-only cache: {stats}")


@case(AREA, "error", names=("cache.sqlite", "read-only"))
def case_read_only_file_clear():
    folder = scratch()
    _filled(folder / "cache.sqlite")
    with immutable(folder / "cache.sqlite", folder):
        cache = _cache(folder / "cache.sqlite")
        try:
            cache.clear()
        finally:
            cache.close()


_DIE_MID_WRITE = """
import os
c = EmbeddingCache(sys.argv[4])
c.put_many('ns', [key(i) for i in range(5)], np.ones((5, 4), np.float32))
os._exit(0)  # no close: the rows stay in the -wal file
"""


@case(AREA, "handled")
def case_read_only_cache_whose_writer_died_rows_in_the_wal():
    folder = scratch()
    path = folder / "cache.sqlite"
    _filled(path, n=1)
    subprocess.run(
        [sys.executable, "-c", _CHILD, _CACHE_FILE, _DIE_MID_WRITE, _OWN, str(path)],
        capture_output=True,
        timeout=60,
    )
    with immutable(*[p for p in folder.iterdir()], folder):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cache = _cache(path)
            found = cache.get_many("ns", [key(i) for i in range(5)])
            cache.close()
    if len(found) not in (1, 5):
        raise WrongResult(f"{len(found)} rows served: a part of the -wal file")


# --- foreign, damaged, other versions --------------------------------------------------------


@case(AREA, "error", names=("app.sqlite", "cache="))
def case_another_programs_sqlite_file():
    path = scratch() / "app.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.commit()
    try:
        len(_cache(path))
    finally:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if tables != {"users"}:
            raise WrongResult(f"another program's database was changed: tables {tables}")


@case(AREA, "error", names=("app.sqlite", "cache="))
def case_sqlite_file_with_tables_meta_and_embeddings_of_another_shape():
    path = scratch() / "app.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, note TEXT)")
        conn.execute("CREATE TABLE embeddings (id INTEGER PRIMARY KEY, blob BLOB)")
        conn.commit()
    cache = _cache(path)
    len(cache)
    cache.get_many("ns", [key(0)])


@case(AREA, "error", names=("notes.sqlite", "cache="))
def case_text_file_named_sqlite():
    path = scratch() / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 20)
    len(_cache(path))


@case(AREA, "error", names=("notes.sqlite", "cache="))
def case_encoder_on_a_text_file_named_sqlite():
    path = scratch() / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 20)
    _encoder(str(path)).fit_transform(TEXTS)


@case(AREA, "handled")
def case_empty_file_named_sqlite_becomes_a_new_cache():
    path = scratch() / "empty.sqlite"
    path.touch()
    _encode(_cache(path))
    if _cache(path).count() != len(TEXTS):
        raise WrongResult("the rows were not stored in an empty file")


def _big_cache(path, n=300, dim=384):
    keys = [key(i) for i in range(n)]
    cache = _cache(path)
    cache.put_many("ns", keys, np.ones((n, dim), np.float32))
    cache.close()
    return keys


@case(AREA, "error", names=("cut.sqlite", "delete"))
def case_cache_file_truncated_to_half():
    path = scratch() / "cut.sqlite"
    keys = _big_cache(path)
    truncate(path, 0.5)
    _cache(path).get_many("ns", keys)


@case(AREA, "error", names=("cut.sqlite", "delete"))
def case_cache_file_truncated_to_100_bytes():
    path = scratch() / "cut.sqlite"
    keys = _big_cache(path)
    truncate(path, 100)
    _cache(path).get_many("ns", keys)


@case(AREA, "error", names=("zeroed.sqlite", "delete"))
def case_cache_file_with_pages_overwritten_by_zeros():
    path = scratch() / "zeroed.sqlite"
    keys = _big_cache(path)
    data = bytearray(path.read_bytes())
    data[4096 : len(data) // 2] = bytes(len(data) // 2 - 4096)
    path.write_bytes(bytes(data))
    _cache(path).get_many("ns", keys)


@case(AREA, "error", names=("noise.sqlite", "delete"))
def case_cache_file_with_pages_overwritten_by_noise():
    path = scratch() / "noise.sqlite"
    keys = _big_cache(path)
    data = bytearray(path.read_bytes())
    noise = np.random.default_rng(0).integers(0, 256, len(data) - 8192, dtype=np.uint8)
    data[8192:] = noise.tobytes()
    path.write_bytes(bytes(data))
    _encoder(_cache(path)).fit_transform(TEXTS)
    _cache(path).get_many("ns", keys)


@case(AREA, "handled")
def case_garbage_wal_file_beside_a_good_cache():
    path = scratch() / "cache.sqlite"
    _filled_by_encoder(path)
    Path(f"{path}-wal").write_bytes(np.random.default_rng(1).bytes(10_000))
    _encode(_cache(path))


def _set_meta(path, value=None, delete=False):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        if delete:
            conn.execute("DELETE FROM meta WHERE name = 'schema_version'")
        else:
            conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (value,))
        conn.commit()


@case(AREA, "error", names=("cache.sqlite", "upgrade"))
def case_cache_from_a_newer_schema_version():
    path = scratch() / "cache.sqlite"
    _filled(path)
    _set_meta(path, "2")
    len(_cache(path))


@case(AREA, "error", names=("cache.sqlite", "upgrade"))
def case_read_only_cache_from_a_newer_schema_version():
    folder = scratch()
    _filled(folder / "cache.sqlite")
    _set_meta(folder / "cache.sqlite", "2")
    with immutable(folder / "cache.sqlite", folder):
        len(_cache(folder / "cache.sqlite"))


@case(AREA, "error", names=("cache.sqlite", "cache="))
def case_schema_version_that_is_not_a_number():
    path = scratch() / "cache.sqlite"
    _filled(path)
    _set_meta(path, "one")
    len(_cache(path))


@case(AREA, "handled")
def case_meta_table_without_a_schema_version_gets_it_back():
    path = scratch() / "cache.sqlite"
    _filled_by_encoder(path)
    _set_meta(path, delete=True)
    _encode(_cache(path), TEXTS + MORE)


@case(AREA, "handled")
def case_older_cache_without_claims_and_counters_tables():
    path = scratch() / "cache.sqlite"
    _filled_by_encoder(path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("DROP TABLE claims")
        conn.execute("DROP TABLE counters")
        conn.commit()
    _encode(_cache(path), TEXTS + MORE)


def _rows_of(path):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT namespace, key FROM embeddings").fetchall()


@case(AREA, "handled", timeout=40)
def case_a_row_whose_vector_has_the_wrong_length():
    path = scratch() / "cache.sqlite"
    _filled_by_encoder(path)
    namespace, first = _rows_of(path)[0]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "UPDATE embeddings SET vector = ? WHERE namespace = ? AND key = ?",
            (b"\0" * 10, namespace, first),
        )
        conn.commit()
    _encode(_cache(path))


# Only written by other means (put_many refuses it): named with the fix (docs/cache.md).
@case(AREA, "error", names=("cache.sqlite", "Clear them"))
def case_a_row_of_another_dimension_in_the_encoders_namespace():
    path = scratch() / "cache.sqlite"
    _filled_by_encoder(path)
    namespace, first = _rows_of(path)[0]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "UPDATE embeddings SET dim = 5, vector = ? WHERE namespace = ? AND key = ?",
            (np.ones(5, "<f4").tobytes(), namespace, first),
        )
        conn.commit()
    _encode(_cache(path))


# --- keys and vectors ------------------------------------------------------------------------


def _fresh(n=3, dim=4):
    path = scratch() / "cache.sqlite"
    keys, vectors = _filled(path, n, dim)
    return _cache(path), keys, vectors


@case(AREA, "handled")
def case_get_many_with_a_generator_of_keys():
    cache, keys, _ = _fresh()
    found = cache.get_many("ns", (k for k in keys))
    if len(found) != 3:
        raise WrongResult(f"{len(found)} of 3 keys found")
    if (cache.hits, cache.misses) != (3, 0) or cache.stats()["misses"] != 0:
        raise WrongResult(f"counted {cache.hits} hits, {cache.misses} misses: not 3 and 0")


@case(AREA, "handled")
def case_get_many_with_repeated_keys():
    cache, keys, _ = _fresh()
    cache.get_many("ns", [keys[0], keys[0], key(99), key(99)])
    if (cache.hits, cache.misses) != (1, 1):
        raise WrongResult(f"counted {cache.hits} hits, {cache.misses} misses: not 1 and 1")


@case(AREA, "error", names=("key", "bytes"))
def case_get_many_with_a_numpy_array_of_digests():
    cache, keys, _ = _fresh()
    cache.get_many("ns", np.array(keys))


add(
    AREA,
    "get_many with a single key instead of a list",
    "error",
    lambda: _fresh()[0].get_many("ns", key(0)),
    names=("keys", "sequence"),
)
add(
    AREA,
    "get_many with a 16-byte key",
    "error",
    lambda: _fresh()[0].get_many("ns", [key(0)[:16]]),
    names=("32-byte",),
)
add(
    AREA,
    "get_many with str keys",
    "error",
    lambda: _fresh()[0].get_many("ns", ["abc"]),
    names=("32-byte", "bytes"),
)
add(
    AREA,
    "get_many with namespace None",
    "error",
    lambda: _fresh()[0].get_many(None, [key(0)]),
    names=("namespace",),
)


def _stored(cache, keys):
    found = cache.get_many("ns", keys)
    return np.stack([found[k] for k in keys]) if len(found) == len(keys) else None


@case(AREA, "handled")
def case_put_many_with_a_dataframe_of_vectors():
    import pandas as pd

    cache = _cache(scratch() / "cache.sqlite")
    keys = [key(i) for i in range(3)]
    frame = pd.DataFrame(_vectors(3, 5), columns=[f"f{i}" for i in range(5)])
    cache.put_many("ns", keys, frame)
    got = _stored(cache, keys)
    if got is None or not np.array_equal(got, frame.to_numpy(np.float32)):
        raise WrongResult("the rows stored are not the DataFrame's rows")


@case(AREA, "handled")
def case_put_many_with_a_dataframe_as_wide_as_it_is_long():
    import pandas as pd

    cache = _cache(scratch() / "cache.sqlite")
    keys = [key(i) for i in range(3)]
    frame = pd.DataFrame(_vectors(3, 3))
    cache.put_many("ns", keys, frame)
    got = _stored(cache, keys)
    if got is None or not np.array_equal(got, frame.to_numpy(np.float32)):
        raise WrongResult("the rows stored are not the DataFrame's rows")


@case(AREA, "handled")
def case_put_many_with_a_list_of_lists():
    cache = _cache(scratch() / "cache.sqlite")
    keys = [key(i) for i in range(2)]
    cache.put_many("ns", keys, [[0.5, 1.5], [2.5, 3.5]])
    got = _stored(cache, keys)
    if got is None or not np.array_equal(got, [[0.5, 1.5], [2.5, 3.5]]):
        raise WrongResult(f"stored {got}")


@case(AREA, "handled")
def case_put_many_with_generators_of_keys_and_vectors():
    cache = _cache(scratch() / "cache.sqlite")
    keys = [key(i) for i in range(3)]
    vectors = _vectors(3)
    cache.put_many("ns", (k for k in keys), (v for v in vectors))
    got = _stored(cache, keys)
    if got is None or not np.array_equal(got, vectors):
        raise WrongResult("the rows of generators were not stored as given")


@case(AREA, "handled")
def case_put_many_nan_vectors_are_kept():
    cache = _cache(scratch() / "cache.sqlite")
    keys = [key(i) for i in range(2)]
    vectors = np.array([[np.nan, 1.0], [2.0, np.nan]], np.float32)
    cache.put_many("ns", keys, vectors)
    got = _stored(cache, keys)
    if got is None or not np.array_equal(np.isnan(got), np.isnan(vectors)):
        raise WrongResult(f"NaN not kept: {got}")
    if not np.array_equal(got[~np.isnan(got)], [1.0, 2.0]):
        raise WrongResult(f"the finite values changed: {got}")


_BAD_VECTORS = [
    ("integer vectors", np.ones((1, 4), np.int64), ("vector 0", "float")),
    ("a 1-D array", np.ones(4), ("2-D",)),
    ("2 vectors for 1 key", np.ones((2, 4)), ("1 keys", "2 vectors")),
    ("an infinite value", np.array([[1.0, np.inf]]), ("infinite",)),
    ("values too large for float32", np.array([[1e39, 1.0]]), ("float32",)),
    ("an empty vector", [np.ones(0)], ("vector 0", "empty")),
    ("a 2-D array of zero columns", np.ones((1, 0)), ("vector 0", "empty")),
    ("string vectors", [["a", "b"]], ("vector 0", "float")),
]
for _name, _vectors_given, _names in _BAD_VECTORS:
    add(
        AREA,
        f"put_many with {_name}",
        "error",
        lambda given=_vectors_given: _cache(scratch() / "c.sqlite").put_many("ns", [key(0)], given),
        names=_names,
    )


@case(AREA, "error", names=("ns", "4", "5"))
def case_put_many_of_a_5_d_vector_into_a_namespace_of_4_d_rows():
    cache, _, _ = _fresh(dim=4)
    cache.put_many("ns", [key(50)], np.ones((1, 5)))


@case(AREA, "error", names=("4", "5"))
def case_put_many_of_vectors_of_two_dimensions_in_one_call():
    cache = _cache(scratch() / "cache.sqlite")
    cache.put_many("ns", [key(0), key(1)], [np.ones(4), np.ones(5)])


# --- a full disk -----------------------------------------------------------------------------


@case(AREA, "fallback", names=("cache.sqlite", "full"))
def case_new_cache_on_a_full_disk():
    with _small_disk() as disk:
        _fill(disk)
        _leave_free(disk, 40)
        _encode(_cache(disk / "cache.sqlite"))


@case(AREA, "fallback", names=("cache.sqlite", "full"))
def case_new_cache_on_a_disk_with_no_byte_free():
    with _small_disk() as disk:
        _fill(disk)
        _encode(_cache(disk / "cache.sqlite"))


@case(AREA, "fallback", names=("cache.sqlite", "full"))
def case_existing_cache_on_a_full_disk_with_misses():
    with _small_disk() as disk:
        _filled_by_encoder(disk / "cache.sqlite", TEXTS)
        _fill(disk)
        _leave_free(disk, 40)
        _encode(_cache(disk / "cache.sqlite"), TEXTS + MORE * 30)


@case(AREA, "fallback", names=("cache.sqlite", "full"))
def case_existing_cache_on_a_disk_with_no_byte_free_with_misses():
    with _small_disk() as disk:
        _filled_by_encoder(disk / "cache.sqlite", TEXTS)
        _fill(disk)
        _encode(_cache(disk / "cache.sqlite"), TEXTS + MORE)


@case(AREA, "handled")
def case_existing_cache_on_a_full_disk_with_every_item_a_hit():
    with _small_disk() as disk:
        _filled_by_encoder(disk / "cache.sqlite", TEXTS)
        _fill(disk)
        _leave_free(disk, 40)
        _encode(_cache(disk / "cache.sqlite"), TEXTS)


@case(AREA, "fallback", names=("cache.sqlite", "full"))
def case_put_many_on_a_full_disk():
    with _small_disk() as disk:
        _filled(disk / "cache.sqlite")
        _fill(disk)
        _leave_free(disk, 40)
        cache = _cache(disk / "cache.sqlite")
        cache.put_many(
            "big", [key(i) for i in range(10, 200)], np.ones((190, 384))
        )  # another namespace: "ns" holds 4-d rows
        cache.close()


@case(AREA, "handled")
def case_get_many_on_a_full_disk():
    with _small_disk() as disk:
        keys, vectors = _filled(disk / "cache.sqlite")
        _fill(disk)
        _leave_free(disk, 40)
        cache = _cache(disk / "cache.sqlite")
        got = _stored(cache, keys)
        cache.close()
    if got is None or not np.array_equal(got, vectors):
        raise WrongResult("the rows of a cache on a full disk were not served")


@case(AREA, "handled")
def case_a_full_disk_loses_no_stored_row():
    with _small_disk() as disk:
        keys, vectors = _filled(disk / "cache.sqlite", n=20)
        _fill(disk)
        _leave_free(disk, 40)
        cache = _cache(disk / "cache.sqlite")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.suppress(Exception):
                cache.put_many("ns", [key(i) for i in range(100, 300)], np.ones((200, 384)))
        cache.close()
        (disk / "filler").unlink()
        cache = _cache(disk / "cache.sqlite")
        got = _stored(cache, keys)
        cache.close()
        with contextlib.closing(sqlite3.connect(disk / "cache.sqlite")) as conn:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if got is None or not np.array_equal(got, vectors) or check != "ok":
        raise WrongResult(f"after a full disk: integrity {check!r}, rows kept: {got is not None}")


# --- PostgreSQL URLs -------------------------------------------------------------------------


def _pg_connect(url=POSTGRES):
    import psycopg

    return psycopg.connect(url, autocommit=True)


@contextlib.contextmanager
def _pg_schema():
    """A new schema of the test database; yields the URL of a cache in it."""
    schema = f"bad_{uuid.uuid4().hex[:12]}"
    with _pg_connect() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES else "?"
    try:
        yield f"{POSTGRES}{separator}options={quote(f'-csearch_path={schema}')}", schema
    finally:
        with _pg_connect() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _as_role(url, role="skemotion_reader"):
    return url + quote(f" -crole={role}")


def _socket_url(path_and_query):
    """A URL on the local socket: ``postgresql://USERINFO/DB?host=/var/run/postgresql``."""
    return f"postgresql://{path_and_query}"


add(
    AREA,
    "postgresql://host-that-does-not-exist",
    "error",
    lambda: len(_cache("postgresql://me@host-that-does-not-exist.invalid/db")),
    names=("host-that-does-not-exist", "check"),
    timeout=30,
)
add(
    AREA,
    "postgresql://localhost:1 with nothing listening",
    "error",
    lambda: len(_cache("postgresql://me@localhost:1/db")),
    names=("localhost:1", "Start"),
    timeout=30,
)
add(
    AREA,
    "postgresql socket folder that does not exist",
    "error",
    lambda: len(_cache("postgresql:///db?host=/nonexistent/socket")),
    names=("/nonexistent/socket", "Start"),
    timeout=30,
)
add(
    AREA,
    "postgresql wrong user",
    "error",
    lambda: len(_cache(POSTGRES.replace("postgresql://", "postgresql://no_such_user_x@", 1))),
    names=("no_such_user_x", "user"),
    timeout=30,
)
add(
    AREA,
    "postgresql wrong database",
    "error",
    lambda: len(_cache(POSTGRES.replace("skemotion_test", "no_such_db_x", 1))),
    names=("no_such_db_x", "createdb"),
    timeout=30,
)
add(
    AREA,
    "postgresql unclosed IPv6 bracket",
    "error",
    lambda: len(_cache("postgresql://[::1/db")),
    names=("[::1/db", "URL"),
    timeout=30,
)
add(
    AREA,
    "postgresql port out of range",
    "error",
    lambda: len(_cache("postgresql://me@localhost:99999/db")),
    names=("99999", "range"),
    timeout=30,
)
add(
    AREA,
    "postgresql URL with an invalid sslmode",
    "error",
    lambda: len(_cache(POSTGRES + "&sslmode=bogus")),
    names=("sslmode", "bogus"),
    timeout=30,
)


def _in_scratch(location):
    with working_folder() as here:
        try:
            len(_cache(location))
        finally:
            made = [p.relative_to(here) for p in here.rglob("*")]
            if made:
                warnings.warn(f"{location!r} made files {made[:3]}", UserWarning, stacklevel=2)


for _url, _names in [
    ("postgresql+psycopg://me@localhost/db", ("postgresql+psycopg://", "postgresql://")),
    ("mysql://me@localhost/db", ("mysql://", "postgresql://")),
    ("sqlite:///emb.sqlite", ("sqlite://", "path")),
    ("file:///tmp/emb.sqlite", ("file://", "path")),
    ("https://example.invalid/db", ("https://", "postgresql://")),
    ("redis://localhost:6379/0", ("redis://", "postgresql://")),
]:
    add(AREA, f"{_url.split('//')[0]}// URL", "error", lambda u=_url: _in_scratch(u), names=_names)


@case(AREA, "handled")
def case_postgresql_scheme_in_capitals():
    # Either used as the PostgreSQL URL it is (schemes are case-insensitive), or refused
    # naming it; never taken as a file path.
    url = POSTGRES.replace("postgresql://", "POSTGRESQL://", 1)
    with working_folder() as here:
        try:
            cache = _cache(url)
            len(cache)
            if type(cache._store).__name__ != "PostgresStore":
                raise WrongResult(f"{url} was taken as the file {cache.path}")
            cache.close()
        except WrongResult:
            raise
        except Exception as exc:
            if "POSTGRESQL://" not in str(exc):
                raise
        if any(here.rglob("*")):
            raise WrongResult(f"{url} made files in the current folder")


@case(AREA, "error", names=("schema version", "Upgrade"))
def case_postgresql_cache_from_a_newer_schema_version():
    with _pg_schema() as (url, schema):
        cache = _cache(url)
        len(cache)
        cache.close()
        with _pg_connect() as conn:
            conn.execute(f"UPDATE {schema}.skemotion_meta SET value = '2'")
        cache = _cache(url)
        try:
            len(cache)
        finally:
            cache.close()


@case(AREA, "error", names=("CREATE", "GRANT"))
def case_postgresql_role_that_may_not_create_the_tables():
    with _pg_schema() as (url, schema):
        with _pg_connect() as conn:
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO skemotion_reader")
        len(_cache(_as_role(url)))


@case(AREA, "error", names=("skemotion_reader", "GRANT"))
def case_postgresql_role_that_may_not_use_the_schema_of_its_search_path():
    with _pg_schema() as (url, _):
        len(_cache(_as_role(url)))


def _pg_filled(url, texts=TEXTS):
    _encode(_cache(url), texts)


def _grant_reading(schema):
    with _pg_connect() as conn:
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO skemotion_reader")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO skemotion_reader")


@case(AREA, "fallback", names=("read-only",))
def case_postgresql_read_only_role_with_misses():
    with _pg_schema() as (url, schema):
        _pg_filled(url)
        _grant_reading(schema)
        _encode(_cache(_as_role(url)), TEXTS + MORE)


@case(AREA, "fallback", names=("read-only",))
def case_postgresql_read_only_role_with_every_item_a_hit():
    with _pg_schema() as (url, schema):
        _pg_filled(url)
        _grant_reading(schema)
        _encode(_cache(_as_role(url)), TEXTS)


@case(AREA, "error", names=("skemotion_embeddings", "cache="))
def case_postgresql_foreign_table_named_skemotion_embeddings():
    with _pg_schema() as (url, schema):
        with _pg_connect() as conn:
            conn.execute(f"CREATE TABLE {schema}.skemotion_meta (id INT, note TEXT)")
            conn.execute(f"CREATE TABLE {schema}.skemotion_embeddings (id INT, data TEXT)")
        cache = _cache(url)
        try:
            _encoder(cache).fit_transform(TEXTS)
        finally:
            cache.close()


@case(AREA, "handled")
def case_postgresql_connection_ended_by_the_server():
    # After the server ends the connection (a restart, an idle timeout), the next call
    # reconnects, or fails naming the server; never a raw driver error.
    with _pg_schema() as (url, _):
        cache = _cache(url)
        keys, vectors = [key(i) for i in range(3)], _vectors(3)
        cache.put_many("ns", keys, vectors)
        pid = cache._store.conn.info.backend_pid
        with _pg_connect() as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        try:
            got = _stored(cache, keys)
        except Exception as exc:
            if "skemotion_test" not in str(exc):
                raise
            return
        finally:
            cache.close()
        if got is None or not np.array_equal(got, vectors):
            raise WrongResult("after a reconnection the rows are not served")


@case(AREA, "handled")
def case_postgresql_two_handles_at_once():
    with _pg_schema() as (url, _):
        first, second = _cache(url), _cache(url)
        keys = [key(i) for i in range(4)]
        first.put_many("ns", keys[:2], _vectors(2))
        second.put_many("ns", keys, _vectors(4, start=100))  # the first writer wins
        got = _stored(first, keys)
        first.close()
        second.close()
    want = np.vstack([_vectors(2), _vectors(4, start=100)[2:]])
    if got is None or not np.array_equal(got, want):
        raise WrongResult("two handles do not share rows with the first writer winning")


# --- passwords never in a message --------------------------------------------------------------


def _no_password(func, password=PASSWORD, *, also=()):
    """Run `func`; its error, warnings, repr and path must not show the password."""
    secrets = (password, *also)
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func()
            messages += [repr(result), str(getattr(result, "path", ""))]
        except Exception as exc:
            messages.append(f"{type(exc).__name__}: {exc}")
    messages += [str(w.message) for w in caught]
    for message in messages:
        for secret in secrets:
            if secret in message:
                raise WrongResult(f"the password shows: {message[:300]}")


def _touch(location):
    cache = _cache(location)
    try:
        len(cache)
    finally:
        repr(cache)
    return cache


@case(AREA, "handled")
def case_password_hidden_in_repr_and_path():
    cache = _cache(f"postgresql://me:{PASSWORD}@localhost:1/db")
    for shown in (repr(cache), str(cache.path)):
        if PASSWORD in shown:
            raise WrongResult(f"the password shows: {shown}")


add(
    AREA,
    "password hidden when the server is unreachable",
    "handled",
    lambda: _no_password(lambda: _touch(f"postgresql://me:{PASSWORD}@localhost:1/db")),
    timeout=30,
)
add(
    AREA,
    "password hidden when the host does not exist",
    "handled",
    lambda: _no_password(lambda: _touch(f"postgresql://me:{PASSWORD}@nohost.invalid/db")),
    timeout=30,
)
add(
    AREA,
    "password hidden when the database does not exist",
    "handled",
    lambda: _no_password(
        lambda: _touch(f"postgresql://root:{PASSWORD}@/no_such_db_x?host=/var/run/postgresql")
    ),
    timeout=30,
)
add(
    AREA,
    "password hidden when the URL has an unclosed bracket",
    "handled",
    lambda: _no_password(lambda: _touch(f"postgresql://me:{PASSWORD}@[::1/db")),
    timeout=30,
)
add(
    AREA,
    "password hidden when the port is out of range",
    "handled",
    lambda: _no_password(lambda: _touch(f"postgresql://me:{PASSWORD}@localhost:99999/db")),
    timeout=30,
)
add(
    AREA,
    "password in the query string hidden",
    "handled",
    lambda: _no_password(
        lambda: _touch(f"postgresql:///no_such_db_x?host=/var/run/postgresql&password={PASSWORD}")
    ),
    timeout=30,
)
add(
    AREA,
    "password with an @ in it hidden",
    "handled",
    lambda: _no_password(
        lambda: _touch(f"postgresql://me:{PASSWORD}@x@localhost:1/db"), f"{PASSWORD}@x"
    ),
    timeout=30,
)
add(
    AREA,
    "percent-encoded password hidden",
    "handled",
    lambda: _no_password(
        lambda: _touch(f"postgresql://me:{PASSWORD}%40x@localhost:1/db"), also=(f"{PASSWORD}@x",)
    ),
    timeout=30,
)


@case(AREA, "handled")
def case_password_hidden_in_a_postgresql_psycopg_url():
    with working_folder():
        _no_password(lambda: _touch(f"postgresql+psycopg://me:{PASSWORD}@localhost:1/db"))


@case(AREA, "handled")
def case_password_hidden_in_the_warnings_of_a_read_only_role():
    with _pg_schema() as (url, schema):
        _pg_filled(url)
        _grant_reading(schema)
        with_password = _as_role(url).replace("postgresql://", f"postgresql://root:{PASSWORD}@")

        def encode():
            cache = _cache(with_password)
            _encode(cache, TEXTS + MORE)
            return cache

        _no_password(encode)


@case(AREA, "handled", timeout=60)
def case_password_hidden_in_the_output_of_skemotion_encode():
    with _pg_schema() as (url, _):
        with_password = url.replace("postgresql://", f"postgresql://root:{PASSWORD}@")
        folder = scratch()
        csv = folder / "posts.csv"
        csv.write_text("text\n" + "\n".join(TEXTS) + "\n")
        argv = ["encode", csv, "--column", "text", "--encoder", "text", "-o", folder / "x.npz"]
        argv += ["--model", tiny_text_model(), "--device", "cpu", "--cache", with_password]
        try:
            printed = run_cli(*argv)
        except Exception as exc:
            printed = str(exc)
        if PASSWORD in printed:
            raise WrongResult(f"the password shows: {printed[-300:]}")
        if not (folder / "x.npz").is_file():
            raise WrongResult(f"nothing written: {printed[-300:]}")


# --- permissions and several handles ---------------------------------------------------------


def _modes(path):
    return {
        suffix: oct(os.stat(f"{path}{suffix}").st_mode & 0o777)
        for suffix in ("", "-wal", "-shm")
        if os.path.exists(f"{path}{suffix}")
    }


@case(AREA, "handled")
def case_new_cache_file_is_owner_only():
    path = scratch() / "new" / "cache.sqlite"
    cache = _cache(path)
    cache.put_many("ns", [key(0)], _vectors(1))
    modes = _modes(path)
    cache.close()
    if set(modes.values()) != {"0o600"} or "" not in modes:
        raise WrongResult(f"a new cache's files have the modes {modes}, not 0o600")


@case(AREA, "handled")
def case_new_cache_file_is_owner_only_under_umask_000():
    old = os.umask(0)
    try:
        path = scratch() / "cache.sqlite"
        cache = _cache(path)
        _encoder(cache).fit_transform(TEXTS)
        modes = _modes(path)
        cache.close()
    finally:
        os.umask(old)
    if set(modes.values()) != {"0o600"}:
        raise WrongResult(f"a new cache's files have the modes {modes}, not 0o600")


@case(AREA, "handled")
def case_two_handles_on_one_file():
    path = scratch() / "cache.sqlite"
    first, second = _cache(path), _cache(path)
    keys = [key(i) for i in range(3)]
    first.put_many("ns", keys, _vectors(3))
    got = _stored(second, keys)
    second.put_many("ns", keys, _vectors(3, start=50))  # the first writer wins
    again = _stored(first, keys)
    first.close()
    second.close()
    if got is None or again is None or not np.array_equal(again, _vectors(3)):
        raise WrongResult("two handles on one file do not see each other's rows")


@case(AREA, "handled")
def case_one_file_by_a_relative_and_an_absolute_path():
    folder = scratch()
    with working_folder(folder):
        _encode(_cache("cache.sqlite"))
        _encode(_cache(folder / "cache.sqlite"))
        cache = _cache(folder / "cache.sqlite")
        if cache.count() != len(TEXTS):
            raise WrongResult(f"{cache.count()} rows: the two spellings made two caches")


@case(AREA, "handled")
def case_handle_used_after_close():
    cache, keys, vectors = _fresh()
    cache.close()
    cache.close()
    got = _stored(cache, keys)
    if got is None or not np.array_equal(got, vectors):
        raise WrongResult("a closed handle does not reopen")


@case(AREA, "handled")
def case_four_threads_encode_through_one_handle():
    cache = _cache(scratch() / "cache.sqlite")
    results, errors = {}, []

    def work(i):
        try:
            results[i] = _encoder(cache).fit_transform(TEXTS + MORE)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    for X in results.values():
        _check_same(X, TEXTS + MORE)
    if len(results) != 4 or cache.count() != len(TEXTS + MORE):
        raise WrongResult(f"{len(results)} threads done, {cache.count()} rows")
    cache.close()


_WRITER = """
c = EmbeddingCache(sys.argv[4])
for start in range(0, 200, 20):
    keys = [key(i) for i in range(start, start + 20)]
    c.put_many('ns', keys, np.stack([np.full(8, i, np.float32) for i in range(start, start + 20)]))
c.close()
"""


@case(AREA, "handled", timeout=60)
def case_two_processes_write_the_same_keys_at_once():
    path = scratch() / "cache.sqlite"
    args = [sys.executable, "-c", _CHILD, _CACHE_FILE, _WRITER, _OWN, str(path)]
    writers = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [json.loads(w.communicate(timeout=60)[0].strip().splitlines()[-1]) for w in writers]
    for out in outs:
        if "error" in out:
            raise ChildError(out["error"])
    cache = _cache(path)
    keys = [key(i) for i in range(200)]
    got = _stored(cache, keys)
    cache.close()
    want = np.repeat(np.arange(200, dtype=np.float32)[:, None], 8, axis=1)
    if got is None or not np.array_equal(got, want):
        raise WrongResult("two writer processes left missing or wrong rows")
