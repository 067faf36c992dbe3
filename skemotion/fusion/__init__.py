"""Fusion of modalities: early (features), late (probabilities), stacking and attention."""

from ._attention import AttentionFusionClassifier
from ._early import EarlyFusion
from ._late import LateFusionClassifier
from ._modalities import weight_grid
from ._stacking import StackingFusionClassifier

__all__ = [
    "AttentionFusionClassifier",
    "EarlyFusion",
    "LateFusionClassifier",
    "StackingFusionClassifier",
    "weight_grid",
]
