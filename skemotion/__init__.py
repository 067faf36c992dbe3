"""Multimodal emotion recognition for scikit-learn.

Frozen pretrained encoders turn texts, images, faces and speech into fixed-size
features as scikit-learn transformers; fusion estimators combine the modalities with
weights that cross-validation tunes; an on-disk embedding cache makes
cross-validation and grid searches embed each item only once.

Importing skemotion is light: torch and the model libraries load when a model is
first used.
"""

from ._cache import EmbeddingCache
from ._config import config_context, get_config, set_config
from ._encoders import (
    AudioEncoder,
    AudioFeatures,
    FaceEncoder,
    ImageEncoder,
    Segment,
    TextEncoder,
)
from ._inspection import modality_attributions, modality_importance
from ._metrics import EMOTION_SCORING, emotion_report
from ._model_selection import GroupLeakageWarning, check_cv_groups, speaker_cv
from ._pipeline import make_multimodal_pipeline
from ._segmenter import SpeechSegmenter
from ._speaker import SpeakerNormalizer
from ._thresholds import TunedOffsetClassifierCV
from ._timeline import predict_timeline
from .fusion import (
    AttentionFusionClassifier,
    EarlyFusion,
    LateFusionClassifier,
    StackingFusionClassifier,
    weight_grid,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "EMOTION_SCORING",
    "AttentionFusionClassifier",
    "AudioEncoder",
    "AudioFeatures",
    "EarlyFusion",
    "EmbeddingCache",
    "FaceEncoder",
    "GroupLeakageWarning",
    "ImageEncoder",
    "LateFusionClassifier",
    "Segment",
    "SpeakerNormalizer",
    "SpeechSegmenter",
    "StackingFusionClassifier",
    "TextEncoder",
    "TunedOffsetClassifierCV",
    "check_cv_groups",
    "config_context",
    "emotion_report",
    "get_config",
    "make_multimodal_pipeline",
    "modality_attributions",
    "modality_importance",
    "predict_timeline",
    "set_config",
    "speaker_cv",
    "weight_grid",
    "__version__",
]
