"""Bad command lines: CSV and folder inputs, outputs that cannot be written, numbers and
names the options refuse, damaged caches and models, and the face encoder run again and
again in fresh processes (a segmentation fault was once seen there).

The commands run in this process (``run_cli``) with the tiny random text model, tiny
synthetic RAVDESS folders through AudioFeatures, and small fitted pipelines saved with
joblib; a process of its own (``run_cli_process``) only where one is needed.
"""

import contextlib
import functools
import gzip
import subprocess
import sys
import warnings

import numpy as np

from ._fixtures import (
    immutable,
    run_cli,
    run_cli_process,
    scratch,
    tiny_text_model,
    truncate,
    working_folder,
    write_image,
    write_wav,
)
from ._registry import (
    CliFailed,
    CliUsageError,
    ProcessCrashed,
    RawTraceback,
    WrongResult,
    add,
    case,
)

AREA = "cli"
TEXTS = ["i am so happy", "i hate this", "this is sad", "very joyful"]


# --- helpers ----------------------------------------------------------------------------------


def _text_options():
    return ["--encoder", "text", "--model", tiny_text_model(), "--device", "cpu"]


def _csv(content, name="posts.csv", folder=None):
    """Write `content` (str: UTF-8 text; bytes: as is) to a CSV file; return its path."""
    path = (folder or scratch()) / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _encode_text_csv(csv, *extra, cache=None):
    """``skemotion encode CSV --encoder text`` into a new .npz; returns its arrays."""
    output = scratch() / "out.npz"
    cache_options = ["--no-cache"] if cache is None else ["--cache", cache]
    run_cli("encode", csv, "-o", output, *_text_options(), *cache_options, *extra)
    return _npz(output)


def _npz(path):
    with np.load(path) as saved:
        return {name: saved[name] for name in saved.files}


_REFERENCE = {}


def _texts_reference(texts):
    from skemotion import TextEncoder

    texts = tuple(texts)
    if texts not in _REFERENCE:
        encoder = TextEncoder(tiny_text_model(), device="cpu", cache=False)
        _REFERENCE[texts] = encoder.fit_transform(list(texts))
    return _REFERENCE[texts]


def _check_rows(saved, texts, ids=None):
    """The .npz holds one row per text, equal to TextEncoder's, with these ids."""
    X = saved["X"]
    if X.shape[0] != len(texts):
        raise WrongResult(f"{X.shape[0]} rows written for {len(texts)} CSV rows")
    present = [i for i, t in enumerate(texts) if t is not None]
    want = _texts_reference([texts[i] for i in present])
    if not np.allclose(X[present], want, atol=1e-5):
        raise WrongResult("the rows differ from TextEncoder's embeddings of the cells")
    missing = [i for i, t in enumerate(texts) if t is None]
    if missing and not np.isnan(X[missing]).all():
        raise WrongResult(f"the empty cells' rows {missing} are not NaN")
    if ids is not None and [str(i) for i in saved["ids"]] != [str(i) for i in ids]:
        raise WrongResult(f"ids {saved['ids'].tolist()}, not {list(ids)}")


