"""EmoDB: the Berlin Database of Emotional Speech (German, 10 actors)."""

import re

from ._base import (
    DatasetInfo,
    alternatives,
    check_folder,
    make_bunch,
    parse_folder,
    subfolder_or_root,
)

LOADER = "load_emodb"
EXPECTED = (
    "the EmoDB folder holding wav/ (or that wav/ folder itself) with files named like "
    "03a01Fa.wav: speaker (03, 08-16), text code (a01-a07, b01-b10), emotion letter "
    "(W, L, E, A, F, T, N), version letter"
)
# The letters stand for the German words: Wut/Ärger, Langeweile, Ekel, Angst, Freude,
# Trauer, Neutral.
EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
# Speaker: (gender, age at recording), from the EmoDB documentation.
SPEAKERS = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}
PATTERN = re.compile(
    f"(?P<speaker>{alternatives(SPEAKERS)})(?P<text>[ab]\\d\\d)"
    f"(?P<emotion>{alternatives(EMOTIONS)})(?P<version>[a-z])\\.wav",
    re.IGNORECASE,
)

INFO = DatasetInfo(
    key="emodb",
    title="EmoDB: Berlin Database of Emotional Speech",
    about="""
535 German utterances by 10 professional actors (5 female, 5 male), each speaking 10
everyday sentences (5 short, 5 longer; text codes a01-a07, b01-b10) in seven emotions:
anger, boredom, disgust, fear (anxiety), happiness, sadness and neutral, as judged by a
listening test. Anger is the largest class (127), disgust the smallest (46).
""",
    columns="""
:Columns: audio (path of the .wav file), emotion, group (= speaker), speaker (3-16),
    gender, age (at recording), text_code (a01 ... b10: which sentence), version (a, b,
    ...: a second take of the same sentence and emotion).
""",
    evaluation="""
Evaluate speaker-independently: pass ``groups`` (the speaker) to a group-aware splitter
such as ``skemotion.speaker_cv()``, or leave one speaker out. With 10 speakers, each
fold of a 5-fold split holds out 2 speakers.
""",
    licence="""
Distributed free of charge by the authors for research (http://emodb.bilderbar.info);
no open licence is stated. Cite the paper below.
""",
    references="""
Felix Burkhardt, Astrid Paeschke, Miriam Rolfes, Walter F. Sendlmeier and Benjamin
Weiss. 2005. A Database of German Emotional Speech. In Proceedings of Interspeech 2005,
1517-1520. https://doi.org/10.21437/Interspeech.2005-446
""",
    labels=tuple(EMOTIONS.values()),
    group="speakers",
)


def load_emodb(path, *, return_X_y=False):
    """Load EmoDB from its folder: German acted speech, seven emotions, 10 speakers.

    Reads the folder as the authors distribute it, unpacked:
    ``<path>/wav/03a01Fa.wav``, or the ``wav`` folder itself. Every label comes from the
    file name: speaker (2 digits), text code, emotion letter (German initial), version
    letter. Files are listed, not opened; the other folders (``lablaut``, ``silb``, ...)
    are not read.

    =================   ==============
    Classes                          7
    Samples                        535
    Groups                 10 speakers
    Modalities                   audio
    =================   ==============

    Parameters
    ----------
    path : str or path-like
        The EmoDB folder (holding ``wav/``) or its ``wav`` folder; ``~`` is expanded.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            One row per file: ``audio`` (absolute path), ``emotion``, ``group`` (the
            speaker), ``speaker``, ``gender``, ``age``, ``text_code``, ``version``.
        data : pandas.DataFrame
            The ``audio`` column.
        target : pandas.Series
            The ``emotion`` column.
        target_names : list of str
            The emotions present, in the order W, L, E, A, F, T, N.
        groups : ndarray
            The speaker of each row.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` is not a folder or holds no .wav files (in it or in ``wav/``).
    ValueError
        If a .wav file is not named by the EmoDB scheme; the error names it.

    Notes
    -----
    Cite Burkhardt et al. (2005), Interspeech. Hidden files are ignored.

    Examples
    --------
    >>> from skemotion.datasets import load_emodb
    >>> emodb = load_emodb("~/data/emodb")  # doctest: +SKIP
    >>> emodb.frame.shape, len(set(emodb.groups))  # doctest: +SKIP
    ((535, 8), 10)
    """
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    folder = subfolder_or_root(root, "wav")
    files = parse_folder(folder, PATTERN, {".wav"}, loader=LOADER, expected=EXPECTED)
    speaker = files["speaker"]
    frame = files.assign(
        audio=files["path"],
        emotion=files["emotion"].str.upper().map(EMOTIONS),
        group=speaker.astype(int),
        speaker=speaker.astype(int),
        gender=speaker.map(lambda s: SPEAKERS[s][0]),
        age=speaker.map(lambda s: SPEAKERS[s][1]),
        text_code=files["text"].str.lower(),
        version=files["version"].str.lower(),
    ).drop(columns=["path", "text"])
    return make_bunch(frame, INFO, modalities=["audio"], return_X_y=return_X_y)
