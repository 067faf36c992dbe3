"""AudioEncoder: mean-pooled hidden states of a frozen speech model (wav2vec2, HuBERT, WavLM)."""

from numbers import Integral, Real
from pathlib import Path

import numpy as np

from .._docstrings import substitute_encoder_parameters
from .._optional import import_optional_dependency
from .._sklearn_compat import Interval, StrOptions
from ._audio_items import (
    AudioItemsMixin,
    load_waveform,
)
from ._base import BaseFrozenEncoder
from ._hub import hub_snapshot, local_weights_key, quiet_transformers, weights_identity

DEFAULT_AUDIO_MODEL = "microsoft/wavlm-base-plus"


@substitute_encoder_parameters
class AudioEncoder(AudioItemsMixin, BaseFrozenEncoder):
    """Embed speech clips with a frozen pretrained speech model (wav2vec2, HuBERT, WavLM).

    Each clip is read, mixed down to mono, resampled to the model's rate (16 kHz for
    these models) and normalised by the model's own feature extractor; the model's
    hidden states of the chosen `layer` are averaged over the clip's frames (mean
    pooling over valid frames only, padding excluded). Long clips are encoded in
    pieces of at most `max_seconds`, and their frames pooled together.

    Parameters
    ----------
    model : str, default="microsoft/wavlm-base-plus"
        A Hugging Face model name or a local folder (saved with ``save_pretrained``)
        that ``transformers.AutoModel`` and ``AutoFeatureExtractor`` load: wav2vec2,
        HuBERT, WavLM, data2vec-audio and other models that take raw waveforms.
    layer : int, "mean" or list of int, default="mean"
        Which hidden states are pooled. An int indexes the model's hidden states: 0 is
        the input of the first transformer layer (the convolutional features,
        projected), ``L`` (or -1) the output of the last of its ``L`` layers. ``"mean"``
        is the uniform mean of all ``L + 1`` hidden states, a list the uniform mean of
        the listed ones. Middle layers usually carry more about emotion than the last
        one, whose pretraining objective specialises it; the mean over layers is a
        robust choice when no layer has been chosen by validation.
    max_seconds : float, default=20.0
        Clips longer than this are cut into equal pieces of at most this length,
        encoded separately; the embedding is the mean over all their frames.
    sampling_rate : int, default=16000
        The rate of clips given as bare arrays; every clip is resampled to the
        model's own rate.
    batch_size : int, default=8
        Number of clips (or pieces) the model encodes at once.
    %(device)s
    %(precision)s
    %(cache)s
    missing : {"error", "zeros", "nan"}, default="error"
        What a missing clip (None, NaN, empty path) becomes: an error naming its row,
        or a row of zeros or of NaN.
    on_error : {"raise", "skip"}, default="raise"
        What a clip that cannot be read (missing file, not audio, truncated, no
        samples, NaN or infinite samples) does: raise an error naming it, or warn once
        naming every such clip and fill its row as `missing` says.
    %(verbose)s

    Attributes
    ----------
    n_features_in_ : int
        Always 1: the encoder reads one column of clips.
    feature_names_in_ : ndarray of shape (1,)
        The column's name, when fitted on a DataFrame with a string column name.

    See Also
    --------
    AudioFeatures : Hand-crafted acoustic statistics (MFCC, pitch, energy, eGeMAPS).
    EmbeddingCache : The on-disk store of embeddings.

    Notes
    -----
    A clip's embedding does not depend on the other clips in its batch. Models whose
    first convolution uses group normalisation (``feat_extract_norm="group"``:
    wav2vec2-base, HuBERT-base, WavLM-base(+)) normalise over the whole input, padding
    included, and take no attention mask; for them only clips (or pieces) of exactly
    the same length share a batch, and the others are encoded one at a time. Models
    with layer normalisation (the "large" ones, ``feat_extract_norm="layer"``) batch
    padded clips with an attention mask. Clips shorter than the model's receptive
    field (400 samples, 25 ms, for these models) are zero-padded to it.

    ``fit`` only checks the items: the model is frozen. Items are the same as for
    :class:`AudioFeatures`: file paths, 1-D arrays, ``(array, rate)`` tuples and
    ``{"array", "sampling_rate"}`` dicts. The weights' licence is the model's own
    (WavLM: MIT; wav2vec2 and HuBERT: Apache-2.0).

    Examples
    --------
    No speech weights ship with skemotion; this example builds a tiny random model
    (real use: ``AudioEncoder()`` downloads WavLM Base+ from the hub).

    >>> import tempfile
    >>> import numpy as np
    >>> from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model
    >>> from skemotion import AudioEncoder
    >>> folder = tempfile.TemporaryDirectory()
    >>> config = Wav2Vec2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
    ...                         intermediate_size=32, conv_dim=(16,) * 7)
    >>> Wav2Vec2Model(config).save_pretrained(folder.name)
    >>> Wav2Vec2FeatureExtractor().save_pretrained(folder.name)  # doctest: +ELLIPSIS
    [...]
    >>> clips = [np.sin(np.arange(8000) / 10).astype(np.float32), np.zeros(12000, np.float32)]
    >>> encoder = AudioEncoder(folder.name, layer=-1, device="cpu")
    >>> encoder.fit_transform(clips).shape
    (2, 16)
    >>> folder.cleanup()
    >>> wavlm = AudioEncoder()  # WavLM Base+ from the hub  # doctest: +SKIP
    """

    _parameter_constraints = {
        **BaseFrozenEncoder._parameter_constraints,
        "model": [str],
        "layer": [Integral, StrOptions({"mean"}), list],
        "max_seconds": [Interval(Real, 1.0, None, closed="left")],
        "sampling_rate": [Interval(Integral, 1000, None, closed="left")],
        "on_error": [StrOptions({"raise", "skip"})],
    }
    _modality = "audio"
    _fingerprint_name = "skemotion._audio_encoder.AudioEncoder"
    _extra = "audio"
    # Reading and resampling run in worker threads while the model encodes.
    _decode_in_threads = True

    def __init__(
        self,
        model=DEFAULT_AUDIO_MODEL,
        *,
        layer="mean",
        max_seconds=20.0,
        sampling_rate=16000,
        batch_size=8,
        device="auto",
        precision="auto",
        cache=None,
        missing="error",
        on_error="raise",
        verbose=False,
    ):
        self.model = model
        self.layer = layer
        self.max_seconds = max_seconds
        self.sampling_rate = sampling_rate
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.cache = cache
        self.missing = missing
        self.on_error = on_error
        self.verbose = verbose

    def _check_params(self):
        if isinstance(self.layer, list) and (
            not self.layer or not all(isinstance(i, Integral) for i in self.layer)
        ):
            raise ValueError(
                "The 'layer' parameter of AudioEncoder must be an int, 'mean' or a non-empty "
                f"list of ints. Got {self.layer!r} instead."
            )

    # --- items (the shared hooks are in AudioItemsMixin) -----------------------------------

    def _decode(self, item):
        model = self._model
        waveform = load_waveform(
            item,
            sampling_rate=model.sampling_rate,
            array_rate=self.sampling_rate,
            caller="AudioEncoder",
        )
        return model.prepare(waveform)

    # --- the model -------------------------------------------------------------------------

    def _model_source(self):
        """A local folder holding the model, or the hub name to load it by."""
        local = Path(self.model).expanduser()
        if local.is_dir():
            return local.resolve()
        return hub_snapshot([self.model]) or self.model

    def _model_identity(self):
        return weights_identity(self)

    def _weights_key(self):
        return local_weights_key(self)

    def _load_model(self, source, device, dtype):
        transformers = import_optional_dependency(
            "transformers", extra="audio", caller="AudioEncoder"
        )
        try:
            with quiet_transformers(enabled=not self.verbose):
                network = transformers.AutoModel.from_pretrained(str(source), dtype=dtype)
                extractor = transformers.AutoFeatureExtractor.from_pretrained(str(source))
        except OSError as exc:
            raise OSError(
                f"AudioEncoder could not load model={self.model!r}: it is neither a local "
                "folder saved with save_pretrained nor a model the Hugging Face hub has "
                f"(or the hub cannot be reached). ({exc})"
            ) from exc
        return _SpeechModel(network.to(device).eval(), extractor, device, dtype, self.model)

    def _embedding_dim(self, model):
        return model.hidden_size

    def _output_params(self):
        layer = self.layer
        if not isinstance(layer, str):  # plain ints for JSON, whatever integer type came in
            layer = [int(i) for i in layer] if isinstance(layer, list) else int(layer)
        return {"layer": layer, "max_seconds": float(self.max_seconds), "pooling": "mean"}

    def _encode_batch(self, model, items):
        layers = model.layer_indices(self.layer)
        max_samples = int(self.max_seconds * model.sampling_rate)
        pieces = [(i, piece) for i, clip in enumerate(items) for piece in _split(clip, max_samples)]
        sums = np.zeros((len(items), model.hidden_size), dtype=np.float64)
        counts = np.zeros(len(items), dtype=np.int64)
        for batch in model.batches(pieces, self.batch_size):
            owners = [owner for owner, _ in batch]
            frame_sums, frame_counts = model.pooled_sums([p for _, p in batch], layers)
            np.add.at(sums, owners, frame_sums)
            np.add.at(counts, owners, frame_counts)
        return (sums / counts[:, None]).astype(np.float32)


