"""``skemotion encode``: folders and CSV columns to .npz / .parquet, the cache, every error.

The command runs through a parser built here (``add_parser`` on fresh subparsers), so
these tests do not depend on how ``skemotion._cli`` wires its subcommands. Audio is
0.5 s synthetic tones through AudioFeatures; texts go through the tiny random model.
"""

import argparse
import sys

import numpy as np
import pandas as pd
import pytest

from skemotion import AudioFeatures
from skemotion._cli.encode import AUDIO_SUFFIXES, IMAGE_SUFFIXES, add_parser

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")

RATE = 16000
TEXTS = ["i am so happy", "i hate this", "this is sad", "very joyful"]


def encode(*argv):
    """Parse ``skemotion encode ARGV`` with a parser built for the test, and run it."""
    parser = argparse.ArgumentParser(prog="skemotion")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["encode", *map(str, argv)])
    return args.func(args)


def usage_error(capsys, *argv):
    """Run `argv`, expect exit status 2, return stderr."""
    with pytest.raises(SystemExit) as exc:
        encode(*argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def write_tone(path, freq):
    t = np.arange(RATE // 2) / RATE
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE)


@pytest.fixture
def clips(tmp_path):
    """A folder of 3 WAV files (one in a subfolder) and files that are not audio."""
    root = tmp_path / "clips"
    for name, freq in [("b.wav", 220), ("a.wav", 330), ("sub/c.wav", 440)]:
        write_tone(root / name, freq)
    (root / "notes.txt").write_text("not audio")
    (root / ".hidden.wav").write_bytes(b"macOS clutter")
    return root


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache.sqlite"


def test_folder_to_npz_lists_audio_recursively_sorted(clips, cache, tmp_path, capsys):
    out = tmp_path / "features.npz"
    assert encode(clips, "-o", out, "--encoder", "audio-features", "--cache", cache) == 0
    saved = np.load(out)
    assert saved["ids"].tolist() == ["a.wav", "b.wav", "sub/c.wav"]
    assert saved["X"].dtype == np.float32
    expected = AudioFeatures(cache=False).fit_transform([str(clips / i) for i in saved["ids"]])
    np.testing.assert_allclose(saved["X"], expected, rtol=1e-5)
    names = AudioFeatures().fit([str(clips / "a.wav")]).get_feature_names_out()
    assert saved["feature_names"].tolist() == names.tolist()
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"Encoded 3 items into {len(names)} features with AudioFeatures in ")
    assert "cache: 0 hits, 3 misses" in line and str(out) in line


def test_second_run_reads_the_cache(clips, cache, tmp_path, capsys):
    encode(clips, "-o", tmp_path / "1.npz", "--encoder", "audio-features", "--cache", cache)
    capsys.readouterr()
    encode(clips, "-o", tmp_path / "2.npz", "--encoder", "audio-features", "--cache", cache)
    assert "cache: 3 hits, 0 misses" in capsys.readouterr().out
    first, second = (np.load(tmp_path / name)["X"] for name in ("1.npz", "2.npz"))
    np.testing.assert_array_equal(first, second)


