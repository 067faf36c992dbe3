"""FER-2013: 48x48 grey faces, from the challenge's fer2013.csv or from image folders."""

import re
import warnings

import numpy as np
import pandas as pd

from .._emotions import FER2013_EMOTIONS
from .._encoders._image_items import IMAGE_SUFFIXES
from ._base import (
    DatasetInfo,
    absolute,
    check_folder,
    is_hidden,
    list_files,
    make_bunch,
    name_list,
    require,
)

LOADER = "load_fer2013"
EXPECTED = (
    "the challenge's fer2013.csv (columns emotion, pixels, Usage), a folder holding it, "
    "or image folders named by emotion: <root>/<split>/<emotion>/*.jpg|png (e.g. "
    "train/angry/, test/angry/) or <root>/<emotion>/*.jpg|png"
)
# The challenge's label ids, in order.
EMOTIONS = FER2013_EMOTIONS
USAGE_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
SUBSETS = {
    "all": None,
    "train": ("split", "train"),
    "test": ("split", "test"),
    "public_test": ("usage", "PublicTest"),
    "private_test": ("usage", "PrivateTest"),
}
USAGE_PREFIX = re.compile(f"({'|'.join(USAGE_SPLIT)})_")
SIDE = 48

INFO = DatasetInfo(
    key="fer2013",
    title="FER-2013: Facial Expression Recognition 2013",
    about="""
35,887 greyscale face crops of 48x48 pixels collected by Google image search, each
labelled with one of seven expressions (angry, disgust, fear, happy, sad, surprise,
neutral), from the ICML 2013 "Challenges in Representation Learning" facial expression
challenge. Usage: Training 28,709, PublicTest 3,589, PrivateTest 3,589 (the image-folder
copies call the two tests together ``test``: 7,178 faces). Disgust is rare (about 1.5%).
""",
    columns="""
:Columns: image (an image file path; or, from fer2013.csv, a 48x48 uint8 array),
    emotion, usage (Training, PublicTest or PrivateTest; missing where a file name does
    not say), split (train or test: the image folder's name, or from usage).
""",
    evaluation="""
FER-2013 has no subject ids, so there is no ``group`` column and ``groups`` is None; the
same person can appear in several images and in both splits. Evaluate on the test faces
(PrivateTest is the challenge's final test; PublicTest often serves as validation).
""",
    licence="""
Released by the challenge organisers for research (Kaggle, "Challenges in Representation
Learning: Facial Expression Recognition Challenge"); no open licence is attached. The
images come from the web and remain their owners'.
""",
    references="""
Ian J. Goodfellow, Dumitru Erhan, Pierre Luc Carrier, Aaron Courville, Mehdi Mirza, Ben
Hamner, Will Cukierski, Yichuan Tang, David Thaler, Dong-Hyun Lee, et al. 2013.
Challenges in Representation Learning: A report on three machine learning contests. In
Neural Information Processing (ICONIP 2013), LNCS 8228, 117-124.
https://arxiv.org/abs/1307.0414
""",
    labels=EMOTIONS,
    group=None,
)


def load_fer2013(path, *, subset="all", return_X_y=False):
    """Load FER-2013 faces: image paths (folders) or 48x48 pixel arrays (the CSV).

    Reads either layout in which FER-2013 is distributed:

    - the challenge's ``fer2013.csv`` (columns ``emotion`` 0-6, ``pixels`` 2,304
      space-separated grey values, ``Usage`` Training/PublicTest/PrivateTest), given as
      the file or as the folder holding it. The ``image`` column then holds 48x48
      ``uint8`` arrays, which :class:`~skemotion.FaceEncoder` and
      :class:`~skemotion.ImageEncoder` accept as they accept paths;
    - image folders named by emotion, as in the widely used Kaggle copy:
      ``<path>/train/angry/Training_3908.jpg``, ``<path>/test/angry/...``, or one level
      only, ``<path>/angry/...``. The ``image`` column holds absolute paths; files are
      listed, not opened. Where a file name starts with its usage
      (``PrivateTest_10131363.jpg``) the ``usage`` column says it.

    Where `path` holds both, fer2013.csv is read.

    =================   ==============================================
    Classes                                                          7
    Samples             35,887 (CSV); 28,709 train + 7,178 test (folders)
    Groups              none: FER-2013 has no subject ids
    Modalities          image
    =================   ==============================================

    Parameters
    ----------
    path : str or path-like
        The file fer2013.csv, the folder holding it, or the root of the image folders;
        ``~`` is expanded.
    subset : {"all", "train", "test", "public_test", "private_test"}, default="all"
        Which faces to load: ``train`` is Training, ``test`` is PublicTest and
        PrivateTest together (the ``test/`` folder). ``public_test`` and
        ``private_test`` need the usage, which the CSV and usage-prefixed file names
        give.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            Columns ``image``, ``emotion``, ``usage`` and ``split``. No ``group``.
        data : pandas.DataFrame
            The ``image`` column.
        target : pandas.Series
            The ``emotion`` column.
        target_names : list of str
            The emotions present, in the challenge's label order.
        groups : None
            FER-2013 has no subject ids.
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple of DataFrame and Series
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` holds neither fer2013.csv nor emotion-named image folders.
    ValueError
        If a folder where an emotion is expected has another name (the error names it),
        if a CSV row is not 2,304 pixels or has an emotion outside 0-6, or if `subset`
        selects no face.

    Notes
    -----
    Cite Goodfellow et al. (2013). The data were released for research. Hidden files
    and folders (``.DS_Store``, ``__MACOSX``) are ignored.

    Examples
    --------
    >>> from skemotion.datasets import load_fer2013
    >>> fer = load_fer2013("~/data/fer2013", subset="test")  # doctest: +SKIP
    >>> fer.target.value_counts()["disgust"]  # doctest: +SKIP
    111
    """
    if subset not in SUBSETS:
        raise ValueError(
            f"The 'subset' parameter of {LOADER} must be one of {list(SUBSETS)}. "
            f"Got {subset!r} instead."
        )
    source = _source(path)
    frame = _read_csv(source) if source.is_file() else _read_folders(source)
    selected = _select(frame, subset)
    return make_bunch(selected, INFO, modalities=["image"], return_X_y=return_X_y)


