"""TextEncoder(precision="int8"): a sentence-transformers model with int8 linear layers.

The model (its transformer, pooling and normalisation) is exported once to ONNX and
its MatMul weights quantised to int8, per output channel; ONNX Runtime runs it on the
CPU, quantising each layer's input on the fly (dynamic quantisation).

The exported file is stored in the skemotion cache folder under the digest of the
weights it came from, so it is exported once per machine and model; the encoder's
fingerprint carries the file's own digest.
"""

import logging
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._optional import import_optional_dependency

# Bump when the export or the quantisation changes, so that older files are not reused.
INT8_RECIPE = "int8-dynamic-per-channel-v1"
_CALLER = "TextEncoder(precision='int8')"
_OUTPUT = "sentence_embedding"
# Two texts of different lengths: the traced graph then keeps the padding mask.
_EXAMPLE_TEXTS = ["an example", "a second, longer example sentence"]


def onnx_folder():
    """Where exported ONNX models are kept: ``$XDG_CACHE_HOME/skemotion/onnx``."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "skemotion" / "onnx"


def int8_file(weights_sha256):
    """The path of the int8 copy of the model whose folder digests to `weights_sha256`."""
    return onnx_folder() / f"{weights_sha256}-{INT8_RECIPE}.onnx"


def import_onnx_libraries():
    """onnx (export, quantisation) and onnxruntime, or an ImportError naming the extra."""
    import_optional_dependency("onnx", extra="onnx", caller=_CALLER)
    return import_optional_dependency("onnxruntime", extra="onnx", caller=_CALLER)


def export_int8(source, target):
    """Export the sentence-transformers model in folder `source` to int8 ONNX at `target`.

    Written under a temporary name and renamed into place, so that a process never
    reads a half-written file; the export is deterministic, so two processes that
    export at once write the same bytes.
    """
    import_onnx_libraries()
    quantization = import_optional_dependency(
        "onnxruntime.quantization", extra="onnx", caller=_CALLER
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        float32_file = scratch / "float32.onnx"
        _export_float32(source, float32_file)
        with _quiet_quantizer():
            quantization.quantize_dynamic(
                float32_file,
                scratch / "int8.onnx",
                per_channel=True,  # per-tensor weight scales cost twice the accuracy here
                weight_type=quantization.QuantType.QInt8,
                # Only the linear layers: MatMuls of two activations (attention) and the
                # embedding tables stay in float32.
                op_types_to_quantize=["MatMul"],
                extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},  # FLOAT
            )
        os.replace(scratch / "int8.onnx", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _export_float32(source, path):
    torch = import_optional_dependency("torch", extra="onnx", caller=_CALLER)
    st = import_optional_dependency("sentence_transformers", extra="onnx", caller=_CALLER)
    model = st.SentenceTransformer(str(source), device="cpu").eval()
    if getattr(model, "default_prompt_name", None):
        # encode() prepends that prompt (and may pool without it); the export would not.
        raise ValueError(
            f"the model has a default prompt ({model.default_prompt_name!r}), which "
            "precision='int8' does not apply"
        )
    transformer = getattr(model[0], "auto_model", None)
    if hasattr(transformer, "set_attn_implementation"):
        # Plain attention exports to a smaller graph than torch's fused kernel (whose
        # export adds NaN guards), which ran about 7% faster here.
        transformer.set_attn_implementation("eager")
    features = token_features(model, _EXAMPLE_TEXTS)
    names = [name for name, value in features.items() if isinstance(value, torch.Tensor)]
    others = {name: value for name, value in features.items() if name not in names}

    class SentenceEmbedding(torch.nn.Module):
        """The model as a function of its token tensors, as ONNX export needs."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model({**dict(zip(names, tensors, strict=True)), **others})[_OUTPUT]

    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    with warnings.catch_warnings(), torch.inference_mode():
        # torch's notice that this (TorchScript) exporter is deprecated, and tracer
        # notes on transformers' mask code. The torch.export-based exporter needs
        # onnxscript and gave a graph that ran 10% slower once quantised.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            SentenceEmbedding().eval(),
            tuple(features[name] for name in names),
            str(path),
            dynamo=False,
            input_names=names,
            output_names=[_OUTPUT],
            dynamic_axes={**axes, _OUTPUT: {0: "batch"}},
            opset_version=17,
        )


@contextmanager
def _quiet_quantizer():
    """Drop the quantiser's advice to pre-process the model, logged on the root logger.

    That pre-processing (symbolic shape inference) fails on this graph. Logging on an
    unconfigured root logger would also configure it for the whole process, so a
    handler that discards is put there meanwhile.
    """
    root = logging.getLogger()
    handler = logging.NullHandler() if not root.handlers else None
    advice = _DropRecordsFrom("onnxruntime")
    if handler is not None:
        root.addHandler(handler)
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
        if handler is not None:
            root.removeHandler(handler)


class _DropRecordsFrom(logging.Filter):
    def __init__(self, package):
        super().__init__()
        self.marker = f"{os.sep}{package}{os.sep}"

    def filter(self, record):
        return record.levelno > logging.WARNING or self.marker not in record.pathname


def token_features(model, texts):
    """The tokenizer's tensors for `texts` (``preprocess`` in sentence-transformers 6)."""
    if hasattr(model, "preprocess"):
        return model.preprocess(texts)
    return model.tokenize(texts)


class Int8SentenceModel:
    """A SentenceTransformer's tokenizer in front of an ONNX Runtime session of its int8 copy.

    Offers what TextEncoder uses of a SentenceTransformer: ``tokenizer``, ``encode``
    and ``get_embedding_dimension``.
    """

    def __init__(self, sentence_transformer, path):
        ort = import_onnx_libraries()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no notes on the graph's initialisers
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [node.name for node in self.session.get_inputs()]
        self.sentence_transformer = sentence_transformer
        self.dimension = self.session.get_outputs()[0].shape[-1]

    @property
    def tokenizer(self):
        return self.sentence_transformer.tokenizer

    def get_embedding_dimension(self):
        if isinstance(self.dimension, int):
            return self.dimension
        return len(self.encode(["a"], batch_size=1)[0])

    def encode(
        self,
        texts,
        *,
        batch_size,
        normalize_embeddings=False,
        convert_to_numpy=True,
        show_progress_bar=False,
    ):
        """Embed `texts` in batches of similar length, as SentenceTransformer.encode does.

        Returns a float32 array; ``convert_to_numpy`` and ``show_progress_bar`` are
        accepted for the same call as SentenceTransformer's, and hold here anyway.
        """
        order = np.argsort([-len(text) for text in texts], kind="stable")
        rows = [None] * len(texts)
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size]
            embedded = self._run([texts[i] for i in batch])
            for i, row in zip(batch, embedded, strict=True):
                rows[i] = row
        embeddings = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        if normalize_embeddings:
            norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
            embeddings /= np.maximum(norms, 1e-12)
        return embeddings

    def _run(self, texts):
        features = token_features(self.sentence_transformer, texts)
        feed = {name: features[name].numpy() for name in self.input_names}
        return self.session.run([_OUTPUT], feed)[0]
