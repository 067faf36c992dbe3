"""Write the cache fixture that proves caches outlive a re-layout of the package.

Run once with the layout whose caches must stay valid (it was run before the encoders
moved into ``skemotion/_encoders/``)::

    python tests/data/make_layout_fixture.py

It writes, beside this file:

- ``layout_fingerprints.json``: each encoder's cache namespace with the weights'
  identity held fixed, so the layout-dependent part is checked for every encoder,
  including those whose real weights are not available offline;
- ``layout_cache.sqlite``: a real cache of the offline encoders (text, face, audio
  features) on the items below, which ``tests/test_layout.py`` must fully hit.
"""

from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).parent
CACHE_FILE = HERE / "layout_cache.sqlite"
FINGERPRINTS_FILE = HERE / "layout_fingerprints.json"
FACE_FILE = HERE / "layout_face.png"
TONE_FILE = HERE / "layout_tone.wav"
TEXTS = ["I am so happy today", "This is terrible", "ok"]
FIXED_IDENTITY = {"sha256": "fixed for the layout fixture"}


def face_arrays():
    """Two grey 48x48 faces computed exactly (no floating point, no random stream)."""
    base = np.arange(48 * 48).reshape(48, 48)
    return [(base * 7 % 256).astype(np.uint8), (base * 13 % 251).astype(np.uint8)]


def tone_array():
    """A 0.5 s saw-tooth at 16 kHz computed exactly (integer steps over a power of two)."""
    return ((np.arange(8000) % 128) / 128 - 0.5).astype(np.float32)


def offline_encoders():
    """(encoder, items) of every encoder whose weights exist offline."""
    from skemotion import AudioFeatures, FaceEncoder, TextEncoder

    return [
        (TextEncoder(device="cpu"), TEXTS),
        (FaceEncoder(device="cpu"), [*face_arrays(), str(FACE_FILE)]),
        (AudioFeatures(), [(tone_array(), 16000), str(TONE_FILE)]),
    ]


def every_encoder():
    """One instance of every public encoder, with default parameters, on the CPU."""
    from skemotion import AudioEncoder, AudioFeatures, FaceEncoder, ImageEncoder, TextEncoder

    return [
        TextEncoder(device="cpu"),
        ImageEncoder(device="cpu"),
        FaceEncoder(device="cpu"),
        AudioFeatures(),
        AudioEncoder(device="cpu"),
    ]


def fixed_identity_fingerprint(encoder):
    """The encoder's cache namespace with its weights' identity replaced by a constant."""
    with mock.patch.object(type(encoder), "_model_identity", lambda self: FIXED_IDENTITY):
        return encoder._fingerprint()


def _write():
    import json

    import soundfile
    from PIL import Image

    from skemotion import EmbeddingCache

    Image.fromarray(face_arrays()[0][::-1].copy()).save(FACE_FILE)
    soundfile.write(TONE_FILE, tone_array()[::-1], 16000, subtype="PCM_16")

    fingerprints = {type(enc).__name__: fixed_identity_fingerprint(enc) for enc in every_encoder()}
    FINGERPRINTS_FILE.write_text(json.dumps(fingerprints, indent=2, sort_keys=True) + "\n")

    CACHE_FILE.unlink(missing_ok=True)
    cache = EmbeddingCache(CACHE_FILE)
    for encoder, items in offline_encoders():
        encoder.set_params(cache=cache).fit_transform(items)
    print(cache.stats())
    cache.close()


if __name__ == "__main__":
    _write()