def _tone_file(path, freq=220.0, seconds=0.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_wav(path, seconds=seconds, freq=freq)


def _clips(n=3):
    """A folder of `n` short WAV tones."""
    folder = scratch() / "clips"
    for i in range(n):
        _tone_file(folder / f"c{i}.wav", 200 + 50 * i)
    return folder


def _encode_folder(folder, *extra):
    output = scratch() / "out.npz"
    run_cli("encode", folder, "-o", output, "--encoder", "audio-features", "--no-cache", *extra)
    return _npz(output)


def _not_a_sqlite_cache():
    path = scratch() / "notes.sqlite"
    path.write_text("my notes, not a database\n" * 40)
    return path


def _cli_without_caps(*argv, caps="dac_override,dac_read_search"):
    """``python -m skemotion ARGV`` without the capabilities `caps` (root's bypass of
    file permissions); judged as :func:`run_cli_process`."""
    drop = ",".join(f"-{cap}" for cap in caps.split(","))
    done = subprocess.run(
        ["setpriv", "--inh-caps=-all", f"--bounding-set={drop}", sys.executable, "-m"]
        + ["skemotion", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    printed = done.stderr + done.stdout
    if done.returncode < 0:
        raise ProcessCrashed(f"killed by signal {-done.returncode}: {printed[-300:]}")
    if "Traceback (most recent call last)" in done.stderr:
        raise RawTraceback(done.stderr[-450:])
    if done.returncode == 2:
        raise CliUsageError(printed)
    if done.returncode:
        raise CliFailed(printed)
    return done.stdout


# --- fitted models and datasets, made once per process --------------------------------------


@functools.cache
def _text_model():
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skemotion import TextEncoder

    pipe = make_pipeline(
        TextEncoder(tiny_text_model(), device="cpu", cache=False), LogisticRegression()
    )
    pipe.fit(TEXTS, ["joy", "anger", "sadness", "joy"])
    path = scratch() / "text.joblib"
    joblib.dump(pipe, path)
    return path


@functools.cache
def _audio_model():
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skemotion import AudioFeatures

    folder = scratch()
    files = [str(_tone_file(folder / f"t{i}.wav", f)) for i, f in enumerate([150, 170, 400, 420])]
    pipe = make_pipeline(AudioFeatures(cache=False), LogisticRegression(max_iter=1000))
    pipe.fit(files, ["calm", "calm", "angry", "angry"])
    path = folder / "audio.joblib"
    joblib.dump(pipe, path)
    return path


@functools.cache
def _ravdess():
    """RAVDESS's layout: 4 actors x (neutral 150 Hz, angry 400 Hz) x 4 takes of 0.5 s."""
    root = scratch() / "ravdess"
    seed = 0
    for actor in range(1, 5):
        for code, freq in [("01", 150), ("05", 400)]:
            for statement in ("01", "02"):
                for repetition in ("01", "02"):
                    seed += 1
                    name = f"03-01-{code}-01-{statement}-{repetition}-{actor:02d}.wav"
                    _tone_file(root / f"Actor_{actor:02d}" / name, freq + seed)
    return root


def _predict(model, *items, extra=()):
    output = scratch() / "pred.csv"
    run_cli("predict", model, *items, "-o", output, "--no-cache", *extra)
    import pandas as pd

    return pd.read_csv(output, keep_default_na=False, na_values=[""])


# --- encode: CSV inputs ----------------------------------------------------------------------


@case(AREA, "error", names=("empty.csv", "empty"))
def case_encode_empty_0_byte_csv():
    _encode_text_csv(_csv(b"", "empty.csv"), "--column", "text")


@case(AREA, "error", names=("header.csv", "rows"))
def case_encode_csv_with_a_header_only():
    _encode_text_csv(_csv("text\n", "header.csv"), "--column", "text")


@case(AREA, "error", names=("blank.csv", "rows"))
def case_encode_csv_with_a_header_then_blank_lines():
    _encode_text_csv(_csv("text\n\n\n\n", "blank.csv"), "--column", "text")


@case(AREA, "error", names=("--column", "'text'"))
def case_encode_csv_without_column():
    _encode_text_csv(_csv("text\nhello\n"))


@case(AREA, "error", names=("--column", "'nope'"))
def case_encode_csv_column_that_is_not_there():
    _encode_text_csv(_csv("text\nhello\n"), "--column", "nope")


@case(AREA, "error", names=("--id-column", "'nope'"))
def case_encode_csv_id_column_that_is_not_there():
    _encode_text_csv(_csv("text\nhello\n"), "--column", "text", "--id-column", "nope")


@case(AREA, "error", names=("--id-column", "'p1'"))
def case_encode_csv_id_column_with_repeated_ids():
    csv = _csv("id,text\np1,hello\np1,sad\np2,joy\n")
    _encode_text_csv(csv, "--column", "text", "--id-column", "id")


@case(AREA, "error", names=("--id-column", "empty"))
def case_encode_csv_id_column_with_an_empty_id():
    csv = _csv("id,text\np1,hello\n,sad\np2,joy\n")
    _encode_text_csv(csv, "--column", "text", "--id-column", "id")


@case(AREA, "error", names=("latin1.csv", "UTF-8"))
def case_encode_latin_1_csv():
    csv = _csv("text\ncafé crème\nà bientôt\n".encode("latin-1"), "latin1.csv")
    _encode_text_csv(csv, "--column", "text")


@case(AREA, "error", names=("utf16.csv", "UTF-8"))
def case_encode_utf_16_csv():
    csv = _csv("text\nhappy\nsad\n".encode("utf-16"), "utf16.csv")
    _encode_text_csv(csv, "--column", "text")


@case(AREA, "error", names=("binary.csv", "CSV"))
def case_encode_binary_file_named_csv():
    image = write_image()
    _encode_text_csv(_csv(image.read_bytes(), "binary.csv"), "--column", "text")


@case(AREA, "error", names=("zipped.csv", "CSV"))
def case_encode_gzip_file_named_csv():
    _encode_text_csv(_csv(gzip.compress(b"text\nhappy\nsad\n"), "zipped.csv"), "--column", "text")


@case(AREA, "error", names=("ragged.csv", "line 3"))
def case_encode_csv_with_ragged_rows():
    csv = _csv("id,text\n1,happy\n2,sad,extra\n", "ragged.csv")
    _encode_text_csv(csv, "--column", "text")


@case(AREA, "error", names=("--column", "'text;label'"))
def case_encode_csv_with_semicolons_as_delimiter():
    _encode_text_csv(_csv("text;label\nhappy;joy\nsad;sadness\n"), "--column", "text")


@case(AREA, "error", names=("ids 1", "--on-error"))
def case_encode_blank_line_in_a_one_column_csv():
    # The blank line is an empty cell of the one column: ids must not shift past it.
    _encode_text_csv(_csv("text\nhappy\n\nsad\n"), "--column", "text")


@case(AREA, "handled")
def case_encode_blank_line_in_a_one_column_csv_with_skip():
    saved = _encode_text_csv(_csv("text\nhappy\n\nsad\n"), "--column", "text", "--on-error", "skip")
    _check_rows(saved, ["happy", None, "sad"], ids=[0, 1, 2])


@case(AREA, "handled")
def case_encode_csv_with_a_byte_order_mark():
    saved = _encode_text_csv(_csv("\ufefftext\nhappy\nsad\n"), "--column", "text")
    _check_rows(saved, ["happy", "sad"], ids=[0, 1])


@case(AREA, "handled")
def case_encode_csv_with_crlf_line_ends():
    saved = _encode_text_csv(_csv("id,text\r\na,happy\r\nb,sad\r\n"), "--column", "text")
    _check_rows(saved, ["happy", "sad"], ids=[0, 1])


@case(AREA, "handled")
def case_encode_csv_with_crlf_and_an_id_column():
    csv = _csv("text,id\r\nhappy,a\r\nsad,b\r\n")
    saved = _encode_text_csv(csv, "--column", "text", "--id-column", "id")
    _check_rows(saved, ["happy", "sad"], ids=["a", "b"])


@case(AREA, "handled")
def case_encode_csv_with_quoted_newlines():
    saved = _encode_text_csv(_csv('text\n"i am\nso happy"\nsad\n'), "--column", "text")
    _check_rows(saved, ["i am\nso happy", "sad"], ids=[0, 1])


@case(AREA, "handled")
def case_encode_csv_with_a_200_000_character_field():
    huge = " ".join(["happy"] * 33_000)
    saved = _encode_text_csv(_csv(f"text\n{huge}\nsad\n"), "--column", "text")
    _check_rows(saved, [huge, "sad"], ids=[0, 1])


@case(AREA, "handled")
def case_encode_csv_texts_that_look_like_missing_values():
    texts = ["NA", "None", "null", "nan", "N/A", "NULL"]
    saved = _encode_text_csv(_csv("text\n" + "\n".join(texts) + "\n"), "--column", "text")
    _check_rows(saved, texts, ids=range(len(texts)))


@case(AREA, "handled")
def case_encode_csv_with_an_upper_case_suffix():
    saved = _encode_text_csv(_csv("text\nhappy\nsad\n", "POSTS.CSV"), "--column", "text")
    _check_rows(saved, ["happy", "sad"], ids=[0, 1])


_AUDIO = ("--encoder", "audio-features", "--no-cache")


def _audio_csv(rows):
    folder = scratch()
    _tone_file(folder / "a.wav", 220)
    _tone_file(folder / "b.wav", 330)
    return _csv("wav\n" + "\n".join(rows) + "\n", "takes.csv", folder)


@case(AREA, "error", names=("missing.wav", "--on-error"))
def case_encode_csv_of_audio_paths_with_a_missing_file():
    csv = _audio_csv(["a.wav", "missing.wav", "b.wav"])
    run_cli("encode", csv, "--column", "wav", "-o", scratch() / "f.npz", *_AUDIO)


@case(AREA, "error", names=("ids 1", "--on-error"))
def case_encode_csv_of_audio_paths_with_an_empty_cell():
    csv = _csv("wav,n\na.wav,1\n,2\nb.wav,3\n", "takes.csv", _audio_csv([]).parent)
    run_cli("encode", csv, "--column", "wav", "-o", scratch() / "f.npz", *_AUDIO)


@case(AREA, "handled")
def case_encode_csv_of_audio_paths_with_an_empty_cell_and_skip():
    csv = _csv("wav,n\na.wav,1\n,2\nb.wav,3\n", "takes.csv", _audio_csv([]).parent)
    out = scratch() / "f.npz"
    run_cli("encode", csv, "--column", "wav", "-o", out, *_AUDIO, "--on-error", "skip")
    saved = _npz(out)
    if saved["X"].shape[0] != 3 or not np.isnan(saved["X"][1]).all():
        raise WrongResult(f"{saved['X'].shape[0]} rows, row 1 not NaN: the rows do not line up")


add(
    AREA,
    "encode INPUT that does not exist",
    "error",
    lambda: _encode_text_csv(scratch() / "nowhere.csv", "--column", "text"),
    names=("nowhere.csv", "does not exist"),
)


@case(AREA, "error", names=("notes.txt", "CSV"))
def case_encode_input_that_is_a_txt_file():
    path = scratch() / "notes.txt"
    path.write_text("happy\nsad\n")
    _encode_text_csv(path)


add(
    AREA,
    "encode --column with a folder input",
    "error",
    lambda: _encode_folder(_clips(), "--column", "wav"),
    names=("--column", "folder"),
)


@case(AREA, "error", names=("--encoder text", "CSV"))
def case_encode_text_encoder_with_a_folder_input():
    run_cli("encode", _clips(), "-o", scratch() / "f.npz", *_text_options(), "--no-cache")


# --- encode: folder inputs -------------------------------------------------------------------


@case(AREA, "error", names=("clips", "audio"))
def case_encode_empty_folder():
    folder = scratch() / "clips"
    folder.mkdir()
    _encode_folder(folder)


@case(AREA, "error", names=("clips", ".wav"))
def case_encode_folder_of_non_media_files():
    folder = scratch() / "clips"
    folder.mkdir()
    (folder / "notes.txt").write_text("not audio")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    _encode_folder(folder)


@case(AREA, "error", names=("locked", "readable"), timeout=120)
def case_encode_folder_with_an_unreadable_subfolder():
    folder = _clips()
    locked = folder / "locked"
    _tone_file(locked / "hidden_take.wav")
    locked.chmod(0o000)
    try:
        out = scratch() / "f.npz"
        _cli_without_caps("encode", folder, "-o", out, "--encoder", "audio-features", "--no-cache")
    finally:
        locked.chmod(0o755)


@case(AREA, "handled")
def case_encode_folder_with_a_symlink_loop():
    folder = _clips(2)
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder)
    saved = _encode_folder(folder)
    ids = saved["ids"].tolist()
    if sorted(ids) != ["c0.wav", "c1.wav"]:
        raise WrongResult(f"ids {ids}: a file listed twice or missing")


@case(AREA, "error", names=("gone.wav", "--on-error"))
def case_encode_folder_with_a_dangling_wav_link():
    folder = _clips(2)
    (folder / "gone.wav").symlink_to(folder / "deleted" / "gone.wav")
    _encode_folder(folder)


@case(AREA, "error", names=("empty.wav", "--on-error"))
def case_encode_folder_with_a_0_byte_wav():
    folder = _clips(2)
    (folder / "empty.wav").touch()
    _encode_folder(folder)


@case(AREA, "handled")
def case_encode_folder_with_a_0_byte_wav_and_skip():
    folder = _clips(2)
    (folder / "empty.wav").touch()
    saved = _encode_folder(folder, "--on-error", "skip")
    ids = saved["ids"].tolist()
    if ids != ["c0.wav", "c1.wav", "empty.wav"] or not np.isnan(saved["X"][2]).all():
        raise WrongResult(f"ids {ids}; the empty file's row is not NaN where it belongs")
    if np.isnan(saved["X"][:2]).any():
        raise WrongResult("the good files' rows have NaN")


@case(AREA, "handled")
def case_encode_folder_with_upper_case_suffixes():
    folder = _clips(1)
    _tone_file(folder / "LOUD.WAV", 300)
    ids = _encode_folder(folder)["ids"].tolist()
    if ids != ["LOUD.WAV", "c0.wav"]:
        raise WrongResult(f"ids {ids}: the .WAV file is not read")


# --- encode: outputs -------------------------------------------------------------------------


@case(AREA, "handled")
def case_encode_output_into_a_missing_folder():
    out = scratch() / "new" / "deeper" / "out.npz"
    run_cli("encode", _csv("text\nhappy\n"), "--column", "text", "-o", out, *_text_options())
    if not out.is_file():
        raise WrongResult(f"{out} not written")


@case(AREA, "error", names=("notes.txt", "folder"))
def case_encode_output_whose_parent_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("a file")
    out = folder / "notes.txt" / "out.npz"
    run_cli("encode", _csv("text\nhappy\n"), "--column", "text", "-o", out, *_text_options())


@case(AREA, "error", names=("out.npz", "file"))
def case_encode_output_that_is_a_folder():
    out = scratch() / "out.npz"
    out.mkdir()
    run_cli("encode", _csv("text\nhappy\n"), "--column", "text", "-o", out, *_text_options())


add(
    AREA,
    "encode --output with a .txt suffix",
    "error",
    lambda: run_cli("encode", _clips(), "-o", scratch() / "f.txt", "--encoder", "audio-features"),
    names=(".npz",),
)


@case(AREA, "error", names=("readonly is not writable",))
def case_encode_output_in_a_read_only_folder_checked_before_work():
    folder = scratch() / "readonly"
    folder.mkdir()
    cache = scratch() / "cache.sqlite"
    csv = _csv("text\nhappy\nsad\n")
    with immutable(folder):
        try:
            run_cli(
                "encode", csv, "--column", "text", "-o", folder / "out.npz", *_text_options(),
                "--cache", cache,
            )  # fmt: skip
        finally:
            if cache.exists():
                raise WrongResult("the items were encoded before the output was found unwritable")


@case(AREA, "error", names=("out.npz", "space"))
def case_encode_output_on_a_full_disk():
    disk = scratch() / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], check=True)
    try:
        with open(disk / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)
        csv = _csv("text\n" + "\n".join(TEXTS * 20) + "\n")
        said = "nothing"
        try:
            run_cli("encode", csv, "--column", "text", "-o", disk / "out.npz", *_text_options())
        except Exception as exc:
            said = str(exc)
            raise
        finally:
            if (disk / "out.npz").exists():
                size = (disk / "out.npz").stat().st_size
                raise WrongResult(
                    f"a partial out.npz of {size} bytes was left on the full disk; said: {said}"
                )
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --- encode: options -------------------------------------------------------------------------


