"""Tests of modality_attributions, ModalityAttributionDisplay and modality_importance.

Small synthetic data (face carries the label, audio a little, text nothing) for the
definitions; the bundled RAVDESS face + voice sample for real predictions of the demo's
pipeline (AudioFeatures on 192 real clips: about 5 s).
"""

import inspect
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, LeaveOneGroupOut, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skemotion import (
    EarlyFusion,
    GroupLeakageWarning,
    LateFusionClassifier,
    StackingFusionClassifier,
    make_multimodal_pipeline,
    modality_attributions,
    modality_importance,
)
from skemotion._inspection._importance import _fitted_folds, _splitter
from skemotion._inspection._split import _with_columns, fusion_split
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


class _Fusion(ClassifierMixin, BaseEstimator):
    """A stub fusion step: `blocks` as ``modalities_``; `proba` maps X to P(class 1).

    It records every input it is given (``seen_``), and a block all NaN in a row is that
    modality missing, as for the fusion estimators.
    """

    def __init__(self, blocks, proba=None):
        self.blocks = blocks
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.modalities_ = {m: np.asarray(c) for m, c in self.blocks.items()}
        self.seen_ = []
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        self.seen_.append(X.copy())
        p = self.proba(X) if self.proba is not None else np.full(len(X), 0.5)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def _brute_force_shapley(model, X, blocks, targets):
    """Shapley values by their definition: the mean marginal gain over all orderings."""
    names = list(blocks)
    rows = np.arange(len(targets))
    values = {}

    def value(kept):
        if kept not in values:
            missing = [c for m in names if m not in kept for c in np.atleast_1d(blocks[m])]
            Xv = X.copy()
            if isinstance(Xv, pd.DataFrame):
                Xv.iloc[:, missing] = np.nan
            else:
                Xv[:, missing] = np.nan
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*no modality present")
                values[kept] = np.asarray(model.predict_proba(Xv))[rows, targets]
        return values[kept]

    phi = np.zeros((len(targets), len(names)))
    orders = list(itertools.permutations(range(len(names))))
    for order in orders:
        kept = frozenset()
        for k in order:
            phi[:, k] += value(kept | {names[k]}) - value(kept)
            kept = kept | {names[k]}
    return phi / len(orders)


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


@pytest.mark.parametrize("rule", ["mean", "product"])
def test_shapley_of_three_modalities_is_the_mean_over_all_orderings(rule):
    X, y = _data(text=True)
    clf = _late(rule=rule, weights={"face": 0.5, "audio": 0.3, "text": 0.2}).fit(X, y)
    X = _drop(X, "audio", slice(0, 10))
    result = modality_attributions(clf, X, y)
    targets = np.searchsorted(clf.classes_, y)
    expected = _brute_force_shapley(clf, X, clf.modalities_, targets)
    np.testing.assert_allclose(result.attributions, expected, atol=1e-12)
    assert (np.abs(expected[:, 2]) > 1e-6).any()  # text moves something: not a trivial case


def test_shapley_gives_a_modality_without_effect_zero():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = np.arange(40) % 2

    def proba(X):  # interactions between a and b, c alone; the dummy is never read
        a, b, c = (np.nan_to_num(X[:, k]) for k in (0, 1, 3))
        return 1 / (1 + np.exp(-(a + 0.5 * b + 2 * a * b - c)))

    blocks = {"a": [0], "b": [1, 2], "c": [3], "dummy": [4]}
    model = _Fusion(blocks, proba).fit(X, y)
    result = modality_attributions(model, X, y)
    expected = _brute_force_shapley(model, X, blocks, y)
    np.testing.assert_allclose(result.attributions, expected, atol=1e-12)
    np.testing.assert_array_equal(result.attributions[:, 3], 0.0)
    np.testing.assert_allclose(result.total, result.proba - result.baseline)
    assert (np.abs(result.attributions[:, :3]) > 1e-6).any(axis=0).all()


