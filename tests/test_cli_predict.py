"""``skemotion evaluate --save`` and ``skemotion predict``: the saved pipeline, round trips.

The commands run through a parser built here (``add_parser`` on fresh subparsers), so
these tests do not depend on how ``skemotion._cli`` wires its subcommands. The model is
fitted once per module by ``evaluate --save`` on 16 clips of the real RAVDESS speech
audio in ../shared/data (AudioFeatures, through a temporary cache); ``predict`` then
reads 4 clips of actors the model was not fitted on. The errors about MODEL itself do
not need the data.
"""

import argparse
import io
import os
import shutil
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from skemotion import (
    AudioFeatures,
    LateFusionClassifier,
    TextEncoder,
    make_multimodal_pipeline,
)
from skemotion._cli import main
from skemotion._cli import predict as predict_command
from skemotion._cli.evaluate import add_parser as add_evaluate
from skemotion._cli.evaluate import load_dataset
from skemotion._cli.predict import add_parser as add_predict

pytest.importorskip("soundfile")
pytest.importorskip("soxr")

RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech"
needs_ravdess = pytest.mark.skipif(
    not RAVDESS.is_dir(), reason=f"the real RAVDESS speech audio is not at {RAVDESS}"
)
N_SAMPLES = 16
HELD_OUT = 4
TRUST = "Only load model files you trust"


def cli(*argv):
    """Parse ``skemotion ARGV`` with a parser of evaluate and predict, and run it."""
    parser = argparse.ArgumentParser(prog="skemotion")
    commands = parser.add_subparsers()
    add_evaluate(commands)
    add_predict(commands)
    args = parser.parse_args(list(map(str, argv)))
    return args.func(args)


def predict(*argv):
    return cli("predict", *argv)


