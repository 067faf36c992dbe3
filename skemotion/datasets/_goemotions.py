"""The GoEmotions sample that ships with skemotion (Ekman's 7 classes, 4,000 comments)."""

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch

SAMPLE_FILE = "goemotions_ekman_sample.csv.gz"

# The order of GoEmotions' ekman/labels.txt: label id i is EKMAN_LABELS[i].
EKMAN_LABELS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")

_DESCR_TEMPLATE = """\
.. _goemotions_sample:

GoEmotions sample (Ekman classes)
---------------------------------

{n:,} English Reddit comments, each labelled with exactly one of Ekman's six basic
emotions or neutral, drawn from the train split of GoEmotions mapped to the Ekman
taxonomy. The sample is stratified: every class keeps its natural share, so the data
are as imbalanced as the original (disgust and fear are near 1%). Rows with more than
one label were left out. Names of people are masked as ``[NAME]`` in the source.

**Data Set Characteristics:**

:Number of instances: {n:,}
:Number of classes: {n_classes}
:Columns: text (str), emotion (str), id (Reddit comment id)
:Class counts: {counts}

How the sample was drawn (command, seed) is in ``skemotion/datasets/data/README.md``.

.. rubric:: Licence

Apache License 2.0, shipped as ``skemotion/datasets/data/LICENSE-goemotions``.

.. rubric:: References

Dorottya Demszky, Dana Movshovitz-Attias, Jeongwoo Ko, Alan Cowen, Gaurav Nemade and
Sujith Ravi. 2020. GoEmotions: A Dataset of Fine-Grained Emotions. In Proceedings of the
58th Annual Meeting of the Association for Computational Linguistics (ACL), 4040-4054.
https://arxiv.org/abs/2005.00547
"""


def load_goemotions_sample(*, return_X_y=False):
    """Load the bundled sample of GoEmotions: 4,000 Reddit comments, 7 emotions.

    The comments come from the train split of GoEmotions mapped to Ekman's classes
    (anger, disgust, fear, joy, neutral, sadness, surprise), one label each. The
    sample keeps the natural class shares, so it is imbalanced: joy and neutral make
    up 70%, disgust and fear about 1% each. It ships inside the package and loads
    offline.

    =================   ============
    Classes                        7
    Samples total               4000
    Samples per class       50-1539
    Features              text (str)
    =================   ============

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame of shape (4000, 3)
            Columns ``text`` (the comment), ``emotion`` (its label name) and
            ``id`` (the Reddit comment id).
        data : pandas.Series of shape (4000,)
            The ``text`` column: the input of a text encoder.
        target : pandas.Series of shape (4000,)
            The ``emotion`` column.
        target_names : list of str
            The 7 class names, in GoEmotions' ``labels.txt`` order.
        DESCR : str
            What the sample is, its class counts, citation and licence.

    (data, target) : tuple of two pandas.Series
        If `return_X_y` is True.

    Notes
    -----
    Cite Demszky et al. (2020), "GoEmotions: A Dataset of Fine-Grained Emotions",
    ACL. The data are under the Apache License 2.0 (the licence ships as
    ``skemotion/datasets/data/LICENSE-goemotions``).

    Examples
    --------
    >>> from skemotion.datasets import load_goemotions_sample
    >>> sample = load_goemotions_sample()
    >>> sample.frame.shape
    (4000, 3)
    >>> sample.target_names
    ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise']
    >>> int(sample.target.value_counts()["disgust"])
    50
    >>> X, y = load_goemotions_sample(return_X_y=True)
    >>> X.name, y.name
    ('text', 'emotion')
    """
    frame = _read_sample()
    if return_X_y:
        return frame["text"], frame["emotion"]
    return Bunch(
        frame=frame,
        data=frame["text"],
        target=frame["emotion"],
        target_names=list(EKMAN_LABELS),
        DESCR=_describe(frame),
    )


def _read_sample():
    """Read the shipped CSV into a DataFrame with columns text, emotion, id."""
    source = resources.files(__package__) / "data" / SAMPLE_FILE
    with resources.as_file(source) as path:
        # na_filter=False: a comment that reads "NA" or "null" is text, not missing.
        return pd.read_csv(path, dtype=str, na_filter=False)


def _describe(frame):
    """Return the DESCR text, with class counts taken from `frame`."""
    counts = frame["emotion"].value_counts()
    return _DESCR_TEMPLATE.format(
        n=len(frame),
        n_classes=len(EKMAN_LABELS),
        counts=", ".join(f"{name} {counts.get(name, 0):,}" for name in EKMAN_LABELS),
    )