def test_modality_attributions_is_what_the_display_draws_without_matplotlib(monkeypatch):
    import skemotion._plotting as plotting

    X, y = _data(text=True)
    clf = _late().fit(X, y)
    disp = ModalityAttributionDisplay.from_estimator(clf, X, y)

    def no_matplotlib(module_name, *, extra, caller):
        raise ImportError(f"{caller} requires matplotlib: pip install 'skemotion[{extra}]'")

    monkeypatch.setattr(plotting, "import_optional_dependency", no_matplotlib)
    result = modality_attributions(clf, X, y)
    assert set(result) == {
        "attributions", "target", "modalities", "classes", "per_class", "class_counts",
        "total", "proba", "baseline",
    }  # fmt: skip
    for key in result:
        np.testing.assert_array_equal(result[key], getattr(disp, key + "_"))
    explained = modality_attributions(clf.set_params(rule="mean"), X, method="explain")
    assert explained.baseline is None
    np.testing.assert_allclose(explained.total, explained.proba)
    with pytest.raises(ImportError, match="from_estimator requires matplotlib"):
        ModalityAttributionDisplay.from_estimator(clf, X, y)


def test_too_many_modalities_for_shapley_is_an_error_before_any_pass():
    X = np.zeros((4, 11))
    y = np.array([0, 1, 0, 1])

    def proba(X):
        raise AssertionError("the model was run before the modalities were counted")

    model = _Fusion({f"m{k}": [k] for k in range(11)}, proba).fit(X, y)
    with pytest.raises(ValueError, match=r"2\*\*11 passes here; at most 10"):
        modality_attributions(model, X)
    with pytest.raises(ValueError, match=r"2\*\*11 passes"):
        ModalityAttributionDisplay.from_estimator(model, X)


def test_int_columns_can_be_removed_and_shuffled():
    X, y = _data()
    X["face__0"] = np.round(X["face__0"] * 10).astype(int)
    X["audio__1"] = (X["audio__1"] > 0).astype(int)
    assert [c for c in X if X[c].dtype.kind == "i"] == ["face__0", "audio__1"]
    clf = _late().fit(X, y)
    result = modality_attributions(clf, X, y)  # the face and audio blocks set to NaN
    np.testing.assert_allclose(result.total, result.proba - result.baseline)
    direct = modality_attributions(clf, X.astype(float), y)
    np.testing.assert_allclose(result.attributions, direct.attributions)
    importance = modality_importance(clf, X, y, n_repeats=2, random_state=0)
    again = modality_importance(clf, X.astype(float), y, n_repeats=2, random_state=0)
    np.testing.assert_allclose(importance.importances, again.importances)
    # The copy is float where it changed; X itself is left as it was.
    missing = _with_columns(X, [0, 3, 4], np.nan)
    assert missing.iloc[:, [0, 3, 4]].isna().all().all() and missing.dtypes.iloc[0].kind == "f"
    assert X.dtypes["face__0"].kind == "i" and not X.isna().any().any()
    shuffled = _with_columns(X, [0, 1], X.iloc[::-1, [0, 1]].to_numpy())
    np.testing.assert_array_equal(shuffled.iloc[:, 0], X.iloc[::-1, 0])
    np.testing.assert_array_equal(shuffled.iloc[:, 2:], X.iloc[:, 2:])
    ints = _with_columns(X.to_numpy(dtype=int), [0], np.nan)
    assert ints.dtype == float and np.isnan(ints[:, 0]).all()


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


def test_a_pipeline_as_last_step_is_split_at_the_fusion_step_inside_it():
    X, y = _data()
    inner = make_pipeline(FunctionTransformer(), _late())
    outer = Pipeline([("scale", FunctionTransformer(lambda X: 2 * X)), ("inner", inner)])
    outer.fit(X, y)
    head, tail, modalities = fusion_split(outer)
    assert head == [outer[0], inner[0]] and tail is inner[-1]
    assert list(modalities) == ["face", "audio"]
    result = modality_attributions(outer, X, y)
    direct = modality_attributions(inner[-1], 2 * X, y)
    np.testing.assert_allclose(result.attributions, direct.attributions)
    # The fusion step not last in its pipeline: the tail is that pipeline from it on.
    early = make_pipeline(FunctionTransformer(), EarlyFusion(), LogisticRegression()).fit(X, y)
    head, tail, _ = fusion_split(early)
    assert head == [early[0]] and list(tail.named_steps) == ["earlyfusion", "logisticregression"]


def test_a_fusion_step_inside_a_step_that_others_follow_is_an_error():
    X, y = _data()
    model = Pipeline(
        [
            ("inner", make_pipeline(FunctionTransformer(), EarlyFusion())),
            ("lr", LogisticRegression()),
        ]
    ).fit(X, y)
    with pytest.raises(ValueError, match="the fusion step is inside step 'inner', which other"):
        fusion_split(model)
    with pytest.raises(ValueError, match="put the fusion step .* last"):
        modality_attributions(model, X, y)


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


