"""What the dataset loaders share: the root folder, file listing, name parsing, the Bunch.

Every loader reads a dataset in the layout its authors distribute, lists and parses file
names (it never decodes audio or images, except FER-2013's pixel CSV) and returns a
:class:`~sklearn.utils.Bunch` built by :func:`make_bunch`.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

# How many offending file names an error message shows before "... and N more".
SHOWN = 5


@dataclass(frozen=True)
class DatasetInfo:
    """The fixed prose of a dataset's DESCR; :func:`describe` adds the counts.

    `labels` is the dataset's class names in the order of its own codes; the counts
    and ``target_names`` follow it. `group` names what the ``group`` column holds
    (``"actors"``), or is None where the dataset has no such id.
    """

    key: str
    title: str
    about: str
    columns: str
    evaluation: str
    licence: str
    references: str
    labels: tuple
    group: str | None


def absolute(path):
    """`path` as an absolute, normalised Path, ``~`` expanded (links are not resolved)."""
    return Path(os.path.abspath(Path(path).expanduser()))


def check_folder(path, *, loader, expected):
    """`path` as an :func:`absolute` Path; raise if it is not a folder."""
    root = absolute(path)
    if not root.is_dir():
        state = "is not a folder" if root.exists() else "does not exist"
        raise FileNotFoundError(f"{loader}: {root} {state}; expected {expected}.")
    return root


def is_hidden(path):
    """Whether `path` is operating-system clutter (``.DS_Store``, ``._x.wav``, ``__MACOSX``)."""
    return path.name.startswith(".") or "__MACOSX" in path.parts


def list_files(folder, suffixes, *, recursive=False):
    """The files in `folder` whose suffix is in `suffixes` (lower case), sorted.

    Hidden files and macOS archive clutter are not data and are left out. A folder
    that cannot be read is an error naming it (``Path.glob`` and ``Path.rglob`` would
    skip it silently, and its files would be missing from the result without a word).
    A link whose target is gone is kept, so that reading it names it.
    """
    found = _walk(folder) if recursive else _listing(folder)
    return sorted(
        path
        for path in found
        if path.suffix.lower() in suffixes
        and (path.is_file() or (path.is_symlink() and not path.exists()))
        and not is_hidden(path)
    )


def _listing(folder):
    """The entries of `folder` itself; an error naming it when it cannot be read."""
    try:
        with os.scandir(folder) as entries:
            return [Path(entry.path) for entry in entries]
    except PermissionError as error:
        raise _unreadable(error, within=folder.parent, count=1) from error


def _walk(folder):
    """Every file under `folder`, links followed; an error naming a folder it cannot read."""
    unreadable, found, seen = [], [], set()
    for root, folders, names in os.walk(folder, onerror=unreadable.append, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree: walking on would never end
            folders[:] = []
            continue
        seen.add(real)
        found += [Path(root) / name for name in names]
    if unreadable:
        raise _unreadable(unreadable[0], within=folder, count=len(unreadable))
    return found


def _unreadable(error, *, within, count):
    """The PermissionError for a folder that `error` says could not be listed."""
    reason = (error.strerror or str(error)).lower()  # "permission denied"
    return PermissionError(
        f"cannot list {error.filename}: {reason}. Make the folder readable "
        f"(chmod -R o+rX) or move it out of {within}; {count} folder(s) could not be read"
    )


def read_utf8(path, *, loader):
    """The text of `path`, a UTF-8 BOM dropped; an error naming the file when it is not UTF-8.

    The bytes are decoded as they are (no newline translation), so a parser sees the
    file's own line endings.
    """
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{loader}: {path} is not UTF-8 text (byte {error.object[error.start]:#04x} at "
            f"offset {error.start}; Latin-1 or Windows-1252, perhaps). Save it as UTF-8 "
            "(the dataset's own files are) and load again."
        ) from error


def require(found, *, loader, what, root, expected):
    """Raise FileNotFoundError when nothing was `found`: what was missing, where, what fits."""
    if len(found) == 0:
        raise FileNotFoundError(f"{loader}: no {what} under {root}; expected {expected}.")
    return found


def name_list(items):
    """Up to SHOWN items (texts and paths quoted) comma-separated, and how many more."""
    items = list(items)
    shown = ", ".join(
        repr(str(item)) if isinstance(item, (str, os.PathLike)) else str(item)
        for item in items[:SHOWN]
    )
    more = len(items) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def alternatives(codes):
    """A regex alternation of the literal `codes` (longest first, so none shadows another)."""
    return "|".join(re.escape(code) for code in sorted(codes, key=len, reverse=True))


def parse_names(paths, pattern, *, loader, expected):
    """A DataFrame of `pattern`'s named groups per file name, plus the absolute ``path``.

    `pattern` must match a file's whole name (extension included). Files whose names do
    not match are an error that names them: a loader never drops data silently.
    """
    rows, bad = [], []
    for path in paths:
        match = pattern.fullmatch(path.name)
        if match is None:
            bad.append(path)
        else:
            rows.append({**match.groupdict(), "path": str(path)})
    if bad:
        raise ValueError(
            f"{loader}: {len(bad)} file name(s) do not follow the dataset's naming scheme: "
            f"{name_list(bad)}; expected {expected}. Move these files out of the dataset "
            "folder (or rename them) and load again."
        )
    return pd.DataFrame(rows, columns=[*pattern.groupindex, "path"])


def subfolder_or_root(root, name):
    """``root / name`` where that folder exists (``wav/``, ``AudioWAV/``), else `root`."""
    return root / name if (root / name).is_dir() else root


def parse_folder(folder, pattern, suffixes, *, loader, expected, recursive=False):
    """:func:`parse_names` of the `suffixes` files in `folder`; an error when there are none."""
    files = list_files(folder, suffixes, recursive=recursive)
    what = "/".join(sorted(suffixes)) + " files"
    require(files, loader=loader, what=what, root=folder, expected=expected)
    return parse_names(files, pattern, loader=loader, expected=expected)


def present_paths(folder, names):
    """``folder / name`` (a string) for each of `names` that is a file there, else None."""
    present = {path.name for path in folder.iterdir() if not is_hidden(path)}
    return [str(folder / name) if name in present else None for name in names]


def check_unique(frame, key, *, loader, paths="path"):
    """Raise when two files (column `paths`) are the same recording (same `key` values)."""
    repeated = frame[frame.duplicated(key, keep=False)].sort_values(key)
    if len(repeated):
        raise ValueError(
            f"{loader}: {len(repeated)} files describe the same recordings, e.g. "
            f"{name_list(repeated[paths])}. Point the loader at one copy of the dataset "
            "(an archive unpacked twice, or one folder nested in another, gives this)."
        )


def order_columns(frame, modalities):
    """Modality columns first, then ``emotion`` and ``group`` (when present), then the rest."""
    first = [*modalities, "emotion", *(["group"] if "group" in frame else [])]
    return frame[first + [c for c in frame.columns if c not in first]].reset_index(drop=True)


def class_counts(emotion):
    """Counts per label of a column of labels, or of lists of labels (multi-label rows)."""
    exploded = emotion.explode() if emotion.map(lambda v: isinstance(v, list)).any() else emotion
    return exploded.value_counts()


def present_labels(info, emotion):
    """The labels of `info` that occur in `emotion`, in the dataset's code order."""
    counts = class_counts(emotion)
    return [label for label in info.labels if counts.get(label, 0) > 0]


