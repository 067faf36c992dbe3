"""Bad inputs that used to pass silently or fail deep inside a library: each must give an
error naming the item and the fix (issue 12). Other modules keep their own bad-input
tests (test_fusion_missing.py for missing modalities, test_speaker.py for speaker ids)."""

import numpy as np
import pandas as pd
import pytest
from _tiny_models import tiny_text_model_dir
from sklearn.linear_model import LogisticRegression

from skemotion import LateFusionClassifier, TextEncoder, TunedOffsetClassifierCV
from skemotion._encoders._items import as_items

# --- containers whose iteration is not the items -------------------------------------------


def test_a_dict_of_texts_is_refused_rather_than_embedding_its_keys():
    with pytest.raises(TypeError, match="got a dict, whose iteration gives its keys.*pd.Series"):
        TextEncoder(tiny_text_model_dir(), device="cpu").fit_transform({"id1": "I am happy"})


@pytest.mark.parametrize("container", [{"b", "a"}, frozenset({"b", "a"})])
def test_a_set_is_refused_as_it_has_no_order(container):
    with pytest.raises(TypeError, match="which has no order.*sorted"):
        as_items(container, caller="TextEncoder")


def test_a_series_built_from_a_dict_keeps_its_keys_as_the_index():
    items, index, _ = as_items(pd.Series({"id1": "I am happy"}), caller="TextEncoder")
    assert list(items) == ["I am happy"] and list(index) == ["id1"]


# --- labels ----------------------------------------------------------------------------------

_X = np.random.default_rng(0).normal(size=(6, 2))
_BAD_LABELS = [
    (["joy", "sad", None, "joy", "sad", "joy"], ValueError,
     "1 label\\(s\\) in y are missing.*row 2"),
    (pd.Series(["joy", "sad", 3, "joy", "sad", "joy"], dtype=object), TypeError,
     "mix types \\(string 'joy' at row 0 and number 3 at row 2\\).*astype\\(str\\)"),
]  # fmt: skip


@pytest.mark.parametrize("y, error, match", _BAD_LABELS)
@pytest.mark.parametrize(
    "estimator",
    [LateFusionClassifier(LogisticRegression(), modalities={"m": [0, 1]}),
     TunedOffsetClassifierCV(LogisticRegression(), cv=2)],
    ids=["late", "offsets"],
)  # fmt: skip
def test_missing_or_mixed_labels_are_named(estimator, y, error, match):
    with pytest.raises(error, match=match):
        estimator.fit(_X, y)


# --- audio files ------------------------------------------------------------------------------


def _tone(n=16000):
    return (0.5 * np.sin(np.arange(n) / 10)).astype(np.float32)


@pytest.fixture
def cut_wav(tmp_path):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    path = tmp_path / "cut.wav"
    soundfile.write(path, _tone(), 16000)
    path.write_bytes(path.read_bytes()[:-2000])  # a download that stopped early
    return path


def test_a_truncated_wav_is_refused_not_embedded_as_if_whole(cut_wav):
    from skemotion import AudioFeatures

    with pytest.raises(
        ValueError,
        match="audio item 0 .*cut.wav.*truncated: its header "
        "announces 16,000 frames.*holds only 15,000",
    ):
        AudioFeatures(cache=False).fit_transform([str(cut_wav)])


def test_a_truncated_mp3_is_refused(tmp_path):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    from skemotion._encoders._audio_items import read_audio_file

    path = tmp_path / "clip.mp3"
    try:
        soundfile.write(path, _tone(100_000), 16000, format="MP3")
    except Exception as exc:  # libsndfile < 1.1 writes no MP3
        pytest.skip(f"this libsndfile cannot write MP3 ({exc})")
    assert read_audio_file(path, caller="test")[0].shape[0] == 100_000
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.8)])
    with pytest.raises(ValueError, match="truncated: its header announces 100,000 frames"):
        read_audio_file(path, caller="test")


