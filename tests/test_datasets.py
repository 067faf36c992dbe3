"""Tests for skemotion.datasets: the bundled GoEmotions sample and its loader."""

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from skemotion.datasets import load_goemotions_sample

EKMAN = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
GOEMOTIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "goemotions"
DATA = resources.files("skemotion.datasets") / "data"


@pytest.fixture(scope="module")
def sample():
    return load_goemotions_sample()


@pytest.fixture(scope="module")
def source_train():
    """GoEmotions-Ekman train split as text, emotion (None if multi-label), id."""
    if not (GOEMOTIONS / "ekman" / "train.tsv").is_file():
        pytest.skip(f"GoEmotions source data not found at {GOEMOTIONS} (../shared/data)")
    frame = pd.read_csv(GOEMOTIONS / "ekman" / "train.tsv", sep="\t", header=None,
                        names=["text", "labels", "id"], dtype=str, na_filter=False)
    single = ~frame["labels"].str.contains(",")
    frame["emotion"] = None
    frame.loc[single, "emotion"] = [EKMAN[int(i)] for i in frame.loc[single, "labels"]]
    return frame


def test_sample_shape_and_columns(sample):
    assert sample.frame.shape == (4000, 3)
    assert list(sample.frame.columns) == ["text", "emotion", "id"]
    assert sample.data.equals(sample.frame["text"])
    assert sample.target.equals(sample.frame["emotion"])
    assert sample.frame["id"].is_unique


def test_sample_has_seven_classes_in_labels_txt_order(sample):
    assert sample.target_names == EKMAN
    assert set(sample.target) == set(EKMAN)


def test_sample_has_no_missing_or_empty_text(sample):
    assert sample.frame.notna().all().all()
    assert (sample.data.str.strip().str.len() > 0).all()


def test_sample_rows_are_single_label(sample):
    # A multi-label row would show as a comma-separated id or name in `emotion`.
    assert sample.target.isin(EKMAN).all()


def test_return_X_y(sample):
    X, y = load_goemotions_sample(return_X_y=True)
    assert X.equals(sample.data)
    assert y.equals(sample.target)


def test_descr_gives_counts_citation_and_licence(sample):
    counts = sample.target.value_counts()
    for name in EKMAN:
        assert f"{name} {counts[name]:,}" in sample.DESCR
    assert "Demszky" in sample.DESCR
    assert "Apache License 2.0" in sample.DESCR


def test_licence_and_readme_are_shipped(sample):
    licence = (DATA / "LICENSE-goemotions").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "Version 2.0" in licence
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "Demszky" in readme
    assert "make_samples.py" in readme
    # The README's count table must describe the file that ships.
    for name, count in sample.target.value_counts().items():
        assert f"| {name} | {count:,} |" in readme


def test_sample_is_small():
    with resources.as_file(DATA / "goemotions_ekman_sample.csv.gz") as path:
        assert path.stat().st_size < 500_000


def test_proportions_match_source_train_split(sample, source_train):
    source = source_train["emotion"].dropna().value_counts(normalize=True)
    shares = sample.target.value_counts(normalize=True)
    # Largest-remainder rounding keeps each class within one row (1/4000) of its share.
    assert shares[EKMAN].to_list() == pytest.approx(source[EKMAN].to_list(), abs=1e-3)


def test_every_row_is_in_source_train_split_with_same_label(sample, source_train):
    merged = sample.frame.merge(source_train, on="id", how="left", suffixes=("", "_src"),
                                validate="one_to_one", indicator=True)
    assert (merged["_merge"] == "both").all(), "sample ids missing from the train split"
    assert (merged["emotion"] == merged["emotion_src"]).all()
    assert (merged["text"] == merged["text_src"]).all()