add(
    AREA,
    "encode --encoder that does not exist",
    "error",
    lambda: run_cli("encode", _clips(), "-o", scratch() / "f.npz", "--encoder", "wav2vec"),
    names=("--encoder", "wav2vec"),
)


def _encode_text(*options, model=None):
    argv = ["encode", _csv("text\nhappy\nsad\n"), "--column", "text", "-o", scratch() / "f.npz"]
    argv += ["--encoder", "text", "--model", model or tiny_text_model(), "--no-cache"]
    return run_cli(*argv, *options)


add(
    AREA,
    "encode --device that does not exist",
    "error",
    lambda: _encode_text("--device", "bogus"),
    names=("bogus", "cpu"),
)
add(
    AREA,
    "encode --device cuda without CUDA",
    "error",
    lambda: _encode_text("--device", "cuda:7"),
    names=("cuda:7", "cpu"),
)
add(
    AREA,
    "encode --model folder that does not exist",
    "error",
    lambda: _encode_text("--device", "cpu", model="/nonexistent-model-x"),
    names=("/nonexistent-model-x",),
)


@case(AREA, "error", names=("emptymodel",))
def case_encode_model_folder_that_holds_no_model():
    folder = scratch() / "emptymodel"
    folder.mkdir()
    _encode_text("--device", "cpu", model=str(folder))


