"""Bad dataset folders for the loaders: the real releases' quirks, files that are not part
of a dataset, wrong folders, clutter, unreadable folders, link loops, and label tables
with missing or extra columns, unknown labels, a BOM or Latin-1 bytes."""

from ._fixtures import scratch
from ._registry import WrongResult, add
from .audio import run_unprivileged

AREA = "datasets"


def _touch(root, *names):
    """Empty files (and their folders) under `root`; the loaders list files, never open them."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    return root


def _check(got, want, what):
    if got != want:
        raise WrongResult(f"{what}: got {got!r}, expected {want!r}")


# --- TESS ------------------------------------------------------------------------------------

TESS_FILES = (
    "OAF_angry/OAF_back_angry.wav",
    "OAF_neutral/OAF_back_neutral.wav",
    "OAF_Pleasant_surprise/OAF_back_ps.wav",
    "YAF_sad/YAF_back_sad.wav",
    "YAF_pleasant_surprised/YAF_bar_pleasant_surprised.wav",
)


def _tess(*extra):
    return _touch(scratch() / "TESS", *TESS_FILES, *extra)


def _load_tess(root):
    from skemotion.datasets import load_tess

    return load_tess(root)


def case_tess_oa_bite_neutral():
    frame = _load_tess(_tess("OAF_neutral/OA_bite_neutral.wav")).frame
    row = frame[frame["word"] == "bite"]
    _check(row[["speaker", "emotion", "age"]].values.tolist(), [["OAF", "neutral", 64]],
           "OA_bite_neutral.wav")  # fmt: skip


add(AREA, "load_tess: the release's OA_bite_neutral.wav read as OAF's", "handled",
    case_tess_oa_bite_neutral)  # fmt: skip
add(AREA, "load_tess: another OA_ file (OA_back_angry.wav)", "error",
    lambda: _load_tess(_tess("OAF_angry/OA_back_angry.wav")),
    names=("OA_back_angry.wav", "Move"))  # fmt: skip
add(AREA, "load_tess: file with an unknown emotion (OAF_back_furious.wav)", "error",
    lambda: _load_tess(_tess("OAF_angry/OAF_back_furious.wav")),
    names=("OAF_back_furious.wav", "Move"))  # fmt: skip
add(AREA, "load_tess: file of a third speaker (MAF_back_angry.wav)", "error",
    lambda: _load_tess(_tess("MAF_angry/MAF_back_angry.wav")),
    names=("MAF_back_angry.wav", "Move"))  # fmt: skip


def case_tess_clutter_ignored():
    root = _tess(
        ".DS_Store",
        "OAF_angry/.DS_Store",
        "OAF_angry/._OAF_back_angry.wav",
        "__MACOSX/OAF_angry/._OAF_back_angry.wav",
        "__MACOSX/OAF_angry/OAF_back_angry.wav",
        "README.txt",
    )
    _check(len(_load_tess(root).frame), len(TESS_FILES), "rows with macOS clutter and a README")


add(AREA, "load_tess: .DS_Store, ._*.wav, __MACOSX and README ignored", "handled",
    case_tess_clutter_ignored)  # fmt: skip
add(AREA, "load_tess: a copy of the set nested inside it", "error",
    lambda: _load_tess(_tess("TESS copy/OAF_angry/OAF_back_angry.wav")),
    names=("OAF_back_angry.wav", "one copy"))  # fmt: skip
add(AREA, "load_tess: one recording in two case spellings", "error",
    lambda: _load_tess(_tess("OAF_Angry/OAF_BACK_ANGRY.wav")),
    names=("OAF_BACK_ANGRY.wav", "one copy"))  # fmt: skip


def case_tess_upper_case_extension():
    root = _touch(scratch() / "TESS", "OAF_back_angry.WAV", "YAF_back_sad.Wav")
    _check(_load_tess(root).target.tolist(), ["angry", "sad"], ".WAV files")


add(AREA, "load_tess: .WAV in capitals", "handled", case_tess_upper_case_extension)
add(AREA, "load_tess: nonexistent folder", "error",
    lambda: _load_tess(scratch() / "no-such-tess"),
    names=("no-such-tess", "does not exist"))  # fmt: skip


def case_tess_file_as_path():
    path = scratch() / "tess.zip"
    path.write_bytes(b"PK\x03\x04")
    _load_tess(path)


add(AREA, "load_tess: a file (the zip) instead of the folder", "error", case_tess_file_as_path,
    names=("tess.zip", "not a folder"))  # fmt: skip
add(AREA, "load_tess: empty folder", "error", lambda: _load_tess(scratch()),
    names=("no .wav files", "expected"))  # fmt: skip


def case_tess_given_ravdess():
    _load_tess(_ravdess())


add(AREA, "load_tess: given a RAVDESS folder", "error", case_tess_given_ravdess,
    names=("03-01-01-01-01-01-01.wav", "naming scheme"))  # fmt: skip


def case_tess_link_loop():
    root = _tess()
    (root / "OAF_angry" / "loop").symlink_to(root)
    _check(len(_load_tess(root).frame), len(TESS_FILES), "rows with a link back up the tree")


add(AREA, "load_tess: symlink loop back to the root", "handled", case_tess_link_loop)


def case_tess_linked_subfolder():
    elsewhere = _touch(scratch(), "YAF_fear/YAF_bath_fear.wav")
    root = _tess()
    (root / "YAF_fear").symlink_to(elsewhere / "YAF_fear")
    _check(len(_load_tess(root).frame), len(TESS_FILES) + 1, "rows with a linked subfolder")


add(AREA, "load_tess: subfolder that is a symlink is followed", "handled",
    case_tess_linked_subfolder)  # fmt: skip


def _unreadable_folder(root, folder, call):
    (root / folder).chmod(0)
    try:
        run_unprivileged(f"    from skemotion.datasets import *\n    {call}({str(root)!r})")
    finally:
        (root / folder).chmod(0o755)


add(AREA, "load_tess: unreadable subfolder", "error",
    lambda: _unreadable_folder(_tess(), "YAF_sad", "load_tess"),
    names=("YAF_sad", "chmod"))  # fmt: skip


# --- RAVDESS ---------------------------------------------------------------------------------

RAVDESS_FILES = (
    "Actor_01/03-01-01-01-01-01-01.wav",
    "Actor_01/03-01-05-02-02-02-01.wav",
    "Actor_02/03-01-08-01-01-01-02.wav",
    "Actor_02/03-01-03-01-01-01-02.wav",
)


def _ravdess(*extra, files=RAVDESS_FILES):
    return _touch(scratch() / "RAVDESS", *files, *extra)


def _load_ravdess(root, **params):
    from skemotion.datasets import load_ravdess

    return load_ravdess(root, **params)


def case_ravdess_clutter_ignored():
    root = _ravdess("Actor_01/.DS_Store", "Actor_01/._03-01-01-01-01-01-01.wav",
                    "Actor_02/notes.txt", "README.md")  # fmt: skip
    _check(len(_load_ravdess(root).frame), len(RAVDESS_FILES), "rows with clutter")


add(AREA, "load_ravdess: .DS_Store, ._*.wav and notes ignored", "handled",
    case_ravdess_clutter_ignored)  # fmt: skip
add(AREA, "load_ravdess: emotion code 09", "error",
    lambda: _load_ravdess(_ravdess("Actor_01/03-01-09-01-01-01-01.wav")),
    names=("03-01-09-01-01-01-01.wav", "Move"))  # fmt: skip
add(AREA, "load_ravdess: actor 25", "error",
    lambda: _load_ravdess(_ravdess("Actor_25/03-01-01-01-01-01-25.wav")),
    names=("03-01-01-01-01-01-25.wav", "Move"))  # fmt: skip
add(AREA, "load_ravdess: audio-only modality code on an .mp4", "error",
    lambda: _load_ravdess(_ravdess("Actor_01/03-01-01-01-01-01-01.mp4")),
    names=("03-01-01-01-01-01-01.mp4", "Move"))  # fmt: skip
add(AREA, "load_ravdess: a take as both .wav and .flac", "error",
    lambda: _load_ravdess(_ravdess("Actor_01/03-01-01-01-01-01-01.flac")),
    names=("03-01-01-01-01-01-01.flac", "one copy"))  # fmt: skip
add(AREA, "load_ravdess: files flat in the root, no Actor_XX folders", "error",
    lambda: _load_ravdess(_touch(scratch(), "03-01-01-01-01-01-01.wav")),
    names=("Actor_XX", "expected"))  # fmt: skip
add(AREA, "load_ravdess: actor folders in lower case (actor_01)", "error",
    lambda: _load_ravdess(_touch(scratch(), "actor_01/03-01-01-01-01-01-01.wav")),
    names=("Actor_XX", "expected"))  # fmt: skip


def case_ravdess_actor_folder_nested_in_itself():
    # A zip unpacked into a folder of its own name: Actor_02/Actor_02/*.wav.
    files = [name for name in RAVDESS_FILES if name.startswith("Actor_01")]
    nested = [name.replace("Actor_02/", "Actor_02/Actor_02/") for name in RAVDESS_FILES
              if name.startswith("Actor_02")]  # fmt: skip
    _load_ravdess(_ravdess(files=(*files, *nested)))


add(AREA, "load_ravdess: Actor_02 unpacked into Actor_02/Actor_02/", "error",
    case_ravdess_actor_folder_nested_in_itself, names=("Actor_02",))  # fmt: skip
add(AREA, "load_ravdess: unreadable Actor_02 folder", "error",
    lambda: _unreadable_folder(_ravdess(), "Actor_02", "load_ravdess"),
    names=("Actor_02", "chmod"))  # fmt: skip
add(AREA, "load_ravdess: vocal_channel='sung'", "error",
    lambda: _load_ravdess(_ravdess(), vocal_channel="sung"),
    names=("vocal_channel", "song"))  # fmt: skip


# --- EmoDB -----------------------------------------------------------------------------------


def _emodb(*extra):
    return _touch(scratch() / "emodb", "wav/03a01Fa.wav", "wav/16b10Wb.wav", *extra)


def _load_emodb(root):
    from skemotion.datasets import load_emodb

    return load_emodb(root)


add(AREA, "load_emodb: unknown emotion letter (03a01Xa.wav)", "error",
    lambda: _load_emodb(_emodb("wav/03a01Xa.wav")), names=("03a01Xa.wav", "Move"))  # fmt: skip
add(AREA, "load_emodb: speaker 04, not in EmoDB", "error",
    lambda: _load_emodb(_emodb("wav/04a01Fa.wav")), names=("04a01Fa.wav", "Move"))  # fmt: skip
add(AREA, "load_emodb: unreadable wav/ folder", "error",
    lambda: _unreadable_folder(_emodb(), "wav", "load_emodb"),
    names=("wav", "permission"))  # fmt: skip


# --- CREMA-D ---------------------------------------------------------------------------------

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


def _cremad(*extra, demographics=None, summary=None):
    root = _touch(scratch() / "CREMA-D", "AudioWAV/1001_DFA_ANG_XX.wav",
                  "AudioWAV/1002_IEO_HAP_HI.wav", *extra)  # fmt: skip
    if demographics is not None:
        data = demographics if isinstance(demographics, bytes) else demographics.encode()
        (root / "VideoDemographics.csv").write_bytes(data)
    if summary is not None:
        (root / "processedResults").mkdir()
        (root / "processedResults" / "summaryTable.csv").write_text(summary)
    return root


def _load_cremad(root):
    from skemotion.datasets import load_cremad

    return load_cremad(root)


add(AREA, "load_cremad: actor 1092", "error",
    lambda: _load_cremad(_cremad("AudioWAV/1092_DFA_ANG_XX.wav")),
    names=("1092_DFA_ANG_XX.wav", "Move"))  # fmt: skip
add(AREA, "load_cremad: summaryTable.csv without VoiceVote", "error",
    lambda: _load_cremad(_cremad(summary=SUMMARY.replace('"VoiceVote"', '"Vote"'))),
    names=("summaryTable.csv", "VoiceVote"))  # fmt: skip
add(AREA, "load_cremad: VideoDemographics.csv without Race", "error",
    lambda: _load_cremad(_cremad(demographics=DEMOGRAPHICS.replace('"Race"', '"Origin"'))),
    names=("VideoDemographics.csv", "Race"))  # fmt: skip


def case_cremad_extra_column():
    summary = SUMMARY.replace('"MultiModalLevel"\n', '"MultiModalLevel","Comment"\n')
    summary = summary.replace('"44.2"\n', '"44.2","ok"\n').replace('"73.2"\n', '"73.2","ok"\n')
    frame = _load_cremad(_cremad(summary=summary)).frame
    _check(frame["voice_vote"].tolist(), ["anger:disgust", "happy"], "votes with an extra column")


add(AREA, "load_cremad: summaryTable.csv with an extra column", "handled",
    case_cremad_extra_column)  # fmt: skip


def case_cremad_demographics_with_bom():
    frame = _load_cremad(_cremad(demographics=b"\xef\xbb\xbf" + DEMOGRAPHICS.encode())).frame
    _check(frame["age"].tolist(), [51, 21], "ages from a CSV with a BOM")


add(AREA, "load_cremad: VideoDemographics.csv with a UTF-8 BOM", "handled",
    case_cremad_demographics_with_bom)  # fmt: skip
add(AREA, "load_cremad: VideoDemographics.csv in Latin-1", "error",
    lambda: _load_cremad(_cremad(
        demographics=DEMOGRAPHICS.replace("Not Hispanic", "Não Hispânico").encode("latin-1"))),
    names=("VideoDemographics.csv", "UTF-8"))  # fmt: skip
add(AREA, "load_cremad: summaryTable.csv naming a clip twice", "error",
    lambda: _load_cremad(_cremad(summary=SUMMARY + SUMMARY.splitlines(True)[1])),
    names=("summaryTable.csv", "1001_DFA_ANG_XX"))  # fmt: skip
add(AREA, "load_cremad: VideoDemographics.csv listing an actor twice", "error",
    lambda: _load_cremad(_cremad(demographics=DEMOGRAPHICS + DEMOGRAPHICS.splitlines(True)[1])),
    names=("VideoDemographics.csv", "1001"))  # fmt: skip
add(AREA, "load_cremad: summaryTable.csv with an unknown vote letter", "error",
    lambda: _load_cremad(_cremad(summary=SUMMARY.replace('"A:D"', '"Z"'))),
    names=("summaryTable.csv", "Z"))  # fmt: skip


# --- MELD ------------------------------------------------------------------------------------

MELD_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime\n"
)
MELD_ROWS = (
    '1,"Oh my God, he’s lost it.",Phoebe,sadness,negative,0,0,4,7,'
    '"00:20:57,256","00:21:00,049"\n'
    '2,Hey.,Joey,neutral,neutral,1,0,3,2,"0:01:01,001","0:01:02,002"\n'
)


def _meld(text=MELD_HEADER + MELD_ROWS, encoding="utf-8"):
    root = scratch() / "MELD.Raw"
    root.mkdir()
    (root / "train_sent_emo.csv").write_bytes(text.encode(encoding))
    return root


def _load_meld(root, **params):
    from skemotion.datasets import load_meld

    return load_meld(root, **params)


add(AREA, "load_meld: CSV without the Emotion column", "error",
    lambda: _load_meld(_meld((MELD_HEADER + MELD_ROWS).replace("Emotion", "Feeling"))),
    names=("train_sent_emo.csv", "Emotion"))  # fmt: skip


def case_meld_extra_column():
    text = MELD_HEADER.replace("EndTime\n", "EndTime,Notes\n") + MELD_ROWS.replace(
        '049"\n', '049",x\n').replace('002"\n', '002",y\n')  # fmt: skip
    _check(_load_meld(_meld(text)).target.tolist(), ["sadness", "neutral"], "an extra column")


add(AREA, "load_meld: CSV with an extra column", "handled", case_meld_extra_column)
add(AREA, "load_meld: unknown emotion label (happiness)", "error",
    lambda: _load_meld(_meld(MELD_HEADER + MELD_ROWS.replace("neutral,neutral", "happiness,pos"))),
    names=("train_sent_emo.csv", "happiness"))  # fmt: skip
add(AREA, "load_meld: label with a trailing space ('neutral ')", "error",
    lambda: _load_meld(_meld(MELD_HEADER + MELD_ROWS.replace("neutral,neutral", "neutral ,x"))),
    names=("train_sent_emo.csv", "'neutral '"))  # fmt: skip


def case_meld_bom():
    frame = _load_meld(_meld("\ufeff" + MELD_HEADER + MELD_ROWS)).frame
    _check(frame["sr_no"].tolist(), [1, 2], "Sr No. of a CSV with a BOM")


add(AREA, "load_meld: CSV with a UTF-8 BOM", "handled", case_meld_bom)


def case_meld_windows_1252():
    frame = _load_meld(_meld(MELD_HEADER + MELD_ROWS, encoding="cp1252")).frame
    _check(frame["text"][0], "Oh my God, he’s lost it.", "the text of a Windows-1252 CSV")


add(AREA, "load_meld: CSV in Windows-1252 (documented)", "handled", case_meld_windows_1252)
add(AREA, "load_meld: mojibake in the utterances", "fallback",
    lambda: _load_meld(_meld(MELD_HEADER + MELD_ROWS.replace("’", "â€™"))),
    names=("train_sent_emo.csv", "mis-decoded"))  # fmt: skip
add(AREA, "load_meld: split='validation'", "error",
    lambda: _load_meld(_meld(), split="validation"), names=("split", "dev"))  # fmt: skip


# --- GoEmotions ------------------------------------------------------------------------------

GO_LABELS = "admiration\namusement\nanger\nneutral\n"
GO_ROWS = "I love it!\t0\tid1\nNA\t3\tid2\nUgh, really?\t1,2\tid3\n"


def _goemotions(rows=GO_ROWS, labels=GO_LABELS, encoding="utf-8"):
    root = scratch() / "goemotions"
    root.mkdir()
    (root / "emotions.txt").write_bytes(labels.encode(encoding))
    (root / "train.tsv").write_bytes(rows.encode(encoding))
    return root


def _load_goemotions(root, **params):
    from skemotion.datasets import load_goemotions

    return load_goemotions(root, **params)


add(AREA, "load_goemotions: label id past the label file", "error",
    lambda: _load_goemotions(_goemotions(GO_ROWS.replace("\t3\t", "\t4\t"))),
    names=("train.tsv", "line 2"))  # fmt: skip


def case_goemotions_labels_with_bom():
    bunch = _load_goemotions(_goemotions(labels="\ufeff" + GO_LABELS))
    _check(bunch.frame["emotion"].tolist(), ["admiration", "neutral"], "labels from a BOM file")


add(AREA, "load_goemotions: emotions.txt with a UTF-8 BOM", "handled",
    case_goemotions_labels_with_bom)  # fmt: skip


def case_goemotions_tsv_with_bom():
    bunch = _load_goemotions(_goemotions("\ufeff" + GO_ROWS))
    _check(bunch.frame["text"].tolist(), ["I love it!", "NA"], "texts of a TSV with a BOM")


add(AREA, "load_goemotions: train.tsv with a UTF-8 BOM", "handled", case_goemotions_tsv_with_bom)


def case_goemotions_crlf():
    bunch = _load_goemotions(_goemotions(GO_ROWS.replace("\n", "\r\n"),
                                         GO_LABELS.replace("\n", "\r\n")))  # fmt: skip
    _check(bunch.frame[["text", "emotion", "id"]].values.tolist(),
           [["I love it!", "admiration", "id1"], ["NA", "neutral", "id2"]],
           "rows of CRLF files")  # fmt: skip


add(AREA, "load_goemotions: Windows line endings (CRLF)", "handled", case_goemotions_crlf)
add(AREA, "load_goemotions: train.tsv in Latin-1", "error",
    lambda: _load_goemotions(_goemotions(GO_ROWS.replace("Ugh", "Olé"), encoding="latin-1")),
    names=("train.tsv", "UTF-8"))  # fmt: skip
add(AREA, "load_goemotions: TSV with a fourth column", "error",
    lambda: _load_goemotions(_goemotions(GO_ROWS.replace("\tid", "\tx\tid"))),
    names=("train.tsv", "line 1"))  # fmt: skip
add(AREA, "load_goemotions: taxonomy='Ekman' (capital E)", "error",
    lambda: _load_goemotions(_goemotions(), taxonomy="Ekman"),
    names=("taxonomy", "ekman"))  # fmt: skip


# --- FER-2013 --------------------------------------------------------------------------------


def _fer_csv(header="emotion,pixels,Usage", rows=None, prefix=b""):
    import numpy as np

    pixels = np.random.default_rng(0).integers(0, 256, (2, 48 * 48))
    rows = rows or [f"0,{' '.join(map(str, pixels[0]))},Training",
                    f"3,{' '.join(map(str, pixels[1]))},PublicTest"]  # fmt: skip
    root = scratch() / "fer2013"
    root.mkdir()
    (root / "fer2013.csv").write_bytes(prefix + (header + "\n" + "\n".join(rows) + "\n").encode())
    return root


def _load_fer(root, **params):
    from skemotion.datasets import load_fer2013

    return load_fer2013(root, **params)


add(AREA, "load_fer2013: CSV without the Usage column", "error",
    lambda: _load_fer(_fer_csv("emotion,pixels,Split")),
    names=("fer2013.csv", "Usage"))  # fmt: skip
add(AREA, "load_fer2013: CSV with emotion 7", "error",
    lambda: _load_fer(_fer_csv(rows=["7," + " ".join(["0"] * 2304) + ",Training"])),
    names=("fer2013.csv", "7"))  # fmt: skip
add(AREA, "load_fer2013: CSV row of 2,303 pixels", "error",
    lambda: _load_fer(_fer_csv(rows=["0," + " ".join(["0"] * 2303) + ",Training"])),
    names=("fer2013.csv", "line"))  # fmt: skip


def case_fer_csv_header_spaces():
    bunch = _load_fer(_fer_csv("emotion, pixels, Usage"))
    _check(bunch.target.tolist(), ["angry", "happy"], "a header with spaces")


add(AREA, "load_fer2013: CSV header with spaces (' Usage')", "handled", case_fer_csv_header_spaces)


def case_fer_csv_bom():
    bunch = _load_fer(_fer_csv(prefix=b"\xef\xbb\xbf"))
    _check(bunch.target.tolist(), ["angry", "happy"], "a CSV with a BOM")


add(AREA, "load_fer2013: CSV with a UTF-8 BOM", "handled", case_fer_csv_bom)
add(AREA, "load_fer2013: unknown emotion folder (contempt)", "error",
    lambda: _load_fer(_touch(scratch(), "train/angry/a.jpg", "train/contempt/b.jpg")),
    names=("contempt", "Move"))  # fmt: skip


def case_fer_clutter_ignored():
    root = _touch(scratch(), "test/angry/PublicTest_1.jpg", "test/happy/PrivateTest_2.png",
                  "test/angry/.DS_Store", "test/.DS_Store", "__MACOSX/test/angry/._x.jpg",
                  "test/angry/readme.txt")  # fmt: skip
    _check(_load_fer(root).target.tolist(), ["angry", "happy"], "faces with clutter")


add(AREA, "load_fer2013: .DS_Store, __MACOSX and readme ignored", "handled",
    case_fer_clutter_ignored)  # fmt: skip
add(AREA, "load_fer2013: emotion folders without images", "error",
    lambda: _load_fer(_touch(scratch(), "train/angry/notes.txt", "train/happy/.DS_Store")),
    names=("images", "expected"))  # fmt: skip


# --- the registry ----------------------------------------------------------------------------


def case_unknown_dataset_name():
    from skemotion.datasets import get_loader

    get_loader("iemocap")


add(AREA, "get_loader: unknown dataset name", "error", case_unknown_dataset_name,
    names=("iemocap", "ravdess"))  # fmt: skip
