"""Checks of output paths, made before the work that fills them."""

import os
from pathlib import Path


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
