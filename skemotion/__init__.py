"""Multimodal emotion recognition for scikit-learn.

Frozen pretrained encoders turn text (and, in later releases, faces, images and
speech) into fixed-size features as scikit-learn transformers; an on-disk embedding
cache makes cross-validation and grid searches embed each item only once.

Importing skemotion is light: torch and the model libraries load when a model is
first used.
"""

from ._cache import EmbeddingCache
from ._config import config_context, get_config, set_config
from ._face import FaceEncoder
from ._image import ImageEncoder
from ._text import TextEncoder

__version__ = "0.1.0.dev0"

__all__ = [
    "EmbeddingCache",
    "FaceEncoder",
    "ImageEncoder",
    "TextEncoder",
    "config_context",
    "get_config",
    "set_config",
    "__version__",
]
