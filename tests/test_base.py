"""The frozen-encoder base on a toy encoder of files: decoding, errors, skipping, cache."""

import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import StrOptions

from skemotion import EmbeddingCache
from skemotion._encoders._base import BaseFrozenEncoder


class FileStatsEncoder(BaseFrozenEncoder):
    """Embeds a file as (number of bytes, sum of bytes); reads files in threads."""

    _parameter_constraints = {
        **BaseFrozenEncoder._parameter_constraints,
        "on_error": [StrOptions({"raise", "skip"})],
    }
    _modality = "file"
    _decode_in_threads = True

    def __init__(self, *, batch_size=2, cache=None, missing="error", on_error="raise"):
        self.batch_size = batch_size
        self.cache = cache
        self.missing = missing
        self.on_error = on_error

    # Fixed settings of this toy, not constructor parameters.
    device, precision, verbose = "cpu", "float32", False

    decode_threads = set()

    def _model_source(self):
        return "file-stats"

    def _load_model(self, source, device, dtype):
        return "no weights"

    def _model_identity(self):
        return {"name": "file-stats"}

    def _item_bytes(self, item):
        return Path(item).read_bytes()

    def _decode(self, item):
        type(self).decode_threads.add(threading.get_ident())
        data = Path(item).read_bytes()
        if data.startswith(b"BAD"):
            raise ValueError("not a readable stats file")
        return np.frombuffer(data, dtype=np.uint8)

    def _encode_batch(self, model, items):
        return np.array([[len(x), x.sum()] for x in items], dtype=np.float32)

    def _embedding_dim(self, model):
        return 2


@pytest.fixture
def files(tmp_path):
    paths = []
    for i, content in enumerate([b"a", b"bb", b"BAD file", b"dddd", b"bb"]):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(content)
        paths.append(str(path))
    return paths


def test_items_decode_in_threads_and_keep_their_order(files):
    good = [files[i] for i in (0, 1, 3, 4)]
    FileStatsEncoder.decode_threads.clear()
    X = FileStatsEncoder().fit_transform(good)
    np.testing.assert_array_equal(X[:, 0], [1, 2, 4, 2])
    assert threading.get_ident() not in FileStatsEncoder.decode_threads


def test_a_bad_file_raises_naming_item_and_path(files):
    with pytest.raises(ValueError, match=r"file item 2 \('.*f2.bin'\): not a readable stats file"):
        FileStatsEncoder().fit_transform(files)


def test_a_missing_file_raises_naming_it_also_with_a_cache(files, tmp_path):
    files[1] = str(tmp_path / "gone.bin")
    for cache in (None, tmp_path / "cache"):
        with pytest.raises(ValueError, match=r"file item 1 \('.*gone.bin'\): .*No such file"):
            FileStatsEncoder(cache=cache).fit_transform(files)


@pytest.mark.parametrize("missing, fill", [("error", 0.0), ("nan", np.nan)])
def test_skip_fills_failed_rows_and_warns_naming_them(files, missing, fill):
    encoder = FileStatsEncoder(on_error="skip", missing=missing)
    with pytest.warns(UserWarning, match=r"could not encode 1 item.*file item 2 .*f2.bin"):
        X = encoder.fit_transform(files)
    np.testing.assert_array_equal(X[2], [fill, fill])
    np.testing.assert_array_equal(X[[0, 1, 3, 4], 0], [1, 2, 4, 2])


def test_identical_items_are_encoded_once_with_a_cache(files, tmp_path, monkeypatch):
    seen = []
    original = FileStatsEncoder._encode_batch
    monkeypatch.setattr(
        FileStatsEncoder,
        "_encode_batch",
        lambda self, m, items: seen.extend(items) or original(self, m, items),
    )
    cache = EmbeddingCache(tmp_path / "cache")
    good = [files[i] for i in (0, 1, 3, 4)]  # f1 and f4 hold the same bytes
    X = FileStatsEncoder(cache=cache).fit_transform(good)
    assert len(seen) == 3 and cache.count() == 3
    np.testing.assert_array_equal(X[1], X[3])


def test_shared_parameter_docs_are_filled_in_every_encoder():
    import skemotion
    from skemotion._docstrings import ENCODER_PARAMETERS, Substitution

    # TextEncoder documents its own precision: it adds "int8" (test_text_int8.py).
    own_texts = {"TextEncoder": {"precision"}}
    for name in ("TextEncoder", "ImageEncoder", "FaceEncoder", "AudioEncoder"):
        doc = getattr(skemotion, name).__doc__
        assert "%(" not in doc, name
        for key, text in ENCODER_PARAMETERS.items():
            if key not in own_texts.get(name, ()):
                assert text in doc, (name, key)
    assert "%(" not in skemotion.AudioFeatures.__doc__

    class Typo:
        """%(devcie)s"""  # codespell:ignore devcie

    with pytest.raises(KeyError, match=r"%\(devcie\)s"):  # codespell:ignore devcie
        Substitution(device="x")(Typo)