def _split(clip, max_samples):
    """A clip cut into the fewest equal pieces of at most `max_samples` samples."""
    n_pieces = -(-clip.size // max_samples)
    return np.array_split(clip, n_pieces) if n_pieces > 1 else [clip]


class _SpeechModel:
    """A loaded speech model with its feature extractor, shared through the registry."""

    def __init__(self, network, extractor, device, dtype, name):
        self.network, self.extractor = network, extractor
        self.device, self.dtype, self.name = device, dtype, name
        config = network.config
        self.hidden_size = int(config.hidden_size)
        self.n_layers = int(config.num_hidden_layers)
        self.sampling_rate = int(getattr(extractor, "sampling_rate", 16000))
        # Group-normalised convolutions see the padding whatever the mask says: only
        # layer-normalised models may batch clips of different lengths (see Notes).
        self.takes_padding = getattr(config, "feat_extract_norm", None) == "layer"
        self.min_samples = self._receptive_field()

    def _receptive_field(self):
        """The fewest samples that give one frame (400 for wav2vec2-style models)."""
        length = 1
        while self._frames(length) < 1:
            length *= 2
        low = length // 2
        while low + 1 < length:  # the smallest length with a frame lies in (low, length]
            middle = (low + length) // 2
            low, length = (low, middle) if self._frames(middle) >= 1 else (middle, length)
        return length

    def _frames(self, n_samples):
        return int(self.network._get_feat_extract_output_lengths(n_samples))

    def prepare(self, waveform):
        """The model's input for one clip: normalised as its extractor does, padded to one frame."""
        inputs = self.extractor(waveform, sampling_rate=self.sampling_rate, return_tensors="np")
        if "input_values" not in inputs:
            raise TypeError(
                f"AudioEncoder encodes models that take raw waveforms (wav2vec2, HuBERT, "
                f"WavLM); {self.name!r} takes {sorted(inputs)}."
            )
        values = np.asarray(inputs["input_values"][0], dtype=np.float32)
        if values.size < self.min_samples:
            values = np.pad(values, (0, self.min_samples - values.size))
        return values

    def layer_indices(self, layer):
        """Indices into the model's ``L + 1`` hidden states, checked against its depth."""
        n_states = self.n_layers + 1
        wanted = range(n_states) if layer == "mean" else np.atleast_1d(layer).tolist()
        for index in wanted:
            if not -n_states <= index < n_states:
                raise ValueError(
                    f"The 'layer' parameter of AudioEncoder must index one of the "
                    f"{n_states} hidden states of {self.name!r} ({self.n_layers} layers): "
                    f"an int in [{-n_states}, {n_states - 1}]. Got {layer!r} instead."
                )
        return [index % n_states for index in wanted]

    def batches(self, pieces, batch_size):
        """Batches of (owner, piece): length-sorted, or of equal lengths only (see Notes)."""
        order = sorted(range(len(pieces)), key=lambda k: pieces[k][1].size)
        groups = [order]
        if not self.takes_padding:
            by_length = {}
            for k in order:
                by_length.setdefault(pieces[k][1].size, []).append(k)
            groups = list(by_length.values())
        for group in groups:
            for start in range(0, len(group), batch_size):
                yield [pieces[k] for k in group[start : start + batch_size]]

    def pooled_sums(self, waves, layers):
        """Per wave: the sum over its valid frames of the mean of `layers`, and their count."""
        torch = import_optional_dependency("torch", extra="audio", caller="AudioEncoder")
        lengths = torch.tensor([w.size for w in waves])
        values = torch.zeros(len(waves), int(lengths.max()))
        for row, wave in enumerate(waves):
            values[row, : wave.size] = torch.from_numpy(wave)
        kwargs = {}
        if self.takes_padding:
            mask = torch.arange(values.shape[1])[None, :] < lengths[:, None]
            kwargs["attention_mask"] = mask.long().to(self.device)
        with torch.inference_mode():
            out = self.network(
                values.to(self.device, self.dtype), output_hidden_states=True, **kwargs
            )
            states = torch.stack([out.hidden_states[i] for i in layers]).float().mean(0)
            frames = self.network._get_feat_extract_output_lengths(lengths).to(states.device)
            valid = torch.arange(states.shape[1], device=states.device)[None, :] < frames[:, None]
            sums = (states * valid[:, :, None]).sum(1)
        return sums.double().cpu().numpy(), frames.cpu().numpy()
