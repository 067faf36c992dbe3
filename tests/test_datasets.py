"""Tests for skemotion.datasets: the bundled GoEmotions sample and the dataset loaders.

The loaders are tested on tiny folders built in ``tmp_path`` in each dataset's layout
(empty files: the loaders list and parse names, they never open media), and on the real
copies in ``../shared/data`` where those are present.
"""

import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skemotion import check_cv_groups, speaker_cv
from skemotion.datasets import (
    get_dataset_info,
    get_loader,
    load_cremad,
    load_emodb,
    load_fer2013,
    load_goemotions,
    load_goemotions_sample,
    load_meld,
    load_ravdess,
    load_tess,
)

EKMAN = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GOEMOTIONS = SHARED / "goemotions"
DATA = resources.files("skemotion.datasets") / "data"


@pytest.fixture(scope="module")
def sample():
    return load_goemotions_sample()


@pytest.fixture(scope="module")
def source_train():
    """GoEmotions-Ekman train split as text, emotion (None if multi-label), id."""
    if not (GOEMOTIONS / "ekman" / "train.tsv").is_file():
        pytest.skip(f"GoEmotions source data not found at {GOEMOTIONS} (../shared/data)")
    frame = pd.read_csv(
        GOEMOTIONS / "ekman" / "train.tsv",
        sep="\t",
        header=None,
        names=["text", "labels", "id"],
        dtype=str,
        na_filter=False,
    )
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
    merged = sample.frame.merge(
        source_train,
        on="id",
        how="left",
        suffixes=("", "_src"),
        validate="one_to_one",
        indicator=True,
    )
    assert (merged["_merge"] == "both").all(), "sample ids missing from the train split"
    assert (merged["emotion"] == merged["emotion_src"]).all()
    assert (merged["text"] == merged["text_src"]).all()


# --------------------------------------------------------------------------------------
# Tiny copies of each distribution layout
# --------------------------------------------------------------------------------------

GOEMOTIONS_28 = [
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
]
MELD_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime\n"
)


def touch(root, *names):
    """Create empty files (and their folders) under `root`; return `root`."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    return root


def make_ravdess(root):
    return touch(
        root,
        "Actor_01/03-01-01-01-01-01-01.wav",  # speech, neutral
        "Actor_01/03-01-05-02-02-02-01.wav",  # speech, angry, strong, statement 2, rep 2
        "Actor_01/03-02-03-01-01-01-01.wav",  # song, happy
        "Actor_01/01-01-01-01-01-01-01.mp4",  # full AV of the neutral take
        "Actor_01/02-01-01-01-01-01-01.mp4",  # video-only of the same take
        "Actor_02/03-01-08-01-01-01-02.flac",  # speech, surprised, actor 2 (female)
        "Actor_02/02-01-08-01-01-01-02.mp4",  # only the video-only of that take
        "Actor_01/.DS_Store",
        "Actor_01/._03-01-01-01-01-01-01.wav",  # macOS resource fork: not data
        "Actor_01/notes.txt",  # another extension: not listed
        "labels.csv",  # not part of the distribution, not read
    )


def make_meld(root, *, media=True):
    rows = [
        '1,"Oh my God, he’s lost it.",Phoebe,sadness,negative,0,0,4,7,'
        '"00:20:57,256","00:21:00,049"',
        '2,NA,Monica,surprise,negative,0,1,4,7,"00:21:01,927","00:21:03,261"',
        '3,Hey.,Joey,neutral,neutral,1,0,3,2,"0:01:01,001","0:01:02,002"',
    ]
    root.mkdir(exist_ok=True)
    for split in ("train", "dev", "test"):
        (root / f"{split}_sent_emo.csv").write_text(
            MELD_HEADER + "\n".join(rows) + "\n", encoding="utf-8"
        )
    if media:
        touch(
            root,
            "train_splits/dia0_utt0.mp4",
            "train_splits/dia1_utt0.mp4",
            "train_splits/._dia0_utt1.mp4",
        )
    return root


def write_goemotions(folder, labels, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / labels[0]).write_text("\n".join(labels[1]) + "\n", encoding="utf-8")
    for split in ("train", "dev", "test"):
        (folder / f"{split}.tsv").write_text("".join(rows), encoding="utf-8")


GOEMOTIONS_ROWS = [
    "I love it!\t18\tid1\n",  # love
    "NA\t27\tid2\n",  # neutral; "NA" is a comment, not a missing value
    '"Pretty sure you don\'t know what ""hurt"" means"\t0,1\tid3\n',  # admiration, amusement
    "Ugh, really?\t2,26\tid4\n",  # anger, surprise
]


def make_goemotions(root):
    """google-research/goemotions' data/ layout: TSVs and emotions.txt side by side."""
    write_goemotions(root, ("emotions.txt", GOEMOTIONS_28), GOEMOTIONS_ROWS)
    return root


