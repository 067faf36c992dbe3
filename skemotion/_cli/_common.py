"""What the commands share: usage errors, the run wrapper, the clock, the cache, the
encoders, the inputs (folders, CSV columns) and the outputs.

Nothing here imports a command module, so every command can import this one.
"""

import argparse
import os
import sqlite3
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from .._encoders._audio_items import AUDIO_SUFFIXES
from .._encoders._image_items import IMAGE_SUFFIXES
from .._encoders._video import VIDEO_SUFFIXES

# --encoder NAME -> (the skemotion class, the kind of item it reads).
ENCODERS = {
    "text": ("TextEncoder", "text"),
    "image": ("ImageEncoder", "image"),
    "face": ("FaceEncoder", "image"),
    "audio-features": ("AudioFeatures", "audio"),
    "audio": ("AudioEncoder", "audio"),
}
# Problems of the setup or the data: a missing extra (ImportError), model (OSError; the
# RuntimeError of ImageEncoder and the device checks), an unreadable file (ValueError) or
# cache (sqlite3.Error). Reported in one line with exit status 1, not as a traceback.
SETUP_ERRORS = (ImportError, OSError, RuntimeError, ValueError, sqlite3.Error)
# The files a folder input contributes, by the kind of item an encoder reads.
# Videos are items of both: their frames for the picture encoders, their audio track
# for the audio encoders.
SUFFIXES = {"audio": AUDIO_SUFFIXES | VIDEO_SUFFIXES, "image": IMAGE_SUFFIXES | VIDEO_SUFFIXES}


class UsageError(Exception):
    """A wrong combination of arguments: reported by argparse, exit status 2."""


def run_command(command, args, func, *, errors=SETUP_ERRORS):
    """Run ``func(args)``: 0 when it succeeds, 1 after a one-line error.

    An exception of a type in `errors` is a problem of the setup or the data, not a
    bug: one line that says what failed serves better than a traceback. Warnings are
    collected and printed once each, as ``skemotion COMMAND: warning: ...`` lines on
    stderr. A :class:`UsageError` exits with status 2 through ``args.parser``.
    """
    error = None
    with warnings.catch_warnings(record=True) as caught:
        try:
            func(args)
        except UsageError as exc:
            args.parser.error(str(exc))
        except errors as exc:
            error = f"skemotion {command}: error: {type(exc).__name__}: {exc}"
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        print(f"skemotion {command}: warning: {message}", file=sys.stderr)
    if error is None:
        return 0
    print(error, file=sys.stderr)
    return 1


def n_jobs(text):
    """argparse ``type`` of ``--n-jobs``: a non-zero int (-1: all cores), as joblib takes."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 workers cannot run anything: pass 1 (the default), a number of workers, or -1 "
            "for all cores"
        )
    return value


def int_in(low, high):
    """Return an argparse ``type`` that accepts an int in ``[low, high]``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer in the range [{low}, {high}], got {value}"
            )
        return value

    return parse


class Clock:
    """Time a command from its start; :meth:`stage` prints one line per stage."""

    def __init__(self):
        self.start = time.perf_counter()

    def elapsed(self):
        """Seconds since the clock was made."""
        return time.perf_counter() - self.start

    @contextmanager
    def stage(self, what):
        """Print `what` when the stage begins and its duration when it ends."""
        began = time.perf_counter()
        print(f"[{self.elapsed():6.1f} s] {what} ...", flush=True)
        yield
        print(
            f"[{self.elapsed():6.1f} s]   done in {time.perf_counter() - began:.1f} s", flush=True
        )


# --- the embedding cache --------------------------------------------------------------------


def default_cache_dir():
    """Return the default cache folder: ``$XDG_CACHE_HOME/skemotion`` or ``~/.cache/skemotion``.

    Examples
    --------
    >>> default_cache_dir().name
    'skemotion'
    """
    # The XDG spec says to ignore an unset, empty or relative XDG_CACHE_HOME.
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "skemotion"


def add_cache_arguments(
    parser,
    *,
    stored="embedding cache",
    without="keep nothing on disk: every item is encoded again each run",
):
    """Declare ``--cache PATH`` and ``--no-cache`` (mutually exclusive) on `parser`.

    `stored` says what the cache holds, `without` what ``--no-cache`` means for the command.
    """
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--cache",
        metavar="PATH",
        default=None,
        help=f"{stored}: an SQLite file, or a folder that holds "
        f"embeddings.sqlite (default: {default_cache_dir()})",
    )
    where.add_argument("--no-cache", action="store_true", help=without)


