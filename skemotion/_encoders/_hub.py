"""Frozen models from the Hugging Face hub or a local folder: where they are, who they are."""

from contextlib import contextmanager
from pathlib import Path

from ._hashing import model_dir_sha256


def hub_snapshot(repo_ids):
    """The local hub-cache folder of the first of `repo_ids` that is downloaded, or None."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    for repo_id in repo_ids:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except Exception:  # not in the local cache (or not a valid repo id)
            continue
    return None


def weights_identity(encoder):
    """Identify an encoder's weights by the digest of its model folder's files.

    A model not on disk yet is loaded first: that downloads it into the hub cache,
    whose files can then be hashed, so cached embeddings always follow the real weights.
    """
    source = encoder._model_source()
    if not isinstance(source, Path):
        encoder._model  # noqa: B018
        source = encoder._model_source()
    if isinstance(source, Path):
        return {"sha256": model_dir_sha256(source)}
    return {"name": encoder.model}


def local_weights_key(encoder):
    """The digest of an encoder's model folder when it is on disk, else "" (no load)."""
    source = encoder._model_source()
    return model_dir_sha256(source) if isinstance(source, Path) else ""


@contextmanager
def quiet_transformers(enabled):
    """Hide transformers' weight-loading progress bar unless the user asked for output."""
    try:
        from transformers.utils import logging
    except ImportError:
        yield
        return
    was_enabled = logging.is_progress_bar_enabled()
    if enabled:
        logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled and was_enabled:
            logging.enable_progress_bar()
