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
