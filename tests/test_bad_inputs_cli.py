"""Bad inputs to the command line: each named with the fix, before the work where it can be.

Found by benchmarks/sweep_bad_inputs.py (the "cli: " cases); kept fixed here.
"""

import numpy as np

from skemotion._cli import main
from skemotion._encoders._items import describe_position


def _encode_texts(csv, tmp_path, tiny_model, *extra):
    argv = ["encode", csv, "-o", tmp_path / "X.npz", "--encoder", "text", "--model", tiny_model]
    return main([str(a) for a in [*argv, "--column", "text", "--device", "cpu", *extra]])


def test_an_empty_csv_file_is_named(tmp_path, tiny_model, capsys):
    csv = tmp_path / "posts.csv"
    csv.write_bytes(b"")
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache") == 1
    err = capsys.readouterr().err
    assert f"{csv} is empty: a CSV input needs a header row" in err


def test_a_blank_line_is_an_empty_cell_so_later_ids_do_not_shift(tmp_path, tiny_model, capsys):
    csv = tmp_path / "posts.csv"
    csv.write_text("text\ni am happy\n\ni am sad\n")
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache") == 1
    assert "1 empty cell(s) (ids 1)" in capsys.readouterr().err
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache", "--on-error", "skip") == 0
    saved = np.load(tmp_path / "X.npz")
    assert saved["ids"].tolist() == [0, 1, 2]
    assert np.isnan(saved["X"][1]).all() and not np.isnan(saved["X"][[0, 2]]).any()


def test_a_damaged_cache_stops_the_demo_in_one_line(tmp_path, capsys):
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database" * 100)
    assert main(["demo", "--text", "--n-samples", "200", "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"cannot use {cache} as an embedding cache: it is not an SQLite database" in err


def test_a_damaged_cache_is_not_taken_for_a_bad_item_by_predict(tmp_path, tiny_model, capsys):
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skemotion import TextEncoder

    texts = ["i am happy", "so glad", "i am sad", "so down"]
    model = make_pipeline(TextEncoder(tiny_model, device="cpu"), LogisticRegression())
    joblib.dump(model.fit(texts, ["joy", "joy", "sadness", "sadness"]), tmp_path / "m.joblib")
    csv = tmp_path / "posts.csv"
    csv.write_text("text\n" + "\n".join(texts) + "\n")
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database" * 100)
    argv = ["predict", tmp_path / "m.joblib", csv, "--column", "text", "-o", tmp_path / "p.csv"]
    for extra in ([], ["--on-error", "skip"]):
        assert main([str(a) for a in [*argv, "--cache", cache, *extra]]) == 1
        err = capsys.readouterr().err
        assert "not an SQLite database" in err and "--on-error skip" not in err
        assert not (tmp_path / "p.csv").exists()


def test_positions_are_printed_as_plain_numbers():
    assert describe_position(1, np.array([7, 8])) == "item 1 (index 8)"
    assert describe_position(np.int64(1), None) == "item 1"


def test_texts_that_pandas_would_take_for_missing_values_are_texts(tmp_path, tiny_model):
    csv = tmp_path / "posts.csv"
    csv.write_text("text\nNA\nNone\nnull\nN/A\n")
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache") == 0
    assert not np.isnan(np.load(tmp_path / "X.npz")["X"]).any()


def test_an_empty_id_is_named(tmp_path, tiny_model, capsys):
    csv = tmp_path / "posts.csv"
    csv.write_text("post,text\np1,happy\n,sad\n")
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache", "--id-column", "post") == 1
    assert "--id-column 'post' of posts.csv is empty in 1 row(s) (the first: row 1)" in (
        capsys.readouterr().err
    )


def test_an_empty_scheduler_address_is_a_usage_error(tmp_path, tiny_model, capsys):
    import pytest

    csv = tmp_path / "posts.csv"
    csv.write_text("text\nhappy\n")
    with pytest.raises(SystemExit):
        _encode_texts(csv, tmp_path, tiny_model, "--no-cache", "--scheduler", "")
    assert "--scheduler: expected a value" in capsys.readouterr().err


def test_a_failed_write_names_the_output_and_leaves_no_file(tmp_path, tiny_model, monkeypatch):
    csv = tmp_path / "posts.csv"
    csv.write_text("text\nhappy\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    assert _encode_texts(csv, tmp_path, tiny_model, "--no-cache") == 1
    assert not (tmp_path / "X.npz").exists() and not list(tmp_path.glob(".X.npz*"))


def test_an_unreadable_item_names_on_error_skip(tmp_path, capsys):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.wav").write_bytes(b"not audio")
    argv = ["encode", tmp_path / "clips", "-o", tmp_path / "X.npz", "--encoder", "audio-features"]
    assert main([str(a) for a in [*argv, "--no-cache"]]) == 1
    err = capsys.readouterr().err
    assert "a.wav" in err and "Pass --on-error skip" in err


def test_predictions_are_not_written_over_an_input(tmp_path, capsys):
    import joblib
    import pytest
    from sklearn.dummy import DummyClassifier

    joblib.dump(DummyClassifier().fit([[0]], ["joy"]), tmp_path / "m.joblib")
    csv = tmp_path / "items.csv"
    csv.write_text("path\na.wav\n")
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "m.joblib"), str(csv), "--column", "path", "-o", str(csv)])
    assert "is also an ITEM" in capsys.readouterr().err
    assert csv.read_text() == "path\na.wav\n"


def test_a_dangling_link_in_a_folder_is_named_not_dropped(tmp_path, capsys):
    import soundfile

    folder = tmp_path / "clips"
    folder.mkdir()
    soundfile.write(folder / "a.wav", np.zeros(8000, np.float32) + 0.1, 16000)
    (folder / "gone.wav").symlink_to(folder / "deleted" / "gone.wav")
    argv = ["encode", folder, "-o", tmp_path / "X.npz", "--encoder", "audio-features"]
    assert main([str(a) for a in [*argv, "--no-cache"]]) == 1
    err = capsys.readouterr().err
    assert "gone.wav" in err and "--on-error skip" in err
