"""Bad images for ImageEncoder (tiny random CLIP) and FaceEncoder (bundled mini-Xception).

Both encoders read items with one reader (skemotion/_encoders/_image_items.py), so most
cases run on each. A "handled" case compares the row of the odd item with the row of
a plain reference item holding the same picture (what the reader's rules say it is).
"""

import functools
import warnings
from pathlib import Path

import numpy as np

from ._fixtures import scratch, truncate, write_image
from ._registry import WrongResult, add

FER = Path(__file__).resolve().parents[3] / "shared" / "data" / "fer2013_test"


def _image_encoder(**params):
    from _tiny_models import tiny_clip_model

    from skemotion import ImageEncoder

    return ImageEncoder(tiny_clip_model(), pretrained=None, device="cpu", cache=False, **params)


def _face_encoder(**params):
    from skemotion import FaceEncoder

    return FaceEncoder(device="cpu", cache=False, **params)


ENCODERS = {"ImageEncoder": _image_encoder, "FaceEncoder": _face_encoder}


def _ramp(height=40, width=48, channels=3):
    """A uint8 picture with structure in every channel."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 5 + y * 3) % 256, (x * 2 + y * 7) % 256, (x * y) % 256][:channels]
    array = np.stack(planes, axis=-1).astype(np.uint8)
    return array[:, :, 0] if channels == 1 else array


def _pil(array, mode=None):
    from PIL import Image

    return Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)


def _rows(encoder, items):
    return encoder.fit_transform(items)


def _check_same(make_encoder, item, reference, what, atol=1e-5):
    encoder = make_encoder()
    got, want = _rows(encoder, [item])[0], _rows(encoder, [reference])[0]
    if not np.isfinite(got).all():
        raise WrongResult(f"{what}: the row holds non-finite values")
    if not np.allclose(got, want, rtol=0, atol=atol):
        diff = float(np.abs(got - want).max())
        raise WrongResult(f"{what}: the row differs from its reference's (max |diff| {diff:.3g})")


def _check_valid(make_encoder, items, what):
    got = _rows(make_encoder(), items)
    if got.shape[0] != len(items) or not np.isfinite(got).all():
        raise WrongResult(f"{what}: shape {got.shape} or non-finite values")
    return got


def _both(name, expect, run, names=(), timeout=120.0):
    """Register `run(make_encoder)` as a case of each encoder."""
    for label, make in ENCODERS.items():
        add(
            "images",
            f"{label}: {name}",
            expect,
            functools.partial(run, make),
            names=names,
            timeout=timeout,
        )


def _same(name, make_item, make_reference, atol=1e-5):
    """A handled case of both encoders: `make_item()` reads as `make_reference()`."""

    def run(make_encoder):
        _check_same(make_encoder, make_item(), make_reference(), name, atol=atol)

    _both(name, "handled", run)


def _refused(name, make_items, names):
    """An error case of both encoders: fit_transform(make_items()) must be refused."""
    _both(name, "error", lambda make: _rows(make(), make_items()), names=names)


# --- files --------------------------------------------------------------------------------


def _path(name):
    return scratch() / name


def _text_file_named(name):
    path = _path(name)
    path.write_text("this is not an image\n")
    return path


def _cut(name, keep=0.5):
    path = _path(name)
    _pil(_ramp(64, 64)).save(path)
    return truncate(path, keep)


def _empty_file(name):
    path = _path(name)
    path.write_bytes(b"")
    return path


def _folder(name):
    path = _path(name)
    path.mkdir()
    return path


_refused(
    "path that does not exist",
    lambda: [str(write_image()), "/nonexistent/missing.png"],
    names=("item 1", "missing.png"),
)
_refused("path that is a folder", lambda: [str(_folder("pics.png"))], names=("item 0", "pics.png"))
_refused(
    "text file renamed .png",
    lambda: [str(_text_file_named("fake.png"))],
    names=("item 0", "fake.png", "not an image"),
)
_refused("truncated PNG", lambda: [str(_cut("cut.png"))], names=("item 0", "cut.png", "truncated"))
_refused("truncated JPEG", lambda: [str(_cut("cut.jpg"))], names=("item 0", "cut.jpg", "truncated"))
_refused(
    "PNG cut to its first 40 bytes",
    lambda: [str(_cut("head.png", 40))],
    names=("item 0", "head.png"),
)
_refused("0-byte .png file", lambda: [str(_empty_file("empty.png"))], names=("item 0", "empty.png"))
_refused(
    "SVG file",
    lambda: [str(_svg())],
    names=("item 0", "drawing.svg"),
)
_refused(
    "http URL (offline: refused, naming it)",
    lambda: ["http://example.com/face.png"],
    names=("item 0", "http://example.com/face.png", "URL"),
)
_refused(
    "https URL (offline: refused, naming it)",
    lambda: ["https://example.com/a.jpg?size=large"],
    names=("item 0", "https://example.com/a.jpg", "URL"),
)


def _svg():
    path = _path("drawing.svg")
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"></svg>')
    return path


def _saved(array, name, **save):
    path = _path(name)
    _pil(array).save(path, **save)
    return path


_same(
    "Path object reads as its str path",
    lambda: _saved(_ramp(), "p.png"),
    lambda: str(_saved(_ramp(), "p.png")),
)
_same(
    "file name with spaces and accents",
    lambda: str(_saved(_ramp(), "visage été 1.png")),
    lambda: _ramp(),
)
_same("PNG file reads as its array", lambda: str(_saved(_ramp(), "a.png")), lambda: _ramp())
_same(
    "PNG content under a .jpg name",
    lambda: str(_saved(_ramp(), "really-png.jpg", format="PNG")),
    lambda: _ramp(),
)
_same("BMP file", lambda: str(_saved(_ramp(), "a.bmp")), lambda: _ramp())
_same("lossless WebP file", lambda: str(_saved(_ramp(), "a.webp", lossless=True)), lambda: _ramp())
_same("TIFF file", lambda: str(_saved(_ramp(), "a.tif")), lambda: _ramp())


# --- sizes ----------------------------------------------------------------------------------


def _valid(name, make_items):
    _both(name, "handled", lambda make: _check_valid(make, make_items(), name))


_valid("1x1 image", lambda: [_ramp(1, 1)])
_valid("1xN image (1 x 500)", lambda: [_ramp(1, 500)])
_valid("Nx1 image (500 x 1)", lambda: [_ramp(500, 1)])
_valid("huge aspect ratio (4000 x 2) file", lambda: [str(_saved(_ramp(2, 4000), "strip.png"))])
_valid("3000 x 2000 photograph-sized file", lambda: [str(_saved(_ramp(2000, 3000), "big.png"))])
_refused(
    "0x0 PIL image",
    lambda: [_pil(_ramp(), "L"), _new_image("L", (0, 0))],
    names=("item 1", "empty"),
)
_refused(
    "0x0 array", lambda: [np.zeros((0, 0), np.uint8)], names=("item 0", "empty", "shape (0, 0)")
)
_refused("10x0 array", lambda: [np.zeros((10, 0, 3), np.uint8)], names=("item 0", "empty"))


def _new_image(mode, size):
    from PIL import Image

    return Image.new(mode, size)


# --- PIL modes ----------------------------------------------------------------------------


def _mode_image(mode):
    return _pil(_ramp(), mode)


def _opaque(mode):
    """An image of `mode` with alpha, every pixel opaque."""
    from PIL import Image

    base = _pil(_ramp() if mode == "RGBA" else _ramp(channels=1))
    alpha = Image.new("L", base.size, 255)
    image = base.copy()
    image.putalpha(alpha)
    return image


def _bilevel():
    array = (_ramp(channels=1) > 128).astype(np.uint8) * 255
    return _pil(array).convert("1"), array


_same("mode 1 (bilevel) reads as 0/255 grey", lambda: _bilevel()[0], lambda: _bilevel()[1])
_same("mode L reads as its array", lambda: _pil(_ramp(channels=1)), lambda: _ramp(channels=1))
_same("opaque LA reads as L", lambda: _opaque("LA"), lambda: _pil(_ramp(channels=1)))
_same("opaque RGBA reads as RGB", lambda: _opaque("RGBA"), lambda: _ramp())
_same(
    "fully transparent RGBA reads as white",
    lambda: _pil(np.zeros((32, 32, 4), np.uint8)),
    lambda: np.full((32, 32, 3), 255, np.uint8),
)
_same(
    "palette image reads as its RGB conversion",
    lambda: _mode_image("P"),
    lambda: np.asarray(_mode_image("P").convert("RGB")),
)


def _palette_with_transparency():
    image = _pil(_ramp()).convert("P")
    image.info["transparency"] = 0
    return image


def _palette_over_white():
    rgba = np.asarray(_palette_with_transparency().convert("RGBA")).astype(np.float32)
    alpha = rgba[..., 3:] / 255
    return np.rint(rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)


_same(
    "palette with a transparent index reads as composited over white",
    _palette_with_transparency,
    _palette_over_white,
)
_same(
    "CMYK reads as its RGB conversion",
    lambda: _mode_image("CMYK"),
    lambda: np.asarray(_mode_image("CMYK").convert("RGB")),
)
_same(
    "CMYK JPEG file reads as its RGB conversion",
    lambda: str(_cmyk_jpeg()),
    lambda: _first_frame(_cmyk_jpeg()),
)


@functools.cache
def _cmyk_jpeg():
    path = _path("cmyk.jpg")
    _mode_image("CMYK").save(path, quality=95)
    return path


def _sixteen_bit(mode="I;16"):
    from PIL import Image

    grey = _ramp(channels=1).astype(np.uint16) * 257  # 16-bit values of the 8-bit ramp
    if mode == "I":
        return Image.fromarray(grey.astype(np.int32), mode="I")
    return Image.fromarray(grey)  # mode I;16


_same("I;16 image reads as its 8-bit ramp", _sixteen_bit, lambda: _ramp(channels=1))
_same(
    "16-bit PNG file reads as its 8-bit ramp",
    lambda: str(_saved_pil(_sixteen_bit(), "sixteen.png")),
    lambda: _ramp(channels=1),
)


def _saved_pil(image, name):
    path = _path(name)
    image.save(path)
    return path


def _thirty_two_bit():
    """A 32-bit 'I' image using the whole int32 range: the 8-bit ramp times 2**31/255."""
    from PIL import Image

    grey = _ramp(channels=1).astype(np.float64) * 257 * ((2**31 - 1) / 65535)
    return Image.fromarray(np.rint(grey).astype(np.int32), mode="I")


_same(
    "32-bit I image above 65535 is scaled, not saturated",
    _thirty_two_bit,
    lambda: _ramp(channels=1),
)
_same(
    "F image in [0, 1] reads as its 8-bit ramp",
    lambda: _pil((_ramp(channels=1) / 255).astype(np.float32)),
    lambda: _ramp(channels=1),
)


def _float_image(bad):
    array = (_ramp(channels=1) / 255).astype(np.float32)
    array[3, 4] = bad
    return _pil(array)


_refused("F image with a NaN pixel", lambda: [_float_image(np.nan)], names=("item 0", "[0, 1]"))
_refused("F image with an inf pixel", lambda: [_float_image(np.inf)], names=("item 0", "[0, 1]"))
_refused(
    "F image of 0..255 floats",
    lambda: [_pil(_ramp(channels=1).astype(np.float32))],
    names=("item 0", "[0, 1]"),
)


def _animated_gif():
    from PIL import Image

    path = _path("anim.gif")
    frames = [Image.fromarray(np.full((32, 32), v, np.uint8)).convert("P") for v in (30, 220)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def _first_frame(path):
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


_same("animated GIF reads its first frame", lambda: str(_animated_gif()), lambda: _gif_first())


def _gif_first():
    return _first_frame(_animated_gif())


def _multi_page_tiff():
    from PIL import Image

    path = _path("pages.tif")
    pages = [Image.fromarray(_ramp()), Image.fromarray(255 - _ramp())]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    return path


_same("multi-page TIFF reads its first page", lambda: str(_multi_page_tiff()), lambda: _ramp())


@functools.cache
def _rotated_jpeg():
    """A 48 x 40 JPEG whose EXIF says 'rotate 90 degrees' (orientation 6)."""
    from PIL import Image

    path = _path("phone.jpg")
    image = Image.fromarray(_ramp(40, 48))
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(path, exif=exif, quality=95)
    return path


def _rotated_reference():
    from PIL import Image, ImageOps

    with Image.open(_rotated_jpeg()) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def _check_rotated(make_encoder):
    from PIL import Image

    encoder = make_encoder()
    got = _rows(encoder, [str(_rotated_jpeg())])[0]
    with Image.open(_rotated_jpeg()) as image:
        stored = np.asarray(image.convert("RGB"))
    upright = _rows(encoder, [_rotated_reference()])[0]
    if not np.allclose(got, upright, rtol=0, atol=1e-5):
        raise WrongResult("an EXIF-rotated JPEG is not read upright")
    if np.allclose(got, _rows(encoder, [stored])[0], rtol=0, atol=1e-5):
        raise WrongResult("an EXIF-rotated JPEG reads as its stored (sideways) pixels")


_both("EXIF-rotated JPEG is read upright", "handled", _check_rotated)


# --- arrays -------------------------------------------------------------------------------

_same(
    "uint8 H x W array reads as mode L",
    lambda: _ramp(channels=1),
    lambda: _pil(_ramp(channels=1)),
)
_same(
    "uint8 H x W x 1 array reads as H x W",
    lambda: _ramp(channels=1)[:, :, None],
    lambda: _ramp(channels=1),
)
_same("uint8 H x W x 3 array reads as its PIL image", lambda: _ramp(), lambda: _pil(_ramp()))
_same(
    "opaque uint8 H x W x 4 array reads as RGB",
    lambda: np.dstack([_ramp(), np.full((40, 48), 255, np.uint8)]),
    lambda: _ramp(),
)
_same(
    "float array in [0, 1] reads as uint8 * 255",
    lambda: _ramp() / 255.0,
    lambda: _ramp(),
)
_same(
    "bool array reads as 0/255",
    lambda: _ramp(channels=1) > 128,
    lambda: (_ramp(channels=1) > 128).astype(np.uint8) * 255,
)
_same(
    "int64 array within [0, 255] reads as uint8",
    lambda: _ramp().astype(np.int64),
    lambda: _ramp(),
)
_same(
    "uint16 array reads as 8-bit / 257",
    lambda: _ramp().astype(np.uint16) * 257,
    lambda: _ramp(),
)
_same(
    "non-contiguous (flipped) array reads as its copy",
    lambda: _ramp()[::-1, ::2],
    lambda: np.ascontiguousarray(_ramp()[::-1, ::2]),
)


def _with(value, dtype=np.float64):
    array = (_ramp() / 255.0).astype(dtype)
    array[2, 3, 1] = value
    return array


_refused(
    "float array in [0, 255]",
    lambda: [_ramp().astype(np.float32)],
    names=("item 0", "[0, 1]", "/ 255"),
)
_refused("float array with NaN", lambda: [_ramp() / 255, _with(np.nan)], names=("item 1", "[0, 1]"))
_refused("float array with -inf", lambda: [_with(-np.inf)], names=("item 0", "[0, 1]"))
_refused(
    "int64 array above 255",
    lambda: [_ramp().astype(np.int64) * 4],
    names=("item 0", "[0, 255]", "uint16"),
)
_refused(
    "negative int array",
    lambda: [_ramp().astype(np.int16) - 300],
    names=("item 0", "[0, 255]"),
)
_refused(
    "H x W x 2 array",
    lambda: [np.zeros((8, 8, 2), np.uint8)],
    names=("item 0", "(8, 8, 2)", "(H, W, C)"),
)
_refused("H x W x 5 array", lambda: [np.zeros((8, 8, 5), np.uint8)], names=("item 0", "(8, 8, 5)"))
_refused(
    "channels-first 3 x H x W array",
    lambda: [np.zeros((3, 40, 48), np.uint8)],
    names=("item 0", "moveaxis"),
)
_refused(
    "4-D array as one item",
    lambda: [np.zeros((2, 8, 8, 3), np.uint8)],
    names=("item 0", "(2, 8, 8, 3)"),
)
_refused("1-D array as one item", lambda: [np.zeros(64, np.uint8)], names=("item 0", "(64,)"))
_refused(
    "complex array",
    lambda: [np.zeros((8, 8), np.complex64)],
    names=("item 0", "complex64", "uint8"),
)
_refused(
    "object array of pixels",
    lambda: [np.zeros((8, 8), object)],
    names=("item 0", "object"),
)
_refused(
    "a 4-D batch array passed as X",
    lambda: np.zeros((2, 8, 8, 3), np.uint8),
    names=("shape (2, 8, 8, 3)",),
)


def _check_batch_as_list(make_encoder):
    batch = np.stack([_ramp(), 255 - _ramp()])
    got = make_encoder().fit_transform(list(batch))
    want = np.stack([_rows(make_encoder(), [image])[0] for image in batch])
    if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=1e-5):
        raise WrongResult("list(batch) of arrays does not give one row per picture")


_both("list of a 4-D batch's pictures", "handled", _check_batch_as_list)


def _check_mixed(make_encoder):
    array = _ramp()
    path = str(_saved(array, "mixed.png"))
    got = make_encoder().fit_transform([path, array, _pil(array)])
    if not (np.allclose(got[0], got[1], atol=1e-5) and np.allclose(got[0], got[2], atol=1e-5)):
        raise WrongResult("a path, an array and a PIL image of one picture give different rows")


_both("mixed list of a path, an array and a PIL image", "handled", _check_mixed)
_refused(
    "a number among the images",
    lambda: [_ramp(), 3.5],
    names=("item 1", "float"),
)
_refused(
    "bytes of a PNG file as an item",
    lambda: [_saved(_ramp(), "b.png").read_bytes()],
    names=("item 0", "bytes"),
)


# --- FaceEncoder: detection, parameters, real faces ---------------------------------------


def _blank(value=0, side=100):
    return np.full((side, side), value, np.uint8)


def _face(**params):
    return _face_encoder(**params)


add(
    "images",
    "FaceEncoder: detect='haar' on an image with no face falls back to the whole image",
    "fallback",
    lambda: _face(detect="haar").fit_transform([_blank(0)]),
    names=("no face", "no_face="),
)
add(
    "images",
    "FaceEncoder: detect='haar', no_face='missing' on a faceless image",
    "error",
    lambda: _face(detect="haar", no_face="missing").fit_transform([_blank(0)]),
    names=("item 0", "no face", "missing="),
)
add(
    "images",
    "FaceEncoder: detect='haar', no_face='missing', missing='nan' warns and fills NaN",
    "fallback",
    lambda: _face(detect="haar", no_face="missing", missing="nan").fit_transform([_blank(0)]),
    names=("found no face", "item 0"),
)
add(
    "images",
    "FaceEncoder: detect='haar', no_face='error' on a faceless image",
    "error",
    lambda: _face(detect="haar", no_face="error").fit_transform([_blank(0)]),
    names=("item 0", "no face", "no_face="),
)
add(
    "images",
    "FaceEncoder: detect='haar', no_face='error', on_error='skip' warns",
    "fallback",
    lambda: _face(detect="haar", no_face="error", on_error="skip").fit_transform([_blank(0)]),
    names=("item 0", "no face"),
)

_FACE_PARAMS = {
    "detect='none' (a string)": ({"detect": "none"}, ("detect", "'none'")),
    "detect='Haar'": ({"detect": "Haar"}, ("detect", "'Haar'")),
    "detect=True": ({"detect": True}, ("detect", "True")),
    "no_face='skip'": ({"detect": "haar", "no_face": "skip"}, ("no_face", "'skip'")),
    "output='logits'": ({"output": "logits"}, ("output", "'logits'")),
    "frame_rate=0": ({"frame_rate": 0}, ("frame_rate", "0")),
    "frame_rate=-2": ({"frame_rate": -2}, ("frame_rate", "-2")),
    "temporal_pooling='median'": ({"temporal_pooling": "median"}, ("temporal_pooling",)),
    "on_error='ignore'": ({"on_error": "ignore"}, ("on_error", "'ignore'")),
    "batch_size=0": ({"batch_size": 0}, ("batch_size", "0")),
}
for _name, (_params, _names) in _FACE_PARAMS.items():
    add(
        "images",
        f"FaceEncoder({_name})",
        "error",
        functools.partial(lambda p: _face(**p).fit_transform([_blank(128)]), _params),
        names=_names,
    )


def _check_proba(got, what, n=1):
    if got.shape != (n, 7) or not np.allclose(got.sum(axis=1), 1.0, atol=1e-4):
        raise WrongResult(f"{what}: shape {got.shape}, sums {got.sum(axis=1)}")


add(
    "images",
    "FaceEncoder: 100x100 all-black image gives probabilities",
    "handled",
    lambda: _check_proba(_face().fit_transform([_blank(0)]), "all black"),
)
add(
    "images",
    "FaceEncoder: 100x100 all-white image gives probabilities",
    "handled",
    lambda: _check_proba(_face().fit_transform([_blank(255)]), "all white"),
)


def _fer_paths(count=2):
    paths = sorted(FER.glob("*/*.jpg"))[:count]
    if len(paths) < count:
        raise WrongResult(f"no FER-2013 faces under {FER}")  # the data is missing
    return paths


def _check_fer_faces():
    from PIL import Image

    paths = _fer_paths()
    encoder = _face()
    got = encoder.fit_transform([str(p) for p in paths])
    _check_proba(got, "FER-2013 48x48 grey faces", n=len(paths))
    arrays = [np.asarray(Image.open(p)) for p in paths]
    if arrays[0].shape != (48, 48):
        raise WrongResult(f"FER face of shape {arrays[0].shape}")
    if not np.allclose(got, encoder.fit_transform(arrays), rtol=0, atol=1e-6):
        raise WrongResult("a FER face file and its 48x48 grey array give different rows")
    rgb = [np.repeat(a[:, :, None], 3, axis=2) for a in arrays]
    if not np.allclose(got, encoder.fit_transform(rgb), rtol=0, atol=1e-5):
        raise WrongResult("a grey face and the same face as RGB give different rows")


add("images", "FaceEncoder: FER-2013 48x48 grey faces as files, arrays and RGB", "handled",
    _check_fer_faces)  # fmt: skip


def _check_fer_with_haar():
    paths = [str(p) for p in _fer_paths()]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        got = _face(detect="haar").fit_transform(paths)
    _check_proba(got, "FER faces with detect='haar'", n=len(paths))


add("images", "FaceEncoder: detect='haar' on FER-2013 crops", "handled", _check_fer_with_haar)


# --- ImageEncoder parameters and on_error -------------------------------------------------

_IMAGE_PARAMS = {
    "pretrained='/nonexistent/weights.pt'": (
        {"pretrained": "/nonexistent/weights.pt"},
        ("/nonexistent/weights.pt",),
    ),
    "normalize='no'": ({"normalize": "no"}, ("normalize", "'no'")),
    "on_error='ignore'": ({"on_error": "ignore"}, ("on_error", "'ignore'")),
    "frame_rate=0": ({"frame_rate": 0}, ("frame_rate", "0")),
}


def _image_encoder_with(params):
    from _tiny_models import tiny_clip_model

    from skemotion import ImageEncoder

    options = {"pretrained": None, "device": "cpu", "cache": False, **params}
    return ImageEncoder(tiny_clip_model(), **options)


for _name, (_params, _names) in _IMAGE_PARAMS.items():
    add(
        "images",
        f"ImageEncoder({_name})",
        "error",
        functools.partial(lambda p: _image_encoder_with(p).fit_transform([_ramp()]), _params),
        names=_names,
    )


@functools.cache
def _not_a_checkpoint():
    path = _path("weights.pt")
    path.write_text("not a checkpoint")
    return path


add(
    "images",
    "ImageEncoder(pretrained=a text file)",
    "error",
    lambda: _image_encoder_with({"pretrained": str(_not_a_checkpoint())}).fit_transform([_ramp()]),
    names=("weights.pt",),
)
add(
    "images",
    "ImageEncoder(model='ViT-NOPE')",
    "error",
    lambda: _named_model("ViT-NOPE").fit_transform([_ramp()]),
    names=("ViT-NOPE",),
)


def _named_model(model):
    from skemotion import ImageEncoder

    return ImageEncoder(model, pretrained=None, device="cpu", cache=False)


def _skip_case(make_encoder):
    return make_encoder(on_error="skip").fit_transform([_ramp(), str(_cut("cut.png"))])


_both(
    "on_error='skip' with a truncated file warns naming it",
    "fallback",
    _skip_case,
    names=("item 1", "cut.png", "on_error='skip'"),
)


def _check_skip_fill(make_encoder):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        got = make_encoder(on_error="skip", missing="nan").fit_transform(
            [_ramp(), "/nonexistent/x.png"]
        )
    if not np.isnan(got[1]).all() or not np.isfinite(got[0]).all():
        raise WrongResult("on_error='skip', missing='nan': the skipped row is not NaN")


_both("on_error='skip', missing='nan' fills the skipped row with NaN", "handled", _check_skip_fill)
_both(
    "None among images with missing='error'",
    "error",
    lambda make: make().fit_transform([_ramp(), None]),
    names=("item 1", "missing="),
)


def _check_missing_zeros(make_encoder):
    got = make_encoder(missing="zeros").fit_transform([_ramp(), None, ""])
    if np.any(got[1:] != 0) or not np.isfinite(got[0]).all():
        raise WrongResult("None and '' with missing='zeros' are not rows of zeros")


_both("None and '' among images with missing='zeros'", "handled", _check_missing_zeros)


# --- PIL objects and headers that lie ----------------------------------------------------


def _closed_pil_image():
    from PIL import Image

    with Image.open(_saved(_ramp(), "closed.png")) as image:
        pass  # used after its `with` block: the file is closed, the pixels never read
    return image


_refused(
    "PIL image used after its with-block closed it",
    lambda: [_closed_pil_image()],
    names=("item 0", "closed"),
)
_same(
    "HSV PIL image reads as its RGB conversion",
    lambda: _pil(_ramp()).convert("HSV"),
    lambda: np.asarray(_pil(_ramp()).convert("HSV").convert("RGB")),
)


def _bomb_png():
    """A 1 x 1 PNG whose header claims 30000 x 30000 pixels (a decompression bomb)."""
    import struct
    import zlib

    path = _saved(_ramp(1, 1), "bomb.png")
    data = bytearray(path.read_bytes())
    start = 8 + 4  # the signature, then IHDR's length; IHDR's type and data follow
    header = b"IHDR" + struct.pack(">II", 30000, 30000) + bytes(data[start + 12 : start + 17])
    data[start : start + 17] = header
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(header))
    path.write_bytes(bytes(data))
    return path


_refused(
    "PNG header claiming 30000 x 30000 pixels (decompression bomb)",
    lambda: [str(_bomb_png())],
    names=("item 0", "bomb.png", "pixels"),
)
