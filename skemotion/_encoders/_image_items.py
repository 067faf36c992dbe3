"""The one reader of image items (file paths, PIL images, NumPy arrays), for every encoder.

ImageEncoder and FaceEncoder accept and refuse the same items and read them into the
same 8-bit pixels, under these rules:

- arrays: H x W or H x W x 1 (grey), H x W x 3 (RGB, not OpenCV's BGR) or H x W x 4
  (RGBA). ``uint8`` as is; ``bool`` as 0/255; ``uint16`` scaled from 0..65535; other
  integers must lie in [0, 255]; floats must lie in [0, 1] and are scaled by 255.
  Anything else (NaN, infinities, values out of range) is an error naming the item,
  never a guess;
- grey (``L``, ``1``): kept grey; 16-bit grey (``I;16*``, ``I``): scaled to 8 bits
  (a 32-bit ``I`` image above 65535 is scaled down, not saturated); float (``F``): as
  float arrays;
- transparency (``RGBA``, ``LA``, ``PA``, premultiplied modes, palettes or grey with a
  transparent index, H x W x 4 arrays): composited over white, as a viewer shows it;
- palette, CMYK, YCbCr, LAB, HSV: Pillow's conversion to RGB;
- files: decoded completely (a truncated file is an error), EXIF orientation applied,
  the first frame of multi-frame files.

What identifies an item in the cache is each encoder's own :class:`ImageKeys`: the
formats differ because each encoder's caches were first written with its own.
Pillow is imported on first use, so importing skemotion stays light.
"""

import os
import re
import sys
import threading

import numpy as np

from .._optional import import_optional_dependency

# Booleans, integers and floats: the kinds of array that can hold pixels.
_PIXEL_KINDS = "buif"
ARRAY_CHANNELS = (1, 3, 4)
# Striped locks: the same PIL image object always maps to the same lock.
# http://, https://, s3://, ...: never fetched.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PIL_LOCKS = tuple(threading.Lock() for _ in range(32))
_16BIT_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}
# Pictures of more pixels than this are converted in strips of as many (see
# read_pixels). A strip's temporaries (3-4 MB) then stay well under the 32 MiB up to
# which encoders keep freed blocks on the heap (skemotion/_malloc.py), where they are
# reused strip after strip: strips of 4 million pixels (12-16 MB blocks) fragmented it,
# and a 100-megapixel PNG cost 655 MB against 480 MB (benchmarks/bench_memory.py).
_STRIP_PIXELS = 1_000_000
_ITEM_KINDS = (
    "a file path, a PIL.Image, or a NumPy array of shape (H, W) or (H, W, 1|3|4) "
    "with dtype uint8, uint16 or float in [0, 1]"
)


def import_pil(caller, extra="image"):
    """Pillow's ``Image`` module, or an ImportError that says how to install it."""
    import_optional_dependency("PIL", extra=extra, caller=caller)
    return import_optional_dependency("PIL.Image", extra=extra, caller=caller)


def import_image_libraries(caller, extra="image"):
    """Import Pillow and the parts of it the reader uses (see _import_decoding_libraries)."""
    import_pil(caller, extra)
    import_optional_dependency("PIL.ImageOps", extra=extra, caller=caller)


def is_pil_image(item):
    # Without PIL imported, nothing can be a PIL image: no need to import it to check.
    # (getattr: another thread may be importing PIL.Image at this very moment.)
    image_class = getattr(sys.modules.get("PIL.Image"), "Image", None)
    return image_class is not None and isinstance(item, image_class)


# --- what an image item is ---------------------------------------------------------------

# The usual image files that Pillow reads: what a folder of images contributes.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def image_item_error(item):
    """Why `item` is not an image item (a phrase to follow its name), or None if it is.

    Checks what needs no decoding (type, dtype, shape); pixel values are checked when
    the item is read (:func:`read_pixels`).
    """
    if isinstance(item, str) and _URL.match(item):
        return (
            f"is a URL ({item!r:.200}): skemotion reads local files only and never "
            "downloads. Download the image first (e.g. with urllib.request.urlretrieve) "
            "and pass its path."
        )
    if isinstance(item, (str, os.PathLike)):
        return None
    if is_pil_image(item):
        if 0 in item.size:
            return f"is an empty PIL image (size {item.size}); an image needs pixels."
        # Pillow: a file image has fp None once closed, and _im None until loaded.
        if getattr(item, "fp", False) is None and getattr(item, "_im", True) is None:
            return (
                "is a PIL image whose file was closed before its pixels were read (used "
                "after its with-block?). Pass it inside the with-block, call .load() "
                "first, or pass its path."
            )
        return None
    if isinstance(item, np.ndarray):
        return _array_error(item)
    return (
        f"is a {type(item).__name__} ({item!r:.60}), not an image. Pass {_ITEM_KINDS}; "
        "mark missing images as None."
    )