@pytest.fixture
def streamed_from_one_second(monkeypatch):
    """AudioFeatures streams every file longer than one second from disk; yields the
    paths it streamed."""
    from skemotion._encoders import _audio_features

    streamed, original = [], _audio_features.stream_audio
    monkeypatch.setattr(
        _audio_features,
        "stream_audio",
        lambda item, **kwargs: streamed.append(item) or original(item, **kwargs),
    )
    monkeypatch.setattr(_audio_features, "_BLOCK_SECONDS", 1.0)
    return streamed


def test_a_truncated_wav_is_refused_when_streamed(tmp_path, streamed_from_one_second):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    from skemotion import AudioFeatures

    path = tmp_path / "long.wav"
    soundfile.write(path, _tone(48000), 16000)
    path.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(
        ValueError,
        match="audio item 0 .*long.wav.*truncated: its header "
        "announces 48,000 frames.*holds only 47,000",
    ):
        AudioFeatures(cache=False).fit_transform([str(path)])
    assert streamed_from_one_second == [str(path)]


def test_nan_in_a_later_block_of_a_streamed_file_names_its_sample(
    tmp_path, streamed_from_one_second
):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    from skemotion import AudioFeatures

    samples = _tone(48000)
    samples[40000] = np.nan  # in the third one-second block
    path = tmp_path / "long.wav"
    soundfile.write(path, samples, 16000, subtype="FLOAT")
    with pytest.raises(
        ValueError, match=r"audio item 0 .*long.wav.*NaN or infinite .*position \(40000, 0\)"
    ):
        AudioFeatures(cache=False).fit_transform([str(path)])
    assert streamed_from_one_second == [str(path)]


def test_a_complete_wav_of_every_subtype_is_read_whole(tmp_path):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    from skemotion._encoders._audio_items import read_audio_file

    for subtype in ("PCM_16", "PCM_24", "FLOAT", "PCM_U8"):
        path = tmp_path / f"{subtype}.wav"
        soundfile.write(path, np.column_stack([_tone(16001)] * 2), 16000, subtype=subtype)
        assert read_audio_file(path, caller="test")[0].shape == (16001, 2)


def test_an_unreadable_audio_file_says_permission_denied(tmp_path, monkeypatch):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    from skemotion import AudioFeatures

    path = tmp_path / "locked.wav"
    soundfile.write(path, _tone(), 16000)

    def denied(file, *args, **kwargs):  # what a chmod 000 file gives a non-root user
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr("skemotion._encoders._audio_items.open", denied, raising=False)
    with pytest.raises(ValueError, match="audio item 0 .*locked.wav.*permission denied.*chmod"):
        AudioFeatures(cache=False).fit_transform([str(path)])


# --- folders ----------------------------------------------------------------------------------


def _deny_listing(monkeypatch, denied):
    """Make os.scandir refuse one folder, as a chmod 000 folder does for a non-root user."""
    import os

    scandir = os.scandir

    def guarded(path="."):
        if os.path.realpath(path) == os.path.realpath(denied):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)


def test_encode_of_a_folder_with_an_unreadable_subfolder_fails_naming_it(
    tmp_path, monkeypatch, capsys
):
    soundfile = pytest.importorskip("soundfile", reason="soundfile is not installed")
    import argparse

    from skemotion._cli.encode import add_parser

    for name in ("a.wav", "locked/b.wav"):
        (tmp_path / "clips" / name).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(tmp_path / "clips" / name, _tone(8000), 16000)
    _deny_listing(monkeypatch, tmp_path / "clips" / "locked")
    parser = argparse.ArgumentParser(prog="skemotion")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["encode", str(tmp_path / "clips"), "-o", str(tmp_path / "f.npz"),
                              "--encoder", "audio-features", "--no-cache"])  # fmt: skip
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "cannot list" in err and "locked" in err and "chmod" in err
    assert not (tmp_path / "f.npz").exists()


def test_a_folder_link_back_up_the_tree_is_listed_once(tmp_path):
    from skemotion.datasets._base import list_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.wav").write_bytes(b"")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    assert list_files(tmp_path, {".wav"}, recursive=True) == [tmp_path / "sub" / "a.wav"]


# --- files changed behind the cache's back -----------------------------------------------------


