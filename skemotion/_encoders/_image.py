"""ImageEncoder: CLIP image embeddings from a frozen open_clip model, and zero-shot scores."""

import hashlib
import json
import logging
import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.base import clone

from .._docstrings import substitute_encoder_parameters
from .._optional import import_optional_dependency
from .._sklearn_compat import StrOptions
from ._base import BaseFrozenEncoder
from ._hashing import file_sha256
from ._image_items import (
    IMAGE_KEYS,
    describe_image_item,
    image_item_error,
    import_image_libraries,
    load_rgb,
)
from ._segment import Segment
from ._video_frames import VideoFrames, VideoFramesMixin, is_video_item

DEFAULT_IMAGE_MODEL = "ViT-B-32"
DEFAULT_IMAGE_WEIGHTS = "laion2b_s34b_b79k"
DEFAULT_TEMPLATE = "a photo of a {label} face"
# Random weights (tests only) are drawn from this seed, so that they, and the
# embeddings cached under their fingerprint, are the same in every process.
RANDOM_WEIGHTS_SEED = 0
# open_clip's model names that carry their own weights (pretrained= is ignored).
_SCHEMAS = ("hf-hub:", "local-dir:")
# CLIP clamps its learned temperature at 100 when training; do the same when scoring.
_MAX_LOGIT_SCALE = 100.0


