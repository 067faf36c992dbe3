"""``skemotion evaluate``: cross-validated scores of a configured pipeline on a dataset.

The command runs through a parser built here, so these tests do not depend on how
``skemotion._cli`` wires its subcommands. A tiny RAVDESS folder of synthetic tones (4
actors, 2 emotions that differ in pitch and loudness) goes through AudioFeatures; a tiny
GoEmotions folder goes through the tiny random text model. One test reads 96 clips of
the real RAVDESS in ../shared/data (about 10 s).
"""

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from skemotion import AudioFeatures, LateFusionClassifier, TextEncoder
from skemotion._cli.evaluate import add_parser, build_pipeline

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

RATE = 16000
RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech"
METRIC_LINES = ["accuracy", "macro-F1", "weighted-F1", "UAR", "ROC-AUC"]
METRIC_KEYS = {"accuracy", "macro_f1", "weighted_f1", "uar", "roc_auc"}


def evaluate(*argv):
    """Parse ``skemotion evaluate ARGV`` with a parser built for the test, and run it."""
    parser = argparse.ArgumentParser(prog="skemotion")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["evaluate", *map(str, argv)])
    return args.func(args)


def usage_error(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        evaluate(*argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def tone(freq, amplitude, seed):
    t = np.arange(RATE // 2) / RATE
    noise = np.random.default_rng(seed).normal(0, 0.01, t.size)
    return (amplitude * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.fixture(scope="module")
def ravdess(tmp_path_factory):
    """RAVDESS layout: 4 actors x (neutral: quiet 150 Hz, angry: loud 400 Hz) x 4 takes."""
    root = tmp_path_factory.mktemp("ravdess")
    seed = 0
    for actor in range(1, 5):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir()
        for code, freq, amplitude in [("01", 150, 0.1), ("05", 400, 0.6)]:
            for statement in ("01", "02"):
                for repetition in ("01", "02"):
                    name = f"03-01-{code}-01-{statement}-{repetition}-{actor:02d}.wav"
                    seed += 1
                    sf.write(folder / name, tone(freq + seed, amplitude, seed), RATE)
    (root / "Actor_01" / "01-01-01-01-01-01-01.mp4").touch()  # a video of one take
    return root


@pytest.fixture
def goemotions(tmp_path):
    """GoEmotions layout (labels.txt + train.tsv): 20 comments, 2 emotions."""
    root = tmp_path / "goemotions"
    root.mkdir()
    (root / "labels.txt").write_text("anger\njoy\n")
    rows = [f"i hate this {i}\t0\tid{i}\n" for i in range(10)]
    rows += [f"i am so happy {i}\t1\tid{i + 10}\n" for i in range(10)]
    for split in ("train", "dev", "test"):
        (root / f"{split}.tsv").write_text("".join(rows))
    return root


def test_ravdess_is_cross_validated_by_actor(ravdess, tmp_path, capsys):
    out = tmp_path / "results" / "scores.json"
    assert (
        evaluate("ravdess", ravdess, "--folds", "2", "--cache", tmp_path / "cache", "--output", out)
        == 0
    )
    printed = capsys.readouterr().out
    assert "skemotion evaluate ravdess: 32 items, 2 emotions" in printed
    assert "audio: AudioFeatures" in printed
    assert "video: not used (encoded only when named: --encoder video=face)" in printed
    assert "StratifiedGroupKFold(2) by actors (4)" in printed
    assert "per fold (mean ± sd over 2)" in printed
    for label in METRIC_LINES:
        assert f"\n{label} " in printed
    assert "neutral" in printed and "angry" in printed
    assert "Cache: 32 hits, 32 misses" in printed  # each clip analysed once
    results = json.loads(out.read_text())
    assert results["pooled"]["accuracy"] > 0.9  # pitch and loudness tell them apart
    assert results["pooled"]["roc_auc"] > 0.9  # from the out-of-fold probabilities
    assert len(results["folds"]) == 2 and sum(f["n_samples"] for f in results["folds"]) == 32
    assert set(results["mean"]) == set(results["sd"]) == METRIC_KEYS
    assert all("roc_auc" in fold for fold in results["folds"])
    assert results["recall"]["neutral"]["n"] == 16
    assert results["encoders"] == {"audio": ["audio-features", None]}


def test_dataset_without_groups_uses_stratified_folds(goemotions, tiny_model, capsys):
    assert (
        evaluate(
            "goemotions",
            goemotions,
            "--split",
            "dev",
            "--folds",
            "2",
            "--encoder",
            f"text=text:{tiny_model}",
            "--class-weight",
            "balanced",
            "--no-cache",
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "20 items, 2 emotions" in printed
    assert f"text: TextEncoder ({tiny_model})" in printed
    assert "StratifiedKFold(2, shuffle=True, random_state=0)" in printed
    assert "no speaker or subject ids" in printed
    assert "class_weight='balanced'" in printed
    assert "Cache: off" in printed


def test_n_samples_takes_a_stratified_subset(goemotions, tiny_model, capsys):
    assert (
        evaluate(
            "goemotions",
            goemotions,
            "--n-samples",
            "8",
            "--folds",
            "2",
            "--encoder",
            f"text=text:{tiny_model}",
            "--no-cache",
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "8 items, 2 emotions" in printed
    assert re.search(r"anger +[01]\.\d{3}  \(n=4\)", printed)
    assert re.search(r"joy +[01]\.\d{3}  \(n=4\)", printed)


def test_several_modalities_are_fused_late(tmp_path, tiny_model):
    chosen = {"audio": ("audio-features", None), "text": ("text", tiny_model)}
    pipe = build_pipeline(chosen, class_weight="balanced")
    assert isinstance(pipe, Pipeline) and isinstance(pipe[-1], LateFusionClassifier)
    encoders = dict((name, enc) for name, enc, _ in pipe.named_steps["encoders"].transformers)
    assert isinstance(encoders["audio"], AudioFeatures) and encoders["audio"].missing == "nan"
    assert isinstance(encoders["text"], TextEncoder) and encoders["text"].model == tiny_model
    assert pipe[-1].estimator[-1].class_weight == "balanced"
    paths = []
    for i, freq in enumerate([150, 400, 160, 410]):
        paths.append(tmp_path / f"{i}.wav")
        sf.write(paths[-1], tone(freq, 0.3, i), RATE)
    X = pd.DataFrame(
        {"audio": list(map(str, paths)), "text": ["calm", "furious", "calm", "furious"]}
    )
    y = ["neutral", "angry", "neutral", "angry"]
    assert pipe.fit(X, y).predict(X).shape == (4,)


def test_scores_are_the_reports_of_the_out_of_fold_probabilities():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from skemotion import emotion_report
    from skemotion._cli.evaluate import out_of_fold, score

    rng = np.random.default_rng(0)
    y = np.array(["angry", "calm", "sad"])[np.arange(60) % 3]
    X = rng.normal(size=(60, 4)) + (y[:, None] == "angry") + 2 * (y[:, None] == "sad")
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    tests = [test for _, test in cv.split(X, y)]
    y_pred, y_proba, classes = out_of_fold(LogisticRegression(), X, y, None, cv, None)
    assert y_proba.shape == (60, 3) and list(classes) == ["angry", "calm", "sad"]
    results = score(y, y_pred, tests, ["calm", "angry", "sad"], y_proba=y_proba, classes=classes)
    expected = emotion_report(y, y_pred, y_proba=y_proba, labels=classes)["roc_auc"]
    assert results["pooled"]["roc_auc"] == pytest.approx(expected)
    assert results["mean"]["roc_auc"] == pytest.approx(
        np.mean([emotion_report(y[t], y_pred[t], y_proba=y_proba[t])["roc_auc"] for t in tests])
    )
    # Without predict_proba: labels only, and no ROC-AUC in the report.
    y_pred, y_proba, _ = out_of_fold(LinearSVC(), X, y, None, cv, None)
    assert y_proba is None
    results = score(y, y_pred, tests, ["calm", "angry", "sad"])
    assert "roc_auc" not in results["pooled"] and "roc_auc" not in results["mean"]


def test_a_fold_of_one_emotion_has_no_roc_auc_and_the_run_goes_on(tmp_path, capsys):
    from sklearn.metrics import roc_auc_score

    from skemotion._cli.evaluate import _write_json, print_results, score

    rng = np.random.default_rng(0)
    classes = np.array(["angry", "calm", "sad"])
    y = classes[np.arange(60) % 3]
    y_proba = rng.dirichlet(np.ones(3), 60) + 0.5 * (y[:, None] == classes)
    y_pred = classes[y_proba.argmax(axis=1)]
    angry, calm, sad = (np.flatnonzero(y == c) for c in classes)
    # Fold 1 holds angry items only; folds 2 and 3 lack them.
    tests = [angry, np.r_[calm[:10], sad[:10]], np.r_[calm[10:], sad[10:]]]
    with pytest.warns(UserWarning) as record:
        results = score(y, y_pred, tests, list(classes), y_proba=y_proba, classes=classes)
    messages = [str(w.message) for w in record]
    single = [m for m in messages if m.startswith("fold 1 of 3: its test part holds only 'angry'")]
    absent = [m for m in messages if "ROC-AUC per fold is averaged" in m]
    assert len(single) == 1 and "NaN" in single[0]
    assert len(absent) == 1  # once for all folds, not once per fold
    assert "fold 2: 'angry'; fold 3: 'angry'" in absent[0]
    assert not [m for m in messages if m.startswith("emotion_report: roc_auc is averaged")]
    folds = results["folds"]
    assert np.isnan(folds[0]["roc_auc"]) and list(folds[0]) == list(folds[1])
    per_fold = [
        np.mean(
            [roc_auc_score(y[t] == c, y_proba[t, k]) for k, c in enumerate(classes) if c != "angry"]
        )
        for t in tests[1:]
    ]
    np.testing.assert_allclose([f["roc_auc"] for f in folds[1:]], per_fold)
    assert results["mean"]["roc_auc"] == pytest.approx(np.mean(per_fold))
    assert results["sd"]["roc_auc"] == pytest.approx(np.std(per_fold, ddof=1))
    assert results["mean"]["accuracy"] == pytest.approx(np.mean([f["accuracy"] for f in folds]))
    assert np.isfinite(results["pooled"]["roc_auc"])
    print_results(results)
    assert "ROC-AUC" in capsys.readouterr().out
    _write_json(tmp_path / "scores.json", results)  # NaN is written as JSON's null
    written = json.loads((tmp_path / "scores.json").read_text(), parse_constant=pytest.fail)
    assert written["folds"][0]["roc_auc"] is None
    assert written["folds"][1]["roc_auc"] == pytest.approx(per_fold[0])


def test_one_modality_is_a_plain_pipeline():
    pipe = build_pipeline({"audio": ("audio-features", None)})
    assert [type(step).__name__ for step in pipe] == [
        "AudioFeatures",
        "StandardScaler",
        "LogisticRegression",
    ]
    assert pipe[0].missing == "error"


@pytest.mark.slow
@pytest.mark.skipif(not RAVDESS.is_dir(), reason=f"the real RAVDESS is not at {RAVDESS}")
def test_real_ravdess_subset(tmp_path, capsys):
    assert (
        evaluate(
            "ravdess",
            RAVDESS,
            "--n-samples",
            "96",
            "--folds",
            "3",
            "--cache",
            tmp_path / "cache",
            "--output",
            tmp_path / "r.json",
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "96 items, 8 emotions" in printed and "by actors (24)" in printed
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["pooled"]["uar"] > 1 / 8  # better than chance, speaker-independently


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["iemocap", "x"], "argument DATASET: invalid choice: 'iemocap'"),
        (["ravdess", "x", "--encoder", "audio"], "expected MODALITY=NAME"),
        (["ravdess", "x", "--encoder", "audio=wav2vec"], "unknown encoder 'wav2vec'"),
        (
            ["ravdess", "x", "--encoder", "audio=text"],
            "the text encoder reads text, not audio; use audio-features or audio",
        ),
        (["ravdess", "x", "--encoder", "video=text"], "the text encoder reads text, not video"),
        (["ravdess", "x", "--encoder", "speech=audio"], "'speech' is not a modality column"),
        (
            ["ravdess", "x", "--encoder", "audio=audio", "--encoder", "audio=audio-features"],
            "names the audio modality twice",
        ),
        (
            ["ravdess", "x", "--encoder", "audio=audio-features:model"],
            "the audio-features encoder (AudioFeatures) takes no model option",
        ),
        (["ravdess", "x", "--split", "test"], "--split applies to meld, goemotions, fer2013"),
        (["ravdess", "x", "--folds", "1"], "--folds: must be an integer in the range [2, "),
    ],
)
def test_usage_errors(ravdess, capsys, argv, message):
    argv = [ravdess if a == "x" else a for a in argv]
    assert message in usage_error(capsys, *argv)


def test_a_modality_the_dataset_lacks_is_a_usage_error(ravdess, capsys):
    err = usage_error(capsys, "ravdess", ravdess, "--encoder", "text=text")
    assert "ravdess has no text column; its modalities are audio, video" in err


def test_video_only_dataset_has_nothing_to_encode(tmp_path, capsys):
    (tmp_path / "Actor_01").mkdir()
    (tmp_path / "Actor_01" / "02-01-01-01-01-01-01.mp4").touch()
    assert evaluate("ravdess", tmp_path, "--no-cache") == 1
    assert "no modality to encode" in capsys.readouterr().err


def test_a_video_column_is_encoded_when_named(tmp_path, capsys):
    pytest.importorskip("av", reason="video items need PyAV: pip install 'skemotion[video]'")
    pytest.importorskip("cv2", reason="FaceEncoder needs OpenCV")
    from _videos import write_video

    # RAVDESS's layout with full audio-visual takes only (modality 01): 2 actors x 2
    # emotions x 2 repetitions, a face brighter for one emotion, a louder tone for it.
    for actor in (1, 2):
        folder = tmp_path / f"Actor_{actor:02d}"
        folder.mkdir()
        for code, level, freq in [("01", 60, 150), ("05", 200, 400)]:
            for repetition in ("01", "02"):
                face = np.full((48, 48), level, np.uint8)
                face[16:32, 12:36] = 255 - level
                audio = tone(freq + actor, 0.3, actor)
                name = f"01-01-{code}-01-01-{repetition}-{actor:02d}.mp4"
                write_video(folder / name, [face], audio, seconds=1.0)
    for encoder in ("video=face", "video=audio-features"):
        code = evaluate("ravdess", tmp_path, "--folds", "2", "--no-cache", "--encoder", encoder)
        printed = capsys.readouterr().out
        assert code == 0, printed
        assert "skemotion evaluate ravdess: 8 items, 2 emotions" in printed
        assert (
            "video: FaceEncoder" if encoder == "video=face" else "video: AudioFeatures"
        ) in printed


def test_a_missing_folder_is_an_error_of_the_loader(tmp_path, capsys):
    assert evaluate("ravdess", tmp_path / "nowhere", "--no-cache") == 1
    assert "skemotion evaluate: error: FileNotFoundError: load_ravdess:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("dataset", "split", "message"),
    [
        ("goemotions", "valid", "--split 'valid': goemotions has the splits train, dev, test"),
        ("fer2013", "dev", "fer2013 has the splits all, train, test, public_test, private_test"),
    ],
)
def test_a_split_the_dataset_lacks_is_a_usage_error(tmp_path, capsys, dataset, split, message):
    # Refused from the registry before the folder is read (it does not even exist here).
    assert message in usage_error(capsys, dataset, tmp_path / "nowhere", "--split", split)


def test_more_folds_than_speakers_is_a_usage_error_naming_folds(ravdess, capsys):
    err = usage_error(capsys, "ravdess", ravdess, "--folds", "5", "--no-cache")
    assert "--folds 5: the data has 4 actors, and each fold needs its own; pass --folds 4" in err


def test_more_folds_than_items_of_an_emotion_is_a_usage_error(goemotions, tiny_model, capsys):
    argv = ["goemotions", goemotions, "--folds", "11", "--encoder", f"text=text:{tiny_model}"]
    err = usage_error(capsys, *argv, "--no-cache")
    assert "--folds 11: the rarest emotion has 10 item(s)" in err


@pytest.mark.parametrize("value", ["0", "two"])
def test_n_jobs_of_zero_or_not_a_number_is_a_usage_error(ravdess, capsys, value):
    err = usage_error(capsys, "ravdess", ravdess, "--n-jobs", value)
    assert "--n-jobs" in err and ("0 workers cannot run" in err or "expected an integer" in err)


def test_help_explains_the_folds_and_the_splits(capsys):
    with pytest.raises(SystemExit) as exc:
        evaluate("--help")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in [
        "StratifiedGroupKFold",
        "StratifiedKFold",
        "--split",
        "--encoder",
        "MODALITY=NAME",
        "UAR",
        "video",
        "examples:",
    ]:
        assert text in out