def test_a_file_rewritten_in_place_with_its_mtime_restored_gets_a_new_digest(tmp_path):
    import os

    from skemotion._encoders._hashing import file_sha256

    path = tmp_path / "clip.wav"
    path.write_bytes(b"A" * 1000)
    before = os.stat(path)
    first = file_sha256(path)
    path.write_bytes(b"B" * 1000)  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    assert file_sha256(path) != first


def test_a_model_folder_with_a_link_loop_is_hashed_once(tmp_path):
    from skemotion._encoders._hashing import model_dir_sha256

    (tmp_path / "weights.bin").write_bytes(b"w")
    (tmp_path / "loop").symlink_to(tmp_path)
    assert len(model_dir_sha256(tmp_path)) == 64


def test_weights_rewritten_in_place_are_loaded_again(tmp_path):
    import shutil

    from safetensors.numpy import load_file, save_file

    model = tmp_path / "model"
    shutil.copytree(tiny_text_model_dir(), model)
    encoder = TextEncoder(str(model), device="cpu", cache=False)
    before = encoder.fit_transform(["i am so happy"])
    fingerprint = encoder._fingerprint()
    weights = load_file(model / "model.safetensors")
    save_file({name: value * 1.5 for name, value in weights.items()}, model / "model.safetensors")
    after = encoder.transform(["i am so happy"])
    # New weights: a new fingerprint (cache keys) and embeddings computed with them.
    assert encoder._fingerprint() != fingerprint
    assert not np.allclose(before, after)
    fresh = TextEncoder(str(model), device="cpu", cache=False).fit_transform(["i am so happy"])
    np.testing.assert_allclose(after, fresh, rtol=1e-5)


# --- images -----------------------------------------------------------------------------------


def test_a_32_bit_image_above_65535_is_scaled_not_saturated():
    pytest.importorskip("PIL", reason="pillow is not installed")
    from PIL import Image

    from skemotion._encoders._image_items import read_pixels

    ramp = np.linspace(0, 2**31 - 1, 64).astype(np.int32).reshape(8, 8)
    pixels = read_pixels(Image.fromarray(ramp, mode="I"), caller="test")
    assert pixels.min() == 0 and pixels.max() == 255
    assert len(np.unique(pixels)) > 50  # a ramp, not a wall of white
    sixteen = Image.fromarray(np.full((4, 4), 65535, dtype=np.int32), mode="I")
    assert read_pixels(sixteen, caller="test").max() == 255  # 16-bit data in "I" mode


def test_face_encoder_reads_a_32_bit_image_as_a_ramp():
    pytest.importorskip("PIL", reason="pillow is not installed")
    from PIL import Image

    from skemotion._encoders._face import _to_grey

    ramp = np.linspace(0, 2**31 - 1, 48 * 48).astype(np.int32).reshape(48, 48)
    grey = _to_grey(Image.fromarray(ramp, mode="I"))
    assert grey.max() > 0.9 * 255 and len(np.unique(grey)) > 100


def test_an_empty_image_is_named_before_opencv_asserts():
    pytest.importorskip("PIL", reason="pillow is not installed")
    from PIL import Image

    from skemotion import FaceEncoder

    with pytest.raises(TypeError, match=r"face item 1 is an empty PIL image \(size \(0, 0\)\)"):
        FaceEncoder(cache=False, device="cpu").fit_transform(
            [Image.new("L", (48, 48)), Image.new("L", (0, 0))]
        )


@pytest.mark.parametrize("cache", [False, "tmp"])
def test_a_lone_surrogate_in_a_text_is_named(cache, tmp_path):
    encoder = TextEncoder(tiny_text_model_dir(), device="cpu",
                          cache=tmp_path if cache == "tmp" else False)  # fmt: skip
    with pytest.raises(TypeError, match="text item 1.*not valid Unicode.*'\\\\udc80'.*replace"):
        encoder.fit_transform(["fine", "bad \udc80 text"])


# --- command-line outputs, checked before the work --------------------------------------------


