"""CREMA-D: the Crowd-sourced Emotional Multimodal Actors Dataset (91 actors)."""

import io
import re
from pathlib import Path

import pandas as pd

from ._base import (
    DatasetInfo,
    alternatives,
    check_folder,
    make_bunch,
    name_list,
    parse_folder,
    present_paths,
    read_utf8,
    subfolder_or_root,
)

LOADER = "load_cremad"
EXPECTED = (
    "the CREMA-D repository folder holding AudioWAV/ (or that AudioWAV folder itself) "
    "with files named like 1001_DFA_ANG_XX.wav: actor 1001-1091, sentence code (DFA, "
    "IEO, ...), emotion (ANG, DIS, FEA, HAP, NEU, SAD), level (LO, MD, HI, XX)"
)
EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
# The first letters that processedResults/summaryTable.csv votes with.
VOTES = {code[0]: name for code, name in EMOTIONS.items()}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock.",
    "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
PATTERN = re.compile(
    r"(?P<actor>10(?:0[1-9]|[1-8]\d|9[01]))"
    f"_(?P<sentence>{alternatives(SENTENCES)})_(?P<emotion>{alternatives(EMOTIONS)})"
    f"_(?P<level>{alternatives(LEVELS)})\\.wav",
)
DEMOGRAPHICS = {
    "ActorID": "actor",
    "Age": "age",
    "Sex": "sex",
    "Race": "race",
    "Ethnicity": "ethnicity",
}
SUMMARY = {
    "FileName": "file",
    "VoiceVote": "voice_vote",
    "VoiceLevel": "voice_level",
    "FaceVote": "face_vote",
    "FaceLevel": "face_level",
    "MultiModalVote": "multimodal_vote",
    "MultiModalLevel": "multimodal_level",
}
VOTE_COLUMNS = {source: column for source, column in SUMMARY.items() if source.endswith("Vote")}

INFO = DatasetInfo(
    key="cremad",
    title="CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset",
    about="""
7,442 audio-visual clips of 91 actors (48 male, 43 female, aged 20 to 74, of various
races and ethnicities) speaking 12 sentences in six emotions (anger, disgust, fear,
happy, neutral, sad) and, for one sentence (IEO), at three levels (low, medium, high;
the others are unspecified). 2,443 raters judged the clips as audio only, video only and
audio-visual; the votes are in ``processedResults/``. Neutral has 1,087 clips, every
other emotion 1,271.
""",
    columns="""
:Columns: audio (path of the AudioWAV file), video (path of the VideoFlash .flv, when
    that folder is there), emotion (the emotion the actor was asked to show), group
    (= actor), actor (1001-1091), sentence (code), transcript, level; from
    VideoDemographics.csv when present: age, sex, race, ethnicity; from
    processedResults/summaryTable.csv when present: voice_vote, voice_level,
    face_vote, face_level, multimodal_vote, multimodal_level (the raters' majority
    emotion(s), colon-separated where tied, and mean level).
""",
    evaluation="""
Evaluate speaker-independently: pass ``groups`` (the actor) to a group-aware splitter such
as ``skemotion.speaker_cv()``. The labels are the intended emotions; the raters' votes
often differ (voice-only agreement is lowest), which the vote columns let you study or
filter on. Known faulty files (repository README): 1076_MTI_SAD_XX has no audio;
1076_MTI_NEU_XX, 1064_TIE_SAD_XX and 1064_IEO_DIS_MD have faulty MP3 or video versions.
""",
    licence="""
Open Database License (ODbL) v1.0; the contents under the Database Contents License
(DbCL) v1.0 (https://github.com/CheyneyComputerScience/CREMA-D).
""",
    references="""
Houwei Cao, David G. Cooper, Michael K. Keutmann, Ruben C. Gur, Ani Nenkova and Ragini
Verma. 2014. CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset. IEEE
Transactions on Affective Computing 5(4): 377-390.
https://doi.org/10.1109/TAFFC.2014.2336244
""",
    labels=tuple(EMOTIONS.values()),
    group="actors",
)


