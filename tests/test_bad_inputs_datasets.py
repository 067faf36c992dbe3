"""Bad dataset folders the loaders must refuse in words (or read right).

The cases of the bad-input sweep (benchmarks/bad_input_cases/datasets.py) that once
failed: unreadable folders, an actor folder unpacked into itself, CREMA-D tables with
missing columns, repeated keys, unknown vote letters or Latin-1 bytes, and GoEmotions
files with a BOM or in Latin-1. Each error must name the file or folder and the fix.
"""

import os
import re

import pytest

from skemotion.datasets import load_cremad, load_emodb, load_goemotions, load_ravdess

DEMOGRAPHICS = (
    '"ActorID","Age","Sex","Race","Ethnicity"\n'
    '1001,51,"Male","Caucasian","Not Hispanic"\n'
    '1002,21,"Female","Caucasian","Not Hispanic"\n'
)
SUMMARY = (
    '"","FileName","VoiceVote","VoiceLevel","FaceVote","FaceLevel",'
    '"MultiModalVote","MultiModalLevel"\n'
    '"1","1001_DFA_ANG_XX","A:D","37.2:58.6","A","45.5","A","44.2"\n'
    '"2","1002_IEO_HAP_HI","H","63.5","H","68.25","N","73.2"\n'
)
GO_LABELS = "admiration\namusement\nanger\nneutral\n"
GO_ROWS = "I love it!\t0\tid1\nNA\t3\tid2\nUgh, really?\t1,2\tid3\n"