add(
    AREA,
    "encode --model given to the face encoder",
    "error",
    lambda: run_cli(
        "encode", _clips(), "-o", scratch() / "f.npz", "--encoder", "face", "--model", "x"
    ),
    names=("face", "model"),
)
add(
    AREA,
    "encode --pretrained given to the text encoder",
    "error",
    lambda: _encode_text("--pretrained", "laion2b"),
    names=("text", "pretrained"),
)
add(
    AREA,
    "encode --scheduler with nothing listening",
    "error",
    lambda: _encode_text("--device", "cpu", "--scheduler", "tcp://127.0.0.1:1"),
    names=("tcp://127.0.0.1:1", "scheduler"),
    timeout=90,
)
add(
    AREA,
    "encode --scheduler that is not an address",
    "error",
    lambda: _encode_text("--device", "cpu", "--scheduler", "not-an-address"),
    names=("not-an-address", "tcp://"),
    timeout=90,
)
add(
    AREA,
    "encode --scheduler ''",
    "error",
    lambda: _encode_text("--device", "cpu", "--scheduler", ""),
    names=("--scheduler",),
)
add(
    AREA,
    "encode --on-error that does not exist",
    "error",
    lambda: _encode_text("--on-error", "ignore"),
    names=("--on-error", "ignore"),
)
add(
    AREA,
    "encode --cache and --no-cache together",
    "error",
    lambda: _encode_text("--cache", scratch() / "c.sqlite"),
    names=("--cache", "--no-cache"),
)