def test_outputs_that_cannot_be_written_are_refused_before_any_work(tmp_path):
    from skemotion._cli._common import check_writable

    a_file = tmp_path / "taken"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match="--output-dir .*taken is a file; pass a folder"):
        check_writable(a_file, "--output-dir", folder=True)
    with pytest.raises(IsADirectoryError, match="--output .* is a folder; pass a file name"):
        check_writable(tmp_path, "--output")
    with pytest.raises(NotADirectoryError, match="taken is a file, not a folder"):
        check_writable(a_file / "sub" / "scores.json", "--output")
    check_writable(tmp_path / "new" / "deeper" / "scores.json", "--output")  # created later
    check_writable(tmp_path / "figures", "--output-dir", folder=True)


def test_demo_with_an_output_dir_that_is_a_file_fails_at_once(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    from skemotion._cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("the demo started working before checking --output-dir")

    monkeypatch.setattr("skemotion._cli.demo_face_voice.load_data", no_work)
    (tmp_path / "figs").write_text("x")
    assert main(["demo", "--no-cache", "--output-dir", str(tmp_path / "figs")]) == 1
    assert "--output-dir" in capsys.readouterr().err


def test_evaluate_with_an_unwritable_output_fails_before_loading(tmp_path, capsys, monkeypatch):
    from skemotion._cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("evaluate loaded the data before checking --output")

    monkeypatch.setattr("skemotion._cli.evaluate.load_dataset", no_work)
    assert main(["evaluate", "ravdess", str(tmp_path), "--output", str(tmp_path)]) == 1
    assert "--output" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"text\ncaf\xe9 au lait\n", b"\x89PNG\r\n\x1a\n\x00\xff\xfe"])
def test_encode_of_a_csv_that_is_not_utf8_names_the_file_and_the_fix(tmp_path, capsys, content):
    import argparse

    from skemotion._cli.encode import add_parser

    path = tmp_path / "texts.csv"
    path.write_bytes(content)
    parser = argparse.ArgumentParser(prog="skemotion")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "encode",
            str(path),
            "--column",
            "text",
            "-o",
            str(tmp_path / "f.npz"),
            "--encoder",
            "text",
            "--no-cache",
        ]
    )
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "texts.csv is not UTF-8 text" in err and "iconv" in err


def test_texts_wholly_outside_the_vocabulary_warn_that_they_embed_alike():
    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=False)
    with pytest.warns(
        UserWarning,
        match="2 text\\(s\\) hold only characters the model's vocabulary lacks.*same embedding",
    ):
        X = encoder.fit_transform(["😍", "😡", "i am so happy"])
    np.testing.assert_allclose(X[0], X[1])  # the model limit the warning is about


def test_texts_within_the_vocabulary_do_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TextEncoder(tiny_text_model_dir(), device="cpu", cache=False).fit_transform(
            ["i am so happy 😍", "sad"]
        )


@pytest.mark.parametrize("kind", ["not a model", "deleted"])
def test_a_text_model_that_cannot_load_names_the_model_and_the_fix(tmp_path, kind):
    folder = tmp_path / "model"
    if kind == "not a model":
        folder.mkdir()
        (folder / "notes.txt").write_text("not weights")
    with pytest.raises(
        OSError, match="TextEncoder could not load model=.*model'.*Pass a local model folder"
    ):
        TextEncoder(str(folder), device="cpu", cache=False).fit_transform(["hi"])


# --- datasets as actually distributed ----------------------------------------------------------