def touch(root, *names):
    """Create empty files (and their folders) under `root`; return `root`."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    return root


def deny_listing(monkeypatch, denied):
    """Make os.scandir refuse one folder, as a chmod 000 folder does for a non-root user.

    Root (as in this project's containers) reads any folder, so chmod alone tests nothing.
    """
    scandir = os.scandir

    def guarded(path="."):
        if os.path.realpath(path) == os.path.realpath(denied):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)


def make_ravdess(root, actor_02="Actor_02"):
    return touch(
        root,
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_01/03-01-05-02-02-02-01.wav",
        f"{actor_02}/03-01-08-01-01-01-02.wav",
        f"{actor_02}/03-01-03-01-01-01-02.wav",
    )


def make_cremad(root, *, demographics=None, summary=None):
    touch(root, "AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav")
    if demographics is not None:
        data = demographics if isinstance(demographics, bytes) else demographics.encode()
        (root / "VideoDemographics.csv").write_bytes(data)
    if summary is not None:
        (root / "processedResults").mkdir()
        (root / "processedResults" / "summaryTable.csv").write_text(summary, encoding="utf-8")
    return root


def make_goemotions(root, *, rows=GO_ROWS, labels=GO_LABELS, encoding="utf-8"):
    root.mkdir()
    (root / "emotions.txt").write_bytes(labels.encode(encoding))
    (root / "train.tsv").write_bytes(rows.encode(encoding))
    return root


# --- unreadable folders -------------------------------------------------------------------


def test_ravdess_unreadable_actor_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    root = make_ravdess(tmp_path / "RAVDESS")
    deny_listing(monkeypatch, root / "Actor_02")
    with pytest.raises(PermissionError, match=r"cannot list .*Actor_02: permission denied.*chmod"):
        load_ravdess(root)


def test_emodb_unreadable_wav_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    root = touch(tmp_path / "emodb", "wav/03a01Fa.wav", "wav/16b10Wb.wav")
    deny_listing(monkeypatch, root / "wav")
    with pytest.raises(PermissionError, match=r"cannot list .*wav: permission denied.*chmod"):
        load_emodb(root)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root bypasses folder permissions, so a chmod 000 folder stays readable",
)
def test_ravdess_chmod_000_actor_folder_is_an_error(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS")
    (root / "Actor_02").chmod(0)
    try:
        with pytest.raises(PermissionError, match=r"Actor_02: permission denied"):
            load_ravdess(root)
    finally:
        (root / "Actor_02").chmod(0o755)


# --- RAVDESS: an actor folder unpacked into itself ------------------------------------------


def test_ravdess_actor_folder_nested_in_itself_says_to_move_the_files_up(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS", actor_02="Actor_02/Actor_02")
    nested = re.escape(str(root / "Actor_02" / "Actor_02"))
    with pytest.raises(
        ValueError, match=rf"holds the folder\(s\) 'Actor_02'.*Move the files of {nested} up"
    ):
        load_ravdess(root)


# --- CREMA-D tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "make"),
    [
        ("summaryTable.csv", "VoiceVote", {"summary": SUMMARY.replace('"VoiceVote"', '"Vote"')}),
        (
            "VideoDemographics.csv",
            "Race",
            {"demographics": DEMOGRAPHICS.replace('"Race"', '"Origin"')},
        ),
    ],
)
def test_cremad_table_without_a_column_names_it_and_the_columns_it_has(
    tmp_path, table, column, make
):
    root = make_cremad(tmp_path / "CREMA-D", **make)
    with pytest.raises(ValueError) as error:
        load_cremad(root)
    message = str(error.value)
    assert table in message and f"lacks the column(s) ['{column}']" in message
    assert "it has [" in message and ("'Vote'" in message or "'Origin'" in message)
    assert "take it from the CREMA-D repository" in message


def test_cremad_latin1_demographics_says_save_as_utf8(tmp_path):
    latin1 = DEMOGRAPHICS.replace("Not Hispanic", "Não Hispânico").encode("latin-1")
    root = make_cremad(tmp_path / "CREMA-D", demographics=latin1)
    with pytest.raises(ValueError, match=r"VideoDemographics.csv is not UTF-8.*Save it as UTF-8"):
        load_cremad(root)


def test_cremad_demographics_with_a_bom_still_loads(tmp_path):
    root = make_cremad(tmp_path / "CREMA-D", demographics=b"\xef\xbb\xbf" + DEMOGRAPHICS.encode())
    assert load_cremad(root).frame["age"].tolist() == [51, 21]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            {"summary": SUMMARY + SUMMARY.splitlines(True)[1]},
            r"summaryTable.csv lists FileName '1001_DFA_ANG_XX' more than once; keep one row "
            r"per clip",
        ),
        (
            {"demographics": DEMOGRAPHICS + DEMOGRAPHICS.splitlines(True)[1]},
            r"VideoDemographics.csv lists ActorID 1001 more than once; keep one row per actor",
        ),
    ],
)
def test_cremad_key_listed_twice_names_the_file_and_the_key(tmp_path, make, match):
    root = make_cremad(tmp_path / "CREMA-D", **make)
    with pytest.raises(ValueError, match=match):
        load_cremad(root)


def test_cremad_unknown_vote_letter_names_the_clip_and_the_letters_allowed(tmp_path):
    root = make_cremad(tmp_path / "CREMA-D", summary=SUMMARY.replace('"A:D"', '"A:Z"'))
    with pytest.raises(ValueError) as error:
        load_cremad(root)
    message = str(error.value)
    assert "summaryTable.csv, clip '1001_DFA_ANG_XX': VoiceVote 'A:Z'" in message
    assert "letter(s) ['Z']" in message and "A (anger), D (disgust)" in message
    assert "Correct the row" in message


def test_cremad_known_votes_still_read_as_names(tmp_path):
    root = make_cremad(tmp_path / "CREMA-D", demographics=DEMOGRAPHICS, summary=SUMMARY)
    frame = load_cremad(root).frame
    assert frame["voice_vote"].tolist() == ["anger:disgust", "happy"]
    assert frame["multimodal_vote"].tolist() == ["anger", "neutral"]
    assert frame["race"].tolist() == ["Caucasian", "Caucasian"]


# --- GoEmotions ---------------------------------------------------------------------------


def test_goemotions_label_file_with_a_bom_gives_clean_label_names(tmp_path):
    root = make_goemotions(tmp_path / "goemotions", labels="\ufeff" + GO_LABELS)
    bunch = load_goemotions(root)
    assert bunch.frame["emotion"].tolist() == ["admiration", "neutral"]
    assert "\ufeffadmiration" not in bunch.target_names


def test_goemotions_tsv_with_a_bom_and_crlf_still_loads(tmp_path):
    rows = "\ufeff" + GO_ROWS.replace("\n", "\r\n")
    root = make_goemotions(tmp_path / "goemotions", rows=rows)
    assert load_goemotions(root).frame["text"].tolist() == ["I love it!", "NA"]


@pytest.mark.parametrize("which", ["train.tsv", "emotions.txt"])
def test_goemotions_latin1_file_says_save_as_utf8(tmp_path, which):
    text = {"train.tsv": GO_ROWS.replace("Ugh", "Olé"), "emotions.txt": GO_LABELS + "café\n"}
    root = make_goemotions(tmp_path / "goemotions", encoding="utf-8")
    (root / which).write_bytes(text[which].encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{re.escape(which)} is not UTF-8.*Save it as UTF-8"):
        load_goemotions(root)