def _encode_cached(cache):
    argv = ["encode", _csv("text\nhappy\nsad\n"), "--column", "text", "-o", scratch() / "f.npz"]
    return run_cli(*argv, *_text_options(), "--cache", cache)


@case(AREA, "error", names=("cache", "empty"))
def case_encode_cache_empty_string():
    with working_folder() as here:
        try:
            _encode_cached("")
        finally:
            if (here / "embeddings.sqlite").exists():
                warnings.warn("--cache '' made ./embeddings.sqlite", UserWarning, stacklevel=2)


add(
    AREA,
    "encode --cache that is not an SQLite file",
    "error",
    lambda: _encode_cached(_not_a_sqlite_cache()),
    names=("notes.sqlite", "delete"),
)


@case(AREA, "error", names=("locked is not writable",))
def case_encode_new_cache_in_a_read_only_folder():
    folder = scratch() / "locked"
    folder.mkdir()
    with immutable(folder):
        _encode_cached(folder / "cache.sqlite")


@case(AREA, "error", names=("notes.txt", "folder"))
def case_encode_cache_whose_parent_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("a file")
    _encode_cached(folder / "notes.txt" / "cache.sqlite")


add(
    AREA,
    "encode --cache postgresql:// with nothing listening",
    "error",
    lambda: _encode_cached("postgresql://me@localhost:1/db"),
    names=("localhost:1", "Start"),
    timeout=60,
)


@case(AREA, "error", names=("mysql://", "postgresql://"))
def case_encode_cache_mysql_url():
    with working_folder():
        _encode_cached("mysql://me@localhost/db")


# --- numbers the options refuse --------------------------------------------------------------


def _usage(*argv):
    return lambda: run_cli(*argv)


def _number_cases():
    csv_args = ["--column", "text", "-o", "f.npz", "--encoder", "text", "--no-cache"]
    options = [
        ("encode", "--batch-size", ["0", "-1", "2.5", "abc", "", "99999999999"]),
        ("evaluate", "--folds", ["0", "-1", "1", "2.5", "abc", "101"]),
        ("evaluate", "--n-samples", ["0", "1", "-5", "2.5", "abc"]),
        ("evaluate", "--n-jobs", ["0", "2.5", "abc", ""]),
        ("demo", "--n-actors", ["0", "-1", "5", "2.5", "abc", "25"]),
        ("demo", "--n-samples", ["0", "-1", "2.5", "abc"]),
    ]
    for command, option, values in options:
        for value in values:

            def run(command=command, option=option, value=value):
                if command == "encode":
                    folder = scratch()
                    csv = _csv("text\nhappy\n", folder=folder)
                    argv = ["encode", csv, *csv_args, "--model", tiny_text_model()]
                    argv[argv.index("f.npz")] = folder / "f.npz"
                elif command == "evaluate":
                    argv = ["evaluate", "ravdess", _ravdess(), "--no-cache", "--folds", "2"]
                    if option == "--folds":
                        argv = argv[:-2]
                else:
                    argv = ["demo", "--output-dir", scratch(), "--cache", scratch() / "c.sqlite"]
                    argv += (
                        ["--text", "--model", tiny_text_model()] if option == "--n-samples" else []
                    )
                run_cli(*argv, option, value)

            names = (option, value) if value else (option,)
            add(AREA, f"{command} {option} {value!r}", "error", run, names=names, timeout=120)