def make_fer_folders(root):
    return touch(
        root,
        "train/angry/Training_1.jpg",
        "train/happy/Training_2.png",
        "test/angry/PublicTest_3.jpg",
        "test/disgust/PrivateTest_4.jpg",
        "test/Surprise/im5.jpeg",  # no usage prefix; capitalised folder
        "test/angry/.DS_Store",
        "test/angry/readme.txt",
        "__MACOSX/train/angry/._Training_1.jpg",
    )


def make_fer_csv(root, rows=None):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 48 * 48))
    rows = rows or [
        f"{label},{' '.join(map(str, p))},{usage}"
        for label, p, usage in zip(
            [0, 3, 6], pixels, ["Training", "PublicTest", "PrivateTest"], strict=True
        )
    ]
    root.mkdir(exist_ok=True)
    (root / "fer2013.csv").write_text("emotion,pixels,Usage\n" + "\n".join(rows) + "\n")
    return root, pixels.reshape(3, 48, 48).astype(np.uint8)


def make_emodb(root):
    return touch(
        root,
        "wav/03a01Fa.wav",
        "wav/16b10Wb.wav",
        "wav/08a02Lc.wav",
        "lablaut/03a01Fa.lab",
        "wav/.DS_Store",
    )


def make_tess(root):
    return touch(
        root,
        "OAF_angry/OAF_back_angry.wav",
        "OAF_Pleasant_surprise/OAF_back_ps.wav",
        "OAF_Fear/OAF_bar_fear.wav",
        "YAF_pleasant_surprised/YAF_bar_pleasant_surprised.wav",
        "YAF_sad/YAF_Back_Sad.wav",
    )


def make_cremad(root, *, tables=True):
    touch(
        root,
        "AudioWAV/1001_DFA_ANG_XX.wav",
        "AudioWAV/1002_IEO_HAP_HI.wav",
        "AudioWAV/1091_TSI_NEU_XX.wav",
        "VideoFlash/1001_DFA_ANG_XX.flv",
    )
    if tables:
        (root / "VideoDemographics.csv").write_text(
            '"ActorID","Age","Sex","Race","Ethnicity"\n'
            '1001,51,"Male","Caucasian","Not Hispanic"\n'
            '1002,21,"Female","Caucasian","Not Hispanic"\n'
            '1091,29,"Female","Asian","Not Hispanic"\n'
        )
        (root / "processedResults").mkdir()
        (root / "processedResults" / "summaryTable.csv").write_text(
            '"","FileName","VoiceVote","VoiceLevel","FaceVote","FaceLevel",'
            '"MultiModalVote","MultiModalLevel"\n'
            '"1","1001_DFA_ANG_XX","A:D","37.2:58.6","A","45.5","A","44.2"\n'
            '"2","1002_IEO_HAP_HI","H","63.5","H","68.25","N","73.2"\n'
        )
    return root


# loader, layout builder, modality columns, a file whose name breaks the scheme,
# a word the DESCR must name (citation), the licence it must state.
LOADERS = {
    "ravdess": (
        load_ravdess,
        make_ravdess,
        ["audio", "video"],
        "Actor_01/03-01-09-01-01-01-01.wav",
        "Livingstone",
        "CC BY-NC-SA 4.0",
    ),
    "meld": (load_meld, make_meld, ["text", "video"], None, "Poria", "GPL"),
    "goemotions": (load_goemotions, make_goemotions, ["text"], None, "Demszky", "Apache"),
    "fer2013": (load_fer2013, make_fer_folders, ["image"], None, "Goodfellow", "research"),
    "emodb": (load_emodb, make_emodb, ["audio"], "wav/03a01Xa.wav", "Burkhardt", "research"),
    "tess": (
        load_tess,
        make_tess,
        ["audio"],
        "OAF_angry/OAF_back_furious.wav",
        "Pichora-Fuller",
        "CC BY-NC-ND 4.0",
    ),
    "cremad": (
        load_cremad,
        make_cremad,
        ["audio", "video"],
        "AudioWAV/1092_DFA_ANG_XX.wav",
        "Cao",
        "Open Database License",
    ),
}
WITH_GROUPS = {"ravdess", "meld", "emodb", "tess", "cremad"}


@pytest.fixture(params=sorted(LOADERS))
def dataset(request, tmp_path):
    """(name, loader, root of a tiny copy, modalities, bad name, cited author, licence)."""
    load, make, modalities, bad, author, licence = LOADERS[request.param]
    return request.param, load, make(tmp_path / request.param), modalities, bad, author, licence


