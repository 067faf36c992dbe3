"""Datasets for emotion recognition.

The loaders read public emotion datasets from a folder, in the layout their authors
distribute, and never download: :func:`load_ravdess`, :func:`load_meld`,
:func:`load_goemotions`, :func:`load_fer2013`, :func:`load_emodb`, :func:`load_tess` and
:func:`load_cremad`. Each returns a :class:`~sklearn.utils.Bunch` whose ``frame`` has one
column per modality (file paths or text), ``emotion`` and, where the dataset has
speakers, ``group``.

A registry finds them by name: :func:`list_datasets` gives the names (``"ravdess"``,
...), :func:`get_loader` a dataset's loader and :func:`get_dataset_info` what the
loader returns (modality, label and group columns, splits) and the layout it expects.

Two small real samples ship inside the package and load offline:
:func:`load_ravdess_sample` (face action units and speech clips; what ``skemotion demo``
runs on) and :func:`load_goemotions_sample` (text; ``skemotion demo --text``).
"""

from ._cremad import load_cremad
from ._emodb import load_emodb
from ._fer2013 import load_fer2013
from ._goemotions import load_goemotions, load_goemotions_sample
from ._meld import load_meld
from ._ravdess import load_ravdess
from ._ravdess_sample import load_ravdess_sample
from ._registry import get_dataset_info, get_loader, list_datasets
from ._tess import load_tess

__all__ = [
    "get_dataset_info",
    "get_loader",
    "list_datasets",
    "load_cremad",
    "load_emodb",
    "load_fer2013",
    "load_goemotions",
    "load_goemotions_sample",
    "load_meld",
    "load_ravdess",
    "load_ravdess_sample",
    "load_tess",
]