def _source(path):
    """The fer2013.csv that `path` is or holds, else the image folders' root."""
    path = absolute(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return path
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    return root / "fer2013.csv" if (root / "fer2013.csv").is_file() else root


def _read_csv(path):
    """Columns image (48x48 uint8 arrays), emotion, usage, split from the challenge CSV."""
    frame = pd.read_csv(path, dtype={"pixels": str, "Usage": str}, keep_default_na=False)
    frame.columns = frame.columns.str.strip()  # some copies write " Usage", " pixels"
    missing = {"emotion", "pixels", "Usage"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"{LOADER}: {path} lacks the column(s) {sorted(missing)}; fer2013.csv has "
            "emotion, pixels, Usage."
        )
    bad = ~frame["emotion"].isin(range(len(EMOTIONS)))
    if bad.any():
        raise ValueError(
            f"{LOADER}: {path}, row(s) {name_list(frame.index[bad] + 2)} (counting the "
            f"header as line 1): emotion {name_list(frame['emotion'][bad])} is not a label "
            f"id from 0 to {len(EMOTIONS) - 1}."
        )
    return pd.DataFrame(
        {
            "image": list(_pixels(frame["pixels"], path)),
            "emotion": [EMOTIONS[i] for i in frame["emotion"]],
            "usage": frame["Usage"],
            "split": frame["Usage"].map(USAGE_SPLIT),
        }
    )


def _pixels(pixels, path):
    """The rows of space-separated grey values as an (n, 48, 48) uint8 array."""
    try:
        with warnings.catch_warnings():
            # A value that is not a number: NumPy >= 2.3 raises, older ones warn.
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(" ".join(pixels), dtype=np.int16, sep=" ")
    except (ValueError, DeprecationWarning):
        values = np.empty(0, dtype=np.int16)
    if values.size != len(pixels) * SIDE * SIDE or values.min() < 0 or values.max() > 255:
        bad = [line for line, row in enumerate(pixels, start=2) if not _is_face(row)]
        raise ValueError(
            f"{LOADER}: {path}, line(s) {name_list(bad)}: pixels must be {SIDE * SIDE} "
            "space-separated grey values from 0 to 255."
        )
    return values.astype(np.uint8).reshape(len(pixels), SIDE, SIDE)


def _is_face(row):
    values = row.split()
    return len(values) == SIDE * SIDE and all(v.isdigit() and int(v) <= 255 for v in values)


def _read_folders(root):
    """Columns image (paths), emotion, usage, split from emotion-named image folders."""
    folders = _emotion_folders(root)
    require(
        folders,
        loader=LOADER,
        what="fer2013.csv or emotion-named image folders",
        root=root,
        expected=EXPECTED,
    )
    rows = [
        {"image": str(file), "emotion": folder.name.lower(), "usage": _usage(file), "split": split}
        for split, folder in folders
        for file in list_files(folder, IMAGE_SUFFIXES)
    ]
    require(
        rows,
        loader=LOADER,
        what=".jpg/.png images in the emotion folders",
        root=root,
        expected=EXPECTED,
    )
    frame = pd.DataFrame(rows)
    frame["split"] = frame["split"].fillna(frame["usage"].map(USAGE_SPLIT))
    return frame


def _emotion_folders(root):
    """``(split, folder)`` of each emotion folder: ``<root>/<emotion>`` (split None) or
    ``<root>/<split>/<emotion>``."""
    children = _subfolders(root)
    if any(child.name.lower() in EMOTIONS for child in children):
        return [(None, _check_emotion(child)) for child in children]
    return [
        (split.name.lower(), _check_emotion(folder))
        for split in children
        for folder in _subfolders(split)
    ]


def _subfolders(folder):
    return sorted(child for child in folder.iterdir() if child.is_dir() and not is_hidden(child))


def _check_emotion(folder):
    if folder.name.lower() not in EMOTIONS:
        raise ValueError(
            f"{LOADER}: the folder {folder} is not named by a FER-2013 emotion "
            f"{list(EMOTIONS)}; expected {EXPECTED}. Move it out of the dataset folder."
        )
    return folder


def _usage(file):
    match = USAGE_PREFIX.match(file.name)
    return match.group(1) if match else None


def _select(frame, subset):
    """The rows of `subset`; an error that says what there is when none match."""
    if SUBSETS[subset] is None:
        return frame
    column, value = SUBSETS[subset]
    selected = frame[frame[column] == value]
    if selected.empty:
        raise ValueError(
            f"{LOADER}: subset={subset!r} selects no face: the {column} column holds "
            f"{frame[column].value_counts(dropna=False).to_dict()}. Pick a subset that "
            "is there, or 'all'."
        )
    return selected
