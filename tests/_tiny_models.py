"""Tiny, randomly initialised models built in process, so tests run offline and fast.

The models are built when the tests are collected (``parametrize_with_checks`` in
test_common.py needs the encoders, and so their model folders, before any fixture
exists), so they cannot live under pytest's ``tmp_path_factory``. They share one
temporary folder instead, removed when the process exits.
"""

import atexit
import functools
import json
import shutil
import string
import tempfile
from pathlib import Path

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = "i am so happy feel joyful furious sad angry the a is this not very love hate".split()


@functools.cache
def _models_folder():
    root = Path(tempfile.mkdtemp(prefix="skemotion-tiny-models-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _new_model_folder(name):
    """An empty folder for one tiny model, inside the folder removed at exit."""
    folder = _models_folder() / name
    folder.mkdir()
    return folder


@functools.cache
def tiny_text_model_dir():
    """A 2-layer, 32-dimensional sentence-transformers model saved to a temp folder."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 moved the modules (the old path warns)
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    root = _new_model_folder("text")
    pieces = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = _SPECIAL + _WORDS + pieces + [f"##{p}" for p in pieces]
    (root / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    # transformers >= 5 takes the vocabulary as `vocab` (and ignores `vocab_file`,
    # which left a 5-token vocabulary that mapped every word to [UNK]).
    words = list(dict.fromkeys(vocab))
    try:
        tokenizer = BertTokenizer(vocab={word: i for i, word in enumerate(words)})
    except TypeError:
        tokenizer = BertTokenizer(vocab_file=str(root / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    transformer_dir = root / "transformer"
    BertModel(config).save_pretrained(transformer_dir)
    tokenizer.save_pretrained(transformer_dir)
    word = Transformer(str(transformer_dir), max_seq_length=64)
    dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pooling = Pooling(dim(), pooling_mode="mean")
    model_dir = root / "model"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(model_dir))
    return str(model_dir)


# Tiny speech models: the real convolutional front end (400-sample receptive field,
# 320-sample stride, so frame arithmetic is as in wav2vec2-base) at 16 channels, and a
# 2-layer, 16-dimensional transformer. "group" models normalise their first convolution
# over time (wav2vec2-base style, no attention mask); "layer" ones take a mask.
_TINY_AUDIO_KINDS = {
    "wav2vec2-group": ("Wav2Vec2", {"feat_extract_norm": "group"}),
    "wav2vec2-layer": ("Wav2Vec2", {"feat_extract_norm": "layer", "do_stable_layer_norm": True}),
    "hubert-group": ("Hubert", {"feat_extract_norm": "group"}),
    "wavlm-layer": ("WavLM", {"feat_extract_norm": "layer", "do_stable_layer_norm": True}),
}


@functools.cache
def tiny_audio_model_dir(kind="wav2vec2-group"):
    """A tiny randomly initialised speech model with its feature extractor, in a temp folder."""
    import torch
    import transformers

    family, options = _TINY_AUDIO_KINDS[kind]
    config = getattr(transformers, f"{family}Config")(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        num_buckets=16,
        max_bucket_distance=64,
        **options,
    )
    root = _new_model_folder(kind)
    torch.manual_seed(0)
    getattr(transformers, f"{family}Model")(config).save_pretrained(root)
    extractor = transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000,
        do_normalize=True,
        return_attention_mask=options["feat_extract_norm"] == "layer",
    )
    extractor.save_pretrained(root)
    return str(root)


# A 2-layer, 32-dimensional CLIP for ImageEncoder: open_clip builds its random weights
# in an instant from a registered config.
TINY_CLIP = "skemotion-tiny-clip"
TINY_CLIP_DIM = 32
_TINY_CLIP_CONFIG = {
    "embed_dim": TINY_CLIP_DIM,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@functools.cache
def tiny_clip_model():
    """The name of the tiny CLIP config, registered with open_clip in this process."""
    import open_clip

    # open_clip reads a config file once, when it is registered, and keeps it in memory.
    with tempfile.TemporaryDirectory(prefix="skemotion-tiny-clip-") as folder:
        path = Path(folder) / f"{TINY_CLIP}.json"
        path.write_text(json.dumps(_TINY_CLIP_CONFIG))
        open_clip.add_model_config(path)
    return TINY_CLIP
