"""Frozen pretrained encoders: items (texts, images, faces, speech) to fixed-size features.

``_base`` holds what every encoder shares (items, missing values, the cache, batching);
one module per encoder, and one reader per kind of item (``_image_items``, ``_audio_items``).
"""

from ._audio_encoder import AudioEncoder
from ._audio_features import AudioFeatures
from ._face import FaceEncoder
from ._image import ImageEncoder
from ._segment import Segment
from ._text import TextEncoder

__all__ = ["AudioEncoder", "AudioFeatures", "FaceEncoder", "ImageEncoder", "Segment", "TextEncoder"]
