"""GoEmotions: the loader of the distributed TSVs and the sample that ships with skemotion."""

import dataclasses
import io
from importlib import resources

import pandas as pd
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils import Bunch

from ._base import DatasetInfo, check_folder, make_bunch, present_labels, read_utf8

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


LOADER = "load_goemotions"
EXPECTED = (
    "the GoEmotions data folder: train.tsv, dev.tsv, test.tsv (text<TAB>comma-separated "
    "label ids<TAB>comment id) with labels.txt or emotions.txt (one label name a line), "
    "either directly in it (google-research/goemotions data/) or in one subfolder per "
    "taxonomy, original/ and ekman/"
)
SPLITS = ("train", "dev", "test")
LABEL_FILES = ("labels.txt", "emotions.txt")
# google-research/goemotions data/ekman_mapping.json, plus neutral, which stays neutral.
EKMAN_MAPPING = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "neutral": ("neutral",),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
}
EKMAN_OF = {emotion: ekman for ekman, emotions in EKMAN_MAPPING.items() for emotion in emotions}

INFO = DatasetInfo(
    key="goemotions",
    title="GoEmotions",
    about="""
English Reddit comments labelled by raters with 27 emotion categories or neutral (the
``original`` taxonomy), or with those mapped to Ekman's six basic emotions plus neutral
(``ekman``). A comment can carry several labels. The distributed splits hold the
comments that at least two raters agreed on: train 43,410, dev 5,426, test 5,427.
Neutral dominates; several categories (grief, pride, relief, nervousness) are under 1%.
Names of people are masked as ``[NAME]``.
""",
    columns="""
:Columns: text (the comment), emotion (its label name; with ``multilabel=True`` the
    list of its label names), id (the Reddit comment id).
""",
    evaluation="""
The TSVs carry no author or thread ids (the raw ``full_dataset/goemotions_*.csv`` files
of the GoEmotions repository do), so there is no ``group`` column and ``groups`` is
None. Use the distributed splits for evaluation; report macro-F1 next to accuracy, as
the classes are very imbalanced.
""",
    licence="Apache License 2.0 (https://github.com/google-research/goemotions).",
    references="""
Dorottya Demszky, Dana Movshovitz-Attias, Jeongwoo Ko, Alan Cowen, Gaurav Nemade and
Sujith Ravi. 2020. GoEmotions: A Dataset of Fine-Grained Emotions. In Proceedings of the
58th Annual Meeting of the Association for Computational Linguistics (ACL), 4040-4054.
https://arxiv.org/abs/2005.00547
""",
    labels=(),
    group=None,
)


def load_goemotions(
    path, *, split="train", taxonomy="original", multilabel=False, return_X_y=False
):
    """Load one split of GoEmotions: Reddit comments and their emotion labels.

    Reads the TSVs as distributed: ``{split}.tsv`` (``text<TAB>label ids<TAB>comment
    id``, ids comma-separated and indexing the label file) with ``labels.txt`` or
    ``emotions.txt``. Two layouts are found: the files directly in `path` (the
    ``data/`` folder of google-research/goemotions: the original taxonomy), or one
    subfolder per taxonomy, ``<path>/original/`` and ``<path>/ekman/``. Where there is
    no ``ekman/`` folder, ``taxonomy="ekman"`` maps the original labels with GoEmotions'
    ``ekman_mapping.json`` (which gives exactly the labels of the ``ekman/`` TSVs).

    =================   ==============================================
    Classes             28 (original) or 7 (ekman)
    Samples             43,410 / 5,426 / 5,427 (train / dev / test)
    Single-label rows   36,308 / 4,548 / 4,590 (original);
                        39,555 / 4,946 / 4,968 (ekman)
    Modalities          text
    =================   ==============================================

    Parameters
    ----------
    path : str or path-like
        The GoEmotions data folder (see above); ``~`` is expanded.
    split : {"train", "dev", "test"}, default="train"
        Which split to load.
    taxonomy : {"original", "ekman"}, default="original"
        The 27 emotions plus neutral, or Ekman's anger, disgust, fear, joy, sadness,
        surprise plus neutral.
    multilabel : bool, default=False
        If False, keep the rows with exactly one label (after the Ekman mapping, where
        it applies) and leave the others out: ``n_left_out`` and DESCR say how many.
        If True, keep every row; ``emotion`` holds a list of label names and ``target``
        is a binary indicator DataFrame, one column per label.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        frame : pandas.DataFrame
            Columns ``text``, ``emotion`` (a label name, or a list of them with
            `multilabel`) and ``id`` (the Reddit comment id), in file order.
        data : pandas.DataFrame
            The ``text`` column.
        target : pandas.Series or pandas.DataFrame
            The ``emotion`` column; with `multilabel`, a 0/1 DataFrame of shape
            (n_samples, n_labels) whose columns are ``target_names``, as
            :class:`~sklearn.preprocessing.MultiLabelBinarizer` gives.
        target_names : list of str
            The labels present, in label-file order.
        groups : None
            GoEmotions has no author or thread ids in its TSVs.
        n_left_out : int
            How many multi-label rows were left out (0 with `multilabel`).
        DESCR : str
            What the data are, counts, columns, licence and citation.

    (data, target) : tuple
        If `return_X_y` is True.

    Raises
    ------
    FileNotFoundError
        If `path` holds no GoEmotions TSVs for the taxonomy.
    ValueError
        If a row's label id is not a number indexing the label file, or if the label
        file or the TSV is not UTF-8 text (a BOM is fine).

    See Also
    --------
    load_goemotions_sample : 4,000 single-label Ekman comments that ship with skemotion.

    Notes
    -----
    Cite Demszky et al. (2020), ACL. The data are under the Apache License 2.0.

    Examples
    --------
    >>> from skemotion.datasets import load_goemotions
    >>> go = load_goemotions("~/data/goemotions", taxonomy="ekman")  # doctest: +SKIP
    >>> len(go.frame), go.n_left_out  # doctest: +SKIP
    (39555, 3855)
    >>> multi = load_goemotions("~/data/goemotions", multilabel=True)  # doctest: +SKIP
    >>> multi.target.shape  # doctest: +SKIP
    (43410, 28)
    """
    _check_options(split=(split, SPLITS), taxonomy=(taxonomy, ("original", "ekman")))
    root = check_folder(path, loader=LOADER, expected=EXPECTED)
    folder, mapped = _taxonomy_folder(root, taxonomy)
    labels = _read_labels(folder)
    frame = _read_split(folder / f"{split}.tsv", labels)
    if mapped:
        labels = list(EKMAN_MAPPING)
        frame["emotion"] = [
            sorted({EKMAN_OF[name] for name in names}, key=labels.index)
            for names in frame["emotion"]
        ]
    info = dataclasses.replace(INFO, labels=tuple(labels))
    if multilabel:
        names = present_labels(info, frame["emotion"])
        target = pd.DataFrame(
            MultiLabelBinarizer(classes=names).fit_transform(frame["emotion"]), columns=names
        )
        return make_bunch(
            frame, info, modalities=["text"], return_X_y=return_X_y, target=target, n_left_out=0
        )
    single = frame["emotion"].str.len() == 1
    frame = frame[single].assign(emotion=frame.loc[single, "emotion"].str[0])
    n_left_out = int((~single).sum())
    note = (
        f"{n_left_out:,} of the split's {len(single):,} rows carry several labels and "
        "were left out (pass multilabel=True to keep them)."
    )
    return make_bunch(
        frame, info, modalities=["text"], return_X_y=return_X_y, notes=[note], n_left_out=n_left_out
    )