_number_cases()


# --- demo ------------------------------------------------------------------------------------


@case(AREA, "error", names=("notes.sqlite", "delete"), timeout=180)
def case_demo_cache_that_is_not_an_sqlite_file():
    run_cli("demo", "--n-actors", "6", "--output-dir", scratch(), "--cache", _not_a_sqlite_cache())


@case(AREA, "error", names=("notes.sqlite", "delete"), timeout=180)
def case_demo_text_cache_that_is_not_an_sqlite_file():
    run_cli(
        "demo", "--text", "--n-samples", "200", "--model", tiny_text_model(),
        "--cache", _not_a_sqlite_cache(),
    )  # fmt: skip


@case(AREA, "error", names=("notes.txt", "folder"), timeout=180)
def case_demo_output_dir_that_is_a_file():
    path = scratch() / "notes.txt"
    path.write_text("a file")
    run_cli("demo", "--n-actors", "6", "--output-dir", path, "--cache", scratch() / "c.sqlite")


@case(AREA, "error", names=("figures is not writable",), timeout=180)
def case_demo_output_dir_in_a_read_only_folder():
    folder = scratch() / "figures"
    folder.mkdir()
    with immutable(folder):
        run_cli(
            "demo", "--n-actors", "6", "--output-dir", folder, "--cache", scratch() / "c.sqlite"
        )


add(
    AREA,
    "demo --text with --n-actors",
    "error",
    _usage("demo", "--text", "--n-actors", "8"),
    names=("--n-actors", "--text"),
)
add(
    AREA,
    "demo --n-samples without --text",
    "error",
    _usage("demo", "--n-samples", "400"),
    names=("--n-samples", "--text"),
)


# --- predict ---------------------------------------------------------------------------------


def _predict_texts(model, csv, *extra):
    return _predict(model, csv, extra=("--column", "text", *extra))


add(
    AREA,
    "predict MODEL that does not exist",
    "error",
    lambda: _predict(scratch() / "nowhere.joblib", _csv("text\nhappy\n")),
    names=("nowhere.joblib", "evaluate --save"),
)
add(
    AREA,
    "predict MODEL that is a folder",
    "error",
    lambda: _predict(scratch(), _csv("text\nhappy\n")),
    names=("folder", "evaluate --save"),
)


def _model_file(content, name="model.joblib"):
    path = scratch() / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        import joblib

        joblib.dump(content, path)
    return path


add(
    AREA,
    "predict MODEL that is a text file",
    "error",
    lambda: _predict(_model_file(b"not a model\n", "notes.joblib"), _csv("text\nhappy\n")),
    names=("notes.joblib", "joblib"),
)
add(
    AREA,
    "predict MODEL that holds a dict",
    "error",
    lambda: _predict(_model_file({"a": 1}), _csv("text\nhappy\n")),
    names=("dict", "predict"),
)


def _unfitted():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skemotion import TextEncoder

    return make_pipeline(TextEncoder(tiny_text_model()), LogisticRegression())


add(
    AREA,
    "predict MODEL that is an unfitted pipeline",
    "error",
    lambda: _predict_texts(_model_file(_unfitted()), _csv("text\nhappy\n")),
    names=("unfitted", "evaluate --save"),
)


@case(AREA, "error", names=("cut.joblib", "joblib"))
def case_predict_model_file_truncated():
    path = _model_file(_text_model().read_bytes(), "cut.joblib")
    truncate(path, 0.5)
    _predict_texts(path, _csv("text\nhappy\n"))


_GONE_MODULE = "skemotion_bad_inputs_gone_module"


@case(AREA, "error", names=(_GONE_MODULE, "install"))
def case_predict_model_that_needs_a_module_not_installed():
    import joblib

    folder = scratch()
    (folder / f"{_GONE_MODULE}.py").write_text(
        "from sklearn.dummy import DummyClassifier\nclass Model(DummyClassifier):\n    pass\n"
    )
    sys.path.insert(0, str(folder))
    try:
        module = __import__(_GONE_MODULE)
        model = module.Model().fit([[0], [1]], ["a", "b"])
        path = folder / "model.joblib"
        joblib.dump(model, path)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(_GONE_MODULE, None)
    (folder / f"{_GONE_MODULE}.py").unlink()
    _predict(path, _tone_file(folder / "a.wav"))


add(
    AREA,
    "predict ITEM that does not exist",
    "error",
    lambda: _predict(_audio_model(), scratch() / "nowhere.wav"),
    names=("nowhere.wav", "does not exist"),
)


def _broken_folder():
    folder = _clips(2)
    (folder / "broken.wav").write_bytes(b"RIFF not really a wav file")
    return folder