def test_default_cache_is_the_users_cache_folder(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    encode(clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features")
    assert (tmp_path / "xdg" / "skemotion" / "embeddings.sqlite").is_file()
    encode(clips, "-o", tmp_path / "g.npz", "--encoder", "audio-features", "--no-cache")
    assert "cache: off" in capsys.readouterr().out


def test_parquet_has_an_id_column_then_the_features(clips, cache, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "out" / "features.parquet"  # the folder is created
    assert encode(clips, "-o", out, "--encoder", "audio-features", "--cache", cache) == 0
    frame = pd.read_parquet(out)
    names = AudioFeatures().fit([str(clips / "a.wav")]).get_feature_names_out()
    assert frame.columns.tolist() == ["id", *names]
    assert frame["id"].tolist() == ["a.wav", "b.wav", "sub/c.wav"]
    assert (frame.dtypes[1:] == np.float32).all()


def test_parquet_without_pyarrow_names_the_fix(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes "import pyarrow" fail
    assert encode(clips, "-o", tmp_path / "f.parquet", "--encoder", "audio-features") == 1
    err = capsys.readouterr().err
    assert "skemotion encode: error: ImportError:" in err
    assert "pip install 'skemotion[parquet]'" in err
    assert not (tmp_path / "f.parquet").exists()


def test_text_csv_ids_are_row_numbers_or_the_id_column(tiny_model, tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    pd.DataFrame({"post": ["p1", "p2", "p3", "p4"], "text": TEXTS}).to_csv(csv, index=False)
    common = [
        "--column",
        "text",
        "--encoder",
        "text",
        "--model",
        tiny_model,
        "--no-cache",
        "--device",
        "cpu",
        "--batch-size",
        "2",
    ]
    assert encode(csv, "-o", tmp_path / "a.npz", *common) == 0
    saved = np.load(tmp_path / "a.npz")
    assert saved["X"].shape == (4, 32)
    assert saved["ids"].tolist() == [0, 1, 2, 3]
    assert saved["feature_names"][0] == "text_000"
    assert encode(csv, "-o", tmp_path / "b.npz", *common, "--id-column", "post") == 0
    again = np.load(tmp_path / "b.npz")
    assert again["ids"].tolist() == ["p1", "p2", "p3", "p4"]
    np.testing.assert_allclose(again["X"], saved["X"], rtol=1e-5)


def test_csv_paths_are_read_from_the_csvs_folder(clips, cache, tmp_path):
    csv = clips / "list.csv"
    pd.DataFrame({"wav": ["sub/c.wav", str(clips / "a.wav")]}).to_csv(csv, index=False)
    out = tmp_path / "f.npz"
    assert (
        encode(csv, "--column", "wav", "-o", out, "--encoder", "audio-features", "--cache", cache)
        == 0
    )
    expected = AudioFeatures(cache=False).fit_transform(
        [str(clips / "sub/c.wav"), str(clips / "a.wav")]
    )
    np.testing.assert_allclose(np.load(out)["X"], expected, rtol=1e-5)


def test_unreadable_file_is_an_error_naming_it(clips, tmp_path, capsys):
    (clips / "broken.wav").write_bytes(b"not audio")
    assert encode(clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache") == 1
    err = capsys.readouterr().err
    assert err.startswith("skemotion encode: error: ValueError: AudioFeatures: audio item")
    assert "broken.wav" in err
    assert not (tmp_path / "f.npz").exists()


def test_skip_writes_nan_rows_and_names_them(clips, tmp_path, capsys):
    (clips / "broken.wav").write_bytes(b"not audio")
    out = tmp_path / "f.npz"
    assert (
        encode(clips, "-o", out, "--encoder", "audio-features", "--no-cache", "--on-error", "skip")
        == 0
    )
    saved = np.load(out)
    assert saved["ids"].tolist() == ["a.wav", "b.wav", "broken.wav", "sub/c.wav"]
    assert np.isnan(saved["X"][2]).all()
    assert not np.isnan(saved["X"][[0, 1, 3]]).any()
    captured = capsys.readouterr()
    assert "Encoded 4 items" in captured.out
    assert "1 skipped, written as NaN rows (ids 'broken.wav')" in captured.out
    assert "skemotion encode: warning: AudioFeatures could not encode 1 item(s)" in captured.err


def test_empty_cells_are_an_error_unless_skipped(tiny_model, tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    pd.DataFrame({"text": ["i am so happy", "this is sad", None]}).to_csv(csv, index=False)
    argv = [
        csv,
        "--column",
        "text",
        "-o",
        tmp_path / "f.npz",
        "--encoder",
        "text",
        "--model",
        tiny_model,
        "--no-cache",
    ]
    assert encode(*argv) == 1
    err = capsys.readouterr().err
    assert "column 'text' of posts.csv has 1 empty cell(s) (ids 2)" in err
    assert "--on-error skip" in err
    assert encode(*argv, "--on-error", "skip") == 0
    X = np.load(tmp_path / "f.npz")["X"]
    assert np.isnan(X[2]).all() and not np.isnan(X[:2]).any()
    assert "1 skipped, written as NaN rows (ids 2)" in capsys.readouterr().out


def test_face_encoder_reads_the_images_of_a_folder(tmp_path):
    pytest.importorskip("h5py")
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ["x.png", "y/z.jpg"]:
        (tmp_path / "faces" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(
            tmp_path / "faces" / name
        )
    (tmp_path / "faces" / "a.wav").write_bytes(b"not an image")
    out = tmp_path / "faces.npz"
    assert (
        encode(tmp_path / "faces", "-o", out, "--encoder", "face", "--no-cache", "--device", "cpu")
        == 0
    )
    saved = np.load(out)
    assert saved["ids"].tolist() == ["x.png", "y/z.jpg"]
    assert saved["X"].shape == (2, 7)
    np.testing.assert_allclose(saved["X"].sum(axis=1), 1, rtol=1e-4)  # probabilities


def test_suffix_sets_hold_lower_case_extensions():
    for suffixes in (AUDIO_SUFFIXES, IMAGE_SUFFIXES):
        assert all(s.startswith(".") and s == s.lower() for s in suffixes)
    assert {".wav", ".flac"} <= AUDIO_SUFFIXES and {".jpg", ".png"} <= IMAGE_SUFFIXES


# --- errors --------------------------------------------------------------------------------


def test_csv_without_column_names_the_available_columns(tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    pd.DataFrame({"post": ["p1"], "body": ["hi"]}).to_csv(csv, index=False)
    err = usage_error(capsys, csv, "-o", tmp_path / "f.npz", "--encoder", "text")
    assert "a CSV input needs --column" in err and "'post', 'body'" in err
    err = usage_error(
        capsys, csv, "-o", tmp_path / "f.npz", "--encoder", "text", "--column", "text"
    )
    assert "--column 'text' is not a column of posts.csv" in err and "'post', 'body'" in err
    err = usage_error(
        capsys,
        csv,
        "-o",
        tmp_path / "f.npz",
        "--encoder",
        "text",
        "--column",
        "body",
        "--id-column",
        "id",
    )
    assert "--id-column 'id' is not a column" in err


def test_repeated_ids_are_an_error(tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    pd.DataFrame({"id": ["a", "a", "b"], "text": TEXTS[:3]}).to_csv(csv, index=False)
    assert (
        encode(
            csv,
            "-o",
            tmp_path / "f.npz",
            "--encoder",
            "text",
            "--column",
            "text",
            "--id-column",
            "id",
            "--no-cache",
        )
        == 1
    )
    assert "--id-column 'id' repeats ids ('a')" in capsys.readouterr().err


def test_empty_csv_is_an_error(tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    csv.write_text("text\n")
    assert (
        encode(csv, "-o", tmp_path / "f.npz", "--encoder", "text", "--column", "text", "--no-cache")
        == 1
    )
    assert "posts.csv has no rows" in capsys.readouterr().err


@pytest.mark.parametrize("output", ["f.csv", "f.npy", "f"])
def test_other_output_suffixes_are_a_usage_error(clips, tmp_path, capsys, output):
    err = usage_error(capsys, clips, "-o", tmp_path / output, "--encoder", "audio-features")
    assert "must end in .npz or .parquet" in err


def test_upper_case_suffix_is_written_as_named(clips, tmp_path):
    out = tmp_path / "F.NPZ"
    assert encode(clips, "-o", out, "--encoder", "audio-features", "--no-cache") == 0
    assert out.is_file() and np.load(out)["X"].shape[0] == 3


def test_folder_without_audio_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.png").write_bytes(b"")
    assert encode(tmp_path / "empty", "-o", tmp_path / "f.npz", "--encoder", "audio") == 1
    err = capsys.readouterr().err
    assert "FileNotFoundError: no audio files (" in err and ".wav" in err


@pytest.mark.parametrize("name", ["missing", "file.txt"])
def test_input_that_is_neither_folder_nor_csv_is_an_error(tmp_path, capsys, name):
    (tmp_path / "file.txt").write_text("x")
    assert encode(tmp_path / name, "-o", tmp_path / "f.npz", "--encoder", "text") == 1
    assert "pass a folder of files or a CSV file" in capsys.readouterr().err


def test_unknown_encoder_is_a_usage_error(clips, tmp_path, capsys):
    err = usage_error(capsys, clips, "-o", tmp_path / "f.npz", "--encoder", "wav2vec")
    assert "invalid choice: 'wav2vec'" in err and "audio-features" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "cpu"], "the audio-features encoder (AudioFeatures) takes no device"),
        (["--model", "x"], "the audio-features encoder (AudioFeatures) takes no model"),
        (["--column", "wav"], "--column applies to a CSV input"),
        (["--cache", "a", "--no-cache"], "not allowed with argument --cache"),
        (["--batch-size", "0"], "--batch-size: must be an integer in the range [1, "),
    ],
)
def test_options_that_do_not_apply_are_usage_errors(clips, tmp_path, capsys, extra, message):
    err = usage_error(
        capsys, clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", *extra
    )
    assert message in err


def test_missing_extra_is_reported_in_one_line(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "soxr", None)  # makes "import soxr" fail
    assert encode(clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache") == 1
    err = capsys.readouterr().err
    assert err == (
        "skemotion encode: error: ImportError: AudioFeatures requires soxr: "
        "pip install 'skemotion[audio]'\n"
    )


def test_a_model_that_cannot_load_is_reported_in_one_line(clips, tmp_path, monkeypatch, capsys):
    def fail(self, *args):
        raise RuntimeError("ImageEncoder could not load the weights")

    monkeypatch.setattr(AudioFeatures, "fit_transform", fail)
    assert encode(clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache") == 1
    assert "error: RuntimeError: ImageEncoder could not load" in capsys.readouterr().err


def test_text_encoder_on_a_folder_is_a_usage_error(clips, tmp_path, capsys):
    err = usage_error(capsys, clips, "-o", tmp_path / "f.npz", "--encoder", "text")
    assert "--encoder text reads a CSV column" in err and "audio-features" in err


def test_help_describes_inputs_outputs_and_options(capsys):
    with pytest.raises(SystemExit) as exc:
        encode("--help")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in [
        "--column",
        "--id-column",
        "--on-error",
        "--no-cache",
        ".npz",
        ".parquet",
        "NaN",
        "examples:",
    ]:
        assert text in out


# --- --scheduler: on a Dask cluster ----------------------------------------------------------


@pytest.fixture(scope="module")
def scheduler():
    """The address of a Dask cluster of 2 single-threaded workers in this process (tcp)."""
    distributed = pytest.importorskip(
        "distributed", reason="--scheduler needs distributed: pip install 'skemotion[dask]'"
    )
    pytest.importorskip("dask.dataframe", reason="--scheduler needs dask's DataFrame (pyarrow)")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        dashboard_address=":0",
    ) as cluster:
        yield cluster.scheduler_address


def test_scheduler_gives_the_same_output(tiny_model, scheduler, tmp_path, capsys):
    csv = tmp_path / "posts.csv"
    texts = [f"{text} {i}" for i in range(30) for text in TEXTS[:1]] + TEXTS  # 34 texts
    ids = [f"p{i}" for i in range(len(texts))][::-1]  # not sorted: the order must be kept
    pd.DataFrame({"post": ids, "text": texts}).to_csv(csv, index=False)
    common = [csv, "--column", "text", "--id-column", "post", "--encoder", "text"]
    common += ["--model", tiny_model, "--device", "cpu", "--batch-size", "2"]
    here, there = tmp_path / "here.npz", tmp_path / "there.npz"
    assert encode(*common, "-o", here, "--no-cache") == 0
    cache = tmp_path / "cluster-cache.sqlite"
    assert encode(*common, "-o", there, "--cache", cache, "--scheduler", scheduler) == 0
    out = capsys.readouterr().out
    assert "Encoded 34 items into 32 features with TextEncoder" in out
    assert f"cache: 0 hits, 34 misses ({cache})" in out  # the workers' look-ups
    expected, saved = np.load(here), np.load(there)
    assert saved["ids"].tolist() == ids == expected["ids"].tolist()
    assert saved["feature_names"].tolist() == expected["feature_names"].tolist()
    assert saved["X"].dtype == np.float32
    np.testing.assert_allclose(saved["X"], expected["X"], rtol=1e-5, atol=1e-6)
    assert encode(*common, "-o", there, "--cache", cache, "--scheduler", scheduler) == 0
    assert "cache: 34 hits, 0 misses" in capsys.readouterr().out


def test_scheduler_skips_unreadable_files_as_without_it(clips, scheduler, tmp_path, capsys):
    (clips / "broken.wav").write_bytes(b"not audio")
    argv = [clips, "--encoder", "audio-features", "--no-cache", "--on-error", "skip"]
    assert encode(*argv, "-o", tmp_path / "here.npz") == 0
    assert encode(*argv, "-o", tmp_path / "there.npz", "--scheduler", scheduler) == 0
    out = capsys.readouterr().out
    assert out.count("1 skipped, written as NaN rows (ids 'broken.wav')") == 2
    here, there = np.load(tmp_path / "here.npz"), np.load(tmp_path / "there.npz")
    assert there["ids"].tolist() == here["ids"].tolist()
    np.testing.assert_allclose(there["X"], here["X"], rtol=1e-5)  # NaN rows alike
    # Without --on-error skip the worker's error is the command's one line, naming the file.
    assert encode(clips, "--encoder", "audio-features", "--no-cache", "-o", tmp_path / "e.npz",
                  "--scheduler", scheduler) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("skemotion encode: error: ValueError: encode_dask, partition ")
    assert "broken.wav" in err


def test_an_unreachable_scheduler_names_the_fix(clips, tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed", reason="pip install 'skemotion[dask]'")
    import socket

    import skemotion._cli.encode as encode_module

    monkeypatch.setattr(encode_module, "SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as free:  # a port that nothing listens on once closed
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    argv = [clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache"]
    assert encode(*argv, "--scheduler", address) == 1
    err = capsys.readouterr().err
    assert "error: ConnectionError: cannot reach the Dask scheduler at --scheduler " in err
    assert f"{address} (" in err
    assert "leave out --scheduler" in err
    assert not (tmp_path / "f.npz").exists()


def test_a_scheduler_without_workers_names_the_fix(clips, tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed", reason="pip install 'skemotion[dask]'")
    import skemotion._cli.encode as encode_module

    monkeypatch.setattr(encode_module, "SCHEDULER_TIMEOUT_S", 1)
    argv = [clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache"]
    with distributed.LocalCluster(
        n_workers=0, processes=False, protocol="tcp://", dashboard_address=":0"
    ) as cluster:
        assert encode(*argv, "--scheduler", cluster.scheduler_address) == 1
    err = capsys.readouterr().err
    assert "has no worker after 1 s. Start some (dask worker tcp://" in err


def test_scheduler_without_distributed_names_the_extra(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes "import distributed" fail
    argv = [clips, "-o", tmp_path / "f.npz", "--encoder", "audio-features", "--no-cache"]
    assert encode(*argv, "--scheduler", "tcp://127.0.0.1:8786") == 1
    err = capsys.readouterr().err
    assert "skemotion encode --scheduler requires distributed: pip install 'skemotion[dask]'" in err
