"""The registry of dataset loaders: each dataset's name, loader, and what it gives and needs.

Tools that take a dataset by name (``skemotion evaluate DATASET PATH``) look it up
here instead of importing a loader's module by name. The bundled samples take no path
and are not registered: call :func:`load_ravdess_sample` and
:func:`load_goemotions_sample` directly.
"""

from collections.abc import Callable
from dataclasses import dataclass

from . import _cremad, _emodb, _fer2013, _goemotions, _meld, _ravdess, _tess


@dataclass(frozen=True)
class RegisteredDataset:
    """What the registry knows of a dataset: its loader and the shape of what it returns.

    Attributes
    ----------
    name : str
        The dataset's name in the registry: ``"ravdess"`` for :func:`load_ravdess`.
    title : str
        The dataset's full name.
    loader : callable
        ``loader(path, **options)``, returning a Bunch (see the loaders).
    modalities : tuple of str
        The modality columns the loader can return (``"audio"``, ``"video"``,
        ``"text"``, ``"image"``). A column of files appears when such files are
        present: RAVDESS without its ``.mp4`` files has no ``video``.
    label_column : str
        The column of emotion labels: ``"emotion"``.
    group_column : str or None
        The column of speaker (or dialogue) ids to keep apart in cross-validation:
        ``"group"``, or None where the dataset has none (GoEmotions, FER-2013).
    group_noun : str or None
        What the groups are (``"actors"``, ``"speakers"``, ``"dialogues"``), or None.
    split_parameter : str or None
        The loader's parameter that picks a split of a dataset distributed in splits
        (``"split"`` for MELD and GoEmotions, ``"subset"`` for FER-2013), or None.
    splits : tuple of str
        The values `split_parameter` accepts; empty without one.
    expects : str
        What `path` must be: the folder (or file) in the layout the authors distribute.
    """

    name: str
    title: str
    loader: Callable
    modalities: tuple
    group_noun: str | None
    expects: str
    split_parameter: str | None = None
    splits: tuple = ()
    label_column: str = "emotion"

    @property
    def group_column(self):
        """``"group"`` where the dataset has groups, else None."""
        return None if self.group_noun is None else "group"


def _entry(module, loader, modalities, split_parameter=None, splits=()):
    # The title, group noun and expected layout are the ones the loader's own DESCR and
    # errors use, read from its module so that they cannot disagree.
    return RegisteredDataset(
        name=module.INFO.key,
        title=module.INFO.title,
        loader=loader,
        modalities=modalities,
        group_noun=module.INFO.group,
        expects=module.EXPECTED,
        split_parameter=split_parameter,
        splits=tuple(splits),
    )


# In the order of the documentation's table.
_REGISTRY = {
    entry.name: entry
    for entry in [
        _entry(_ravdess, _ravdess.load_ravdess, ("audio", "video")),
        _entry(_meld, _meld.load_meld, ("text", "video"), "split", _meld.SPLITS),
        _entry(_goemotions, _goemotions.load_goemotions, ("text",), "split", _goemotions.SPLITS),
        _entry(_fer2013, _fer2013.load_fer2013, ("image",), "subset", _fer2013.SUBSETS),
        _entry(_emodb, _emodb.load_emodb, ("audio",)),
        _entry(_tess, _tess.load_tess, ("audio",)),
        _entry(_cremad, _cremad.load_cremad, ("audio", "video")),
    ]
}


def list_datasets():
    """Return the names of the datasets that :func:`get_loader` knows.

    Returns
    -------
    names : list of str
        ``["ravdess", "meld", "goemotions", "fer2013", "emodb", "tess", "cremad"]``:
        each is the loader's name without ``load_``.

    See Also
    --------
    get_loader : The loader of a dataset, by name.
    get_dataset_info : What a dataset's loader returns and needs.

    Examples
    --------
    >>> from skemotion.datasets import list_datasets
    >>> list_datasets()
    ['ravdess', 'meld', 'goemotions', 'fer2013', 'emodb', 'tess', 'cremad']
    """
    return list(_REGISTRY)


def get_loader(name):
    """Return the loader of the dataset called `name`.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`, such as ``"ravdess"``.

    Returns
    -------
    loader : callable
        The dataset's loader, e.g. :func:`load_ravdess`: call it with the dataset's
        folder (and its options).

    Raises
    ------
    ValueError
        If no dataset is called `name`.

    See Also
    --------
    list_datasets : The names of the datasets.
    get_dataset_info : What a dataset's loader returns and needs.

    Examples
    --------
    >>> from skemotion.datasets import get_loader, load_ravdess
    >>> get_loader("ravdess") is load_ravdess
    True
    >>> ravdess = get_loader("ravdess")("~/data/ravdess")  # doctest: +SKIP
    """
    return get_dataset_info(name).loader


def get_dataset_info(name):
    """Return what the registry knows of the dataset called `name`.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`, such as ``"meld"``.

    Returns
    -------
    info : RegisteredDataset
        A frozen record with the attributes ``name``, ``title``, ``loader``,
        ``modalities`` (the modality columns the loader can return),
        ``label_column`` (``"emotion"``), ``group_column`` (``"group"``, or None where
        the dataset has no speaker or dialogue ids), ``group_noun`` (``"actors"``,
        ...), ``split_parameter`` and ``splits`` (the loader parameter that picks a
        split, and its values) and ``expects`` (the layout the folder must have).

    Raises
    ------
    ValueError
        If no dataset is called `name`.

    See Also
    --------
    list_datasets : The names of the datasets.
    get_loader : The loader of a dataset, by name.

    Examples
    --------
    >>> from skemotion.datasets import get_dataset_info
    >>> info = get_dataset_info("meld")
    >>> info.modalities, info.group_column, info.group_noun
    (('text', 'video'), 'group', 'dialogues')
    >>> info.split_parameter, info.splits
    ('split', ('train', 'dev', 'test'))
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name, such as a list
        raise ValueError(
            f"{name!r} is not a dataset name; the datasets are {', '.join(_REGISTRY)} "
            "(skemotion.datasets.list_datasets())"
        ) from None
