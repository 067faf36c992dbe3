"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song, as on Zenodo."""

import re

from ._base import (
    DatasetInfo,
    check_folder,
    check_unique,
    list_files,
    make_bunch,
    name_list,
    parse_names,
    require,
)

LOADER = "load_ravdess"
EXPECTED = (
    "the RAVDESS folder as unpacked from Zenodo: <root>/Actor_01/03-01-01-01-01-01-01.wav "
    "(audio-only; .flac also read) or <root>/Actor_01/01-01-01-01-01-01-01.mp4 (video), "
    "named MM-VC-EE-II-SS-RR-AA: modality 01 full-AV, 02 video-only, 03 audio-only; vocal "
    "channel 01 speech, 02 song; emotion 01-08; intensity 01-02; statement 01-02; "
    "repetition 01-02; actor 01-24"
)

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
VOCAL_CHANNELS = {"speech": {"speech"}, "song": {"song"}, "all": {"speech", "song"}}

# The lookahead ties the extension to the modality: audio-only takes are .wav/.flac,
# full-AV and video-only takes are .mp4.
PATTERN = re.compile(
    r"(?=03-.*\.(?:wav|flac)$|0[12]-.*\.mp4$)"
    r"(?P<modality>0[1-3])-(?P<channel>0[12])-(?P<emotion>0[1-8])-(?P<intensity>0[12])-"
    r"(?P<statement>0[12])-(?P<repetition>0[12])-(?P<actor>0[1-9]|1\d|2[0-4])\.\w+",
    re.IGNORECASE,
)
TAKE = ["channel", "emotion", "intensity", "statement", "repetition", "actor"]

INFO = DatasetInfo(
    key="ravdess",
    title="RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song",
    about="""
24 professional actors (12 female, 12 male) speak two lexically matched statements in a
neutral North American accent, with calm, happy, sad, angry, fearful, surprised and
disgusted expressions (speech), and sing them with calm, happy, sad, angry and fearful
expressions (song), each at normal and strong intensity, plus neutral. Every take exists
as audio-only (.wav), full audio-visual and video-only (.mp4) files of the same recording,
so audio and video are aligned. The full speech set has 1,440 audio clips (60 per actor):
neutral 96, every other emotion 192.
""",
    columns="""
:Columns: audio (path of the audio-only file, when present), video (path of the full
    audio-visual .mp4, or of the video-only .mp4 where only that is present), emotion,
    group (= actor), actor (1-24), gender (odd actors male), vocal_channel (speech or
    song), intensity (normal or strong; neutral has normal only), statement (1 or 2),
    transcript (the statement's words), repetition (1 or 2).

The transcript is the same two sentences for every emotion: it carries no emotion, so
it is a metadata column, not a ``text`` modality.
""",
    evaluation="""
Evaluate speaker-independently: pass ``groups`` (the actor) to a group-aware splitter such
as ``skemotion.speaker_cv()``. Random splits put the same actor in training and test and
inflate accuracy badly (published: 95.8% on a random split vs 48.1% leave-one-speaker-out).
""",
    licence="""
Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0),
as published on Zenodo (https://zenodo.org/record/1188976).
""",
    references="""
Steven R. Livingstone and Frank A. Russo. 2018. The Ryerson Audio-Visual Database of
Emotional Speech and Song (RAVDESS): A dynamic, multimodal set of facial and vocal
expressions in North American English. PLoS ONE 13(5): e0196391.
https://doi.org/10.1371/journal.pone.0196391
""",
    labels=tuple(EMOTIONS.values()),
    group="actors",
)