@substitute_encoder_parameters
class ImageEncoder(VideoFramesMixin, BaseFrozenEncoder):
    """Embed images with a frozen CLIP model (open_clip); score them against text labels.

    Each image is read, converted to 8-bit RGB, preprocessed with the model's own
    open_clip transform (resize, centre crop, normalisation) and embedded by CLIP's
    image tower. Reading and preprocessing run in worker threads while the model
    encodes, and embeddings can be cached on disk so that clones, folds and grid-search
    candidates embed each image only once.

    Parameters
    ----------
    model : str, default="ViT-B-32"
        An open_clip model configuration, e.g. ``"ViT-B-32"``, ``"ViT-B-16"``,
        ``"ViT-L-14"`` (see ``open_clip.list_models()``).
    pretrained : str, path-like or None, default="laion2b_s34b_b79k"
        The weights: an open_clip tag for `model` (see
        ``open_clip.list_pretrained_tags_by_model(model)``; downloaded from the Hugging
        Face hub on first use), or the path of a local checkpoint file. None builds
        random weights from a fixed seed, which is only useful for tests.
    normalize : bool, default=True
        Scale each embedding to unit L2 norm. CLIP compares images and texts by
        cosine similarity, so the norm carries no meaning; unit vectors also keep
        the scale of downstream regularisation independent of the model. A video's
        frames are each normalised, then pooled.
    frame_rate : float, default=2.0
        Frames sampled per second of a video item; pictures are unaffected.
    temporal_pooling : {"mean", "mean+std", "max"}, default="mean"
        How a video's frame embeddings become its row: their mean, their mean
        followed by their standard deviation (twice the columns), or their maximum.
        A picture is a video of one frame.
    batch_size : int, default=32
        Number of images the model encodes at once.
    %(device)s
    %(precision)s
    %(cache)s
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing image (None, NaN, an empty or blank path) becomes: an error
        naming its row, or a row of zeros or of NaN.
    on_error : {"raise", "skip"}, default="raise"
        What an image that cannot be read (missing file, not an image, truncated data,
        float pixels outside [0, 1]) does: raise an error naming it, or warn once
        naming every such image and fill its row as `missing` says (NaN for
        ``missing="nan"``, else zeros).
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
    Items may be file paths, ``PIL.Image`` objects or NumPy arrays of shape (H, W) or
    (H, W, 1|3|4) holding uint8, uint16 or [0, 1] float pixels in RGB(A) order. Grey
    images are replicated to three channels, 16-bit ones scaled to 8 bits,
    transparent ones composited on white; files are turned upright by their EXIF
    orientation. The same picture gives the same embedding whichever kind of item
    carries it. ``fit`` only checks the items: the model is frozen.

    Real use needs CLIP weights: the default tag is downloaded from the Hugging Face
    hub on first use, or pass a checkpoint file you have. OpenCLIP is MIT-licensed;
    each set of weights has its own terms (LAION's are MIT).

    Examples
    --------
    Random weights keep this example offline; real use needs trained weights
    (the default ``pretrained="laion2b_s34b_b79k"``, or a local checkpoint file).

    >>> import numpy as np
    >>> from skemotion import ImageEncoder
    >>> images = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
    >>> encoder = ImageEncoder("ViT-S-32", pretrained=None, device="cpu")
    >>> X = encoder.fit_transform(list(images))
    >>> X.shape, X.dtype
    ((3, 384), dtype('float32'))
    >>> encoder.get_feature_names_out()[:2]
    array(['image_000', 'image_001'], dtype=object)
    >>> proba = encoder.zero_shot_proba(list(images), ["happy", "sad", "angry"])
    >>> proba.shape
    (3, 3)
    >>> clip = ImageEncoder()  # ViT-B-32, LAION-2B weights from the hub  # doctest: +SKIP
    """

    _parameter_constraints = {
        **BaseFrozenEncoder._parameter_constraints,
        "model": [str],
        "pretrained": [str, os.PathLike, None],
        "normalize": ["boolean"],
        "on_error": [StrOptions({"raise", "skip"})],
        **VideoFramesMixin._video_constraints,
    }
    _modality = "image"
    _fingerprint_name = "skemotion._image.ImageEncoder"
    _extra = "image"
    _decode_in_threads = True
    _file_key_prefix = IMAGE_KEYS.file_prefix

    def __init__(
        self,
        model=DEFAULT_IMAGE_MODEL,
        *,
        pretrained=DEFAULT_IMAGE_WEIGHTS,
        normalize=True,
        frame_rate=2.0,
        temporal_pooling="mean",
        batch_size=32,
        device="auto",
        precision="auto",
        cache=None,
        missing="error",
        on_error="raise",
        verbose=False,
    ):
        self.model = model
        self.pretrained = pretrained
        self.normalize = normalize
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

    # --- items ---------------------------------------------------------------------------

    def _is_missing_item(self, item):
        # As FaceEncoder: an empty cell of a CSV column of paths is a missing image.
        return super()._is_missing_item(item) or (isinstance(item, str) and not item.strip())

    def _item_error(self, item):
        if isinstance(item, Segment):  # before the image checks: a Segment is a tuple
            return self._video_item_error(item)
        return image_item_error(item)

    def _item_bytes(self, item):
        return IMAGE_KEYS.item_bytes(item)

    def _item_label(self, item):
        return self._video_label(item) or describe_image_item(item)

    def _import_decoding_libraries(self):
        import_image_libraries("ImageEncoder")
        self._import_video_library()

    def _decode(self, item):
        # Runs in a worker thread: Pillow and the tensor conversion release the GIL.
        model = self._model
        if is_video_item(item):
            # Each frame is held preprocessed (3 x 224 x 224 float32 for ViT-B-32, 0.6 MB)
            # until its video is encoded.
            return VideoFrames(
                [model.preprocess(load_rgb(rgb)) for rgb in self._sampled_frames(item)]
            )
        return model.preprocess(load_rgb(item, caller="ImageEncoder"))

    # --- the model -------------------------------------------------------------------------

    def _weights_file(self):
        """The local checkpoint file `pretrained` names, or None for a tag or random."""
        if self.pretrained is None or _is_known_tag(self.model, self.pretrained):
            return None  # a tag wins over a same-named file, as in open_clip
        path = Path(self.pretrained).expanduser()
        return path.resolve() if path.is_file() else None

    def _model_source(self):
        """(config, weights): a checkpoint path, a hub tag, or None for random weights."""
        if self.model.startswith(_SCHEMAS):
            # open_clip would ignore `pretrained` for these, and our cache keys would not
            # follow the weights they load.
            raise ValueError(
                f"The 'model' parameter of ImageEncoder must be an open_clip config name "
                f"such as 'ViT-B-32'. Got {self.model!r} instead: download the checkpoint "
                "file and pass model='<config>', pretrained='<path of the file>'."
            )
        weights = self._weights_file() or self.pretrained
        return (self.model, None if weights is None else str(weights))

    def _model_identity(self):
        if self.pretrained is None:
            return _random_identity(self.model)
        path = self._weights_file()
        if path is not None:
            return {**_config_identity(self.model), "sha256": file_sha256(path)}
        identity = {**_config_identity(self.model), "tag": str(self.pretrained)}
        checkpoint = _cached_tag_checkpoint(self.model, str(self.pretrained))
        if checkpoint is None:
            # Not downloaded yet: loading downloads it into the hub cache, whose file we
            # can then hash, so that cached embeddings always follow the real weights.
            self._model  # noqa: B018
            checkpoint = _cached_tag_checkpoint(self.model, str(self.pretrained))
        if checkpoint is not None:
            identity["sha256"] = file_sha256(checkpoint)
        return identity

    def _weights_key(self):
        path = self._weights_file() if self.pretrained is not None else None
        return "" if path is None else file_sha256(path)

    def _load_model(self, source, device, dtype):
        name, weights = source
        open_clip = _open_clip()
        try:
            model, preprocess = _create_clip(open_clip, name, weights)
        except Exception as exc:
            raise RuntimeError(_load_failure(name, weights, exc)) from exc
        model = model.to(device=device, dtype=dtype).eval().requires_grad_(False)
        return _Clip(model, preprocess, name, device, dtype)

    def _embedding_dim(self, model):
        return self._pooled_dim(model.embedding_dim())

    def _output_params(self):
        return {"normalize": bool(self.normalize), **self._pooling_params()}

    def _encode_batch(self, model, items):
        return self._encode_frames(items, lambda frames: self._encode_pictures(model, frames))

    def _encode_pictures(self, model, items):
        # The base hands over a chunk of several batches; the model sees batch_size at once.
        size = self.batch_size
        parts = [model.encode_images(items[i : i + size]) for i in range(0, len(items), size)]
        embeddings = np.concatenate(parts)
        if self.normalize:
            embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        return embeddings

    # --- zero-shot classification ---------------------------------------------------------------

    def zero_shot_proba(self, X, labels, *, template=DEFAULT_TEMPLATE):
        """Compute the probabilities of text labels for each image by CLIP zero-shot matching.

        Each label is written into `template` and embedded by CLIP's text tower; the
        image-text cosine similarities, scaled by the model's learned logit scale,
        go through a softmax over the labels. Nothing is fitted, so the encoder need
        not be fitted first. This is only meaningful with trained weights.

        Parameters
        ----------
        X : list, 1-D array, pandas Series or one-column DataFrame
            The images, one per sample (as for :meth:`transform`).
        labels : sequence of str
            At least two distinct labels, e.g. ``["happy", "sad", "angry"]``.
        template : str or sequence of str, default="a photo of a {label} face"
            The prompt(s); ``{label}`` is replaced by each label. With several
            templates, each label's text embedding is their normalised mean
            (prompt ensembling, as in the CLIP paper).

        Returns
        -------
        proba : ndarray of shape (n_samples, len(labels)), dtype float64
            Each row sums to 1; column ``j`` is ``labels[j]``. Rows of missing or
            skipped images are NaN with ``missing="nan"``, else zeros (they sum to 0),
            and ``missing="error"`` raises on a missing image.
        """
        labels, templates = _check_labels(labels), _check_templates(template)
        # Through transform: the cache, the missing policy and on_error apply as usual.
        images = np.array(clone(self).set_output(transform="default").fit_transform(X))
        absent = ~np.isfinite(images).all(axis=1) | ~images.any(axis=1)
        images[absent] = 0.0  # filled in below; zeros keep the arithmetic quiet
        images /= np.maximum(np.linalg.norm(images, axis=1, keepdims=True), 1e-12)
        model = self._model
        similarity = images.astype(np.float64) @ model.encode_prompts(labels, templates).T
        logits = model.logit_scale() * similarity
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        proba[absent] = self._fill_value()
        return proba