# --------------------------------------------------------------------------------------
# What every loader shares
# --------------------------------------------------------------------------------------


def test_bunch_is_consistent(dataset):
    name, load, root, modalities, *_ = dataset
    bunch = load(root)
    frame = bunch.frame
    assert list(frame.columns[: len(modalities) + 1]) == [*modalities, "emotion"]
    assert list(bunch.data.columns) == modalities
    assert bunch.target.equals(frame["emotion"])
    assert isinstance(frame.index, pd.RangeIndex)
    assert bunch.target_names == [n for n in bunch.target_names if n in set(bunch.target)]
    if name in WITH_GROUPS:
        assert frame.columns[len(modalities) + 1] == "group"
        np.testing.assert_array_equal(bunch.groups, frame["group"].to_numpy())
    else:
        assert "group" not in frame
        assert bunch.groups is None
        assert "groups`` is None" in bunch.DESCR


def test_the_registry_describes_what_each_loader_returns(dataset):
    name, load, root, modalities, *_ = dataset
    info = get_dataset_info(name)
    assert get_loader(name) is load
    bunch = load(root)
    frame = bunch.frame
    assert list(info.modalities) == modalities == list(frame.columns[: len(modalities)])
    assert info.label_column in frame
    if name in WITH_GROUPS:
        assert info.group_column in frame
        assert f" {info.group_noun} (the ``group`` column)" in bunch.DESCR
    else:
        assert info.group_column is None


def test_paths_are_absolute_and_exist(dataset):
    _, load, root, modalities, *_ = dataset
    frame = load(root).frame
    for column in {"audio", "video", "image"} & set(modalities):
        paths = frame[column].dropna()
        assert len(paths)
        assert all(Path(p).is_absolute() and Path(p).is_file() for p in paths)


def test_loader_return_X_y(dataset):
    _, load, root, *_ = dataset
    bunch = load(root)
    X, y = load(root, return_X_y=True)
    pd.testing.assert_frame_equal(X, bunch.data)
    pd.testing.assert_series_equal(y, bunch.target)


def test_loader_descr_gives_counts_citation_and_licence(dataset):
    _, load, root, _, _, author, licence = dataset
    bunch = load(root)
    assert f":Number of instances: {len(bunch.frame):,}" in bunch.DESCR
    for name, count in bunch.target.value_counts().items():
        assert f"{name} {count:,}" in bunch.DESCR
    assert author in bunch.DESCR
    assert licence in bunch.DESCR


def test_home_folder_is_expanded(dataset, monkeypatch):
    _, load, root, *_ = dataset
    monkeypatch.setenv("HOME", str(root.parent))
    assert len(load(f"~/{root.name}").frame) == len(load(root).frame)


def test_missing_folder_says_what_was_expected(dataset, tmp_path):
    name, load, *_ = dataset
    with pytest.raises(FileNotFoundError, match=f"load_{name}: .*nowhere does not exist; expected"):
        load(tmp_path / "nowhere")


def test_empty_folder_says_what_was_expected(dataset, tmp_path):
    name, load, *_ = dataset
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=f"load_{name}: no .*empty.*expected"):
        load(tmp_path / "empty")


@pytest.mark.parametrize("name", sorted(n for n, spec in LOADERS.items() if spec[3]))
def test_badly_named_file_is_an_error_that_names_it(tmp_path, name):
    load, make, _, bad, *_ = LOADERS[name]
    root = touch(make(tmp_path / name), bad)
    with pytest.raises(ValueError, match=f"1 file name.*{Path(bad).name}.*expected") as info:
        load(root)
    assert "Move these files out" in str(info.value)


# --------------------------------------------------------------------------------------
# RAVDESS
# --------------------------------------------------------------------------------------


def test_ravdess_parses_names_and_pairs_audio_with_video(tmp_path):
    frame = load_ravdess(make_ravdess(tmp_path)).frame
    assert list(frame.columns) == [
        "audio",
        "video",
        "emotion",
        "group",
        "actor",
        "gender",
        "vocal_channel",
        "intensity",
        "statement",
        "transcript",
        "repetition",
    ]
    assert frame["emotion"].tolist() == ["neutral", "angry", "surprised"]
    first, strong, second_actor = frame.to_dict("records")
    assert first["audio"].endswith("Actor_01/03-01-01-01-01-01-01.wav")
    assert first["video"].endswith("Actor_01/01-01-01-01-01-01-01.mp4")  # full AV preferred
    assert (first["actor"], first["gender"], first["intensity"]) == (1, "male", "normal")
    assert first["transcript"] == "Kids are talking by the door"
    assert pd.isna(strong["video"])
    assert (strong["intensity"], strong["statement"], strong["repetition"]) == ("strong", 2, 2)
    assert strong["transcript"] == "Dogs are sitting by the door"
    assert second_actor["audio"].endswith(".flac")
    assert second_actor["video"].endswith("02-01-08-01-01-01-02.mp4")  # video-only fallback
    assert (second_actor["group"], second_actor["gender"]) == (2, "female")
    assert set(frame["vocal_channel"]) == {"speech"}


