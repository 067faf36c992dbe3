"""TESS: the Toronto emotional speech set (two actresses, 200 words, 7 emotions)."""

import re
from pathlib import Path

import pandas as pd

from ._base import (
    DatasetInfo,
    alternatives,
    check_folder,
    check_unique,
    make_bunch,
    parse_folder,
)

LOADER = "load_tess"
EXPECTED = (
    "the TESS folder: .wav files named <speaker>_<word>_<emotion>.wav (speaker OAF or "
    "YAF; emotion angry, disgust, fear, happy, neutral, ps or pleasant_surprise(d), sad), "
    "directly in it (as on Borealis) or in subfolders such as OAF_angry/ (as on Kaggle)"
)
EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "pleasant surprise",
    "pleasant_surprise": "pleasant surprise",
    "pleasant_surprised": "pleasant surprise",
    "sad": "sad",
}
# OAF: older adult female, YAF: younger adult female; age at recording.
AGES = {"OAF": 64, "YAF": 26}
# The release itself (and every copy of it: Borealis, Kaggle) names one of OAF's
# recordings OA_bite_neutral.wav, in OAF_neutral/. That one file is read as OAF's; any
# other "OA_" file is not part of TESS and is refused like any misnamed file.
MISNAMED_SPEAKERS = {"oa_bite_neutral.wav": "OAF"}  # lower case: names match in any case
_QUIRKS = "|".join(
    re.escape(name.split("_", 1)[0]) + f"(?=_{re.escape(name.split('_', 1)[1])}$)"
    for name in MISNAMED_SPEAKERS
)
PATTERN = re.compile(
    f"(?P<speaker>{alternatives(AGES)}|{_QUIRKS})_(?P<word>[^_]+)"
    f"_(?P<emotion>{alternatives(EMOTIONS)})\\.wav",
    re.IGNORECASE,
)

INFO = DatasetInfo(
    key="tess",
    title="TESS: Toronto emotional speech set",
    about="""
2,800 recordings of two actresses from the Toronto area, aged 26 (YAF) and 64 (OAF),
each saying the carrier phrase "Say the word ..." with 200 target words (from the
Northwestern University Auditory Test No. 6) in seven emotions: angry, disgust, fear,
happy, neutral, pleasant surprise and sad. The set is balanced: 400 files per emotion,
1,400 per speaker.
""",
    columns="""
:Columns: audio (path of the .wav file), emotion, group (= speaker), speaker (OAF or
    YAF), age (64 or 26), word (the target word), transcript ("Say the word <word>").
""",
    evaluation="""
Only two speakers: speaker-independent cross-validation is 2-fold at most (train on one
actress, test on the other), and a random split, which puts both speakers in training
and test, gives near-perfect and meaningless scores. TESS is best used as an extra
training set or as a cross-corpus test set.
""",
    licence="""
Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International
(CC BY-NC-ND 4.0), as published on Borealis, the Canadian Dataverse Repository
(https://doi.org/10.5683/SP2/E8H2MF).
""",
    references="""
M. Kathleen Pichora-Fuller and Kate Dupuis. 2020. Toronto emotional speech set (TESS).
Borealis, V1. https://doi.org/10.5683/SP2/E8H2MF
""",
    labels=tuple(dict.fromkeys(EMOTIONS.values())),
    group="speakers",
)


def load_tess(path, *, return_X_y=False):
    """Load TESS from its folder: two speakers, 200 words, seven emotions.

    Reads every ``.wav`` under `path`, at any depth: the files lie flat in the Borealis
    download and in emotion folders (``OAF_angry/``, ``OAF_Pleasant_surprise/``,
    ``YAF_pleasant_surprised/``, ...) in the Kaggle copy. Every label comes from the
    file name, ``<speaker>_<word>_<emotion>.wav``, not from the folder; ``ps`` and
    ``pleasant_surprise(d)`` all read as "pleasant surprise". Files are listed, not
    opened.

    =================   ==============
    Classes                          7
    Samples                      2,800
    Groups                  2 speakers
    Modalities                   audio
    =================   ==============

    Parameters
    ----------
    path : str or path-like
        The TESS folder; ``~`` is expanded.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            One row per file: ``audio`` (absolute path), ``emotion``, ``group`` (the
            speaker), ``speaker``, ``age``, ``word``, ``transcript``.
        data : pandas.DataFrame
            The ``audio`` column.
        target : pandas.Series
            The ``emotion`` column.
        target_names : list of str
            The emotions present.
        groups : ndarray
            The speaker of each row, ``"OAF"`` or ``"YAF"``.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` is not a folder or holds no .wav files.
    ValueError
        If a .wav file is not named by the TESS scheme, or if two files are the same
        recording (a copy of the set nested in itself, as in some archives); the error
        names them.

    Notes
    -----
    Two speakers make speaker-independent cross-validation 2-fold at most. The release
    names one of OAF's files ``OA_bite_neutral.wav`` (in ``OAF_neutral/``): it is read
    as OAF's, as it is; any other file off the naming scheme is an error.
    Cite Pichora-Fuller & Dupuis (2020); the data are under CC BY-NC-ND 4.0.
    Hidden files and ``__MACOSX`` folders are ignored.

    Examples
    --------
    >>> from skemotion.datasets import load_tess
    >>> tess = load_tess("~/data/TESS")  # doctest: +SKIP
    >>> tess.frame.groupby("speaker").size().to_dict()  # doctest: +SKIP
    {'OAF': 1400, 'YAF': 1400}
    """
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    files = parse_folder(root, PATTERN, {".wav"}, loader=LOADER, expected=EXPECTED, recursive=True)
    names = files["path"].map(lambda path: Path(path).name.lower())
    speaker = (
        files["speaker"]
        .str.upper()
        .where(~names.isin(list(MISNAMED_SPEAKERS)), names.map(MISNAMED_SPEAKERS))
    )
    word = files["word"].str.lower()
    frame = pd.DataFrame(
        {
            "audio": files["path"],
            "emotion": files["emotion"].str.lower().map(EMOTIONS),
            "group": speaker,
            "speaker": speaker,
            "age": speaker.map(AGES),
            "word": word,
            "transcript": "Say the word " + word,
        }
    )
    check_unique(frame, ["speaker", "word", "emotion"], loader=LOADER, paths="audio")
    return make_bunch(frame, INFO, modalities=["audio"], return_X_y=return_X_y)