def cache_option(args):
    """What ``--cache`` / ``--no-cache`` ask for: False (no cache), a path, or None (default)."""
    return False if args.no_cache else args.cache


def open_cache(cache):
    """The :class:`~skemotion.EmbeddingCache` for `cache`, or None when it is False.

    None means the :func:`default_cache_dir`; a path or a handle is used as given.
    """
    from .._cache import resolve_cache

    if cache is False:
        return None
    return resolve_cache(default_cache_dir() if cache is None else cache)


class CacheCounter:
    """The hits and misses of a cache handle from now on (`cache` None: no cache).

    A handle is shared by the whole process (one per database file), so its own
    counters may already hold earlier work: reports show the difference.
    """

    def __init__(self, cache):
        self.cache = cache
        self._before = self._totals()

    def _totals(self):
        return (0, 0) if self.cache is None else (self.cache.hits, self.cache.misses)

    def counts(self):
        """``(hits, misses)`` since the counter was made."""
        (hits, misses), (hits_before, misses_before) = self._totals(), self._before
        return hits - hits_before, misses - misses_before

    def summary(self):
        """``'12 hits, 3 misses (path)'``, or ``'off'`` without a cache."""
        if self.cache is None:
            return "off"
        hits, misses = self.counts()
        return f"{hits:,} hits, {misses:,} misses ({self.cache.path})"


# --- the encoders by name (encode and evaluate) ---------------------------------------------


def build_encoder(name, *, cache, missing="error", on_error="raise", verbose=False, **params):
    """The encoder called `name` (a key of :data:`ENCODERS`), configured.

    `params` are the options the user gave (model, device, batch_size, ...); None means
    the encoder's default. An option the encoder does not take is a :class:`UsageError`.
    """
    import skemotion

    class_name = ENCODERS[name][0]
    encoder = getattr(skemotion, class_name)()
    accepted = encoder.get_params(deep=False)
    given = {key: value for key, value in params.items() if value is not None}
    for key in given:
        if key not in accepted:
            raise UsageError(
                f"the {name} encoder ({class_name}) takes no {key.replace('_', '-')} option"
            )
    given.update(cache=False if cache is None else cache, missing=missing, verbose=verbose)
    if "on_error" in accepted:
        given["on_error"] = on_error
    return encoder.set_params(**given)


def item_encoders(estimator):
    """The skemotion encoders inside `estimator` (a pipeline, a fusion, one encoder).

    Found through ``get_params(deep=True)``, so they are the very objects the
    pipeline calls: setting a parameter on one changes the pipeline.
    """
    from .._encoders._base import BaseItemEncoder

    found = [estimator] if isinstance(estimator, BaseItemEncoder) else []
    if hasattr(estimator, "get_params"):
        for value in estimator.get_params(deep=True).values():
            if isinstance(value, BaseItemEncoder) and not any(value is f for f in found):
                found.append(value)
    return found


def encoder_kind(encoder):
    """The kind of item an encoder reads (``"text"``, ``"image"``, ``"audio"``)."""
    import skemotion

    for class_name, kind in ENCODERS.values():
        if isinstance(encoder, getattr(skemotion, class_name)):
            return kind
    return None


# --- inputs: the files of a folder, the column of a CSV ---------------------------------------


def list_folder_files(folder, kinds):
    """The files under `folder` of the `kinds` of item, at any depth, sorted.

    A Series of their paths, indexed by their paths relative to `folder` (POSIX
    style); no such file at all is an error that names the folder and the suffixes.
    """
    import pandas as pd

    from ..datasets._base import list_files

    suffixes = set().union(*(SUFFIXES[kind] for kind in kinds))
    files = list_files(folder, suffixes, recursive=True)
    if not files:
        raise FileNotFoundError(
            f"no {' or '.join(kinds)} files ({' '.join(sorted(suffixes))}) under {folder}, "
            "at any depth"
        )
    ids = [file.relative_to(folder).as_posix() for file in files]
    return pd.Series([str(file) for file in files], index=ids, name="/".join(kinds))


