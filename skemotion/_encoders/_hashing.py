"""Content digests of files: model weights (cached embeddings follow the weights) and
file items (cache keys)."""

import functools
import hashlib
import os
from pathlib import Path

# Folders of alternative runtimes that hub snapshots may hold; torch never reads them.
_IGNORED_DIRS = {".git", ".cache", "onnx", "openvino"}
_IGNORED_SUFFIXES = {".md", ".lock"}
_CHUNK = 1 << 20

# Digests are memoised per process on (path, device, inode, size, mtime, ctime): a grid search
# transforms the same files once per fold and candidate, and re-reading them dominated
# its cost. Size and mtime alone (what make and rsync judge by) miss a file rewritten
# in place with its mtime restored; the inode change time cannot be set back, and a
# file replaced by another (a rename over it) has a new inode. Bounded, so that huge
# datasets cannot grow it.
_MEMO_SIZE = 1 << 18


def file_sha256(path):
    """SHA-256 (hex) of a file's bytes, memoised on the file's path and status."""
    return file_digest(path).hex()


def file_digest(path, prefix=b""):
    """SHA-256 (bytes) of ``prefix`` followed by a file's bytes, memoised.

    Raises the OSError of ``os.stat`` (FileNotFoundError, ...) for a path that cannot
    be read; a PermissionError names the file and the fix.
    """
    given = os.fspath(path)
    try:
        # The path as given, not resolved: the device and inode say which file it is
        # (resolving a path lstat-ed each of its folders, most of a cached grid search's
        # lookup time), and the digest is of the bytes, wherever they are reached from.
        stat = os.stat(given)
        status = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        return _memoised_digest(given, status, prefix)
    except PermissionError:
        # The words of the audio and image readers', which a cache's key reads first.
        raise PermissionError(
            f"cannot read {given!r}: permission denied. Make it readable (chmod o+r) for "
            "the user running skemotion"
        ) from None


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _memoised_digest(path, status, prefix):
    digest = hashlib.sha256(prefix)
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.digest()


def model_dir_sha256(directory):
    """One digest over every file a model folder loads from (weights, configs, tokenizer)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for relative in sorted(_model_files(directory)):
        digest.update(relative.encode())
        digest.update(file_sha256(directory / relative).encode())
    return digest.hexdigest()


def _model_files(directory):
    seen = set()
    for root, dirs, files in os.walk(directory, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree: following it would never end
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS]
        for name in files:
            if name.startswith(".") or Path(name).suffix in _IGNORED_SUFFIXES:
                continue
            yield str((Path(root) / name).relative_to(directory))
