"""Tests of ModalityAttributionDisplay and modality_importance (skemotion._attribution).

Small synthetic data (face carries the label, audio a little, text nothing) for the
definitions; the bundled RAVDESS face + voice sample for real predictions of the demo's
pipeline (AudioFeatures on 192 real clips: about 5 s).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import (
    EarlyFusion,
    GroupLeakageWarning,
    LateFusionClassifier,
    StackingFusionClassifier,
    make_multimodal_pipeline,
    modality_importance,
)
from skemotion._attribution import _splitter
from skemotion.plots import ModalityAttributionDisplay

matplotlib = pytest.importorskip(
    "matplotlib", reason="skemotion.plots needs matplotlib: pip install 'skemotion[plot]'"
)
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

CLASSES = np.array(["anger", "joy", "sad"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(n=150, seed=0, text=False):
    """Face (3 columns) tells the class, audio (2 columns) a little, text (2) nothing."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % 3
    face = np.eye(3)[codes] * 2 + rng.normal(0, 1, (n, 3))
    audio = np.eye(3)[codes][:, :2] * 0.5 + rng.normal(0, 1, (n, 2))
    blocks = {"face": face, "audio": audio}
    if text:
        blocks["text"] = rng.normal(0, 1, (n, 2))
    X = pd.DataFrame(
        np.hstack(list(blocks.values())),
        columns=[f"{m}__{i}" for m, b in blocks.items() for i in range(b.shape[1])],
    )
    return X, CLASSES[codes]


def _drop(X, modality, rows):
    X = X.copy()
    X.loc[X.index[rows], [c for c in X if c.startswith(modality + "__")]] = np.nan
    return X


def _lr():
    return make_pipeline(StandardScaler(), LogisticRegression())


def _late(**params):
    return LateFusionClassifier(_lr(), **params)


def _check_sums(disp, classes):
    """per_class_ sums over modalities to the mean total_ of each target class."""
    for k, label in enumerate(classes):
        rows = disp.target_ == label
        np.testing.assert_allclose(disp.per_class_[k].sum(), disp.total_[rows].mean())
        np.testing.assert_allclose(disp.per_class_[k], disp.attributions_[rows].mean(axis=0))


# --- Shapley values ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["mean", "product"])
def test_shapley_of_two_modalities_by_hand(rule):
    X, y = _data()
    clf = _late(rule=rule, weights={"face": 0.7, "audio": 0.3}).fit(X, y)
    disp = ModalityAttributionDisplay.from_estimator(clf, X, y)
    t = np.searchsorted(clf.classes_, y)
    rows = np.arange(len(y))
    per = clf.predict_proba_per_modality(X)
    v_all = clf.predict_proba(X)[rows, t]
    v_face, v_audio, v_none = per["face"][rows, t], per["audio"][rows, t], clf.class_prior_[t]
    face = 0.5 * ((v_face - v_none) + (v_all - v_audio))
    audio = 0.5 * ((v_audio - v_none) + (v_all - v_face))
    np.testing.assert_allclose(disp.attributions_, np.column_stack([face, audio]))
    np.testing.assert_allclose(disp.proba_, v_all)
    np.testing.assert_allclose(disp.baseline_, v_none)
    assert disp.modalities_ == ["face", "audio"] and list(disp.classes_) == list(CLASSES)
    assert disp.per_class_.shape == (3, 2)
    assert (disp.per_class_[:, 0] > disp.per_class_[:, 1]).all()  # face tells the truth


