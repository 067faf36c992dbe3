"""MELD: the Multimodal EmotionLines Dataset (Friends dialogues), as in the MELD.Raw archive."""

import io
import re
import warnings

import pandas as pd

from ._base import DatasetInfo, check_folder, make_bunch, name_list, present_paths

LOADER = "load_meld"
EXPECTED = (
    "the MELD folder (MELD.Raw, or data/MELD of the GitHub repository) holding "
    "train_sent_emo.csv, dev_sent_emo.csv and test_sent_emo.csv, with the video folders "
    "train_splits/, dev_splits_complete/ and output_repeated_splits_test/ where unpacked"
)
SPLITS = {
    "train": "train_splits",
    "dev": "dev_splits_complete",
    "test": "output_repeated_splits_test",
}
COLUMNS = {
    "Utterance": "text",
    "Emotion": "emotion",
    "Speaker": "speaker",
    "Sentiment": "sentiment",
    "Dialogue_ID": "dialogue_id",
    "Utterance_ID": "utterance_id",
    "Season": "season",
    "Episode": "episode",
    "StartTime": "start_time",
    "EndTime": "end_time",
    "Sr No.": "sr_no",
}
TEXT_COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "StartTime", "EndTime")
# UTF-8 read as Windows-1252: "’" shows as "â€™", "é" as "Ã©".
MOJIBAKE = re.compile("â€|Ã[\u0080-\u00bf]")

INFO = DatasetInfo(
    key="meld",
    title="MELD: Multimodal EmotionLines Dataset",
    about="""
13,708 utterances from about 1,430 dialogues of the TV series Friends, each labelled
with one of seven emotions (anger, disgust, fear, joy, neutral, sadness, surprise) and a
sentiment (positive, negative, neutral). Splits: train 9,989, dev 1,109, test 2,610 utterances.
Neutral makes up almost half of every split; fear and disgust about 2-3%. Each utterance
has its transcript and, in the MELD.Raw archive, a video clip (``dia{D}_utt{U}.mp4``)
whose audio track is the speech.
""",
    columns="""
:Columns: text (the utterance), video (path of ``dia{D}_utt{U}.mp4``; only when the
    split's video folder is there; missing (NaN) for an utterance without a clip),
    emotion, group (= dialogue_id), speaker, sentiment, dialogue_id, utterance_id,
    season, episode, start_time, end_time, sr_no (the CSV's ``Sr No.``).
""",
    evaluation="""
The ``group`` is the dialogue: utterances of one dialogue share context, speakers and
often the emotion, so splitting a split further (say, for cross-validation on train)
should keep each dialogue on one side. ``speaker`` is given too, but MELD's six main
characters speak most lines in every split: the official train/dev/test splits are not
speaker-independent, and grouping by speaker would leave a few huge groups. Dialogue ids
restart in each split (train dialogue 0 is not dev dialogue 0). The standard metric is
weighted F1 over the seven emotions on the test split.
""",
    licence="""
GNU General Public License v3.0 (GPL-3.0), the licence of the MELD repository
(https://github.com/declare-lab/MELD). The clips are excerpts of Friends (Warner Bros.).
""",
    references="""
Soujanya Poria, Devamanyu Hazarika, Navonil Majumder, Gautam Naik, Erik Cambria and Rada
Mihalcea. 2019. MELD: A Multimodal Multi-Party Dataset for Emotion Recognition in
Conversations. In Proceedings of the 57th Annual Meeting of the Association for
Computational Linguistics (ACL), 527-536. https://doi.org/10.18653/v1/P19-1050
""",
    labels=("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"),
    group="dialogues",
)


