"""Tests for skemotion.plots: the confusion matrix and the modality-weights displays."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay as SklearnConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skemotion import LateFusionClassifier, make_multimodal_pipeline, weight_grid
from skemotion.plots import ConfusionMatrixDisplay, ModalityWeightsDisplay

matplotlib = pytest.importorskip(
    "matplotlib", reason="skemotion.plots needs matplotlib: pip install 'skemotion[plot]'"
)
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _objects(values):
    """A 1-D object array as in cv_results_ (numpy would make lists of lists 2-D)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return np.ma.MaskedArray(array)


def _cv_results(weights, mean, std=None, **extra):
    results = {
        "param_fusion__weights": _objects(weights),
        "mean_test_score": np.asarray(mean, dtype=float),
        **extra,
    }
    if std is not None:
        results["std_test_score"] = np.asarray(std, dtype=float)
    return results


TWO = weight_grid(["face", "audio"], step=0.25)  # face 0, 0.25, ..., 1


# --- ConfusionMatrixDisplay ----------------------------------------------------------------


def test_confusion_matrix_rows_are_normalised_by_default():
    y_true = ["sad"] * 4 + ["joy"] * 2
    y_pred = ["sad", "sad", "sad", "joy", "joy", "sad"]
    disp = ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=["sad", "joy"])
    assert isinstance(disp, SklearnConfusionMatrixDisplay)
    np.testing.assert_allclose(disp.confusion_matrix, [[0.75, 0.25], [0.5, 0.5]])
    np.testing.assert_allclose(disp.im_.get_array(), disp.confusion_matrix)
    assert [t.get_text() for t in disp.text_.ravel()] == ["0.75", "0.25", "0.50", "0.50"]
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["sad", "joy"]
    assert disp.ax_.get_ylabel() == "True label"
    assert disp.ax_.get_xticklabels()[0].get_horizontalalignment() == "right"