def test_shapley_values_sum_to_proba_minus_baseline_per_sample_and_per_class():
    X, y = _data(text=True)
    clf = _late().fit(X, y)
    X = _drop(X, "audio", slice(0, 20))
    disp = ModalityAttributionDisplay.from_estimator(clf, X)  # the predicted class
    np.testing.assert_allclose(disp.total_, disp.proba_ - disp.baseline_)
    np.testing.assert_array_equal(disp.target_, clf.predict(X))
    np.testing.assert_allclose(
        disp.baseline_, clf.class_prior_[np.searchsorted(CLASSES, disp.target_)]
    )
    assert disp.attributions_.shape == (len(X), 3)
    assert (disp.attributions_[:20, 1] == 0).all()  # missing audio moved nothing
    _check_sums(disp, CLASSES)
    np.testing.assert_array_equal(disp.class_counts_, [(disp.target_ == c).sum() for c in CLASSES])


def test_shapley_for_stacking_and_early_fusion():
    X, y = _data()
    stacking = StackingFusionClassifier(_lr(), cv=3).fit(X, y)
    disp = ModalityAttributionDisplay.from_estimator(stacking, X, y)
    np.testing.assert_allclose(disp.total_, disp.proba_ - disp.baseline_)
    t = np.searchsorted(CLASSES, y)
    np.testing.assert_allclose(disp.baseline_, stacking.class_prior_[t])
    np.testing.assert_allclose(disp.proba_, stacking.predict_proba(X)[np.arange(len(y)), t])
    _check_sums(disp, CLASSES)
    early = make_pipeline(EarlyFusion(), LogisticRegression()).fit(X, y)
    disp = ModalityAttributionDisplay.from_estimator(early, X, y)
    np.testing.assert_allclose(disp.total_, disp.proba_ - disp.baseline_)


def test_a_pipeline_is_attributed_at_its_fusion_step():
    X, y = _data()
    raw = X.set_axis([c.replace("__", "_") for c in X], axis=1)  # raw input columns
    face, audio = (
        [c for c in raw if c.startswith("face")],
        [c for c in raw if c.startswith("audio")],
    )
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", face), "audio": ("passthrough", audio)}, fusion=_late()
    ).fit(raw, y)
    disp = ModalityAttributionDisplay.from_estimator(pipe, raw, y)
    fusion = pipe.named_steps["fusion"]
    direct = ModalityAttributionDisplay.from_estimator(fusion, pipe[:-1].transform(raw), y)
    np.testing.assert_allclose(disp.attributions_, direct.attributions_)
    assert disp.modalities_ == ["face", "audio"]


# --- explain and attention -----------------------------------------------------------------


@pytest.mark.parametrize("rule", ["mean", "product"])
def test_explain_method_is_late_fusions_explain(rule):
    X, y = _data()
    clf = _late(rule=rule).fit(X, y)
    X = _drop(X, "face", slice(0, 10))
    disp = ModalityAttributionDisplay.from_estimator(clf, X, method="explain")
    frame = clf.explain(X)
    np.testing.assert_allclose(disp.attributions_, frame[["face", "audio"]].to_numpy())
    np.testing.assert_array_equal(disp.target_, frame["predicted"])
    if rule == "mean":  # w_m p_m(class) sum to the fused probability
        np.testing.assert_allclose(disp.total_, disp.proba_)
    else:  # w_m log p_m(class): the log of the unnormalised fused probability
        w = np.where(np.isnan(X["face__0"]), 0.0, 0.5)[:, None] * [1, 1]
        w[:10, 1] = 1.0
        t = np.searchsorted(CLASSES, disp.target_)
        per = clf.predict_proba_per_modality(X)
        logp = np.column_stack(
            [np.log(np.nan_to_num(per[m][np.arange(len(t)), t], nan=1.0)) for m in per]
        )
        np.testing.assert_allclose(disp.total_, (w * logp).sum(axis=1))
    _check_sums(disp, CLASSES)