def test_tess_reads_the_misnamed_file_of_the_release_and_refuses_others(tmp_path):
    from skemotion.datasets import load_tess

    root = tmp_path / "TESS"
    for name in ("OAF_neutral/OA_bite_neutral.wav", "OAF_neutral/OAF_back_neutral.wav"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    frame = load_tess(root).frame.sort_values("word")
    assert frame[["speaker", "word", "emotion"]].values.tolist() == [
        ["OAF", "back", "neutral"],
        ["OAF", "bite", "neutral"],
    ]
    (root / "OAF_neutral" / "OA_back_neutral.wav").touch()  # not the release's quirk
    with pytest.raises(ValueError, match="OA_back_neutral.wav"):
        load_tess(root)


# --- libraries imported once, before the decoding threads ----------------------------------


def test_decoding_libraries_are_imported_in_the_calling_thread_first(monkeypatch):
    # Several decoding threads importing OpenCV for the first time at once saw it
    # half-initialised ("module 'cv2' has no attribute 'data'", 13 of 40 fresh runs).
    import threading

    from skemotion import FaceEncoder

    events = []
    original_import = FaceEncoder._import_decoding_libraries
    original_decode = FaceEncoder._decode

    def importing(self):
        events.append(("import", threading.get_ident()))
        return original_import(self)

    def decoding(self, item):
        events.append(("decode", threading.get_ident()))
        return original_decode(self, item)

    monkeypatch.setattr(FaceEncoder, "_import_decoding_libraries", importing)
    monkeypatch.setattr(FaceEncoder, "_decode", decoding)
    faces = [np.full((48, 48), level, np.uint8) for level in range(0, 200, 20)]
    FaceEncoder(device="cpu", cache=False, detect="haar").fit_transform(faces)
    assert events[0] == ("import", threading.get_ident())
    assert [kind for kind, _ in events[1:]] == ["decode"] * len(faces)


# --- texts the tokenizer reads as nothing -----------------------------------------------------


@pytest.mark.parametrize("text", ["\x00\x00", "\ufffd\ufffd", "\x00 \x07"])
def test_texts_of_characters_the_tokenizer_drops_warn_that_they_embed_as_empty(text):
    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=False)
    with pytest.warns(UserWarning, match=r"2 text\(s\) hold no character the model reads"):
        X = encoder.fit_transform([text, "\x01", "i am so happy"])
    np.testing.assert_allclose(X[0], X[1], rtol=1e-6)  # what the warning is about


# --- columns that are not features --------------------------------------------------------------


def _fusion_estimators():
    from skemotion import AttentionFusionClassifier, EarlyFusion, StackingFusionClassifier

    modalities = {"face": ["f0", "f1"], "audio": ["a0", "a1"]}
    return [
        EarlyFusion(modalities=modalities),
        LateFusionClassifier(LogisticRegression(), modalities=modalities),
        StackingFusionClassifier(LogisticRegression(), modalities=modalities, cv=2),
        AttentionFusionClassifier(modalities=modalities, max_epochs=2),
    ]


@pytest.mark.parametrize("estimator", _fusion_estimators(), ids=lambda e: type(e).__name__)
def test_a_speaker_column_left_in_x_is_named_by_every_fusion_estimator(estimator):
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(8, 4)), columns=["f0", "f1", "a0", "a1"])
    X["speaker"] = ["ann", "bob"] * 4
    with pytest.raises(ValueError, match=r"1 column\(s\) of text in X \('speaker'\).*groups="):
        estimator.fit(X, ["joy", "sad"] * 4)


def test_a_string_column_of_a_numpy_array_is_named_by_position():
    X = np.array([[0.1, "ann"], [0.2, "bob"], [0.3, "ann"], [0.4, "bob"]], dtype=object)
    estimator = LateFusionClassifier(LogisticRegression(), modalities={"a": [0], "b": [1]})
    with pytest.raises(ValueError, match=r"column\(s\) of text in X \(column 1\)"):
        estimator.fit(X, ["joy", "sad"] * 2)


def test_labels_mixing_nan_and_numbers_with_strings_are_refused_by_the_tuned_classifier():
    X = np.random.default_rng(0).normal(size=(12, 2))
    for bad in (np.nan, 3):
        y = ["joy", "sad"] * 5 + ["joy", bad]
        with pytest.raises((ValueError, TypeError), match="TunedOffsetClassifierCV: .*row 11"):
            TunedOffsetClassifierCV(LogisticRegression(), cv=2).fit(X, y)


# --- speaker normalisation and speaker folds -----------------------------------------------------


def test_speaker_normalizer_names_a_text_feature_column():
    from skemotion import SpeakerNormalizer

    X = pd.DataFrame({"speaker": ["a", "a", "b", "b"], "pitch": [1.0, 2, 3, 4], "t": list("wxyz")})
    with pytest.raises(ValueError, match=r"column\(s\) of text besides the speaker.*'t'"):
        SpeakerNormalizer().fit(X)