def usage_error(capsys, *argv):
    """Run ``predict ARGV``, expect exit status 2, return stderr."""
    with pytest.raises(SystemExit) as exc:
        predict(*argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def read_csv(path_or_text):
    """The CSV written, its probabilities read back as the very floats written."""
    # pandas 3 reads floats exactly by default (and deprecates the option); pandas 2 does not.
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    return pd.read_csv(path_or_text, **exact)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``evaluate --save`` on 16 RAVDESS clips; 4 held-out clips (2 in a subfolder)."""
    if not RAVDESS.is_dir():
        pytest.skip(f"the real RAVDESS speech audio is not at {RAVDESS}")
    root = tmp_path_factory.mktemp("predict")
    model, cache = root / "models" / "ravdess.joblib", root / "cache.sqlite"
    argv = ["evaluate", "ravdess", RAVDESS, "--n-samples", N_SAMPLES, "--folds", 2]
    assert cli(*argv, "--cache", cache, "--save", model) == 0
    trained = load_dataset("ravdess", RAVDESS, {}, N_SAMPLES).frame
    actors = set(trained["actor"])
    every = load_dataset("ravdess", RAVDESS, {}).frame
    unseen = every[~every["actor"].isin(actors)].groupby("emotion").head(1)[:HELD_OUT]
    held = root / "held"
    (held / "sub").mkdir(parents=True)
    files = []
    for k, source in enumerate(unseen["audio"]):
        files.append(held / ("sub" if k % 2 else "") / Path(source).name)
        shutil.copy(source, files[-1])
    (held / "notes.txt").write_text("not audio")  # not read: the model reads audio
    files.sort()  # the folder's order
    return {"model": model, "cache": cache, "held": held, "files": files}


@pytest.fixture(scope="module")
def expected(saved):
    """The Python API's predictions for the held-out files, in the folder's order."""
    model = joblib.load(saved["model"])
    X = pd.DataFrame({"audio": [str(f) for f in saved["files"]]})
    return model.predict(X), model.predict_proba(X), model.classes_


def proba_columns(frame):
    return [c for c in frame if c.startswith("proba_")]


# --- evaluate --save -------------------------------------------------------------------------


@needs_ravdess
def test_saved_model_is_the_fitted_pipeline_itself(saved):
    model = joblib.load(saved["model"])
    assert isinstance(model, Pipeline)
    assert [type(step).__name__ for _, step in model.steps] == [
        "AudioFeatures",
        "StandardScaler",
        "LogisticRegression",
    ]
    assert model.feature_names_in_.tolist() == ["audio"]  # fitted on the DataFrame
    assert len(model.classes_) == 8 and "neutral" in model.classes_
    # No cache path of the machine that saved it travels with the file.
    assert model[0].cache is None and model[0].verbose is False


def test_save_path_is_checked_before_the_data_is_read(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    save = tmp_path / "file" / "model.joblib"
    assert cli("evaluate", "ravdess", tmp_path / "nowhere", "--no-cache", "--save", save) == 1
    err = capsys.readouterr().err
    assert f"--save {save}" in err and "is a file, not a folder" in err
    assert "load_ravdess" not in err  # the loader never ran


def test_evaluate_help_describes_save(capsys):
    with pytest.raises(SystemExit):
        cli("evaluate", "--help")
    out = capsys.readouterr().out
    assert "--save MODEL.joblib" in out and "skemotion predict" in out
    assert "load only model files you trust" in " ".join(out.split())


# --- predict: round trips --------------------------------------------------------------------


@needs_ravdess
def test_folder_gives_the_python_apis_predictions(saved, expected, tmp_path, capsys):
    out = tmp_path / "out" / "predictions.csv"  # the folder is created
    assert predict(saved["model"], saved["held"], "-o", out, "--cache", saved["cache"]) == 0
    frame = read_csv(out)
    labels, proba, classes = expected
    assert frame.columns.tolist() == ["item", "emotion", *(f"proba_{c}" for c in classes)]
    # The item as given: the folder as passed, then the path under it.
    assert frame["item"].tolist() == [
        str(saved["held"] / f.relative_to(saved["held"])) for f in saved["files"]
    ]
    np.testing.assert_array_equal(frame["emotion"], labels)
    np.testing.assert_array_equal(frame[proba_columns(frame)].to_numpy(), proba)
    line = capsys.readouterr().out
    assert f"Predicted {HELD_OUT} of {HELD_OUT} items with Pipeline(AudioFeatures," in line
    assert str(out) in line


@needs_ravdess
def test_files_on_the_command_line_write_csv_to_stdout(saved, expected, capsys):
    files = saved["files"]
    assert predict(saved["model"], *files, "--cache", saved["cache"]) == 0
    captured = capsys.readouterr()
    frame = read_csv(io.StringIO(captured.out))  # nothing but the CSV on stdout
    assert frame["item"].tolist() == [str(f) for f in files]
    np.testing.assert_array_equal(frame["emotion"], expected[0])
    np.testing.assert_array_equal(frame[proba_columns(frame)].to_numpy(), expected[1])
    assert "Predicted 4 of 4 items" in captured.err and "wrote stdout" in captured.err


@needs_ravdess
def test_csv_column_to_parquet_resolves_paths_against_the_csv(saved, expected, tmp_path):
    pytest.importorskip("pyarrow")
    held, files = saved["held"], saved["files"]
    cells = [f.relative_to(held).as_posix() for f in files]
    cells[0] = str(files[0])  # an absolute path is read as it is
    pd.DataFrame({"wav": cells, "note": "x"}).to_csv(held / "list.csv", index=False)
    out = tmp_path / "predictions.parquet"
    argv = [saved["model"], held / "list.csv", "--column", "wav", "-o", out]
    assert predict(*argv, "--cache", saved["cache"]) == 0
    frame = pd.read_parquet(out)
    assert frame["item"].tolist() == cells  # as written in the CSV
    np.testing.assert_array_equal(frame["emotion"], expected[0])
    np.testing.assert_array_equal(frame[proba_columns(frame)].to_numpy(), expected[1])


@needs_ravdess
def test_every_column_a_model_was_fitted_on_gets_the_items(saved, tmp_path, capsys):
    # How one file feeds several modalities: a video column read by an audio and a face
    # encoder; here two audio encoders fused late, fitted on two columns of the same files.
    files = [str(f) for f in saved["files"]]
    X = pd.DataFrame({"voice": files, "prosody": files})
    encoders = {
        "voice": AudioFeatures(),
        "prosody": AudioFeatures(n_mfcc=13),
    }
    pipe = make_multimodal_pipeline(encoders, fusion=LateFusionClassifier(LogisticRegression()))
    pipe.fit(X, ["calm", "happy", "calm", "happy"])
    joblib.dump(pipe, tmp_path / "fused.joblib")
    assert predict(tmp_path / "fused.joblib", *files, "--no-cache") == 0
    frame = read_csv(io.StringIO(capsys.readouterr().out))
    np.testing.assert_array_equal(frame["emotion"], pipe.predict(X))
    np.testing.assert_array_equal(frame[["proba_calm", "proba_happy"]], pipe.predict_proba(X))


def test_a_text_model_reads_the_texts_of_a_csv_column(tiny_model, tmp_path, capsys):
    texts = ["i am so happy", "i hate this", "what a joy", "so angry"]
    X = pd.DataFrame({"text": texts})
    pipe = make_pipeline(TextEncoder(model=tiny_model, cache=False), LogisticRegression())
    pipe.fit(X, ["joy", "anger", "joy", "anger"])
    joblib.dump(pipe, tmp_path / "text.joblib")
    (tmp_path / "posts").mkdir()
    pd.DataFrame({"body": texts}).to_csv(tmp_path / "posts" / "posts.csv", index=False)
    csv = tmp_path / "posts" / "posts.csv"
    assert predict(tmp_path / "text.joblib", csv, "--column", "body", "--no-cache") == 0
    frame = read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["item"].tolist() == texts  # texts, not paths under the CSV's folder
    np.testing.assert_array_equal(frame["emotion"], pipe.predict(X))
    np.testing.assert_array_equal(frame[["proba_anger", "proba_joy"]], pipe.predict_proba(X))
    err = usage_error(capsys, tmp_path / "text.joblib", tmp_path / "posts")
    assert "the model reads texts: pass a CSV file with --column" in err


# --- predict: items that cannot be read ------------------------------------------------------


@pytest.fixture
def with_corrupt(saved, tmp_path):
    folder = tmp_path / "clips"
    shutil.copytree(saved["held"], folder)
    (folder / "broken.wav").write_bytes(b"not audio at all")
    return folder


@needs_ravdess
def test_a_corrupt_file_is_an_error_naming_it_and_the_fix(saved, with_corrupt, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert predict(saved["model"], with_corrupt, "-o", out, "--no-cache") == 1
    err = capsys.readouterr().err
    assert err.startswith("skemotion predict: error: ValueError: AudioFeatures: audio item 2")
    assert f"{with_corrupt / 'broken.wav'}" in err and "--on-error skip" in err
    assert not out.exists()


@needs_ravdess
def test_skip_writes_a_row_with_the_error_and_predicts_the_rest(
    saved, expected, with_corrupt, tmp_path, capsys
):
    out = tmp_path / "p.csv"
    argv = [saved["model"], with_corrupt, "-o", out, "--cache", saved["cache"]]
    assert predict(*argv, "--on-error", "skip") == 0
    frame = read_csv(out)
    names = [Path(item).name for item in frame["item"]]
    assert names == sorted([f.name for f in saved["files"][:2]] + ["broken.wav"]) + [
        f.name for f in saved["files"][2:]
    ]
    assert frame.columns[-1] == "error"
    bad = frame["item"] == str(with_corrupt / "broken.wav")
    assert bad.sum() == 1
    assert frame.loc[bad, "emotion"].isna().all()
    assert frame.loc[bad, proba_columns(frame)].isna().all(axis=None)
    assert "broken.wav" in frame.loc[bad, "error"].item()
    assert "not audio that libsndfile can read" in frame.loc[bad, "error"].item()
    good = frame[~bad]
    assert good["error"].isna().all()
    np.testing.assert_array_equal(good["emotion"], expected[0])
    # The good items are predicted in smaller batches here: BLAS may round differently.
    np.testing.assert_allclose(good[proba_columns(frame)].to_numpy(), expected[1], rtol=1e-5)
    assert "1 could not be predicted (see the 'error' column:" in capsys.readouterr().out


def test_skip_finds_each_bad_item_by_halving_the_batch():
    calls = []

    def fake_predict(model, values):
        calls.append(list(values))
        bad = [v for v in values if v.startswith("bad")]
        if bad:
            raise ValueError(f"cannot read {bad[0]}")
        return np.array([v.upper() for v in values]), None

    items = pd.Series([f"ok{i}" for i in range(14)] + ["bad1", "bad2"], index=range(16))
    items = items.sample(frac=1, random_state=0)
    frame = predict_command.predict_items(object(), items, on_error="skip", predict=fake_predict)
    errors = dict(zip(frame["item"], frame["error"], strict=True))
    assert {k for k, v in errors.items() if pd.notna(v)} == {
        str(i) for i, v in items.items() if v.startswith("bad")
    }
    assert errors[str(items.index[items == "bad2"][0])] == "cannot read bad2"
    ok = frame["error"].isna().to_numpy()
    assert frame["emotion"][ok].tolist() == [v.upper() for v in items[ok]]
    assert len(calls) < len(items)  # far fewer calls than one per item
    with pytest.raises(ValueError, match=r"cannot read bad1\. Pass --on-error skip"):
        predict_command.predict_items(object(), items, predict=fake_predict)


def test_every_item_failing_is_an_error_even_with_skip():
    def fail(model, values):
        raise ValueError("unreadable")

    with pytest.raises(ValueError, match="none of the 2 item"):
        predict_command.predict_items(
            object(), pd.Series(["a", "b"]), on_error="skip", predict=fail
        )


# --- predict: the other errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dict", "holds a dict, not an estimator with predict"),
        ("text", "is not a joblib file"),
        ("unfitted", "holds an unfitted Pipeline(AudioFeatures, LogisticRegression)"),
        ("missing", "does not exist"),
    ],
)
def test_a_model_file_that_is_not_a_fitted_pipeline_is_named(tmp_path, capsys, content, message):
    model = tmp_path / "model.joblib"
    if content == "dict":
        joblib.dump({"weights": [1, 2]}, model)
    elif content == "text":
        model.write_text("a text file, not a model\n")
    elif content == "unfitted":
        joblib.dump(Pipeline([("a", AudioFeatures()), ("c", LogisticRegression())]), model)
    (tmp_path / "a.wav").write_bytes(b"")
    assert predict(model, tmp_path / "a.wav", "--no-cache") == 1
    err = capsys.readouterr().err
    assert f"MODEL {model} " in err and message in err
    assert "skemotion evaluate --save" in err and "joblib.dump(fitted_pipeline, path)" in err


@needs_ravdess
@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("file/p.csv", "file is a file, not a folder; pass a path under a folder"),
        ("folder.csv", "is a folder; pass a file name"),
        ("read_only/p.csv", "read_only is not writable; pass a path in a folder you can write"),
    ],
)
def test_an_unwritable_output_is_refused_before_predicting(
    saved, tmp_path, monkeypatch, capsys, where, message
):
    def not_called(*args, **kwargs):
        raise AssertionError("predicted before checking the output")

    monkeypatch.setattr(predict_command, "predict_items", not_called)
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "read_only").mkdir()
    # Tests may run as root, whom a chmod does not stop: os.access says no instead.
    writable = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: writable(path, mode) and "read_only" not in str(path)
    )
    out = tmp_path / where
    assert predict(saved["model"], saved["held"], "-o", out, "--no-cache") == 1
    err = capsys.readouterr().err
    assert f"-o/--output {out}" in err and message in err


@needs_ravdess
def test_folder_without_audio_is_an_error(saved, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.png").write_bytes(b"")
    assert predict(saved["model"], tmp_path / "empty", "--no-cache") == 1
    err = capsys.readouterr().err
    assert "FileNotFoundError: no audio files (" in err and ".wav" in err
    assert str(tmp_path / "empty") in err


@needs_ravdess
def test_csv_and_column_usage_errors(saved, tmp_path, capsys):
    csv = tmp_path / "list.csv"
    pd.DataFrame({"path": ["a.wav"]}).to_csv(csv, index=False)
    err = usage_error(capsys, saved["model"], csv)
    assert "a CSV input needs --column" in err and "'path'" in err
    err = usage_error(capsys, saved["model"], csv, "--column", "wav")
    assert "--column 'wav' is not a column of list.csv" in err
    err = usage_error(capsys, saved["model"], saved["held"], "--column", "wav")
    assert "--column applies to a CSV ITEM" in err


@needs_ravdess
def test_a_missing_item_is_named(saved, capsys):
    assert predict(saved["model"], saved["held"] / "nothere.wav", "--no-cache") == 1
    assert "ITEM " in (err := capsys.readouterr().err) and "nothere.wav does not exist" in err


@pytest.mark.parametrize("output", ["p.npz", "p.json", "p"])
def test_other_output_suffixes_are_a_usage_error(tmp_path, capsys, output):
    err = usage_error(capsys, tmp_path / "m.joblib", tmp_path, "-o", tmp_path / output)
    assert "must end in .csv or .parquet" in err


def test_help_warns_that_a_model_file_is_code(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in [TRUST, "runs whatever it holds", "--on-error", "--column", ".parquet", "error"]:
        assert text in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "predict" in capsys.readouterr().out


# --- --segments ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(saved):
    """The held-out clips end to end, a second of silence between them, as one WAV."""
    soundfile = pytest.importorskip("soundfile")
    pytest.importorskip("silero_vad", reason="--segments needs silero-vad: skemotion[vad]")
    pieces = []
    for path in saved["files"]:
        samples, rate = soundfile.read(path, dtype="float32")
        pieces += [samples, np.zeros(rate, np.float32)]
    path = saved["held"].parent / "call.wav"
    soundfile.write(path, np.concatenate(pieces), rate)
    silent = saved["held"].parent / "silence.wav"
    soundfile.write(silent, np.zeros(3 * rate, np.float32), rate)
    return path, silent


@needs_ravdess
def test_segments_give_a_row_per_utterance_as_predict_timeline(saved, recording, tmp_path):
    from skemotion import predict_timeline

    path, silent = recording
    out = tmp_path / "segments.csv"
    assert predict(saved["model"], path, silent, "--segments", "-o", out) == 0
    frame = read_csv(out)
    expected = predict_timeline(joblib.load(saved["model"]), path)
    assert len(expected) >= HELD_OUT - 1  # the utterances were found
    rows = frame[frame["item"] == str(path)].reset_index(drop=True)
    assert list(rows.columns[:4]) == ["item", "start", "end", "emotion"]
    np.testing.assert_allclose(rows[["start", "end"]], expected[["start", "end"]])
    assert rows["emotion"].tolist() == expected["emotion"].tolist()
    np.testing.assert_allclose(rows[proba_columns(rows)], expected[proba_columns(expected)])
    assert rows["error"].isna().all()
    # A recording without speech is one row without an emotion, saying so.
    quiet = frame[frame["item"] == str(silent)]
    assert len(quiet) == 1 and quiet["emotion"].isna().all()
    assert quiet["error"].iloc[0] == "no speech found: no segment to predict"


@needs_ravdess
def test_segments_of_a_corrupt_recording_are_named_or_skipped(saved, recording, tmp_path, capsys):
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio at all\n" * 20)
    assert predict(saved["model"], broken, "--segments") == 1
    assert "broken.wav" in capsys.readouterr().err
    out = tmp_path / "skip.csv"
    assert (
        predict(saved["model"], recording[0], broken, "--segments", "--on-error", "skip", "-o", out)
        == 0
    )
    frame = read_csv(out)
    bad = frame[frame["item"] == str(broken)]
    assert len(bad) == 1 and bad["emotion"].isna().all() and "broken.wav" in bad["error"].iloc[0]
    assert frame[frame["item"] == str(recording[0])]["emotion"].notna().all()