def load_cremad(path, *, return_X_y=False):
    """Load CREMA-D from its repository folder: 91 actors, six emotions, audio and video.

    Reads the layout of the CREMA-D repository (https://github.com/CheyneyComputerScience/
    CREMA-D, with its git-lfs files): ``<path>/AudioWAV/1001_DFA_ANG_XX.wav``, or the
    ``AudioWAV`` folder itself. Every label comes from the file name: actor, sentence,
    emotion, level. Where they are there, the loader also reads
    ``VideoFlash/<name>.flv`` (a ``video`` column), ``VideoDemographics.csv`` (actor age,
    sex, race, ethnicity) and ``processedResults/summaryTable.csv`` (the raters'
    majority votes). Media files are listed, not opened.

    =================   ==============
    Classes                          6
    Samples                      7,442
    Groups                   91 actors
    Modalities          audio, video (where VideoFlash/ is there)
    =================   ==============

    Parameters
    ----------
    path : str or path-like
        The CREMA-D folder (holding ``AudioWAV/``) or its ``AudioWAV`` folder; ``~`` is
        expanded.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            One row per audio file: ``audio``, ``video`` (when ``VideoFlash/`` is there;
            missing (NaN) where a clip lacks its .flv), ``emotion``, ``group`` (the
            actor), ``actor``, ``sentence``, ``transcript``, ``level``, then the
            demographic and vote columns when their tables are there.
        data : pandas.DataFrame
            The modality columns.
        target : pandas.Series
            The ``emotion`` column (the intended emotion).
        target_names : list of str
            The emotions present.
        groups : ndarray
            The actor of each row.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` is not a folder or holds no .wav files (in it or in ``AudioWAV/``).
    ValueError
        If a .wav file is not named by the CREMA-D scheme; the error names it. If
        ``VideoDemographics.csv`` or ``summaryTable.csv`` is not UTF-8, lacks one of
        its columns, lists an actor or a clip twice, or (the summary table) has a vote
        letter outside A, D, F, H, N, S; the error names the file and what is wrong.

    Notes
    -----
    Vote letters are mapped to the emotion names (``A:D`` reads ``anger:disgust``).
    Cite Cao et al. (2014), IEEE Transactions on Affective Computing. The data are
    under ODbL 1.0 / DbCL 1.0. Hidden files are ignored.

    Examples
    --------
    >>> from skemotion.datasets import load_cremad
    >>> crema = load_cremad("~/data/CREMA-D")  # doctest: +SKIP
    >>> len(crema.frame), len(set(crema.groups))  # doctest: +SKIP
    (7442, 91)
    """
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    folder = subfolder_or_root(root, "AudioWAV")
    files = parse_folder(folder, PATTERN, {".wav"}, loader=LOADER, expected=EXPECTED)
    actor = files["actor"].astype(int)
    frame = pd.DataFrame(
        {
            "audio": files["path"],
            "emotion": files["emotion"].map(EMOTIONS),
            "group": actor,
            "actor": actor,
            "sentence": files["sentence"],
            "transcript": files["sentence"].map(SENTENCES),
            "level": files["level"].map(LEVELS),
        }
    )
    stems = files["path"].map(lambda p: Path(p).stem)
    modalities = ["audio"]
    if (root / "VideoFlash").is_dir():
        frame["video"] = present_paths(root / "VideoFlash", stems + ".flv")
        modalities.append("video")
    frame = _merge_demographics(frame, root / "VideoDemographics.csv")
    frame = _merge_votes(frame, stems, root / "processedResults" / "summaryTable.csv")
    return make_bunch(frame, INFO, modalities=modalities, return_X_y=return_X_y)


def _merge_demographics(frame, table):
    """`frame` with the actors' age, sex, race and ethnicity, where `table` exists."""
    if not table.is_file():
        return frame
    demographics = _read_table(table, DEMOGRAPHICS, key="ActorID", each="actor")
    return frame.merge(demographics, on="actor", how="left", validate="many_to_one")


def _merge_votes(frame, stems, table):
    """`frame` with the raters' majority votes per clip, where `table` exists."""
    if not table.is_file():
        return frame
    votes = _read_table(table, SUMMARY, key="FileName", each="clip", dtype=str)
    for source, column in VOTE_COLUMNS.items():
        votes[column] = [
            vote if pd.isna(vote) else _vote_names(vote, table=table, clip=clip, column=source)
            for clip, vote in zip(votes["file"], votes[column], strict=True)
        ]
    merged = frame.assign(file=stems.to_numpy()).merge(
        votes, on="file", how="left", validate="one_to_one"
    )
    return merged.drop(columns="file")


def _read_table(path, columns, *, key, each, dtype=None):
    """The CSV at `path`, its `columns` renamed; an error naming the file where it is off.

    Checked here, so that a table that is not UTF-8, lacks a column or lists a `key`
    twice is refused in words, not with pandas' KeyError or MergeError.
    """
    table = pd.read_csv(io.StringIO(read_utf8(path, loader=LOADER)), dtype=dtype)
    missing = [column for column in columns if column not in table]
    if missing:
        raise ValueError(
            f"{LOADER}: {path} lacks the column(s) {missing}; it has {list(table.columns)}. "
            f"CREMA-D's {path.name} has {list(columns)}: take it from the CREMA-D "
            f"repository, or move it out of {path.parent} to load without it."
        )
    repeated = table.loc[table[key].duplicated(), key].unique()
    if len(repeated):
        raise ValueError(
            f"{LOADER}: {path} lists {key} {name_list(repeated)} more than once; keep one "
            f"row per {each} (or take the table from the CREMA-D repository) and load again."
        )
    return table.rename(columns=columns)[list(columns.values())]


def _vote_names(vote, *, table, clip, column):
    """``"A:D"`` -> ``"anger:disgust"``: the summary table's letters as emotion names.

    A letter outside VOTES is an error: kept as it is, it would pass for a seventh emotion.
    """
    letters = vote.split(":")
    unknown = [letter for letter in letters if letter not in VOTES]
    if unknown:
        allowed = ", ".join(f"{letter} ({name})" for letter, name in VOTES.items())
        raise ValueError(
            f"{LOADER}: {table}, clip {clip!r}: {column} {vote!r} has the letter(s) "
            f"{unknown}; the votes use {allowed}, colon-separated. Correct the row (or take "
            "the table from the CREMA-D repository) and load again."
        )
    return ":".join(VOTES[letter] for letter in letters)
