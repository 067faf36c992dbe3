"""The registry of skemotion.datasets: names, loaders, and what each loader takes.

That each entry agrees with what its loader returns on a tiny copy of the dataset is
tested beside the loaders (tests/test_datasets.py).
"""

import dataclasses
import inspect
import re

import pytest

import skemotion.datasets as datasets
from skemotion.datasets import get_dataset_info, get_loader, list_datasets

DATASETS = list_datasets()


def test_every_loader_that_takes_a_path_is_registered_under_its_name():
    loaders = {
        name.removeprefix("load_")
        for name in datasets.__all__
        if name.startswith("load_") and not name.endswith("_sample")
    }
    assert set(DATASETS) == loaders
    assert len(DATASETS) == len(loaders)  # each once
    for name in DATASETS:
        assert get_loader(name) is getattr(datasets, f"load_{name}")
        assert get_dataset_info(name).name == name


NOWHERE = "/nonexistent-skemotion-dataset"


@pytest.mark.parametrize("name", DATASETS)
def test_the_error_for_a_wrong_folder_quotes_the_expected_layout(name):
    info = get_dataset_info(name)
    assert info.title and info.label_column == "emotion"
    assert set(info.modalities) <= {"audio", "video", "text", "image"}
    with pytest.raises(FileNotFoundError, match=re.escape(info.expects)):
        info.loader(NOWHERE)


@pytest.mark.parametrize("name", DATASETS)
def test_the_loader_takes_exactly_the_registered_splits(name):
    info = get_dataset_info(name)
    if info.split_parameter is None:
        assert info.splits == ()
        assert all(p not in inspect.signature(info.loader).parameters for p in ("split", "subset"))
        return
    parameter = inspect.signature(info.loader).parameters[info.split_parameter]
    assert parameter.default in info.splits
    for split in info.splits:  # accepted: the loader goes on to look for the folder
        with pytest.raises(FileNotFoundError, match="does not exist"):
            info.loader(NOWHERE, **{info.split_parameter: split})
    with pytest.raises(ValueError, match=f"'{info.split_parameter}' parameter of load_{name}"):
        info.loader(NOWHERE, **{info.split_parameter: "bogus"})


def test_the_datasets_in_splits_are_meld_goemotions_and_fer2013():
    with_splits = {name: get_dataset_info(name).split_parameter for name in DATASETS}
    assert {name: p for name, p in with_splits.items() if p} == {
        "meld": "split",
        "goemotions": "split",
        "fer2013": "subset",
    }


@pytest.mark.parametrize("name", ["iemocap", "RAVDESS", "load_ravdess", "", ["ravdess"]])
def test_an_unknown_name_lists_the_datasets(name):
    for lookup in (get_loader, get_dataset_info):
        with pytest.raises(ValueError, match=r"is not a dataset name; the datasets are ravdess, "):
            lookup(name)


def test_an_entry_cannot_be_changed():
    info = get_dataset_info("ravdess")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.modalities = ("text",)
    assert get_dataset_info("ravdess").modalities == ("audio", "video")