def test_ravdess_vocal_channel(tmp_path):
    root = make_ravdess(tmp_path)
    song = load_ravdess(root, vocal_channel="song")
    assert song.frame[["emotion", "vocal_channel"]].values.tolist() == [["happy", "song"]]
    assert song.target_names == ["happy"]
    assert len(load_ravdess(root, vocal_channel="all").frame) == 4
    with pytest.raises(ValueError, match="'vocal_channel' parameter of load_ravdess .*'Song'"):
        load_ravdess(root, vocal_channel="Song")


def test_ravdess_audio_only_has_no_video_column(tmp_path):
    touch(tmp_path, "Actor_03/03-01-02-01-01-01-03.wav")
    bunch = load_ravdess(tmp_path)
    assert list(bunch.data.columns) == ["audio"]
    assert bunch.frame["emotion"].tolist() == ["calm"]


def test_ravdess_missing_channel_is_an_error(tmp_path):
    touch(tmp_path, "Actor_03/03-01-02-01-01-01-03.wav")
    with pytest.raises(ValueError, match="no song takes .*'speech': 1"):
        load_ravdess(tmp_path, vocal_channel="song")


@pytest.mark.parametrize(
    "name",
    [
        "03-01-01-01-01-01-25.wav",  # actor 25
        "03-01-01-01-01-01-01.mp4",  # audio-only code on a video file
        "01-01-01-01-01-01-01.wav",  # full-AV code on an audio file
        "03-01-01-01-01-01.wav",  # six fields
    ],
)
def test_ravdess_rejects_names_outside_the_scheme(tmp_path, name):
    touch(tmp_path, f"Actor_01/{name}")
    with pytest.raises(ValueError, match=name):
        load_ravdess(tmp_path)


def test_ravdess_same_take_twice_is_an_error(tmp_path):
    touch(tmp_path, "Actor_01/03-01-01-01-01-01-01.wav", "Actor_01/03-01-01-01-01-01-01.flac")
    with pytest.raises(ValueError, match="2 files describe the same recordings"):
        load_ravdess(tmp_path)


def test_ravdess_without_actor_folders_says_what_it_expected(tmp_path):
    touch(tmp_path, "03-01-01-01-01-01-01.wav")
    with pytest.raises(FileNotFoundError, match="no Actor_XX folders .*Actor_01/03-01-01"):
        load_ravdess(tmp_path)


# --------------------------------------------------------------------------------------
# MELD
# --------------------------------------------------------------------------------------


def test_meld_columns_and_video_paths(tmp_path):
    bunch = load_meld(make_meld(tmp_path / "meld"))
    frame = bunch.frame
    assert list(frame.columns) == [
        "text",
        "video",
        "emotion",
        "group",
        "speaker",
        "sentiment",
        "dialogue_id",
        "utterance_id",
        "season",
        "episode",
        "start_time",
        "end_time",
        "sr_no",
    ]
    assert frame["text"].tolist() == ["Oh my God, he’s lost it.", "NA", "Hey."]
    assert frame["group"].tolist() == [0, 0, 1]
    assert frame["speaker"].tolist() == ["Phoebe", "Monica", "Joey"]
    assert frame["start_time"][0] == "00:20:57,256"
    assert frame["video"][0].endswith("train_splits/dia0_utt0.mp4")
    assert pd.isna(frame["video"][1])  # only a hidden ._dia0_utt1.mp4 is there
    assert frame["video"][2].endswith("dia1_utt0.mp4")
    assert "2 of 3 utterances have a video clip" in bunch.DESCR


def test_meld_without_media_has_text_only(tmp_path):
    bunch = load_meld(make_meld(tmp_path / "meld"), split="dev")
    assert list(bunch.data.columns) == ["text"]
    assert "video" not in bunch.frame


def test_meld_finds_media_in_split_subfolder(tmp_path):
    root = make_meld(tmp_path / "meld", media=False)
    touch(root, "test/output_repeated_splits_test/dia1_utt0.mp4")
    assert load_meld(root, split="test").frame["video"].notna().tolist() == [False, False, True]