def read_csv_column(path, column, *, id_column=None, paths=True, allow_empty=False):
    """`column` of the CSV at `path` as a Series, indexed by the row number or `id_column`.

    `paths`: the cells are file paths, and relative ones are resolved against the CSV's
    folder. Empty cells are NaN; without `allow_empty` they are an error that names
    their ids and says to pass ``--on-error skip``.
    """
    import pandas as pd

    from .._encoders._items import is_missing

    try:
        # Texts stay texts; empty cells are NaN. A blank line is a row with an empty
        # cell, as in a spreadsheet: skipping it would give the rows after it the ids
        # of the rows before.
        # Only an empty cell is missing: "NA", "None" or "null" are texts (or names) too.
        frame = pd.read_csv(
            path, dtype=str, skip_blank_lines=False, keep_default_na=False, na_values=[""]
        )
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path} is empty: a CSV input needs a header row that names its columns, "
            "then one row per item"
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"offset {exc.start}): a CSV in another encoding (Latin-1, Windows-1252) or "
            "not a CSV at all. Save it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path} is not a readable CSV ({exc})") from None
    available = ", ".join(map(repr, frame.columns))
    if column is None:
        raise UsageError(
            f"a CSV input needs --column, the column of items; {path.name} has columns {available}"
        )
    for flag, name in (("--column", column), ("--id-column", id_column)):
        if name is not None and name not in frame:
            raise UsageError(
                f"{flag} {name!r} is not a column of {path.name}; its columns are {available}"
            )
    if frame.empty:
        raise ValueError(f"{path} has no rows")
    items = frame[column]
    if id_column is not None:
        items.index = pd.Index(frame[id_column], name=id_column)
        no_id = items.index.isna().nonzero()[0]
        if no_id.size:
            raise ValueError(
                f"--id-column {id_column!r} of {path.name} is empty in {no_id.size} row(s) "
                f"(the first: row {no_id[0]}); every row needs an id"
            )
        _check_unique_ids(items.index, id_column)
    if paths:
        items = resolve_csv_paths(items, path)
    empty = items.map(is_missing).to_numpy(bool)
    if empty.any() and not allow_empty:
        raise ValueError(
            f"column {column!r} of {path.name} has {empty.sum()} empty "
            f"cell(s) (ids {id_list(items.index[empty])}); pass --on-error "
            "skip to write NaN rows for them, or fill or drop those rows"
        )
    return items


def resolve_csv_paths(cells, csv):
    """The file paths of `cells`, relative ones read from the folder of the CSV `csv`."""
    from .._encoders._items import is_missing

    folder = csv.parent
    return cells.map(lambda v: v if is_missing(v) else str(folder / Path(v).expanduser()))


def _check_unique_ids(ids, column):
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise ValueError(
            f"--id-column {column!r} repeats ids ({id_list(repeated.unique())}); "
            "ids must name one row each"
        )


def id_list(ids):
    """Up to a few ids, quoted where they are texts, and how many more."""
    from ..datasets._base import name_list

    return name_list(ids)


# --- outputs ---------------------------------------------------------------------------------


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then move the file to `path`.

    A write that fails (a full disk) leaves no half-written or empty file at `path`,
    and its error names `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(scratch)
        os.replace(scratch, path)
    except OSError as exc:
        raise OSError(
            f"could not write {path}: {exc.strerror or exc}. Nothing was written there; "
            "free some space (or pass another output path) and run the command again"
        ) from exc
    finally:
        scratch.unlink(missing_ok=True)


def non_empty(text):
    """argparse ``type`` of an option that needs a value: refuse an empty string."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a value, got an empty string")
    return text


def check_writable(path, what, *, folder=False):
    """Refuse, before any work, an output that cannot be written; name it and the fix.

    `what` names the option (``"--output"``); `folder`: `path` is a folder to create
    or fill (``--output-dir``) rather than a file.
    """
    path = Path(path).expanduser().absolute()
    if path.exists() and path.is_dir() != folder:
        kind, wanted = ("a file", "a folder") if folder else ("a folder", "a file name")
        raise (NotADirectoryError if folder else IsADirectoryError)(
            f"{what} {path} is {kind}; pass {wanted}"
        )
    existing = path if folder and path.exists() else path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            f"{what} {path}: {existing} is a file, not a folder; pass a path under a folder"
        )
    if not os.access(existing, os.W_OK):
        raise PermissionError(
            f"{what} {path}: {existing} is not writable; pass a path in a folder you can write to"
        )


def check_parquet_writer(path, *, instead):
    """Refuse, before any work, a .parquet `path` when pyarrow is missing.

    Checked before the work, so that nobody waits an hour to learn that pyarrow is
    missing; `instead` names the other format the command writes (``"an .npz file"``).
    """
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                f"writing {path.name} (.parquet) requires pyarrow: pip install "
                f"'skemotion[parquet]' (or pyarrow), or write {instead}"
            ) from exc
