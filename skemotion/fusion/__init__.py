"""Fusion of modalities: early (features), late (probabilities) and attention."""

from ._attention import AttentionFusionClassifier
from ._early import EarlyFusion
from ._late import LateFusionClassifier
from ._modalities import weight_grid

__all__ = [
    "AttentionFusionClassifier",
    "EarlyFusion",
    "LateFusionClassifier",
    "weight_grid",
]