def load_meld(path, *, split="train", return_X_y=False):
    """Load one split of MELD: utterance texts, video paths where present, emotions.

    Reads ``<path>/{split}_sent_emo.csv`` as distributed in ``MELD.Raw.tar.gz`` (and in
    ``data/MELD/`` of the GitHub repository). Where the split's video folder was unpacked
    as well (``train_splits/``, ``dev_splits_complete/``,
    ``output_repeated_splits_test/``, directly under `path` or under
    ``<path>/{split}/``), a ``video`` column gives each utterance's clip.

    =================   ==============================
    Classes                                          7
    Samples             9,989 / 1,109 / 2,610 (train / dev / test)
    Groups              dialogues (1,038 in train)
    Modalities          text, video (where unpacked)
    =================   ==============================

    Parameters
    ----------
    path : str or path-like
        The folder holding the three ``*_sent_emo.csv`` files; ``~`` is expanded.
    split : {"train", "dev", "test"}, default="train"
        Which split to load.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            One row per utterance, in CSV order: ``text``, ``video`` (only when the
            video folder is there; missing (NaN) where the clip is absent),
            ``emotion``, ``group`` (the dialogue id), then ``speaker``, ``sentiment``,
            ``dialogue_id``, ``utterance_id``, ``season``, ``episode``,
            ``start_time``, ``end_time`` and ``sr_no``.
        data : pandas.DataFrame
            The modality columns (``text``, and ``video`` when present).
        target : pandas.Series
            The ``emotion`` column.
        target_names : list of str
            The emotions present, in alphabetical order.
        groups : ndarray
            The dialogue id of each utterance.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` is not a folder or lacks ``{split}_sent_emo.csv``.
    ValueError
        If the CSV lacks MELD's columns or has an emotion outside MELD's seven.

    Warns
    -----
    UserWarning
        If utterances look mis-decoded ("â€™" for "’"): some copies of the CSVs went
        through a wrong encoding. They are loaded as they are; repair them with
        ``ftfy.fix_text`` or use the official files.

    Notes
    -----
    The CSVs are read as UTF-8, or as Windows-1252 where they are not valid UTF-8.
    The video clips hold the speech as their audio track: extract it (for example with
    ffmpeg) to use :class:`~skemotion.AudioFeatures`, which reads audio files.
    Cite Poria et al. (2019), ACL. The repository is under GPL-3.0.

    Examples
    --------
    >>> from skemotion.datasets import load_meld
    >>> meld = load_meld("~/data/MELD.Raw", split="test")  # doctest: +SKIP
    >>> len(meld.frame)  # doctest: +SKIP
    2610
    """
    if split not in SPLITS:
        raise ValueError(
            f"The 'split' parameter of {LOADER} must be one of {list(SPLITS)}. "
            f"Got {split!r} instead."
        )
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    csv = root / f"{split}_sent_emo.csv"
    if not csv.is_file():
        raise FileNotFoundError(f"{LOADER}: no {csv.name} in {root}; expected {EXPECTED}.")
    frame = _read_csv(csv).rename(columns=COLUMNS)[list(COLUMNS.values())]
    frame["group"] = frame["dialogue_id"]
    notes = []
    media = _media_folder(root, split)
    if media is not None:
        names = (
            "dia" + frame["dialogue_id"].astype(str) + "_utt" + frame["utterance_id"].astype(str)
        )
        frame["video"] = present_paths(media, names + ".mp4")
        notes.append(
            f"{frame['video'].notna().sum():,} of {len(frame):,} utterances have a video "
            f"clip in {media}."
        )
    modalities = ["text", "video"] if media is not None else ["text"]
    return make_bunch(frame, INFO, modalities=modalities, return_X_y=return_X_y, notes=notes)


def _read_csv(path):
    """The CSV with its text columns as read (never "NA" -> NaN), checked for MELD's columns."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    frame = pd.read_csv(
        io.StringIO(text), dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=False
    )
    missing = [column for column in COLUMNS if column not in frame]
    if missing:
        raise ValueError(
            f"{LOADER}: {path} lacks the column(s) {missing}; MELD's CSVs have {list(COLUMNS)}."
        )
    unknown = sorted(set(frame["Emotion"]) - set(INFO.labels))
    if unknown:
        raise ValueError(
            f"{LOADER}: {path} has emotion label(s) {unknown} outside MELD's {list(INFO.labels)}."
        )
    _warn_mojibake(frame["Utterance"], path)
    return frame


def _warn_mojibake(text, path):
    broken = text[text.str.contains(MOJIBAKE)]
    if len(broken):
        warnings.warn(
            f"{LOADER}: {len(broken)} utterance(s) in {path} look mis-decoded, e.g. "
            f"{name_list(broken.head(2))} (UTF-8 read as Windows-1252: 'â€™' for '’'). "
            "They are loaded as they are; repair them with ftfy.fix_text or use the "
            "official CSV.",
            UserWarning,
            stacklevel=4,
        )


def _media_folder(root, split):
    """The split's video folder, directly under `root` or under ``<root>/<split>/``."""
    for folder in (root / SPLITS[split], root / split / SPLITS[split]):
        if folder.is_dir():
            return folder
    return None
