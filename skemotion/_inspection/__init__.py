"""Which modality drove a prediction, and which modality a model needs.

- :func:`modality_attributions` (``_attributions.py``): per prediction and averaged
  per class, how much each modality moved the fused probability (or, for
  :class:`~skemotion.AttentionFusionClassifier`, how much the attention looked at it);
  :class:`ModalityAttributionDisplay` (``_display.py``, exported from
  :mod:`skemotion.plots`) draws them.
- :func:`modality_importance` (``_importance.py``): permutation importance of whole
  modality blocks, on held-out folds when given a splitter.

Both find the modality blocks where a fitted model reads them (``_split.py``): the
``modalities_`` of its fusion step (:class:`~skemotion.LateFusionClassifier`,
:class:`~skemotion.StackingFusionClassifier`, :class:`~skemotion.AttentionFusionClassifier`,
:class:`~skemotion.EarlyFusion`), inside a pipeline of
:func:`~skemotion.make_multimodal_pipeline` or not. The steps before it (encoders,
speaker normalisation) transform the data once per fitted model, and the modalities
are then removed or shuffled in the fusion step's input, so no item is encoded again
for that. With ``cv``, :func:`modality_importance` refits the whole pipeline on each
fold's training part (an embedding cache spares encoding an item again).
"""

from ._attributions import modality_attributions
from ._display import ModalityAttributionDisplay
from ._importance import modality_importance

__all__ = ["ModalityAttributionDisplay", "modality_attributions", "modality_importance"]