def load_ravdess(path, *, vocal_channel="speech", return_X_y=False):
    """Load RAVDESS from its folder: actors' speech or song, audio and video paths.

    Reads the layout of the Zenodo archives (``Audio_Speech_Actors_01-24.zip``,
    ``Audio_Song_Actors_01-24.zip``, ``Video_Speech_Actor_XX.zip``, ...) unpacked into
    one folder: ``<path>/Actor_XX/`` holding files named
    ``MM-VC-EE-II-SS-RR-AA.wav`` (or ``.flac``, ``.mp4``). Every label comes from the file
    name; no label file is needed and none is read. Files are listed, not opened.

    =================   ==========================================
    Classes             8 (speech), 6 (song: no disgust, surprised)
    Samples (speech)    1,440 audio clips; neutral 96, others 192
    Groups              24 actors
    Modalities          audio, video (where the .mp4 files are there)
    =================   ==========================================

    Parameters
    ----------
    path : str or path-like
        The folder holding the ``Actor_01`` ... ``Actor_24`` folders; ``~`` is expanded.
    vocal_channel : {"speech", "song", "all"}, default="speech"
        Which takes to load, by the file name's vocal-channel code (02-01-... speech,
        ...-02-... song). (RAVDESS calls the audio/video/AV code "modality": this loader
        keeps every modality it finds, one column each.)
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            One row per take. Modality columns ``audio`` (path of the audio-only file)
            and ``video`` (path of the full audio-visual .mp4, else of the video-only
            .mp4), each present when such files were found and missing (NaN) for a
            take that lacks it; ``emotion``; ``group`` (the actor, 1-24); then ``actor``,
            ``gender``, ``vocal_channel``, ``intensity``, ``statement``, ``transcript``
            and ``repetition``.
        data : pandas.DataFrame
            The modality columns: the input of :func:`~skemotion.make_multimodal_pipeline`.
        target : pandas.Series
            The ``emotion`` column.
        target_names : list of str
            The emotions present, in RAVDESS code order.
        groups : ndarray
            The actor of each row: pass it as ``groups`` to a speaker-independent splitter.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` is not a folder, or holds no ``Actor_XX`` folders with RAVDESS files.
    ValueError
        If a .wav/.flac/.mp4 file in an ``Actor_XX`` folder is not named by the RAVDESS
        scheme (the error names it: move it out), if two files are the same take (say a
        .wav and a .flac), if an ``Actor_XX`` folder holds another one (an archive
        unpacked into a folder of its own name: move its files up), or if no take of the
        requested `vocal_channel` is there.
    PermissionError
        If an ``Actor_XX`` folder cannot be read; the error names it.

    Notes
    -----
    Cite Livingstone & Russo (2018), PLoS ONE 13(5): e0196391. The data are under
    CC BY-NC-SA 4.0 (non-commercial). Hidden files (``.DS_Store``, ``._*``) are ignored.

    Examples
    --------
    >>> from skemotion.datasets import load_ravdess
    >>> ravdess = load_ravdess("~/data/ravdess")  # doctest: +SKIP
    >>> ravdess.frame.shape  # doctest: +SKIP
    (1440, 11)
    >>> ravdess.target.value_counts()["neutral"]  # doctest: +SKIP
    96
    """
    if vocal_channel not in VOCAL_CHANNELS:
        raise ValueError(
            f"The 'vocal_channel' parameter of {LOADER} must be one of "
            f"{sorted(VOCAL_CHANNELS)}. Got {vocal_channel!r} instead."
        )
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    files = [
        file
        for folder in sorted(root.glob("Actor_*"))
        if folder.is_dir()
        for file in _actor_files(folder)
    ]
    what = "Actor_XX folders with .wav/.flac/.mp4 files"
    require(files, loader=LOADER, what=what, root=root, expected=EXPECTED)
    files = parse_names(files, PATTERN, loader=LOADER, expected=EXPECTED)
    check_unique(files, ["modality", *TAKE], loader=LOADER)
    channel = files["channel"].map(CHANNELS)
    wanted = files[channel.isin(VOCAL_CHANNELS[vocal_channel])]
    if wanted.empty:
        raise ValueError(
            f"{LOADER}: no {vocal_channel} takes under {root} (found "
            f"{channel.value_counts().to_dict()}); pass vocal_channel='all' or the "
            "channel you have."
        )
    frame = _takes(wanted)
    modalities = [column for column in ("audio", "video") if column in frame]
    return make_bunch(frame, INFO, modalities=modalities, return_X_y=return_X_y)


def _actor_files(folder):
    """The media files of one ``Actor_XX`` folder; an error if it holds another one.

    An archive unpacked into a folder of its own name gives ``Actor_02/Actor_02/*.wav``:
    only the top folder is read, so the actor's takes would be missing without a word.
    """
    files = list_files(folder, {".wav", ".flac", ".mp4"})
    nested = sorted(sub for sub in folder.glob("Actor_*") if sub.is_dir())
    if nested:
        raise ValueError(
            f"{LOADER}: {folder} holds the folder(s) {name_list(sub.name for sub in nested)}, "
            "as when an archive is unpacked into a folder of its own name; only files "
            f"directly in {folder.name} are read. Move the files of {nested[0]} up into "
            f"{folder} (and delete the empty folder) and load again."
        )
    return files


def _takes(files):
    """One row per take: its audio and video paths side by side, and its metadata."""
    files = files.assign(column=files["modality"].map({"01": "video", "02": "video"}))
    files["column"] = files["column"].fillna("audio")
    # Full-AV (01) sorts before video-only (02): keep it where a take has both.
    files = files.sort_values(["modality", "path"]).drop_duplicates([*TAKE, "column"])
    frame = files.pivot(index=TAKE, columns="column", values="path").reset_index()
    frame = frame.rename_axis(columns=None).sort_values(["actor", *TAKE])
    actor = frame["actor"].astype(int)
    return frame.assign(
        emotion=frame["emotion"].map(EMOTIONS),
        group=actor,
        actor=actor,
        gender=actor.map(lambda a: "male" if a % 2 else "female"),
        vocal_channel=frame["channel"].map(CHANNELS),
        intensity=frame["intensity"].map(INTENSITIES),
        transcript=frame["statement"].map(STATEMENTS),
        statement=frame["statement"].astype(int),
        repetition=frame["repetition"].astype(int),
    )[
        [c for c in ("audio", "video") if c in frame]
        + ["emotion", "group", "actor", "gender", "vocal_channel", "intensity"]
        + ["statement", "transcript", "repetition"]
    ]