def test_attention_method_is_the_mean_attention_over_present_modalities():
    torch = pytest.importorskip("torch", reason="AttentionFusionClassifier needs torch")
    from skemotion import AttentionFusionClassifier

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X, y = _data(text=True)
        clf = AttentionFusionClassifier(
            hidden_dim=8, n_heads=2, max_epochs=5, random_state=0, device="cpu"
        ).fit(X, y)
        X = _drop(X, "text", slice(0, 15))
        disp = ModalityAttributionDisplay.from_estimator(clf, X, y, method="attention")
        weights = clf.attention_weights(X)
        n_present = np.where(np.arange(len(X)) < 15, 2, 3)
        np.testing.assert_allclose(disp.attributions_, weights.sum(axis=1) / n_present[:, None])
        np.testing.assert_allclose(disp.total_, 1.0)
        assert (disp.attributions_[:15, 2] == 0).all()
        _check_sums(disp, CLASSES)
        np.testing.assert_allclose(disp.per_class_.sum(axis=1), 1.0)
        shapley = ModalityAttributionDisplay.from_estimator(clf, X, y)
        np.testing.assert_allclose(shapley.total_, shapley.proba_ - shapley.baseline_)
    finally:
        torch.set_num_threads(threads)


# --- plots and errors ----------------------------------------------------------------------


def test_per_class_and_per_sample_plots():
    X, y = _data()
    clf = _late().fit(X, y)
    fig, (left, right) = plt.subplots(1, 2)
    disp = ModalityAttributionDisplay.from_estimator(clf, X, y, ax=left, colors={"face": "red"})
    assert disp.ax_ is left and disp.figure_ is fig and disp.im_ is None
    assert set(disp.bars_) == {"face", "audio"} and len(disp.bars_["face"]) == 3
    heights = [bar.get_height() for bar in disp.bars_["face"]]
    np.testing.assert_allclose(heights, disp.per_class_[:, 0])
    np.testing.assert_allclose(disp.totals_.get_ydata(), disp.per_class_.sum(axis=1))
    assert matplotlib.colors.same_color(disp.bars_["face"][0].get_facecolor(), "red")
    assert disp.ax_.get_xlabel() == "true class"
    disp.plot(kind="per_sample", ax=right)
    assert disp.im_.get_array().shape == (2, len(X)) and disp.bars_ == {}
    assert [t.get_text() for t in right.get_xticklabels()] == list(CLASSES)


def test_a_class_without_samples_has_a_row_of_nan():
    disp = ModalityAttributionDisplay(
        [[0.1, 0.2], [0.3, -0.1]], ["joy", "joy"], modalities=["face", "audio"],
        classes=["anger", "joy"],
    ).plot()  # fmt: skip
    assert np.isnan(disp.per_class_[0]).all()
    np.testing.assert_allclose(disp.per_class_[1], [0.2, 0.05])
    np.testing.assert_array_equal(disp.class_counts_, [0, 2])


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda: _late(), {"method": "lime"}, "method must be one of"),
        (lambda: _late(), {"method": "explain", "y": True}, "attributes the predicted class"),
        (lambda: StackingFusionClassifier(_lr(), cv=3), {"method": "explain"}, "fusion step is a"),
        (lambda: _late(), {"method": "attention"}, "AttentionFusionClassifier"),
        (lambda: _late(), {"y": ["fear"] * 150}, r"not fitted on \('fear'\)"),
        (lambda: _lr(), {}, "has no fusion step with modality blocks"),
        (lambda: _late(), {"kind": "violin"}, "kind must be one of"),
    ],
)
def test_from_estimator_errors_name_the_fix(make, kwargs, message):
    X, y = _data()
    model = make().fit(X, y)
    if kwargs.get("y") is True:
        kwargs["y"] = y
    with pytest.raises(ValueError, match=message):
        ModalityAttributionDisplay.from_estimator(model, X, **kwargs)


def test_constructor_inputs_are_checked_when_plotting():
    disp = ModalityAttributionDisplay([[0.1, 0.2]], ["joy"], modalities=["face"], classes=["joy"])
    with pytest.raises(ValueError, match=r"must have shape \(n_samples, n_modalities\) = \(1, 1\)"):
        disp.plot()
    disp = ModalityAttributionDisplay([[0.1]], ["fear"], modalities=["face"], classes=["joy"])
    with pytest.raises(ValueError, match="target holds classes not in classes"):
        disp.plot()


