"""Content digests that identify model weights, so cached embeddings follow the weights."""

import hashlib
import os
import threading
from pathlib import Path

# Folders of alternative runtimes that hub snapshots may hold; torch never reads them.
_IGNORED_DIRS = {".git", ".cache", "onnx", "openvino"}
_IGNORED_SUFFIXES = {".md", ".lock"}
_CHUNK = 1 << 20

_digest_memo = {}
_memo_lock = threading.Lock()


def file_sha256(path):
    """SHA-256 of a file's bytes, memoised per process on (path, size, mtime)."""
    path = Path(path).resolve()
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _memo_lock:
        if memo_key in _digest_memo:
            return _digest_memo[memo_key]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    with _memo_lock:
        _digest_memo[memo_key] = digest.hexdigest()
    return _digest_memo[memo_key]


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
