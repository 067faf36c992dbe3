"""Datasets for emotion recognition.

The bundled sample (:func:`load_goemotions_sample`) ships inside the package and
loads offline; it is what ``skemotion demo`` runs on.
"""

from ._goemotions import load_goemotions_sample

__all__ = ["load_goemotions_sample"]