# --- modality_importance -------------------------------------------------------------------


def test_modality_importance_of_a_fitted_model():
    X, y = _data()
    clf = _late(weights={"face": 1.0, "audio": 0.0}).fit(X, y)  # audio weighs nothing
    result = modality_importance(clf, X, y, n_repeats=4, random_state=0)
    assert result.modalities == ["face", "audio"]
    assert result.importances.shape == (2, 4) and result.baseline_scores.shape == (1,)
    assert result.importances_mean[0] > 0.3
    np.testing.assert_array_equal(result.importances[1], 0.0)
    np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))
    assert result.baseline_scores[0] == pytest.approx(clf.score(X, y))
    again = modality_importance(clf, X, y, n_repeats=4, random_state=0)
    np.testing.assert_array_equal(again.importances, result.importances)
    f1 = modality_importance(clf, X, y, scoring="f1_macro", n_repeats=2, random_state=0)
    assert f1.importances_mean[0] > 0.3


def test_modality_importance_on_held_out_folds_by_group():
    X, y = _data()
    groups = np.arange(len(y)) % 5
    clf = _late()
    by_group = modality_importance(clf, X, y, cv=LeaveOneGroupOut(), groups=groups, n_repeats=2)
    assert by_group.importances.shape == (2, 5 * 2) and by_group.baseline_scores.shape == (5,)
    assert by_group.importances_mean[0] > by_group.importances_mean[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        modality_importance(clf, X, y, cv=3, groups=groups, n_repeats=1)
    splitter = _splitter(3, X, y, groups, classifier=True)
    for train, test in splitter.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    with pytest.warns(GroupLeakageWarning, match="KFold puts samples of the same group"):
        modality_importance(clf, X, y, cv=KFold(3), groups=groups, n_repeats=1)


def test_modality_importance_through_a_pipeline_and_without_fusion():
    X, y = _data()
    raw = X.set_axis([c.replace("__", "_") for c in X], axis=1)
    face, audio = list(raw.columns[:3]), list(raw.columns[3:])
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", face), "audio": ("passthrough", audio)}, fusion=_late()
    )
    result = modality_importance(pipe, raw, y, cv=3, n_repeats=2, random_state=0)
    assert result.modalities == ["face", "audio"] and result.importances.shape == (2, 6)
    # A model without fusion step: blocks from the column prefixes, or given.
    plain = modality_importance(_lr().fit(X, y), X, y, random_state=0)
    explicit = modality_importance(
        _lr().fit(X.to_numpy(), y), X.to_numpy(), y, random_state=0,
        modalities={"face": slice(0, 3), "audio": [3, 4]},
    )  # fmt: skip
    assert plain.modalities == explicit.modalities == ["face", "audio"]
    np.testing.assert_allclose(plain.importances, explicit.importances)


def test_modality_importance_shuffles_missing_blocks_without_warning():
    X, y = _data()
    X = _drop(_drop(X, "audio", slice(0, 30)), "face", slice(30, 60))
    clf = _late().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rows left with no modality are not the user's
        result = modality_importance(clf, X, y, n_repeats=3, random_state=0)
    assert np.isfinite(result.importances).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_repeats": 0}, "'n_repeats' parameter of modality_importance must be an int"),
        ({"scoring": ["accuracy", "f1_macro"]}, "must be one scorer"),
        ({"groups": np.zeros(150)}, "groups are passed to the splitter of cv, but cv is None"),
        ({"modalities": {"face": ["nope"]}}, "names columns that are not in the input"),
    ],
)
def test_modality_importance_errors_name_the_fix(kwargs, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        modality_importance(_late().fit(X, y), X, y, **kwargs)


def test_modality_importance_needs_blocks_it_can_find():
    X, y = _data()
    model = _lr().fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="cannot tell which columns of X belong"):
        modality_importance(model, X.to_numpy(), y)
    with pytest.raises(ValueError, match="X has 150 rows but y has 3 labels"):
        modality_importance(model, X.to_numpy(), y[:3])