@pytest.mark.parametrize(
    ("kwargs", "plot_kwargs", "error", "message"),
    [
        ({"proba": [0.5]}, {}, ValueError, r"proba must have one value per sample, shape \(2,\)"),
        ({"baseline": [[0.1, 0.1]]}, {}, ValueError, r"baseline must .* got \(1, 2\)"),
        ({"by": "truth"}, {}, ValueError, r"by must be one of \('predicted', 'true'\)"),
        ({"method": "lime"}, {}, ValueError, "method must be one of"),
        ({}, {"colors": {"voice": "red", "face": "blue"}}, ValueError, "colors names 'voice'"),
        ({}, {"colors": {"voice": "red", "txt": "b"}}, ValueError, "'voice', 'txt', which are not"),
        ({}, {"colors": ["red"]}, TypeError, r"colors must be a dict \{modality: colour\}"),
    ],
)
def test_display_inputs_that_do_not_fit_are_errors(kwargs, plot_kwargs, error, message):
    disp = ModalityAttributionDisplay(
        [[0.1, 0.2], [0.3, 0.0]], ["joy", "sad"], modalities=["face", "audio"],
        classes=["joy", "sad"], **kwargs,
    )  # fmt: skip
    with pytest.raises(error, match=message):
        disp.plot(**plot_kwargs)


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


@pytest.mark.parametrize("as_frame", [False, True])
def test_modality_importance_permutes_each_block_as_a_whole(as_frame):
    X, y = _data(text=True)
    X = X.to_numpy()
    blocks = {"face": [0, 1, 2], "audio": [3, 4], "text": [5, 6]}
    if as_frame:  # with an int column, which takes the values of a float block's rows
        X = pd.DataFrame(X, columns=[f"x{k}" for k in range(7)]).assign(x3=np.arange(150))
    model = _Fusion(blocks).fit(X, y)
    modality_importance(model, X, y, n_repeats=3, random_state=0)
    X = np.asarray(X, dtype=float)
    first, *shuffled = model.seen_  # the score as is, then one input per repeat and modality
    np.testing.assert_array_equal(first, X)
    assert len(shuffled) == 3 * 3
    row_of = {row.tobytes(): k for k, row in enumerate(X)}  # the rows of X are distinct
    for r in range(3):
        orders = []
        for k, cols in enumerate(blocks.values()):
            seen = shuffled[3 * r + k]
            others = [c for c in range(7) if c not in cols]
            np.testing.assert_array_equal(seen[:, others], X[:, others])
            # One permutation of rows for all the block's columns together.
            order = np.array(
                [row_of[X[j].tobytes()] for j in _rows_by_block(X, seen, cols)], dtype=int
            )
            np.testing.assert_array_equal(seen[:, cols], X[order][:, cols])
            assert sorted(order) == list(range(150)) and (order != np.arange(150)).any()
            orders.append(order)
        for order in orders[1:]:  # the same shuffle for every modality of a repeat
            np.testing.assert_array_equal(order, orders[0])


def _rows_by_block(X, seen, cols):
    """For each row of `seen`, the row of X whose block `cols` it holds."""
    index = {X[j, cols].tobytes(): j for j in range(len(X))}
    return [index[np.ascontiguousarray(seen[i, cols]).tobytes()] for i in range(len(seen))]


def test_modality_importance_baselines_are_cross_val_scores_of_the_same_folds():
    X, y = _data()
    raw = X.set_axis([c.replace("__", "_") for c in X], axis=1)
    pipe = make_multimodal_pipeline(
        {
            "face": ("passthrough", list(raw.columns[:3])),
            "audio": ("passthrough", list(raw.columns[3:])),
        },
        fusion=_late(),
    )
    for cv in [3, KFold(4, shuffle=True, random_state=0)]:
        result = modality_importance(pipe, raw, y, cv=cv, scoring="f1_macro", n_repeats=1)
        expected = cross_val_score(pipe, raw, y, cv=cv, scoring="f1_macro")
        np.testing.assert_allclose(result.baseline_scores, expected)
    folds = _fitted_folds(_late(), X, y, 3, None)
    assert inspect.isgenerator(folds)  # one fitted model at a time, not one per fold held
    splits = StratifiedKFold(3).split(X, y)
    for (model, X_test, y_test), (_, test) in zip(folds, splits, strict=True):
        np.testing.assert_array_equal(y_test, y[test])
        np.testing.assert_array_equal(X_test, X.iloc[test])
        assert model.score(X_test, y_test) > 0.5


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