def _check_options(**options):
    """Raise for an option outside its choices: ``name=(value, choices)``."""
    for name, (value, choices) in options.items():
        if value not in choices:
            raise ValueError(
                f"The {name!r} parameter of {LOADER} must be one of {list(choices)}. "
                f"Got {value!r} instead."
            )


def _taxonomy_folder(root, taxonomy):
    """The folder of the TSVs to read, and whether their labels need the Ekman mapping."""
    candidates = [(root / taxonomy, False), (root / "original", True), (root, True)]
    if taxonomy == "original":
        candidates = [(root / "original", False), (root, False)]
    for folder, mapped in candidates:
        if any((folder / f"{split}.tsv").is_file() for split in SPLITS):
            return folder, mapped
    raise FileNotFoundError(
        f"{LOADER}: no GoEmotions TSVs for taxonomy={taxonomy!r} under {root}; expected {EXPECTED}."
    )


def _read_labels(folder):
    """The label names of `folder`'s label file, one a line; line i names label id i."""
    for name in LABEL_FILES:
        if (folder / name).is_file():
            # read_utf8 drops a BOM, which would otherwise stick to the first label name.
            lines = read_utf8(folder / name, loader=LOADER).splitlines()
            return [line.strip() for line in lines if line.strip()]
    raise FileNotFoundError(
        f"{LOADER}: no {' or '.join(LABEL_FILES)} in {folder}; expected {EXPECTED}."
    )


def _read_split(path, labels):
    """Columns text, emotion (the list of label names of each row) and id."""
    if not path.is_file():
        raise FileNotFoundError(f"{LOADER}: no {path.name} in {path.parent}; expected {EXPECTED}.")
    # na_filter=False: a comment that reads "NA" or "null" is text, not missing.
    # Decoded here, so a file that is not UTF-8 is an error naming it, not pandas'.
    frame = pd.read_csv(
        io.StringIO(read_utf8(path, loader=LOADER)),
        sep="\t",
        header=None,
        names=["text", "emotion", "id"],
        dtype=str,
        na_filter=False,
    )
    frame["emotion"] = [
        _label_names(ids, labels, path, line) for line, ids in enumerate(frame["emotion"], start=1)
    ]
    return frame


def _label_names(ids, labels, path, line):
    """The names of comma-separated label `ids`; an error naming the line if one is invalid."""
    try:
        numbers = [int(i) for i in ids.split(",")]
        if all(0 <= n < len(labels) for n in numbers):
            return [labels[n] for n in numbers]
    except ValueError:
        pass
    raise ValueError(
        f"{LOADER}: {path}, line {line}: label ids {ids!r} are not comma-separated numbers "
        f"from 0 to {len(labels) - 1} (the lines of the label file)."
    )