class _Clip:
    """A loaded open_clip model with its preprocessing transform, shared through the registry."""

    def __init__(self, model, preprocess, name, device, dtype):
        self.model, self.preprocess, self.name = model, preprocess, name
        self.device, self.dtype = device, dtype
        self._tokenizer = None

    def encode_images(self, tensors):
        torch = _torch()
        with torch.inference_mode():
            batch = torch.stack(tensors).to(self.device, self.dtype, non_blocking=True)
            return self.model.encode_image(batch).float().cpu().numpy()

    def encode_prompts(self, labels, templates):
        """Unit-norm text embeddings, one per label, averaged over the templates."""
        torch = _torch()
        prompts = [t.replace("{label}", label) for label in labels for t in templates]
        with torch.inference_mode():
            tokens = self.tokenizer(prompts).to(self.device)
            text = self.model.encode_text(tokens).float().cpu().numpy()
        text = text.reshape(len(labels), len(templates), -1)
        text /= np.maximum(np.linalg.norm(text, axis=2, keepdims=True), 1e-12)
        text = text.mean(axis=1)
        return text / np.maximum(np.linalg.norm(text, axis=1, keepdims=True), 1e-12)

    def logit_scale(self):
        return min(float(self.model.logit_scale.exp()), _MAX_LOGIT_SCALE)

    @property
    def tokenizer(self):
        # Built on first zero-shot use only: some models' tokenizers come from the hub.
        if self._tokenizer is None:
            open_clip = _open_clip()
            self._tokenizer = open_clip.get_tokenizer(self.name)
        return self._tokenizer

    def embedding_dim(self):
        dim = getattr(self.model.visual, "output_dim", None)
        if isinstance(dim, Integral):
            return int(dim)
        size = self.model.visual.preprocess_cfg["size"]
        size = (size, size) if isinstance(size, Integral) else tuple(size)
        torch = _torch()
        return self.encode_images([torch.zeros(3, *size)]).shape[1]