add(
    AREA,
    "predict corrupt ITEM",
    "error",
    lambda: _predict(_audio_model(), _broken_folder()),
    names=("broken.wav", "--on-error"),
)


@case(AREA, "handled")
def case_predict_corrupt_item_with_skip():
    frame = _predict(_audio_model(), _broken_folder(), extra=("--on-error", "skip"))
    broken = frame["item"].str.endswith("broken.wav")
    if len(frame) != 3 or broken.sum() != 1:
        raise WrongResult(f"{len(frame)} rows for 3 files")
    if frame.loc[broken, "error"].isna().any() or frame.loc[~broken, "emotion"].isna().any():
        raise WrongResult("the broken file has no error, or the good ones no emotion")


@case(AREA, "error", names=("notes.sqlite", "delete"))
def case_predict_cache_that_is_not_an_sqlite_file():
    cache = _not_a_sqlite_cache()
    try:
        run_cli("predict", _audio_model(), _clips(2), "-o", scratch() / "p.csv", "--cache", cache)
    except CliFailed as exc:
        if "--on-error skip" in str(exc):
            raise WrongResult(f"a damaged cache is answered with --on-error skip: {exc}") from exc
        raise


@case(AREA, "error", names=("notes.sqlite", "delete"))
def case_predict_cache_that_is_not_an_sqlite_file_with_skip():
    cache = _not_a_sqlite_cache()
    out = scratch() / "p.csv"
    try:
        run_cli(
            "predict", _audio_model(), _clips(2), "-o", out, "--cache", cache,
            "--on-error", "skip",
        )  # fmt: skip
    finally:
        if out.exists():
            raise WrongResult("a damaged cache became every item's error in the rows written")


add(
    AREA,
    "predict --output with a .txt suffix",
    "error",
    lambda: run_cli("predict", _audio_model(), _clips(1), "-o", scratch() / "p.txt"),
    names=(".csv",),
)


@case(AREA, "error", names=("readonly is not writable",))
def case_predict_output_in_a_read_only_folder():
    folder = scratch() / "readonly"
    folder.mkdir()
    with immutable(folder):
        run_cli("predict", _audio_model(), _clips(1), "-o", folder / "p.csv", "--no-cache")


@case(AREA, "error", names=("items.csv", "ITEM"))
def case_predict_output_that_is_the_csv_item():
    csv = _csv("text\nhappy\nsad\n", "items.csv")
    before = csv.read_text()
    try:
        run_cli("predict", _text_model(), csv, "--column", "text", "-o", csv, "--no-cache")
    finally:
        if csv.read_text() != before:
            warnings.warn(
                "the CSV ITEM was overwritten by its predictions", UserWarning, stacklevel=2
            )


add(
    AREA,
    "predict --column without a CSV ITEM",
    "error",
    lambda: run_cli("predict", _audio_model(), _clips(1), "--column", "wav", "--no-cache"),
    names=("--column", "CSV"),
)
add(
    AREA,
    "predict text model on a folder",
    "error",
    lambda: run_cli("predict", _text_model(), _clips(1), "--no-cache"),
    names=("texts", "--column"),
)
add(
    AREA,
    "predict CSV ITEM with an empty cell",
    "error",
    lambda: _predict_texts(_text_model(), _csv("text,n\nhappy,1\n,2\n")),
    names=("empty", "--on-error"),
)
add(
    AREA,
    "predict --segments with a text model",
    "error",
    lambda: _predict_texts(_text_model(), _csv("text\nhappy\n"), "--segments"),
    names=("--segments", "texts"),
)


@case(AREA, "error", names=("clips", "audio"))
def case_predict_folder_without_audio():
    folder = scratch() / "clips"
    folder.mkdir()
    (folder / "notes.txt").write_text("not audio")
    run_cli("predict", _audio_model(), folder, "--no-cache")


add(
    AREA,
    "predict empty 0-byte CSV ITEM",
    "error",
    lambda: _predict_texts(_text_model(), _csv(b"", "empty.csv")),
    names=("empty.csv", "empty"),
)


@case(AREA, "handled")
def case_predict_blank_line_in_a_one_column_csv_with_skip():
    frame = _predict_texts(_text_model(), _csv("text\nhappy\n\nsad\n"), "--on-error", "skip")
    if len(frame) != 3:
        raise WrongResult(f"{len(frame)} rows for the CSV's 3 rows (a blank line dropped)")


@case(AREA, "handled")
def case_predict_csv_texts_that_look_like_missing_values():
    texts = ["NA", "None", "null"]
    frame = _predict_texts(_text_model(), _csv("text\n" + "\n".join(texts) + "\n"))
    if len(frame) != 3 or frame["emotion"].isna().any():
        raise WrongResult(f"texts {texts} not all predicted: {frame.to_dict('list')}")


# --- evaluate --------------------------------------------------------------------------------


def _evaluate(*argv):
    return run_cli("evaluate", "ravdess", _ravdess(), "--no-cache", *argv)