# --- real data: the bundled RAVDESS face + voice sample ------------------------------------


@pytest.fixture(scope="module")
def ravdess_demo(tmp_path_factory):
    """The demo's face + voice pipeline fitted on actors 1-16 of the bundled sample."""
    pytest.importorskip("soundfile", reason="AudioFeatures reads the clips with soundfile")
    pytest.importorskip("soxr", reason="AudioFeatures resamples with soxr")
    from threadpoolctl import threadpool_limits

    from skemotion import AudioFeatures, EmbeddingCache
    from skemotion._cli.demo_face_voice import SPEAKER, build_pipeline, load_data

    sample = load_data()
    X = sample.data.assign(**{SPEAKER: sample.groups})
    y, groups = sample.target.to_numpy(), sample.groups
    cache = EmbeddingCache(tmp_path_factory.mktemp("cache"))
    encoder = AudioFeatures(cache=cache)
    train = groups <= 16
    with threadpool_limits(1):
        pipe = build_pipeline(encoder, sample.feature_names["face"]).fit(X[train], y[train])
    yield pipe, X[~train].reset_index(drop=True), y[~train], sample
    cache.close()


@pytest.mark.slow
def test_display_from_real_predictions_on_ravdess_face_and_voice(ravdess_demo):
    pipe, X_test, y_test, sample = ravdess_demo
    classes = pipe.classes_
    assert len(X_test) == 64 and len(classes) == 8
    disp = ModalityAttributionDisplay.from_estimator(pipe, X_test, y_test)
    assert disp.modalities_ == ["face", "audio"]
    assert disp.attributions_.shape == (64, 2) and disp.per_class_.shape == (8, 2)
    np.testing.assert_array_equal(disp.class_counts_, np.full(8, 8))  # one clip per emotion
    np.testing.assert_allclose(
        disp.proba_, pipe.predict_proba(X_test)[np.arange(64), np.searchsorted(classes, y_test)]
    )
    fusion = pipe.named_steps["fusion"]
    np.testing.assert_allclose(
        disp.baseline_, fusion.class_prior_[np.searchsorted(classes, y_test)]
    )
    np.testing.assert_allclose(disp.total_, disp.proba_ - disp.baseline_)
    # Documented: per_class_[k] sums to the mean over class k of proba_ - baseline_.
    for k, label in enumerate(classes):
        rows = y_test == label
        expected = (disp.proba_[rows] - disp.baseline_[rows]).mean()
        assert disp.per_class_[k].sum() == pytest.approx(expected)
    predicted = ModalityAttributionDisplay.from_estimator(pipe, X_test, kind="per_sample")
    np.testing.assert_array_equal(predicted.target_, pipe.predict(X_test))
    assert predicted.im_.get_array().shape == (2, 64)
    explained = ModalityAttributionDisplay.from_estimator(pipe, X_test, method="explain")
    assert explained.per_class_.shape == (8, 2)
    for k, label in enumerate(classes):
        rows = explained.target_ == label
        if rows.any():  # product rule: the mean of sum_m w_m log p_m(class)
            assert explained.per_class_[k].sum() == pytest.approx(explained.total_[rows].mean())


@pytest.mark.slow
def test_modality_importance_on_ravdess_face_and_voice(ravdess_demo):
    pipe, X_test, y_test, _ = ravdess_demo
    result = modality_importance(pipe, X_test, y_test, n_repeats=3, random_state=0)
    assert result.modalities == ["face", "audio"] and result.importances.shape == (2, 3)
    assert result.baseline_scores[0] == pytest.approx(pipe.score(X_test, y_test))
    assert (result.importances_mean > 0).all()  # both modalities carry emotion