def test_meld_reads_windows_1252_csv(tmp_path):
    root = make_meld(tmp_path / "meld", media=False)
    text = (root / "train_sent_emo.csv").read_text(encoding="utf-8")
    (root / "train_sent_emo.csv").write_bytes(text.encode("cp1252"))
    assert load_meld(root).frame["text"][0] == "Oh my God, he’s lost it."


def test_meld_warns_about_mojibake_and_keeps_the_text(tmp_path):
    root = make_meld(tmp_path / "meld", media=False)
    text = (root / "train_sent_emo.csv").read_text(encoding="utf-8")
    broken = text.replace("’", "’".encode().decode("cp1252"))
    (root / "train_sent_emo.csv").write_text(broken, encoding="utf-8")
    with pytest.warns(UserWarning, match="1 utterance.* look mis-decoded.*ftfy"):
        frame = load_meld(root).frame
    assert frame["text"][0] == "Oh my God, heâ€™s lost it."


def test_meld_rejects_other_csvs(tmp_path):
    root = make_meld(tmp_path / "meld", media=False)
    (root / "dev_sent_emo.csv").write_text("Utterance,Emotion\nHi,joy\n")
    with pytest.raises(ValueError, match="lacks the column.*'Speaker'"):
        load_meld(root, split="dev")
    text = (root / "test_sent_emo.csv").read_text(encoding="utf-8")
    (root / "test_sent_emo.csv").write_text(text.replace("sadness", "sad"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"emotion label\(s\) \['sad'\] outside MELD"):
        load_meld(root, split="test")
    with pytest.raises(ValueError, match="'split' parameter of load_meld"):
        load_meld(root, split="validation")


# --------------------------------------------------------------------------------------
# GoEmotions
# --------------------------------------------------------------------------------------


def test_goemotions_single_label_leaves_multilabel_rows_out(tmp_path):
    bunch = load_goemotions(make_goemotions(tmp_path))
    assert bunch.frame.to_dict("list") == {
        "text": ["I love it!", "NA"],
        "emotion": ["love", "neutral"],
        "id": ["id1", "id2"],
    }
    assert bunch.n_left_out == 2
    assert "2 of the split's 4 rows carry several labels" in bunch.DESCR
    assert bunch.target_names == ["love", "neutral"]


def test_goemotions_multilabel_gives_lists_and_an_indicator_target(tmp_path):
    bunch = load_goemotions(make_goemotions(tmp_path), split="test", multilabel=True)
    assert bunch.frame["emotion"].tolist() == [
        ["love"],
        ["neutral"],
        ["admiration", "amusement"],
        ["anger", "surprise"],
    ]
    assert bunch.frame["text"][2] == 'Pretty sure you don\'t know what "hurt" means'
    assert (
        list(bunch.target.columns)
        == bunch.target_names
        == [
            "admiration",
            "amusement",
            "anger",
            "love",
            "surprise",
            "neutral",
        ]
    )
    assert bunch.target.to_numpy().sum(axis=1).tolist() == [1, 1, 2, 2]
    assert bunch.target.loc[3, "anger"] == bunch.target.loc[3, "surprise"] == 1
    assert bunch.n_left_out == 0
    X, y = load_goemotions(tmp_path, split="test", multilabel=True, return_X_y=True)
    pd.testing.assert_frame_equal(y, bunch.target)


def test_goemotions_ekman_by_mapping_the_original_labels(tmp_path):
    bunch = load_goemotions(make_goemotions(tmp_path), taxonomy="ekman")
    # admiration + amusement are both joy: one Ekman label, so that row is single-label.
    assert bunch.frame["emotion"].tolist() == ["joy", "neutral", "joy"]
    assert bunch.n_left_out == 1
    multi = load_goemotions(tmp_path, taxonomy="ekman", multilabel=True)
    assert multi.frame["emotion"][3] == ["anger", "surprise"]


def test_goemotions_taxonomy_folders(tmp_path):
    write_goemotions(tmp_path / "original", ("labels.txt", GOEMOTIONS_28), GOEMOTIONS_ROWS)
    write_goemotions(tmp_path / "ekman", ("labels.txt", EKMAN), ["Wow\t6\tx1\n", "Meh\t4\tx2\n"])
    assert load_goemotions(tmp_path, split="dev").frame["emotion"].tolist() == ["love", "neutral"]
    ekman = load_goemotions(tmp_path, split="dev", taxonomy="ekman")  # read, not mapped
    assert ekman.frame["emotion"].tolist() == ["surprise", "neutral"]


@pytest.mark.parametrize("ids", ["28", "-1", "x", "1;2", ""])
def test_goemotions_bad_label_id_names_the_line(tmp_path, ids):
    write_goemotions(tmp_path, ("emotions.txt", GOEMOTIONS_28), ["ok\t1\ta\n", f"bad\t{ids}\tb\n"])
    with pytest.raises(ValueError, match=r"train.tsv, line 2: label ids .* from 0 to 27"):
        load_goemotions(tmp_path)


def test_goemotions_options_and_missing_files(tmp_path):
    make_goemotions(tmp_path)
    with pytest.raises(ValueError, match="'taxonomy' parameter of load_goemotions"):
        load_goemotions(tmp_path, taxonomy="sentiment")
    with pytest.raises(ValueError, match="'split' parameter of load_goemotions"):
        load_goemotions(tmp_path, split="validation")
    (tmp_path / "emotions.txt").unlink()
    with pytest.raises(FileNotFoundError, match="no labels.txt or emotions.txt"):
        load_goemotions(tmp_path)


# --------------------------------------------------------------------------------------
# FER-2013
# --------------------------------------------------------------------------------------


def test_fer2013_split_folders(tmp_path):
    frame = load_fer2013(make_fer_folders(tmp_path)).frame
    assert list(frame.columns) == ["image", "emotion", "usage", "split"]
    assert frame["emotion"].tolist() == ["surprise", "angry", "disgust", "angry", "happy"]
    assert frame["split"].tolist() == ["test", "test", "test", "train", "train"]
    assert pd.isna(frame["usage"][0])
    assert frame["usage"].tolist()[1:3] == ["PublicTest", "PrivateTest"]
    assert load_fer2013(tmp_path, subset="train").target.tolist() == ["angry", "happy"]
    assert len(load_fer2013(tmp_path, subset="test").frame) == 3
    assert load_fer2013(tmp_path, subset="private_test").target.tolist() == ["disgust"]


def test_fer2013_flat_folders_take_the_split_from_the_usage(tmp_path):
    touch(tmp_path, "fear/PublicTest_1.jpg", "sad/Training_2.jpg", "neutral/x.png", "labels.csv")
    frame = load_fer2013(tmp_path).frame.fillna("?")
    assert frame[["emotion", "usage", "split"]].values.tolist() == [
        ["fear", "PublicTest", "test"],
        ["neutral", "?", "?"],
        ["sad", "Training", "train"],
    ]


def test_fer2013_unknown_emotion_folder_is_an_error(tmp_path):
    touch(tmp_path, "angry/a.jpg", "contempt/b.jpg")
    with pytest.raises(ValueError, match="contempt is not named by a FER-2013 emotion"):
        load_fer2013(tmp_path)


def test_fer2013_subset_that_is_not_there(tmp_path):
    touch(tmp_path, "test/angry/a.jpg")
    with pytest.raises(ValueError, match="subset='train' selects no face.*'test': 1"):
        load_fer2013(tmp_path, subset="train")
    with pytest.raises(ValueError, match="'subset' parameter of load_fer2013"):
        load_fer2013(tmp_path, subset="validation")


def test_fer2013_csv_gives_pixel_arrays(tmp_path):
    root, pixels = make_fer_csv(tmp_path)
    for source in (root, root / "fer2013.csv"):
        bunch = load_fer2013(source)
        assert bunch.frame[["emotion", "usage", "split"]].values.tolist() == [
            ["angry", "Training", "train"],
            ["happy", "PublicTest", "test"],
            ["neutral", "PrivateTest", "test"],
        ]
        images = bunch.frame["image"]
        assert all(im.dtype == np.uint8 and im.shape == (48, 48) for im in images)
        np.testing.assert_array_equal(np.stack(images), pixels)
    assert load_fer2013(root, subset="public_test").target.tolist() == ["happy"]


@pytest.mark.parametrize(
    "row, message",
    [
        ("1," + " ".join(["7"] * 2303) + ",Training", r"line\(s\) 2: .*2304 space-separated"),
        ("1," + " ".join(["256"] * 2304) + ",Training", r"line\(s\) 2: .*from 0 to 255"),
        ("1," + " ".join(["a"] * 2304) + ",Training", r"line\(s\) 2: .*2304"),
        ("7," + " ".join(["1"] * 2304) + ",Training", r"row\(s\) 2 .*emotion 7 is not a label id"),
    ],
)
def test_fer2013_csv_bad_rows_are_named(tmp_path, row, message):
    make_fer_csv(tmp_path, rows=[row])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            load_fer2013(tmp_path)


# --------------------------------------------------------------------------------------
# EmoDB, TESS, CREMA-D
# --------------------------------------------------------------------------------------


def test_emodb_parses_names(tmp_path):
    frame = load_emodb(make_emodb(tmp_path)).frame
    assert frame.to_dict("list") == {
        "audio": [str(tmp_path / "wav" / n) for n in ("03a01Fa.wav", "08a02Lc.wav", "16b10Wb.wav")],
        "emotion": ["happiness", "boredom", "anger"],
        "group": [3, 8, 16],
        "speaker": [3, 8, 16],
        "gender": ["male", "female", "female"],
        "age": [31, 34, 31],
        "text_code": ["a01", "a02", "b10"],
        "version": ["a", "c", "b"],
    }
    assert len(load_emodb(tmp_path / "wav").frame) == 3  # the wav folder itself


def test_tess_reads_both_layouts_and_all_surprise_spellings(tmp_path):
    frame = load_tess(make_tess(tmp_path / "kaggle")).frame
    assert list(frame.columns) == [
        "audio",
        "emotion",
        "group",
        "speaker",
        "age",
        "word",
        "transcript",
    ]
    assert frame[["emotion", "speaker", "word"]].values.tolist() == [
        ["fear", "OAF", "bar"],
        ["pleasant surprise", "OAF", "back"],
        ["angry", "OAF", "back"],
        ["pleasant surprise", "YAF", "bar"],
        ["sad", "YAF", "back"],
    ]
    assert frame["age"].tolist() == [64, 64, 64, 26, 26]
    assert frame["transcript"][0] == "Say the word bar"
    flat = touch(tmp_path / "borealis", "OAF_back_angry.wav", "YAF_back_ps.wav")
    assert load_tess(flat).target.tolist() == ["angry", "pleasant surprise"]


def test_tess_nested_copy_is_an_error(tmp_path):
    root = make_tess(tmp_path)
    touch(root, "TESS copy/OAF_angry/OAF_back_angry.wav")
    with pytest.raises(ValueError, match="2 files describe the same recordings.*one copy"):
        load_tess(root)


def test_tess_descr_warns_about_two_speakers(tmp_path):
    assert "2-fold at most" in load_tess(make_tess(tmp_path)).DESCR


def test_cremad_parses_names_and_merges_tables(tmp_path):
    frame = load_cremad(make_cremad(tmp_path)).frame
    assert list(frame.columns) == [
        "audio",
        "video",
        "emotion",
        "group",
        "actor",
        "sentence",
        "transcript",
        "level",
        "age",
        "sex",
        "race",
        "ethnicity",
        "voice_vote",
        "voice_level",
        "face_vote",
        "face_level",
        "multimodal_vote",
        "multimodal_level",
    ]
    assert frame["emotion"].tolist() == ["anger", "happy", "neutral"]
    assert frame["group"].tolist() == [1001, 1002, 1091]
    assert frame["level"].tolist() == ["unspecified", "high", "unspecified"]
    assert frame["transcript"][0] == "Don't forget a jacket."
    assert frame["video"][0].endswith("VideoFlash/1001_DFA_ANG_XX.flv")
    assert frame["video"][1:].isna().all()
    assert frame["sex"].tolist() == ["Male", "Female", "Female"]
    assert frame["age"].tolist() == [51, 21, 29]
    assert frame["voice_vote"][:2].tolist() == ["anger:disgust", "happy"]
    assert frame["voice_level"][0] == "37.2:58.6"
    assert frame["multimodal_vote"][1] == "neutral"
    assert frame["voice_vote"][2:].isna().all()


def test_cremad_audio_folder_alone(tmp_path):
    root = make_cremad(tmp_path, tables=False)
    bunch = load_cremad(root / "AudioWAV")
    assert list(bunch.frame.columns) == [
        "audio",
        "emotion",
        "group",
        "actor",
        "sentence",
        "transcript",
        "level",
    ]
    assert list(bunch.data.columns) == ["audio"]


# --------------------------------------------------------------------------------------
# The real data in ../shared/data
# --------------------------------------------------------------------------------------


def shared(name):
    """The folder ../shared/data/<name>, or a skip that says where it was looked for."""
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (../shared/data, see its README.md)")
    return folder


def test_real_ravdess_speech():
    bunch = load_ravdess(shared("ravdess_speech"))
    frame = bunch.frame
    assert len(frame) == 1440
    assert list(bunch.data.columns) == ["audio"]
    assert frame["group"].nunique() == 24
    assert (frame.groupby("group").size() == 60).all()
    counts = bunch.target.value_counts()
    assert counts["neutral"] == 96
    assert (counts.drop("neutral") == 192).all() and len(counts) == 8
    assert frame["audio"].map(lambda p: Path(p).is_file()).all()
    # The loader parses names only; the shared copy's labels.csv must agree with it.
    labels = pd.read_csv(SHARED / "ravdess_speech" / "labels.csv", dtype=str)
    by_path = frame.set_index(frame["audio"].str.split("ravdess_speech/").str[1])
    merged = labels.merge(
        by_path, left_on="path", right_index=True, suffixes=("", "_loaded"), validate="one_to_one"
    )
    assert (merged["emotion"] == merged["emotion_loaded"]).all()
    assert (merged["actor"].astype(int) == merged["actor_loaded"]).all()
    assert (merged["gender"] == merged["gender_loaded"]).all()
    assert (merged["intensity"] == merged["intensity_loaded"]).all()
    assert (merged["text"] == merged["transcript"]).all()


def test_real_ravdess_groups_give_leak_free_speaker_folds():
    bunch = load_ravdess(shared("ravdess_speech"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_cv_groups(speaker_cv(5), bunch.groups, y=bunch.target)


@pytest.mark.parametrize(
    "split, n, n_dialogues",
    [
        ("train", 9989, 1038),
        ("dev", 1109, 114),
        ("test", 2610, 280),
    ],
)
def test_real_meld(split, n, n_dialogues):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mojibake in the shared copy
        bunch = load_meld(shared("meld"), split=split)
    assert len(bunch.frame) == n
    assert bunch.frame["group"].nunique() == n_dialogues
    assert bunch.frame["text"].notna().all()
    if split == "train":
        assert bunch.target.value_counts().to_dict() == {
            "neutral": 4710,
            "joy": 1743,
            "surprise": 1205,
            "anger": 1109,
            "sadness": 683,
            "disgust": 271,
            "fear": 268,
        }


@pytest.mark.parametrize(
    "split, n, single_original, single_ekman",
    [
        ("train", 43410, 36308, 39555),
        ("dev", 5426, 4548, 4946),
        ("test", 5427, 4590, 4968),
    ],
)
def test_real_goemotions(split, n, single_original, single_ekman):
    root = shared("goemotions")
    original = load_goemotions(root, split=split)
    assert len(original.frame) + original.n_left_out == n
    assert len(original.frame) == single_original
    assert len(original.target_names) == 28
    ekman = load_goemotions(root, split=split, taxonomy="ekman")
    assert len(ekman.frame) == single_ekman
    assert ekman.target_names == EKMAN
    multi = load_goemotions(root, split=split, multilabel=True)
    assert multi.target.shape == (n, 28)
    assert (multi.target.sum(axis=1) >= 1).all()
    assert (multi.target.sum(axis=1) > 1).sum() == n - single_original


def test_real_goemotions_ekman_mapping_matches_the_ekman_files(tmp_path):
    root = shared("goemotions")
    for name in ("dev.tsv", "labels.txt"):
        (tmp_path / name).write_bytes((root / "original" / name).read_bytes())
    mapped = load_goemotions(tmp_path, split="dev", taxonomy="ekman", multilabel=True)
    read = load_goemotions(root, split="dev", taxonomy="ekman", multilabel=True)
    pd.testing.assert_frame_equal(mapped.frame, read.frame)


def test_real_goemotions_sample_rows_load_identically(sample):
    train = load_goemotions(shared("goemotions"), taxonomy="ekman").frame
    merged = sample.frame.merge(train, on="id", suffixes=("", "_loaded"), validate="one_to_one")
    assert len(merged) == len(sample.frame)
    assert (merged["text"] == merged["text_loaded"]).all()
    assert (merged["emotion"] == merged["emotion_loaded"]).all()


def test_real_fer2013_test():
    root = shared("fer2013_test")
    bunch = load_fer2013(root)
    assert len(bunch.frame) == 7178
    assert bunch.target.value_counts().to_dict() == {
        "happy": 1774,
        "sad": 1247,
        "neutral": 1233,
        "fear": 1024,
        "angry": 958,
        "surprise": 831,
        "disgust": 111,
    }
    assert bunch.frame["usage"].value_counts().to_dict() == {
        "PrivateTest": 3589,
        "PublicTest": 3589,
    }
    assert (bunch.frame["split"] == "test").all()
    labels = pd.read_csv(root / "labels.csv")
    loaded = bunch.frame.assign(path=bunch.frame["image"].str.split("fer2013_test/").str[1])
    merged = labels.merge(loaded, on="path", suffixes=("", "_loaded"), validate="one_to_one")
    assert len(merged) == 7178
    assert (merged["emotion"] == merged["emotion_loaded"]).all()
    assert (merged["usage"] == merged["usage_loaded"]).all()