def describe(info, frame, *, modalities, notes=()):
    """The DESCR text: the dataset's prose with counts taken from `frame`."""
    counts = class_counts(frame["emotion"])
    labels = present_labels(info, frame["emotion"])
    lines = [
        f".. _{info.key}_dataset:",
        "",
        info.title,
        "-" * len(info.title),
        "",
        info.about.strip(),
        "",
        "**Data Set Characteristics:**",
        "",
        f":Number of instances: {len(frame):,}",
        f":Number of classes: {len(labels)}",
        f":Class counts: {', '.join(f'{name} {counts[name]:,}' for name in labels)}",
        f":Modalities: {', '.join(modalities)}",
        f":Groups: {group_line(info, frame)}",
        "",
        info.columns.strip(),
        "",
        *[note.strip() + "\n" for note in notes],
        info.evaluation.strip(),
        "",
        ".. rubric:: Licence",
        "",
        info.licence.strip(),
        "",
        ".. rubric:: References",
        "",
        info.references.strip(),
        "",
    ]
    return "\n".join(lines)


def group_line(info, frame):
    """The ``:Groups:`` line of DESCR: how many groups, or why there are none."""
    if info.group is None:
        return "none (the dataset has no speaker or subject ids; ``groups`` is None)"
    return f"{frame['group'].nunique():,} {info.group} (the ``group`` column)"


def make_bunch(frame, info, *, modalities, return_X_y, notes=(), target=None, **extra):
    """The Bunch (or ``(data, target)``) every loader returns.

    ``data`` is the DataFrame of the modality columns, ``target`` the ``emotion`` column
    unless given, ``groups`` the ``group`` column as an array (None without one).
    """
    frame = order_columns(frame, modalities)
    data = frame[list(modalities)]
    target = frame["emotion"] if target is None else target
    if return_X_y:
        return data, target
    return Bunch(
        frame=frame,
        data=data,
        target=target,
        target_names=present_labels(info, frame["emotion"]),
        groups=frame["group"].to_numpy() if "group" in frame else None,
        DESCR=describe(info, frame, modalities=modalities, notes=notes),
        **extra,
    )
