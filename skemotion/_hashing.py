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

# Digests are memoised per process on (path, size, mtime), as make and rsync judge a
# file unchanged: a grid search transforms the same files once per fold and candidate,
# and re-reading them dominated its cost. Bounded, so that huge datasets cannot grow it.
_MEMO_SIZE = 1 << 18


def file_sha256(path):
    """SHA-256 (hex) of a file's bytes, memoised on (path, size, mtime)."""
    return file_digest(path).hex()


def file_digest(path, prefix=b""):
    """SHA-256 (bytes) of ``prefix`` followed by a file's bytes, memoised.

    Raises the OSError of ``os.stat`` (FileNotFoundError, ...) for a path that cannot
    be read.
    """
    path = Path(path).resolve()
    stat = path.stat()
    return _memoised_digest(str(path), stat.st_size, stat.st_mtime_ns, prefix)


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _memoised_digest(path, size, mtime_ns, prefix):
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
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS]
        for name in files:
            if name.startswith(".") or Path(name).suffix in _IGNORED_SUFFIXES:
                continue
            yield str((Path(root) / name).relative_to(directory))
