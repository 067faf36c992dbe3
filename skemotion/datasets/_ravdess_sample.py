"""The RAVDESS sample that ships with skemotion: 192 speech clips with facial action units."""

from importlib import resources
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

from ._ravdess import EMOTIONS

SAMPLE_FOLDER = "ravdess_sample"
SAMPLE_TABLE = "clips.csv"

# RAVDESS emotion codes 01-08, in code order.
RAVDESS_EMOTIONS = tuple(EMOTIONS.values())

_DESCR_TEMPLATE = """\
.. _ravdess_sample:

RAVDESS sample: speech clips and facial action units
----------------------------------------------------

{n} speech clips of the Ryerson Audio-Visual Database of Emotional Speech and Song
(RAVDESS), one per emotion per actor for all {n_actors} actors (12 female, 12 male), with
the facial action units of the same takes: an aligned face + voice set. Each actor says
"Kids are talking by the door" or "Dogs are sitting by the door" with one of 8
emotions, at normal or strong intensity (neutral: normal only). The transcript carries
no emotion. The audio is 16 kHz mono FLAC (resampled from the 48 kHz originals); the
{n_au} ``au_*`` values are OpenFace clip means of 17 action-unit intensities and 18
action-unit presences, computed from the audio-visual recording of the same take.

**Data Set Characteristics:**

:Number of instances: {n}
:Number of classes: {n_classes}
:Class counts: {counts}
:Modalities: audio (file paths), face (action units, precomputed)
:Groups: {n_actors} actors (the ``group`` column)
:Columns: audio (absolute path of the FLAC file), emotion, group (= actor, 1-24),
    gender (odd actors male), intensity (normal or strong), statement (1 or 2),
    repetition (1 or 2), au_00 ... au_34

Evaluate speaker-independently: pass ``groups`` to a group-aware splitter such as
``skemotion.speaker_cv()``. Random splits put the same actor in training and test and
inflate accuracy badly (published on the full set: 95.8% on a random split vs 48.1%
leave-one-speaker-out).

How the sample was drawn (command, seed, checksums) is in
``skemotion/datasets/data/ravdess_sample/README.md``.

.. rubric:: Licence

Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA
4.0): non-commercial use only, adaptations shared alike, with credit to the authors.
These files are not under skemotion's BSD-3-Clause licence; the notice ships as
``skemotion/datasets/data/ravdess_sample/LICENSE``.

.. rubric:: References

Livingstone SR, Russo FA (2018) The Ryerson Audio-Visual Database of Emotional Speech
and Song (RAVDESS): A dynamic, multimodal set of facial and vocal expressions in North
American English. PLoS ONE 13(5): e0196391. https://doi.org/10.1371/journal.pone.0196391
"""


def load_ravdess_sample(*, return_X_y=False):
    """Load the bundled RAVDESS sample: 192 speech clips and their facial action units.

    One clip per emotion per actor, for the 24 actors of RAVDESS speech: 8 emotions
    (neutral, calm, happy, sad, angry, fearful, disgust, surprised), 24 clips each. Each
    row holds the path of a real 16 kHz FLAC clip, for :class:`~skemotion.AudioFeatures`
    or :class:`~skemotion.AudioEncoder`, and the 35 facial action units of the same
    take, ready to pass through. It ships inside the package and loads offline.

    =================   ==============================
    Classes                                          8
    Samples total                                  192
    Samples per class                               24
    Groups                                   24 actors
    Features             audio path, 35 action units
    =================   ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame of shape (192, 42)
            Columns ``audio`` (absolute path of the clip), ``emotion``, ``group`` (the
            actor, 1-24), ``gender``, ``intensity``, ``statement``, ``repetition``, then
            the action units ``au_00`` ... ``au_34`` (float).
        data : pandas.DataFrame of shape (192, 36)
            The model inputs: ``audio`` and the ``au_*`` columns, the input of
            :func:`~skemotion.make_multimodal_pipeline`.
        target : pandas.Series of shape (192,)
            The ``emotion`` column.
        target_names : list of str
            The 8 emotions, in RAVDESS code order.
        groups : ndarray of shape (192,)
            The actor of each clip: pass it as ``groups`` to a speaker-independent
            splitter.
        feature_names : dict of str to list of str
            The input columns of each modality: ``{"audio": ["audio"], "face": [au_...]}``.
        DESCR : str
            What the sample is, its class counts, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Notes
    -----
    Cite Livingstone & Russo (2018), "The Ryerson Audio-Visual Database of Emotional
    Speech and Song (RAVDESS)", PLoS ONE 13(5): e0196391. The data are under CC BY-NC-SA
    4.0 (non-commercial, share alike), not skemotion's BSD licence; the notice ships as
    ``skemotion/datasets/data/ravdess_sample/LICENSE``.

    Examples
    --------
    >>> from skemotion.datasets import load_ravdess_sample
    >>> sample = load_ravdess_sample()
    >>> sample.frame.shape
    (192, 42)
    >>> sample.target.value_counts().unique().tolist()
    [24]
    >>> len(set(sample.groups)), len(sample.feature_names["face"])
    (24, 35)
    >>> sample.frame["audio"].iloc[0].endswith("03-01-01-01-02-02-01.flac")
    True
    """
    folder = _sample_folder()
    table = pd.read_csv(
        folder / SAMPLE_TABLE, dtype={"path": str, "emotion": str, "gender": str, "intensity": str}
    )
    au = [column for column in table if column.startswith("au_")]
    frame = pd.DataFrame(
        {
            "audio": [str(folder / name) for name in table["path"]],
            "emotion": table["emotion"],
            "group": table["actor"].astype(int),
            "gender": table["gender"],
            "intensity": table["intensity"],
            "statement": table["statement"].astype(int),
            "repetition": table["repetition"].astype(int),
        }
    )
    frame = pd.concat([frame, table[au].astype(float)], axis=1)
    data = frame[["audio", *au]]
    if return_X_y:
        return data, frame["emotion"]
    return Bunch(
        frame=frame,
        data=data,
        target=frame["emotion"],
        target_names=list(RAVDESS_EMOTIONS),
        groups=frame["group"].to_numpy(),
        feature_names={"audio": ["audio"], "face": au},
        DESCR=_describe(frame, len(au)),
    )


def _sample_folder():
    """The folder of the shipped sample, as a real directory (the clips are opened by path)."""
    folder = Path(str(resources.files(__package__) / "data" / SAMPLE_FOLDER))
    if not (folder / SAMPLE_TABLE).is_file():
        raise FileNotFoundError(
            f"The RAVDESS sample is not installed: {folder / SAMPLE_TABLE} is missing. "
            "Reinstall skemotion from a wheel or source tree that includes "
            "skemotion/datasets/data/ravdess_sample/ (pip install --force-reinstall skemotion)."
        )
    return folder


def _describe(frame, n_au):
    """Return the DESCR text, with counts taken from `frame`."""
    counts = frame["emotion"].value_counts()
    return _DESCR_TEMPLATE.format(
        n=len(frame),
        n_actors=frame["group"].nunique(),
        n_au=n_au,
        n_classes=len(RAVDESS_EMOTIONS),
        counts=", ".join(f"{name} {counts.get(name, 0)}" for name in RAVDESS_EMOTIONS),
    )