def _torch():
    return import_optional_dependency("torch", extra="image", caller="ImageEncoder")


def _open_clip():
    return import_optional_dependency("open_clip", extra="image", caller="ImageEncoder")


def _create_clip(open_clip, name, weights):
    """The model and its inference transform; random weights from a fixed seed."""
    if weights is not None:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=weights)
        return model, preprocess
    torch = _torch()
    # A private RNG stream: reproducible weights without moving the user's global seed.
    with torch.random.fork_rng(devices=[]), _without_random_init_notice():
        torch.manual_seed(RANDOM_WEIGHTS_SEED)
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=None)
    return model, preprocess


class _without_random_init_notice:
    """Hide open_clip's 'initialized randomly' warning: pretrained=None asked for that."""

    def filter(self, record):
        return "initialized randomly" not in record.getMessage()

    def __enter__(self):
        logging.getLogger().addFilter(self)
        return self

    def __exit__(self, *exc_info):
        logging.getLogger().removeFilter(self)
        return False


def _config_identity(name):
    """The config's name and a digest of its content (custom configs can be re-registered)."""
    open_clip = _open_clip()
    config = open_clip.get_model_config(name)
    if config is None:  # an hf-hub: or local-dir: name, identified by its weights
        return {"config": name}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    return {"config": name, "config_sha256": digest}


def _random_identity(name):
    torch = _torch()
    open_clip = _open_clip()
    # Random initialisation is code, not data: the library versions are part of it.
    return {
        **_config_identity(name),
        "weights": "random",
        "seed": RANDOM_WEIGHTS_SEED,
        "torch": torch.__version__.split("+")[0],
        "open_clip": open_clip.__version__,
    }


def _is_known_tag(name, tag):
    if not isinstance(tag, str):
        return False
    open_clip = _open_clip()
    return bool(open_clip.get_pretrained_cfg(name, tag))


def _cached_tag_checkpoint(name, tag):
    """The local file of an open_clip weights tag, if already downloaded (no network)."""
    open_clip = _open_clip()
    cfg = open_clip.get_pretrained_cfg(name, tag) or {}
    if cfg.get("file"):
        return Path(cfg["file"]) if Path(cfg["file"]).is_file() else None
    if cfg.get("hf_hub"):
        repo_id, filename = os.path.split(cfg["hf_hub"])
        filename = filename or "open_clip_pytorch_model.bin"
        # open_clip prefers a safetensors copy of the same weights when the hub has one.
        safe = {"open_clip_pytorch_model.bin": "open_clip_model.safetensors"}.get(
            filename, re.sub(r"\.(bin|pth)$", ".safetensors", filename)
        )
        return _hub_cached_file(repo_id, [safe, filename])
    if cfg.get("url"):
        local = Path("~/.cache/clip").expanduser() / os.path.basename(cfg["url"])
        return local if local.is_file() else None
    return None


def _hub_cached_file(repo_id, filenames):
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for filename in filenames:
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return Path(found)
    return None


def _load_failure(name, weights, exc):
    if weights is not None and os.path.isfile(weights):
        what = f"the checkpoint file {weights!r}"
    elif weights is not None:
        what = f"the weights pretrained={weights!r}"
    else:
        what = "random weights"
    return (
        f"ImageEncoder could not load {what} for model={name!r}: {exc}. Check model= "
        "(open_clip.list_models()) and pretrained= (a tag from "
        "open_clip.list_pretrained_tags_by_model(model), or the path of a checkpoint "
        "file). Without access to the Hugging Face hub, copy the checkpoint here and "
        "pass its path as pretrained=."
    )


def _check_labels(labels):
    iterable = hasattr(labels, "__iter__") and not isinstance(labels, str)
    labels = list(labels) if iterable else labels
    if not iterable or not all(isinstance(label, str) for label in labels):
        raise TypeError(
            f"The 'labels' parameter of ImageEncoder.zero_shot_proba must be a sequence of "
            f"str. Got {labels!r:.80} instead."
        )
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(
            "The 'labels' parameter of ImageEncoder.zero_shot_proba must hold at least two "
            f"distinct labels. Got {labels!r:.80} instead."
        )
    return labels


def _check_templates(template):
    templates = [template] if isinstance(template, str) else list(template)
    if not templates or not all(isinstance(t, str) and "{label}" in t for t in templates):
        raise ValueError(
            "The 'template' parameter of ImageEncoder.zero_shot_proba must be a str, or a "
            "sequence of str, each containing '{label}'. Got "
            f"{template!r:.80} instead."
        )
    return templates