def _array_error(array):
    if array.dtype.kind not in _PIXEL_KINDS:
        return (
            f"is an array of dtype {array.dtype}, which is not an image dtype. Pass uint8 "
            "(0..255), uint16 (0..65535) or float (0..1) pixels, e.g. array.astype(np.uint8)."
        )
    shape = array.shape
    if array.ndim not in (2, 3) or (array.ndim == 3 and shape[2] not in ARRAY_CHANNELS):
        hint = ""
        if array.ndim == 3 and shape[0] in ARRAY_CHANNELS:
            hint = " A channels-first array needs np.moveaxis(array, 0, -1)."
        return (
            f"is an array of shape {shape}, which is not an image. Pass an array of shape "
            f"(H, W) for grey or (H, W, C) with C = 1 (grey), 3 (RGB) or 4 (RGBA).{hint}"
        )
    if array.size == 0:
        return f"is an empty array (shape {shape}); an image needs pixels."
    return None


def describe_image_item(item):
    """A short description of an item for error messages: its path, mode or shape."""
    if isinstance(item, (str, os.PathLike)):
        return f" ({os.fspath(item)!r})"
    if is_pil_image(item):
        return f" (PIL image, mode {item.mode}, size {item.size[0]}x{item.size[1]})"
    if isinstance(item, np.ndarray):
        return f" (array of shape {item.shape}, dtype {item.dtype})"
    return ""


# --- what identifies an item in the cache ------------------------------------------------


class ImageKeys:
    """How one encoder identifies image items in its cache keys.

    A file is keyed by `file_prefix` and its bytes (not its path: a renamed copy is the
    same picture, see ``BaseFrozenEncoder._item_key``); an in-memory image by the bytes
    of :meth:`item_bytes`. Each encoder keeps the format its caches were first written
    with: changing one would re-encode every item its users have cached.
    """

    def __init__(self, file_prefix, array_bytes, pil_bytes):
        self.file_prefix = file_prefix
        self._array_bytes, self._pil_bytes = array_bytes, pil_bytes

    def item_bytes(self, item):
        """The bytes that identify an in-memory image (PIL image or array)."""
        if is_pil_image(item):
            return self._pil_bytes(_loaded(item))
        return self._array_bytes(np.ascontiguousarray(item))


def _image_array_bytes(array):
    return b"array\0" + f"{array.dtype.str}{array.shape}".encode() + b"\0" + array.tobytes()


def _image_pil_bytes(image):
    # Mode, size, pixels, and what else shapes the colours: palette, transparency, EXIF.
    head = [image.mode, image.size, image.info.get("transparency"), _orientation(image)]
    palette = image.getpalette() if image.mode in ("P", "PA") else None
    return b"pil\0" + repr(head + [palette]).encode() + b"\0" + image.tobytes()


def _face_array_bytes(array):
    return f"array|{array.dtype.str}|{array.shape}|".encode() + array.tobytes()


def _face_pil_bytes(image):
    palette = image.getpalette() if image.mode in ("P", "PA") else None
    orientation = _orientation(image) or 1
    head = f"pil|{image.mode}|{image.size}|{orientation}|{palette}|"
    return f"{head}{image.info.get('transparency')!r}|".encode() + image.tobytes()


IMAGE_KEYS = ImageKeys(b"file\0", _image_array_bytes, _image_pil_bytes)  # ImageEncoder
FACE_KEYS = ImageKeys(b"", _face_array_bytes, _face_pil_bytes)  # FaceEncoder


def _orientation(image):
    try:
        return image.getexif().get(0x0112)  # EXIF Orientation
    except Exception:  # a broken EXIF block: the picture is used as stored
        return None


# --- reading pixels -----------------------------------------------------------------------


def read_pixels(item, *, caller, extra="image", convert=None):
    """Read an image item into 8-bit pixels: H x W (grey) or H x W x 3 (RGB) uint8.

    Grey stays grey, so that an encoder of grey faces needs no round trip through RGB.
    `convert`, if given, maps such pixels to what the caller wants (grey, say) and its
    result is returned; a large 8-bit picture is then read and converted in strips of
    rows, so that it costs its decoded size and the result, not full-size copies of
    every step. Raises an exception that says what is wrong with the item (missing or
    unreadable file, truncated data, pixel values out of range); callers add the
    item's name.
    """
    convert = convert or _unchanged
    if isinstance(item, np.ndarray):
        return convert(_array_pixels(item))
    import_pil(caller, extra)
    if isinstance(item, (str, os.PathLike)):
        image = open_image_file(item, caller=caller, extra=extra)
    else:
        image = _exif_transposed(_loaded(item))
    return _converted(image, convert)


def _unchanged(pixels):
    return pixels