def test_speaker_normalizer_needs_a_feature_beside_the_speaker():
    from skemotion import SpeakerNormalizer

    with pytest.raises(ValueError, match=r"1 column\(s\): it needs the speaker column and at"):
        SpeakerNormalizer().fit(pd.DataFrame({"speaker": ["a", "b"]}))


def test_speaker_position_out_of_range_says_so():
    from skemotion import SpeakerNormalizer

    with pytest.raises(ValueError, match=r"speaker=5 is out of range for X's 3 columns.*0 to 2"):
        SpeakerNormalizer(speaker=5).fit(np.ones((4, 3)))


@pytest.mark.parametrize(
    "groups, match",
    [
        (None, "got groups=None. Pass the speaker"),
        (["a", "b"], r"groups of shape \(2,\) for 12 samples"),
        (["a", None] * 6, r"6 missing group\(s\) \(None or NaN, at positions 1, 3, 5, 7, 9"),
        (["a", "b"] * 6, r"speaker_cv\(3\) needs at least 3 groups.*n_splits <= 2"),
    ],
)
def test_speaker_folds_name_what_is_wrong_with_the_groups(groups, match):
    from skemotion import check_cv_groups, speaker_cv

    X, y = np.zeros((12, 2)), [0, 1] * 6
    with pytest.raises(ValueError, match=match):
        list(speaker_cv(3).split(X, y, groups))
    if groups is None or len(groups) != 12 or None in groups:
        with pytest.raises(ValueError, match=match.replace("speaker_cv\\(3\\)", "")):
            check_cv_groups(speaker_cv(3), groups, y=y)


# --- reports -------------------------------------------------------------------------------------


def test_emotion_report_refuses_probabilities_for_labels():
    from skemotion import emotion_report

    with pytest.raises(ValueError, match=r"shape \(3, 2\).*not model.predict_proba"):
        emotion_report(["a", "b", "a"], np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="float y_pred for labels that are strings"):
        emotion_report(["a", "b", "a"], [0.2, 0.7, 0.1])


def test_emotion_report_names_a_sample_weight_of_the_wrong_length():
    from skemotion import emotion_report

    with pytest.raises(ValueError, match="y_true has 3, y_pred has 3, sample_weight has 2"):
        emotion_report(["a", "b", "a"], ["a", "a", "a"], sample_weight=[1, 2])


# --- more from the estimators' sweep ---------------------------------------------------------


def _frame(n=8):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        rng.normal(size=(n, 4)), columns=["face__a", "face__b", "audio__a", "audio__b"]
    )


def test_attention_fusion_refuses_one_class_as_the_other_fusion_classifiers():
    pytest.importorskip("torch")
    from skemotion import AttentionFusionClassifier

    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 'joy'"):
        AttentionFusionClassifier(max_epochs=1).fit(_frame(), ["joy"] * 8)


@pytest.mark.parametrize("bad", [3, None])
def test_early_fusion_names_a_label_that_a_pipeline_would_sort_badly(bad):
    from skemotion import EarlyFusion

    with pytest.raises((TypeError, ValueError), match="EarlyFusion: .*row 7"):
        EarlyFusion().fit(_frame(), ["joy", "sad"] * 3 + ["joy", bad])


def test_a_nan_among_float_labels_is_named_with_its_row():
    y = [0.0, 1.0, np.nan, 1.0] * 2
    with pytest.raises(
        ValueError, match=r"LateFusionClassifier: 2 label\(s\) in y are missing.*row 2"
    ):
        LateFusionClassifier(LogisticRegression()).fit(_frame(), np.array(y))


def test_infinite_values_and_repeated_or_unnamed_columns_are_named():
    from skemotion import EarlyFusion

    X = _frame()
    X.loc[3, "face__b"] = np.inf
    with pytest.raises(ValueError, match=r"infinite values \(inf\) in X.*'face__b'"):
        LateFusionClassifier(LogisticRegression()).fit(X, ["joy", "sad"] * 4)
    repeated = _frame().set_axis(["face__a", "face__a", "audio__a", "audio__b"], axis=1)
    with pytest.raises(ValueError, match=r"repeated column names \('face__a'\).*unique"):
        EarlyFusion().fit(repeated)
    with pytest.raises(ValueError, match=r"4 column name\(s\) of X are not str.*astype\(str\)"):
        EarlyFusion().fit(pd.DataFrame(np.ones((4, 4))))