def test_confusion_matrix_counts_and_given_axes():
    fig, ax = plt.subplots()
    disp = ConfusionMatrixDisplay.from_predictions(
        [0, 0, 1], [0, 1, 1], normalize=None, ax=ax, xticks_rotation="horizontal"
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.confusion_matrix.tolist() == [[1, 1], [0, 1]]
    assert [t.get_text() for t in disp.text_.ravel()] == ["1", "1", "0", "1"]
    assert disp.ax_.get_xticklabels()[0].get_horizontalalignment() == "center"


def test_confusion_matrix_from_estimator():
    X = np.array([[0.0], [0.1], [0.9], [1.0]])
    y = np.array(["calm", "calm", "angry", "angry"])
    clf = LogisticRegression().fit(X, y)
    disp = ConfusionMatrixDisplay.from_estimator(clf, X, y)
    assert isinstance(disp, ConfusionMatrixDisplay)
    np.testing.assert_allclose(disp.confusion_matrix, np.eye(2))


# --- ModalityWeightsDisplay ----------------------------------------------------------------


def test_weights_two_modalities_one_line_against_the_first_weight():
    mean = [0.40, 0.55, 0.62, 0.58, 0.50]
    std = [0.05, 0.04, 0.03, 0.04, 0.06]
    disp = ModalityWeightsDisplay.from_cv_results(_cv_results(TWO, mean, std))
    assert list(disp.lines_) == ["face"]
    line = disp.lines_["face"]
    np.testing.assert_allclose(line.get_xdata(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(line.get_ydata(), mean)
    # The band is mean ± std.
    vertices = disp.fills_["face"].get_paths()[0].vertices
    assert vertices[:, 1].min() == pytest.approx(0.35)
    assert vertices[:, 1].max() == pytest.approx(0.65)
    assert disp.best_index_ == 2
    star = disp.best_markers_["face"]
    assert star.get_xdata().tolist() == [0.5] and star.get_ydata().tolist() == [0.62]
    assert disp.ax_.get_xlabel() == "weight of face (audio = 1 - face)"
    assert disp.ax_.get_ylabel() == "test score: mean ± 1 std over CV folds"
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["best: face 0.5, audio 0.5 (0.620)"]


def test_weights_other_modality_on_the_x_axis_and_no_std():
    disp = ModalityWeightsDisplay.from_cv_results(
        _cv_results(TWO, [0.4, 0.5, 0.6, 0.5, 0.4]), modality="audio", score_name="UAR"
    )
    np.testing.assert_allclose(disp.lines_["audio"].get_xdata(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(disp.lines_["audio"].get_ydata(), [0.4, 0.5, 0.6, 0.5, 0.4])
    assert disp.fills_["audio"] is None
    assert disp.ax_.get_xlabel() == "weight of audio (face = 1 - audio)"
    assert disp.ax_.get_ylabel() == "UAR: mean over CV folds"


def test_weights_three_modalities_best_score_at_each_weight():
    grid = weight_grid(["text", "face", "audio"], step=0.5)  # 6 candidates
    # text, face, audio weights: (0,0,1) (0,.5,.5) (0,1,0) (.5,0,.5) (.5,.5,0) (1,0,0)
    mean = [0.3, 0.7, 0.5, 0.4, 0.6, 0.2]
    disp = ModalityWeightsDisplay.from_cv_results(_cv_results(grid, mean))
    assert list(disp.lines_) == ["text", "face", "audio"]
    np.testing.assert_allclose(disp.lines_["text"].get_xdata(), [0, 0.5, 1])
    np.testing.assert_allclose(disp.lines_["text"].get_ydata(), [0.7, 0.6, 0.2])
    np.testing.assert_allclose(disp.lines_["face"].get_ydata(), [0.4, 0.7, 0.5])
    assert disp.curves_["face"]["candidate"].tolist() == [3, 1, 2]
    # The best candidate (0, .5, .5) is starred on every line.
    assert [m.get_xdata()[0] for m in disp.best_markers_.values()] == [0, 0.5, 0.5]
    assert disp.ax_.get_xlabel() == "weight of the modality (best candidate at each weight)"
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend[:3] == ["text", "face", "audio"]


def test_weights_other_parameters_keep_the_best_candidate_per_weight():
    grid = [{"face": 1.0, "audio": 0.0}, {"face": 0.0, "audio": 1.0}] * 2
    results = _cv_results(
        grid,
        [0.5, 0.3, 0.6, 0.2],
        param_fusion__rule=_objects(["mean", "mean", "product", "product"]),
    )
    disp = ModalityWeightsDisplay.from_cv_results(results)
    np.testing.assert_allclose(disp.lines_["face"].get_ydata(), [0.3, 0.6])
    assert disp.curves_["face"]["candidate"].tolist() == [1, 2]


def test_weights_are_renormalised_sequences_and_none():
    results = _cv_results([[2, 2], [1, 3], None, [0, 0]], [0.6, 0.5, 0.61, 0.4])
    disp = ModalityWeightsDisplay.from_cv_results(results, modalities=["face", "audio"])
    # [2, 2], None and [0, 0] all mean equal weights: the best of them is plotted.
    np.testing.assert_allclose(disp.lines_["face"].get_xdata(), [0.25, 0.5])
    np.testing.assert_allclose(disp.lines_["face"].get_ydata(), [0.5, 0.61])
    unnamed = ModalityWeightsDisplay.from_cv_results(results)
    assert list(unnamed.lines_) == ["modality 0"]


def test_weights_from_a_fitted_search_on_given_axes():
    rng = np.random.default_rng(0)
    y = np.repeat(["calm", "angry"], 20)
    df = pd.DataFrame(
        {
            "au": (y == "angry") + rng.normal(0, 0.7, 40),
            "pitch": (y == "angry") + rng.normal(0, 1.5, 40),
        }
    )
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", ["au"]), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
    )
    search = GridSearchCV(
        pipe,
        {"fusion__weights": weight_grid(["face", "audio"], step=0.5)},
        cv=StratifiedKFold(3),
        scoring="f1_macro",
    ).fit(df, y)
    fig, ax = plt.subplots()
    disp = ModalityWeightsDisplay.from_cv_results(search, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    np.testing.assert_allclose(
        disp.lines_["face"].get_ydata(), search.cv_results_["mean_test_score"]
    )
    assert disp.ax_.get_ylabel() == "f1_macro: mean ± 1 std over CV folds"
    assert disp.best_index_ == search.best_index_


def test_weights_multimetric_search_results():
    results = {
        "param_fusion__weights": _objects(TWO),
        "mean_test_uar": np.linspace(0.1, 0.5, 5),
        "mean_test_accuracy": np.linspace(0.5, 0.1, 5),
    }
    disp = ModalityWeightsDisplay.from_cv_results(results, metric="uar")
    np.testing.assert_allclose(disp.lines_["face"].get_ydata(), np.linspace(0.1, 0.5, 5))
    assert disp.ax_.get_ylabel() == "uar: mean over CV folds"
    with pytest.raises(ValueError, match=r"no 'mean_test_score'.*\['accuracy', 'uar'\]"):
        ModalityWeightsDisplay.from_cv_results(results)


def test_weights_error_without_fusion_weights():
    results = {"param_clf__C": _objects([0.1, 1.0]), "mean_test_score": np.array([0.5, 0.6])}
    with pytest.raises(
        ValueError,
        match=r"no 'param_fusion__weights'.*\['clf__C'\].*"
        r"weight_grid",
    ):
        ModalityWeightsDisplay.from_cv_results(results)


def test_weights_other_parameter_name():
    results = {
        "param_fusion__latefusionclassifier__weights": _objects(TWO),
        "mean_test_score": np.linspace(0, 1, 5),
    }
    disp = ModalityWeightsDisplay.from_cv_results(results)  # the one "...weights" parameter
    assert len(disp.lines_["face"].get_xdata()) == 5
    with pytest.raises(ValueError, match="no 'param_other__weights'"):
        ModalityWeightsDisplay.from_cv_results(results, param="other__weights")


def test_weights_errors_name_the_problem():
    with pytest.raises(ValueError, match="has no cv_results_: fit it first"):
        ModalityWeightsDisplay.from_cv_results(GridSearchCV(LogisticRegression(), {}))
    with pytest.raises(TypeError, match="cv_results must be"):
        ModalityWeightsDisplay.from_cv_results([0.5, 0.6])
    with pytest.raises(ValueError, match="candidate 1 of 'param_fusion__weights' is 'face'"):
        ModalityWeightsDisplay.from_cv_results(_cv_results([{"face": 1.0}, "face"], [0, 0]))
    with pytest.raises(ValueError, match="weigh different modalities"):
        ModalityWeightsDisplay.from_cv_results(
            _cv_results([{"face": 1.0, "audio": 0.0}, {"face": 1.0, "text": 0.0}], [0, 0])
        )
    with pytest.raises(ValueError, match=r"modality='text' names no modality.*\['face', "):
        ModalityWeightsDisplay.from_cv_results(_cv_results(TWO, np.zeros(5)), modality="text")
    with pytest.raises(ValueError, match="nothing to plot"):
        ModalityWeightsDisplay.from_cv_results(_cv_results(TWO, np.full(5, np.nan)))


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    import skemotion._plotting as plotting
    from skemotion.plots import ModalityAttributionDisplay

    def no_matplotlib(module_name, *, extra, caller):
        raise ImportError(f"{caller} requires matplotlib: pip install 'skemotion[{extra}]'")

    # One import helper for every display, skemotion.plots' and skemotion._inspection's.
    monkeypatch.setattr(plotting, "import_optional_dependency", no_matplotlib)
    with pytest.raises(
        ImportError,
        match=r"from_cv_results requires matplotlib: "
        r"pip install 'skemotion\[plot\]'",
    ):
        ModalityWeightsDisplay.from_cv_results(_cv_results(TWO, np.zeros(5)))
    with pytest.raises(ImportError, match=r"ConfusionMatrixDisplay.from_predictions requires"):
        ConfusionMatrixDisplay.from_predictions([0, 1], [0, 1])
    with pytest.raises(ImportError, match=r"ModalityAttributionDisplay.plot requires"):
        ModalityAttributionDisplay([[0.1]], ["joy"], modalities=["face"], classes=["joy"]).plot()


# --- EmotionTimelineDisplay ----------------------------------------------------------------

from skemotion.plots import EmotionTimelineDisplay  # noqa: E402


def _timeline(proba=True):
    timeline = pd.DataFrame(
        {
            "start": [0.5, 3.0, 6.2],
            "end": [2.4, 5.1, 8.0],
            "emotion": ["calm", "angry", "angry"],
        }
    )
    if proba:
        timeline["proba_angry"] = [0.2, 0.7, 0.9]
        timeline["proba_calm"] = [0.8, 0.3, 0.1]
    return timeline


def test_timeline_lines_follow_each_segment():
    disp = EmotionTimelineDisplay.from_timeline(_timeline())
    assert disp.classes_ == ["angry", "calm"]
    assert set(disp.lines_) == {"angry", "calm"} and disp.fills_ == {}
    line = disp.lines_["angry"]
    x, y = line.get_xdata(), line.get_ydata()
    # Each segment from start to end at its probability, a NaN gap between segments.
    np.testing.assert_array_equal(x, [0.5, 2.4, np.nan, 3.0, 5.1, np.nan, 6.2, 8.0, np.nan])
    np.testing.assert_array_equal(y, [0.2, 0.2, np.nan, 0.7, 0.7, np.nan, 0.9, 0.9, np.nan])
    assert line.get_label() == "angry"
    assert matplotlib.colors.to_hex(line.get_color()) == "#1f77b4"  # tab10's first colour
    assert matplotlib.colors.to_hex(disp.lines_["calm"].get_color()) == "#ff7f0e"
    assert len(disp.spans_) == 3
    # The spans are shaded in the colour of the predicted emotion, in time order.
    span_colors = [matplotlib.colors.to_rgb(span.get_facecolor()) for span in disp.spans_]
    expected = [matplotlib.colors.to_rgb(disp.colors_[e]) for e in ["calm", "angry", "angry"]]
    np.testing.assert_allclose(span_colors, expected)
    assert [round(s.get_x(), 3) for s in disp.spans_] == [0.5, 3.0, 6.2]
    assert disp.ax_.get_xlabel() == "time (s)" and disp.ax_.get_ylabel() == "probability"
    assert disp.ax_.get_xlim() == (0.0, 8.0) and disp.ax_.get_ylim() == (0.0, 1.02)
    assert disp.figure_ is disp.ax_.figure
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["angry", "calm"]


def test_timeline_stacked_bands_on_given_axes():
    fig, ax = plt.subplots()
    disp = EmotionTimelineDisplay.from_timeline(
        _timeline().iloc[::-1], kind="stacked", ax=ax, colors={"calm": "green"}
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.lines_ == {} and set(disp.fills_) == {"angry", "calm"}
    assert disp.spans_ == []  # no shading under the bands by default
    calm = disp.fills_["calm"]
    np.testing.assert_allclose(calm.get_facecolor()[0][:3], matplotlib.colors.to_rgb("green"))
    # The calm band lies on top of the angry one, up to 1 in each segment: three pieces.
    tops = [path.vertices[:, 1].max() for path in calm.get_paths()]
    np.testing.assert_allclose(tops, [1.0, 1.0, 1.0])
    bottoms = sorted(path.vertices[:, 1].min() for path in calm.get_paths())
    np.testing.assert_allclose(bottoms, [0.2, 0.7, 0.9])
    shaded = EmotionTimelineDisplay.from_timeline(_timeline(), kind="stacked", shade=True)
    assert len(shaded.spans_) == 3


def test_timeline_without_probabilities_shades_the_predictions():
    disp = EmotionTimelineDisplay.from_timeline(_timeline(proba=False))
    assert disp.lines_ == {} and disp.fills_ == {} and len(disp.spans_) == 3
    assert disp.classes_ == ["angry", "calm"]
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["calm (predicted)", "angry (predicted)"]
    assert list(disp.ax_.get_yticks()) == []


def test_timeline_display_of_an_empty_timeline():
    disp = EmotionTimelineDisplay.from_timeline(_timeline().iloc[:0])
    assert disp.spans_ == [] and all(len(line.get_xdata()) == 0 for line in disp.lines_.values())
    assert disp.ax_.get_legend() is None


def test_timeline_display_bad_inputs():
    with pytest.raises(TypeError, match="timeline must be a DataFrame"):
        EmotionTimelineDisplay.from_timeline([[0, 1, "calm"]])
    with pytest.raises(ValueError, match=r"no column \['emotion'\].*predict_timeline"):
        EmotionTimelineDisplay.from_timeline(_timeline().drop(columns="emotion"))
    with pytest.raises(ValueError, match="kind must be 'lines' or 'stacked'; got 'bars'"):
        EmotionTimelineDisplay.from_timeline(_timeline(), kind="bars")
    bad = _timeline()
    bad.loc[1, "end"] = 1.0
    with pytest.raises(ValueError, match="start <= end"):
        EmotionTimelineDisplay.from_timeline(bad)
    bad = _timeline()
    bad.loc[0, "proba_calm"] = np.nan
    with pytest.raises(ValueError, match=r"probabilities must be finite, in \[0, 1\]"):
        EmotionTimelineDisplay.from_timeline(bad)
    with pytest.raises(TypeError, match="colors must be a dict"):
        EmotionTimelineDisplay.from_timeline(_timeline(), colors=["red"])
    with pytest.raises(ValueError, match="one value per segment"):
        EmotionTimelineDisplay([0, 1], [1], ["calm", "calm"]).plot()
