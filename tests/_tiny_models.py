"""Tiny, randomly initialised models built in process, so tests run offline and fast."""

import functools
import string
import tempfile
from pathlib import Path

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = "i am so happy feel joyful furious sad angry the a is this not very love hate".split()


@functools.cache
def tiny_text_model_dir():
    """A 2-layer, 32-dimensional sentence-transformers model saved to a temp folder."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizer

    root = Path(tempfile.mkdtemp(prefix="skemotion-tiny-text-"))
    pieces = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = _SPECIAL + _WORDS + pieces + [f"##{p}" for p in pieces]
    (root / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(root / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
    )
    transformer_dir = root / "transformer"
    BertModel(config).save_pretrained(transformer_dir)
    tokenizer.save_pretrained(transformer_dir)
    word = models.Transformer(str(transformer_dir), max_seq_length=64)
    dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pooling = models.Pooling(dim(), pooling_mode="mean")
    model_dir = root / "model"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(model_dir))
    return str(model_dir)