def test_labels_and_rows_of_different_lengths_are_named():
    with pytest.raises(ValueError, match="8 rows in X but 7 labels in y"):
        LateFusionClassifier(LogisticRegression()).fit(_frame(), ["joy", "sad"] * 3 + ["joy"])


def test_inner_folds_name_cv_and_the_rare_class():
    from skemotion import StackingFusionClassifier

    y = ["joy"] * 6 + ["fear"] * 2
    with pytest.warns(UserWarning, match=r"class\(es\) 'fear' have fewer samples.*cv=3"):
        StackingFusionClassifier(LogisticRegression(), cv=3).fit(_frame(), y)
    groups = ["ann", "bob"] * 4
    with pytest.raises(ValueError, match="cv=3 makes folds by group.*holds 2. Pass cv=2"):
        StackingFusionClassifier(LogisticRegression(), cv=3).fit(
            _frame(), ["joy", "sad"] * 4, groups=groups
        )
    with pytest.raises(ValueError, match=r"1 of the groups are missing.*row 5"):
        TunedOffsetClassifierCV(LogisticRegression(), cv=2).fit(
            _frame(), ["joy", "sad"] * 4, groups=["a", "b", "a", "b", "a", None, "a", "b"]
        )


def test_tuned_classifier_refuses_one_class_before_its_estimator_fails():
    with pytest.raises(ValueError, match="TunedOffsetClassifierCV needs .* 2 classes.*'joy'"):
        TunedOffsetClassifierCV(LogisticRegression()).fit(_frame(), ["joy"] * 8)


@pytest.mark.parametrize(
    "names, step, match",
    [(None, 0.5, "sequence of modality names"), (["face", "audio"], True, "step")],
)
def test_weight_grid_names_none_and_a_boolean_step(names, step, match):
    from skemotion.fusion import weight_grid

    with pytest.raises(ValueError, match=match):
        weight_grid(names, step)


def test_speaker_cv_refuses_one_fold_a_seed_without_shuffle_and_one_speaker():
    from skemotion import speaker_cv

    with pytest.raises(ValueError, match="at least 2"):
        speaker_cv(1)
    with pytest.raises(ValueError, match="shuffle=True"):
        speaker_cv(2, random_state=0)
    with pytest.raises(ValueError, match="samples of at least 2 speakers"):
        list(speaker_cv(2).split(np.zeros((4, 1)), [0, 1, 0, 1], ["ann"] * 4))


def test_emotion_report_names_codes_missing_labels_and_labels_never_true():
    from skemotion import emotion_report

    with pytest.raises(ValueError, match=r"integer y_pred.*classes_\[codes\]"):
        emotion_report(np.array(["a", "b"]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"emotion_report \(y_true\): 1 label.*row 1"):
        emotion_report(["a", None, "b"], ["a", "b", "b"])
    with pytest.warns(UserWarning, match=r"not in y_true \('fear'\)"):
        emotion_report(["a", "b", "b"], ["a", "fear", "b"])
    with pytest.raises(ValueError, match="empty y_true"):
        emotion_report([], [])


# --- parameters changed after fit, labels of a MultiIndex -------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [({"batch_size": 0}, "'batch_size' parameter"), ({"missing": "drop"}, "'missing' parameter")],
)
def test_parameters_set_after_fit_are_checked_by_transform(params, match):
    from sklearn.utils._param_validation import InvalidParameterError

    encoder = TextEncoder(tiny_text_model_dir(), device="cpu", cache=False).fit(["a", "b"])
    encoder.set_params(**params)
    with pytest.raises(InvalidParameterError, match=match):
        encoder.transform(["a", None])


def test_a_multiindex_label_is_shown_with_plain_values():
    from skemotion._encoders._items import describe_position

    index = pd.MultiIndex.from_tuples([("s1", 0), ("s1", 1)])
    assert describe_position(1, index) == "item 1 (index ('s1', 1))"


# --- images: URLs, closed PIL images, blank paths -------------------------------------------


