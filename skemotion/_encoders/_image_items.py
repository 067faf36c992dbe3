"""Read and convert image items (paths, PIL images, NumPy arrays) to 8-bit RGB.

Generic helpers for every encoder of pictures. They define what an image item is,
the bytes that identify it in the embedding cache, and one conversion of every
supported colour mode and dtype to an 8-bit RGB ``PIL.Image``:

- grey (``L``, ``1``, H x W and H x W x 1 arrays): the grey value in all three channels;
- 16-bit grey (``I;16*``, ``I``, uint16 arrays): scaled linearly from 0..65535 to 0..255;
- float (``F``, float arrays): values in [0, 1] scaled to 0..255; others are refused;
- transparency (``RGBA``, ``LA``, ``PA``, premultiplied modes, palettes with a transparent
  index, H x W x 4 arrays): composited on a white background, as a viewer shows it;
- palette, CMYK, YCbCr, LAB, HSV: Pillow's conversion to RGB;
- files: EXIF orientation applied; the first frame of multi-frame files.

Arrays are read as RGB(A) channel order; OpenCV's BGR images must be converted first.
Pillow is imported on first use, so importing skemotion stays light.
"""

import os
import sys
import threading

import numpy as np

from .._optional import import_optional_dependency

ARRAY_DTYPES = ("uint8", "uint16", "float16", "float32", "float64")
ARRAY_CHANNELS = (1, 3, 4)
WHITE = (255, 255, 255)
# Striped locks: the same PIL image object always maps to the same lock.
_PIL_LOCKS = tuple(threading.Lock() for _ in range(32))
_16BIT_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}
_ITEM_KINDS = (
    "a file path, a PIL.Image, or a NumPy array of shape (H, W) or (H, W, 1|3|4) "
    "with dtype uint8, uint16 or float in [0, 1]"
)


def import_pil(caller, extra="image"):
    """Pillow's ``Image`` module, or an ImportError that says how to install it."""
    import_optional_dependency("PIL", extra=extra, caller=caller)
    return import_optional_dependency("PIL.Image", extra=extra, caller=caller)


def is_pil_image(item):
    # Without PIL imported, nothing can be a PIL image: no need to import it to check.
    # (getattr: another thread may be importing PIL.Image at this very moment.)
    image_class = getattr(sys.modules.get("PIL.Image"), "Image", None)
    return image_class is not None and isinstance(item, image_class)


# --- what an image item is ---------------------------------------------------------------


def image_item_error(item):
    """Why `item` is not an image item (a phrase to follow its name), or None if it is."""
    if isinstance(item, (str, os.PathLike)):
        return None
    if is_pil_image(item):
        if 0 in item.size:
            return f"is an empty PIL image (size {item.size}); an image needs pixels."
        return None
    if isinstance(item, np.ndarray):
        return _array_error(item)
    return f"is a {type(item).__name__} ({item!r:.60}), not an image. Pass {_ITEM_KINDS}."


def _array_error(array):
    if array.dtype.name not in ARRAY_DTYPES:
        return (
            f"is an array of dtype {array.dtype}, which is not an image dtype. Pass uint8 "
            "(0..255), uint16 (0..65535) or float (0..1) pixels, e.g. array.astype(np.uint8)."
        )
    shape = array.shape
    if array.ndim not in (2, 3) or (array.ndim == 3 and shape[2] not in ARRAY_CHANNELS):
        return (
            f"is an array of shape {shape}, which is not an image. Pass an array of shape "
            "(H, W) for grey or (H, W, C) with C = 1 (grey), 3 (RGB) or 4 (RGBA)."
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
        return f" ({item.dtype} array of shape {item.shape})"
    return ""


# The usual image files that Pillow reads: what a folder of images contributes.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
# A file is keyed by this prefix and its bytes (not its path: a renamed copy is the same
# picture); see BaseFrozenEncoder._item_key.
IMAGE_FILE_KEY_PREFIX = b"file\0"


def image_item_bytes(item):
    """The bytes that identify an in-memory image's content, for cache keys.

    A PIL image's mode, size, pixels and what else shapes its colours (palette,
    transparency, EXIF orientation); an array's dtype, shape and pixels.
    """
    if is_pil_image(item):
        head = [item.mode, item.size, item.info.get("transparency"), _orientation(item)]
        palette = item.getpalette() if item.mode in ("P", "PA") else None
        return b"pil\0" + repr(head + [palette]).encode() + b"\0" + _loaded(item).tobytes()
    array = np.ascontiguousarray(item)
    return b"array\0" + f"{array.dtype.str}{array.shape}".encode() + b"\0" + array.tobytes()


def _orientation(image):
    try:
        return image.getexif().get(0x0112)  # EXIF Orientation
    except Exception:  # a broken EXIF block: the picture is used as stored
        return None


# --- conversion to 8-bit RGB -------------------------------------------------------------


def load_rgb(item, *, caller="ImageEncoder", background=WHITE):
    """Read an image item and return it as an 8-bit RGB ``PIL.Image``.

    Raises an exception that says what is wrong with the item (missing or unreadable
    file, truncated data, out-of-range floats); callers add the item's name.
    """
    Image = import_pil(caller)
    if isinstance(item, (str, os.PathLike)):
        return pil_to_rgb(open_image_file(item, caller=caller), background=background)
    if isinstance(item, Image.Image):
        return pil_to_rgb(_exif_transposed(_loaded(item)), background=background)
    return pil_to_rgb(array_to_pil(item, caller=caller), background=background)


def open_image_file(path, *, caller="ImageEncoder"):
    """Decode an image file completely (so that truncation shows here) and close it."""
    Image = import_pil(caller)
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


def pil_to_rgb(image, *, background=WHITE):
    """Convert a PIL image of any mode to 8-bit RGB (see the module docstring)."""
    mode = image.mode
    if mode in _16BIT_MODES or mode == "F":
        return array_to_pil(np.asarray(image), caller="images").convert("RGB")
    if mode == "La":  # premultiplied grey + alpha: Pillow converts it only to LA
        image, mode = image.convert("LA"), "LA"
    if _has_alpha(image):
        return _on_background(image.convert("RGBA"), background)
    if mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ValueError(f"images of mode {mode!r} cannot be converted to RGB ({exc})") from exc


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA", "RGBa") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )


def _on_background(rgba, background):
    Image = sys.modules["PIL.Image"]
    canvas = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(canvas, rgba).convert("RGB")


def array_to_pil(array, *, caller="ImageEncoder"):
    """An 8-bit PIL image (L, RGB or RGBA) of a uint8, uint16 or float array."""
    Image = import_pil(caller)
    pixels = to_uint8(array)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[pixels.ndim if pixels.ndim == 2 else pixels.shape[2]]
    return Image.fromarray(np.ascontiguousarray(pixels), mode=mode)


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
    """Pixels as uint8: 16-bit scaled from 0..65535, floats from [0, 1] (else an error)."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind in "ui":  # uint16, and Pillow's 32-bit "I" mode
        return np.rint(int_as_uint16(array) / 257.0).astype(np.uint8)
    if array.dtype.kind == "f":
        low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if not (np.isfinite(low) and np.isfinite(high)) or low < 0.0 or high > 1.0:
            raise ValueError(
                f"float pixels must lie in [0, 1]; got values in [{low:g}, {high:g}]. Scale "
                "them (e.g. array / 255) or pass uint8 pixels."
            )
        return np.rint(array * 255.0).astype(np.uint8)
    raise ValueError(f"pixels of dtype {array.dtype} are not supported; use uint8 or uint16")