def _converted(image, convert):
    """``convert(_pil_pixels(image))``, computed strip by strip for large 8-bit pictures."""
    width, height = image.size
    # 16-bit and float pixels are scaled and checked by the whole picture's range.
    if width * height <= _STRIP_PIXELS or image.mode in _16BIT_MODES or image.mode == "F":
        return convert(_pil_pixels(image))
    rows = max(1, _STRIP_PIXELS // width)
    out = None
    for top in range(0, height, rows):
        strip = convert(_pil_pixels(image.crop((0, top, width, min(top + rows, height)))))
        if out is None:
            out = np.empty((height, *strip.shape[1:]), dtype=strip.dtype)
        out[top : top + strip.shape[0]] = strip
    return out


def load_rgb(item, *, caller="ImageEncoder"):
    """Read an image item as an 8-bit RGB ``PIL.Image`` (what CLIP's preprocessing takes)."""
    Image = import_pil(caller)
    pixels = read_pixels(item, caller=caller)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return Image.fromarray(pixels, mode="RGB")


def open_image_file(path, *, caller, extra="image"):
    """Decode an image file completely (so that truncation shows here) and close it."""
    Image = import_pil(caller, extra)
    try:
        with Image.open(path) as image:
            image.load()
            return _exif_transposed(image)
    except Image.UnidentifiedImageError:
        raise ValueError(
            "the file is not an image Pillow can read (unknown or unsupported format)"
        ) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated or corrupt data as OSError ("image file is truncated").
        raise ValueError(f"the image file is truncated or corrupt ({exc})") from exc


def _loaded(image):
    """Load a PIL image's pixels; one thread at a time per image object.

    An image from ``Image.open`` reads its file on first use. When the same object is
    listed twice, two decoding threads must not read its file pointer at once.
    """
    with _PIL_LOCKS[id(image) % len(_PIL_LOCKS)]:
        image.load()
    return image


def _exif_transposed(image):
    """Apply the EXIF orientation (phone photos), so the picture is upright as seen."""
    if _orientation(image) in (None, 1):
        return image
    ImageOps = import_optional_dependency("PIL.ImageOps", extra="image", caller="images")
    return ImageOps.exif_transpose(image)


def _pil_pixels(image):
    """The pixels of a PIL image of any mode (see the module docstring)."""
    mode = image.mode
    if mode in _16BIT_MODES:
        return _array_pixels(int_as_uint16(np.asarray(image)))
    if mode == "F":
        return _array_pixels(np.asarray(image))
    if mode == "La":  # premultiplied grey + alpha: Pillow converts it only to LA
        image, mode = image.convert("LA"), "LA"
    if _has_alpha(image):
        return over_white(np.asarray(image.convert("RGBA")))
    if mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    try:
        return np.asarray(image.convert("RGB"))
    except (ValueError, OSError) as exc:
        raise ValueError(f"images of mode {mode!r} cannot be converted to RGB ({exc})") from exc


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA", "RGBa") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )


def _array_pixels(array):
    """An array's pixels (shape and dtype checked by :func:`image_item_error`)."""
    pixels = to_uint8(array)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return np.ascontiguousarray(pixels[:, :, 0])
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return over_white(pixels)
    return np.ascontiguousarray(pixels)


def over_white(rgba):
    """Composite RGBA pixels over white: how viewers show transparent pixels."""
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:].astype(np.float32) / 255.0
    return np.rint(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def int_as_uint16(array):
    """Integer pixels as 16-bit: 0..65535 kept, a wider range scaled rather than saturated.

    Pillow's 32-bit "I" mode mostly holds 16-bit data (TIFF, PNG); values above 65535
    mean the image uses the 32-bit range, which is scaled down to 16 bits (clipping
    would turn everything above 65535 white). Negative values are clipped to 0.
    """
    array = np.clip(array, 0, None)
    top = int(array.max(initial=0))
    if top > 65535:
        return np.rint(array / (np.iinfo(np.int32).max / 65535)).astype(np.uint16)
    return array.astype(np.uint16)


def to_uint8(array):
    """Pixels as uint8 under the rules of the module docstring (else a ValueError)."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype == np.uint16:
        return np.rint(array / 257.0).astype(np.uint8)
    low, high = (array.min(), array.max()) if array.size else (0, 0)
    if array.dtype.kind in "ui":
        if low < 0 or high > 255:
            raise ValueError(
                f"integer pixels of dtype {array.dtype} must lie in [0, 255]; got values "
                f"from {low} to {high}. Pass 16-bit data as uint16 (array.astype(np.uint16)) "
                "or rescale it to uint8."
            )
        return array.astype(np.uint8)
    if array.dtype.kind == "f":
        if not (np.isfinite(low) and np.isfinite(high)) or low < 0.0 or high > 1.0:
            raise ValueError(
                f"float pixels must lie in [0, 1]; got values in [{low:g}, {high:g}]. Scale "
                "them (e.g. array / 255) or pass uint8 pixels."
            )
        return np.rint(array * 255.0).astype(np.uint8)
    raise ValueError(f"pixels of dtype {array.dtype} are not supported; use uint8 or uint16")
