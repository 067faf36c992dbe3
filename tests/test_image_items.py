"""The one image reader: FaceEncoder and ImageEncoder accept, refuse and read alike."""

import hashlib

import numpy as np
import pytest

PIL_Image = pytest.importorskip("PIL.Image", reason="pillow is not installed")
pytest.importorskip("cv2", reason="FaceEncoder needs opencv-python-headless")

from skemotion import FaceEncoder, ImageEncoder  # noqa: E402
from skemotion._encoders._face import _to_grey  # noqa: E402
from skemotion._encoders._image_items import (  # noqa: E402
    FACE_KEYS,
    IMAGE_KEYS,
    load_rgb,
    read_pixels,
)

GREY = (np.arange(48 * 48).reshape(48, 48) * 7 % 256).astype(np.uint8)
RGB = (np.arange(6 * 5 * 3).reshape(6, 5, 3) * 5 % 256).astype(np.uint8)

ACCEPTED = {
    "uint8": GREY,
    "H x W x 1": GREY[:, :, None],
    "RGB": np.repeat(GREY[:, :, None], 3, axis=2),
    "RGBA": np.dstack([GREY] * 3 + [np.full_like(GREY, 128)]),
    "bool": GREY > 128,
    "uint16": GREY.astype(np.uint16) * 257,
    "int64 in 0..255": GREY.astype(np.int64),
    "float in 0..1": GREY / 255.0,
    "float16 in 0..1": (GREY / 255.0).astype(np.float16),
}
REFUSED_AT_FIT = {
    "1-D": np.zeros(48, np.uint8),
    "4-D": np.zeros((2, 48, 48, 1), np.uint8),
    "two channels": np.zeros((4, 4, 2), np.uint8),
    "channels first": np.zeros((3, 48, 48), np.uint8),
    "empty": np.zeros((0, 48), np.uint8),
    "complex": np.zeros((4, 4), complex),
    "object": np.array([["a"]], dtype=object),
}
REFUSED_WHEN_READ = {
    "float in 0..255": GREY.astype(np.float32),
    "negative float": np.full((4, 4), -0.5),
    "NaN": np.full((4, 4), np.nan),
    "int above 255": np.full((4, 4), 256, np.int32),
    "negative int": np.full((4, 4), -1, np.int16),
}


def _encoders():
    return [FaceEncoder(device="cpu"), ImageEncoder(device="cpu")]


@pytest.mark.parametrize("name", ACCEPTED)
def test_both_encoders_accept_the_same_arrays_and_read_the_same_pixels(name):
    array = ACCEPTED[name]
    assert [encoder._item_error(array) for encoder in _encoders()] == [None, None]
    pixels = read_pixels(array, caller="test")
    rgb = np.asarray(load_rgb(array))  # what ImageEncoder's model sees, before CLIP
    np.testing.assert_array_equal(rgb, pixels if pixels.ndim == 3 else np.dstack([pixels] * 3))
    np.testing.assert_array_equal(_to_grey(array), _to_grey(rgb))  # what FaceEncoder sees


@pytest.mark.parametrize("name", REFUSED_AT_FIT)
def test_both_encoders_refuse_the_same_arrays_with_the_same_reason(name):
    array = REFUSED_AT_FIT[name]
    face, image = (encoder._item_error(array) for encoder in _encoders())
    assert face is not None and face == image


@pytest.mark.parametrize("name", REFUSED_WHEN_READ)
def test_pixels_out_of_range_are_refused_by_both_encoders(name):
    array = REFUSED_WHEN_READ[name]
    assert [encoder._item_error(array) for encoder in _encoders()] == [None, None]
    with pytest.raises(ValueError, match="must lie in") as face:
        _to_grey(array)
    with pytest.raises(ValueError, match="must lie in") as image:
        load_rgb(array)
    assert str(face.value) == str(image.value)


def test_images_read_from_every_source_agree(tmp_path):
    path = tmp_path / "face.png"
    PIL_Image.fromarray(RGB).save(path)
    sources = [RGB, PIL_Image.fromarray(RGB), path, str(path)]
    for source in sources:
        np.testing.assert_array_equal(read_pixels(source, caller="test"), RGB)


def test_cache_keys_keep_each_encoders_first_format():
    # Digests of the keys the encoders wrote before they shared a reader: a change here
    # would re-encode every image a user has cached.
    pil = PIL_Image.fromarray(RGB)
    digests = {
        name: [hashlib.sha256(keys.item_bytes(item)).hexdigest()[:16] for item in (RGB, pil)]
        for name, keys in (("image", IMAGE_KEYS), ("face", FACE_KEYS))
    }
    assert digests == {
        "image": ["c6cc9dd2fd533d86", "c53cb809e91f8276"],
        "face": ["9e58bffca6ddb3ba", "3c84de68b1bb121b"],
    }
    assert (IMAGE_KEYS.file_prefix, FACE_KEYS.file_prefix) == (b"file\0", b"")


def _pictures_of_every_8_bit_mode():
    rgb = PIL_Image.fromarray(
        (np.arange(40 * 30 * 3).reshape(40, 30, 3) * 7 % 256).astype(np.uint8)
    )
    palette = rgb.convert("P")
    palette.info["transparency"] = 3
    return {
        "RGB": rgb,
        "RGBA": rgb.convert("RGBA"),
        "L": rgb.convert("L"),
        "P with transparency": palette,
        "CMYK": rgb.convert("CMYK"),
        "LA": rgb.convert("LA"),
    }


@pytest.mark.parametrize("mode", list(_pictures_of_every_8_bit_mode()))
def test_large_pictures_read_in_strips_give_the_same_pixels(mode, monkeypatch):
    from skemotion._encoders import _image_items

    image = _pictures_of_every_8_bit_mode()[mode]
    whole = _to_grey(image), read_pixels(image, caller="test")
    monkeypatch.setattr(_image_items, "_STRIP_PIXELS", 7 * 30)  # strips of 7 rows
    strips = _to_grey(image), read_pixels(image, caller="test")
    for expected, got in zip(whole, strips, strict=True):
        np.testing.assert_array_equal(got, expected)