def test_an_image_url_is_refused_as_never_downloaded():
    from skemotion._encoders._image_items import image_item_error

    assert "is a URL ('https://x/a.png'): skemotion reads local" in image_item_error(
        "https://x/a.png"
    )
    assert image_item_error("a.png") is None


def test_a_pil_image_closed_before_it_was_read_is_named(tmp_path):
    from PIL import Image

    from skemotion._encoders._image_items import image_item_error

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as closed:
        pass
    assert "file was closed before its pixels were read" in image_item_error(closed)
    with Image.open(tmp_path / "a.png") as loaded:
        loaded.load()
    assert image_item_error(loaded) is None


def test_image_encoder_takes_a_blank_path_as_missing_as_face_encoder_does():
    from skemotion import ImageEncoder

    assert ImageEncoder()._is_missing_item("  ") and not ImageEncoder()._is_missing_item("a.png")


# --- audio containers whose header says how long they are ------------------------------------


@pytest.mark.parametrize(
    "format_, subtype, suffix",
    [
        ("WAV", "PCM_16", ".wav"),
        ("WAVEX", "PCM_16", ".wav"),
        ("RF64", "PCM_16", ".wav"),
        ("W64", "PCM_16", ".w64"),
        ("AIFF", "PCM_16", ".aiff"),
        ("OGG", "VORBIS", ".ogg"),
    ],
)
def test_a_cut_file_of_every_container_is_refused_and_a_whole_one_read(
    tmp_path, format_, subtype, suffix
):
    sf = pytest.importorskip("soundfile")
    from skemotion._encoders._audio_items import read_audio_file

    path = tmp_path / f"clip{suffix}"
    sf.write(path, _tone(48000), 16000, format=format_, subtype=subtype)
    samples, rate = read_audio_file(path, caller="test")
    assert rate == 16000 and abs(samples.shape[0] - 48000) <= 2304  # Vorbis: whole pages
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.7)])
    with pytest.raises(ValueError, match="the file is truncated"):
        read_audio_file(path, caller="test")


def test_a_wav_whose_data_follows_a_large_chunk_is_checked_too(tmp_path):
    sf = pytest.importorskip("soundfile")
    from skemotion._encoders._audio_headers import declared_frames

    sf.write(tmp_path / "a.wav", _tone(16000), 16000)
    data = (tmp_path / "a.wav").read_bytes()
    junk = b"JUNK" + (70_000).to_bytes(4, "little") + bytes(70_000)
    riff = (len(data) - 8 + len(junk)).to_bytes(4, "little")
    (tmp_path / "b.wav").write_bytes(b"RIFF" + riff + b"WAVE" + junk + data[12:])
    assert declared_frames(tmp_path / "b.wav") == 16000


def test_an_empty_file_and_an_implausible_rate_are_named(tmp_path):
    sf = pytest.importorskip("soundfile")
    from skemotion._encoders._audio_items import audio_item_error, read_audio_file

    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.wav' is empty \(0 bytes\)"):
        read_audio_file(tmp_path / "empty.wav", caller="test")
    sf.write(tmp_path / "slow.wav", _tone(100), 16)
    with pytest.raises(ValueError, match="16 Hz, outside the 1,000-768,000 Hz"):
        read_audio_file(tmp_path / "slow.wav", caller="test")
    assert "16000, not 16" in audio_item_error((_tone(100), 16))


def test_a_pipeline_whose_speaker_column_is_missing_names_speaker():
    import pickle

    from skemotion import make_multimodal_pipeline

    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", ["f0", "f1"])}, LogisticRegression(), speaker="actor"
    )
    X = pd.DataFrame({"f0": [0.0, 1, 2, 3], "f1": [1.0, 0, 1, 0]})
    with pytest.raises(ValueError, match=r"speaker='actor'\): X has no column 'actor'.*'f0'"):
        pipe.fit(X, ["joy", "sad"] * 2)
    fitted = pickle.loads(pickle.dumps(pipe)).fit(
        X.assign(actor=["a", "a", "b", "b"]), ["joy", "sad"] * 2
    )
    assert fitted.predict(X.assign(actor=["c"] * 4)).shape == (4,)  # and it still pickles