add(
    AREA,
    "evaluate --folds 20 with 4 speakers",
    "error",
    lambda: _evaluate("--folds", "20"),
    names=("--folds", "actors"),
)
add(
    AREA,
    "evaluate --split for a dataset without splits",
    "error",
    lambda: _evaluate("--split", "test"),
    names=("--split", "ravdess"),
)


@case(AREA, "error", names=("--split", "'valid'"))
def case_evaluate_split_the_dataset_lacks():
    run_cli("evaluate", "goemotions", scratch(), "--split", "valid", "--no-cache")


add(
    AREA,
    "evaluate --encoder with an unknown encoder",
    "error",
    lambda: _evaluate("--encoder", "audio=wav2vec"),
    names=("wav2vec", "choose"),
)
add(
    AREA,
    "evaluate --encoder without MODALITY=",
    "error",
    lambda: _evaluate("--encoder", "audio-features"),
    names=("MODALITY=NAME",),
)
add(
    AREA,
    "evaluate --encoder with a model folder that does not exist",
    "error",
    lambda: _evaluate("--encoder", "audio=audio:/nonexistent-model-x", "--folds", "2"),
    names=("/nonexistent-model-x",),
)
add(
    AREA,
    "evaluate --encoder text on a dataset without texts",
    "error",
    lambda: _evaluate("--encoder", "text=text"),
    names=("text", "ravdess"),
)
add(
    AREA,
    "evaluate dataset folder that does not exist",
    "error",
    lambda: run_cli("evaluate", "ravdess", scratch() / "nowhere", "--no-cache"),
    names=("nowhere", "load_ravdess"),
)


@case(AREA, "error", names=("notes.txt",))
def case_evaluate_dataset_path_that_is_a_file():
    path = scratch() / "notes.txt"
    path.write_text("a file")
    run_cli("evaluate", "ravdess", path, "--no-cache")


@case(AREA, "error", names=("empty", "load_ravdess"))
def case_evaluate_empty_dataset_folder():
    folder = scratch() / "empty"
    folder.mkdir()
    run_cli("evaluate", "ravdess", folder, "--no-cache")


add(
    AREA,
    "evaluate unknown dataset",
    "error",
    _usage("evaluate", "iemocap", "/tmp", "--no-cache"),
    names=("iemocap", "ravdess"),
)
add(
    AREA,
    "evaluate --class-weight that does not exist",
    "error",
    lambda: _evaluate("--class-weight", "auto"),
    names=("--class-weight", "balanced"),
)


@case(AREA, "error", names=("readonly is not writable",))
def case_evaluate_output_in_a_read_only_folder():
    folder = scratch() / "readonly"
    folder.mkdir()
    with immutable(folder):
        _evaluate("--folds", "2", "--output", folder / "scores.json")


@case(AREA, "error", names=("notes.txt", "folder"))
def case_evaluate_save_whose_parent_is_a_file():
    folder = scratch()
    (folder / "notes.txt").write_text("a file")
    _evaluate("--folds", "2", "--save", folder / "notes.txt" / "model.joblib")


@case(AREA, "error", names=("scores.json", "file"))
def case_evaluate_output_that_is_a_folder():
    folder = scratch() / "scores.json"
    folder.mkdir()
    _evaluate("--folds", "2", "--output", folder)


@case(AREA, "error", names=("notes.sqlite", "delete"))
def case_evaluate_cache_that_is_not_an_sqlite_file():
    run_cli("evaluate", "ravdess", _ravdess(), "--folds", "2", "--cache", _not_a_sqlite_cache())


@functools.cache
def _ravdess_with_a_broken_take():
    import shutil

    root = scratch() / "ravdess_broken"
    shutil.copytree(_ravdess(), root)
    (root / "Actor_04" / "03-01-05-01-02-02-04.wav").write_bytes(b"RIFF broken take")
    return root


@case(AREA, "error", names=("03-01-05-01-02-02-04.wav",))
def case_evaluate_corrupt_clip_is_named_with_a_plain_index():
    try:
        run_cli("evaluate", "ravdess", _ravdess_with_a_broken_take(), "--folds", "2", "--no-cache")
    except CliFailed as exc:
        if "np.int64(" in str(exc) or "np.float64(" in str(exc):
            raise WrongResult(f"the row is named as a numpy scalar's repr: {exc}") from exc
        raise


@case(AREA, "error", names=("item 1", "index 8"))
def case_describe_position_prints_a_plain_index():
    import pandas as pd

    from skemotion import TextEncoder

    texts = pd.Series(["i am happy", None], index=[5, 8])
    TextEncoder(tiny_text_model(), device="cpu", cache=False).fit_transform(texts)


# --- the face encoder in fresh processes -----------------------------------------------------


@case(AREA, "handled", timeout=590)
def case_encode_face_no_cache_20_runs_in_fresh_processes():
    folder = scratch() / "faces"
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"f{i}.png", size=(96, 96), face=True)
    out = scratch() / "faces.npz"
    for run in range(20):
        out.unlink(missing_ok=True)
        run_cli_process("encode", folder, "--encoder", "face", "--no-cache", "-o", out)
        X = _npz(out)["X"]
        if X.shape[0] != 3 or not np.isfinite(X).all():
            raise WrongResult(f"run {run + 1}: features of shape {X.shape}, or not finite")
