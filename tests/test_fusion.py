"""Tests of the fusion estimators on small synthetic data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skemotion.fusion import (
    EarlyFusion,
    LateFusionClassifier,
    weight_grid,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread: on a busy shared machine, more threads made fits 20-50x slower."""
    with threadpool_limits(1):
        yield


# --- data ------------------------------------------------------------------------------


def _two_modalities(n=200, seed=0, weights=None):
    """Face (4 columns) carries the label strongly, audio (6 columns) weakly."""
    X, y = make_classification(
        n_samples=n, n_features=10, n_informative=6, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, weights=weights, class_sep=1.5, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    X[:, 4:] += rng.normal(0, 2.0, (n, 6))  # noisier audio
    columns = [f"face__f{i}" for i in range(4)] + [f"audio__a{i}" for i in range(6)]
    return pd.DataFrame(X, columns=columns), np.array(["anger", "joy", "sad"])[y]


MODALITIES = {"face": slice(0, 4), "audio": slice(4, None)}


def _lr():
    return LogisticRegression(max_iter=1000)


# --- weight_grid ------------------------------------------------------------------------


def test_weight_grid_points_on_the_simplex():
    grid = weight_grid(["face", "audio"], step=0.1)
    assert len(grid) == 11
    assert grid[0] == {"face": 0.0, "audio": 1.0} and grid[-1] == {"face": 1.0, "audio": 0.0}
    three = weight_grid(["text", "face", "audio"], step=0.25)
    assert len(three) == 15  # C(4 + 2, 2)
    for point in grid + three:
        assert sum(point.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "names, step, match",
    [([], 0.5, "distinct"), (["a", "a"], 0.5, "distinct"), (["a", "b"], 0.3, "whole steps"),
     (["a", "b"], 0, r"\(0, 1\]")],
)  # fmt: skip
def test_weight_grid_errors(names, step, match):
    with pytest.raises(ValueError, match=match):
        weight_grid(names, step=step)


# --- which columns belong to which modality ---------------------------------------------


def test_modalities_from_prefixed_dataframe_columns():
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr()).fit(X, y)
    assert list(clf.modalities_) == ["face", "audio"]
    np.testing.assert_array_equal(clf.modalities_["face"], np.arange(4))
    np.testing.assert_array_equal(clf.modalities_["audio"], np.arange(4, 10))


@pytest.mark.parametrize(
    "modalities",
    [MODALITIES, {"face": [0, 1, 2, 3], "audio": list(range(4, 10))},
     {"face": ["face__f0", "face__f1", "face__f2", "face__f3"],
      "audio": [f"audio__a{i}" for i in range(6)]}],
)  # fmt: skip
def test_explicit_modalities_match_prefixes(modalities):
    X, y = _two_modalities()
    by_names = LateFusionClassifier(_lr()).fit(X, y)
    source = (
        X
        if isinstance(
            modalities["face"][0] if not isinstance(modalities["face"], slice) else 0, str
        )
        else X.to_numpy()
    )
    explicit = LateFusionClassifier(_lr(), modalities=modalities).fit(source, y)
    np.testing.assert_allclose(explicit.predict_proba(source), by_names.predict_proba(X))


def test_numpy_without_modalities_is_a_clear_error():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="no column names.*modalities="):
        LateFusionClassifier(_lr()).fit(X.to_numpy(), y)


def test_unprefixed_columns_are_a_clear_error():
    X, y = _two_modalities()
    X = X.rename(columns={"face__f0": "f0"})
    with pytest.raises(ValueError, match="1 column\\(s\\) have none: 'f0'"):
        EarlyFusion().fit(X, y)


@pytest.mark.parametrize(
    "modalities, match",
    [({"face": ["nope"]}, "not in the input"), ({"face": slice(20, 30)}, "selects no column"),
     ({"face": [0, 99]}, "out of range"), ({"face": 1.5}, "slice, a list of ints")],
)  # fmt: skip
def test_bad_modalities(modalities, match):
    X, y = _two_modalities()
    with pytest.raises(ValueError, match=match):
        LateFusionClassifier(_lr(), modalities=modalities).fit(X, y)


def test_column_names_with_numpy_is_a_clear_error():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="no column names \\(numpy\\)"):
        LateFusionClassifier(_lr(), modalities={"face": ["face__f0"]}).fit(X.to_numpy(), y)


@pytest.mark.parametrize(
    "weights, match",
    [({"face": 1}, "without a weight: \\['audio'\\]"), ({"face": 1, "audio": 1, "x": 1},
     "unknown: \\['x'\\]"), ([1, 2, 3], "3 value"), ([0, 0], "not all zero"),
     ([-1, 2], "non-negative")],
)  # fmt: skip
def test_bad_weights(weights, match):
    X, y = _two_modalities()
    with pytest.raises(ValueError, match=match):
        LateFusionClassifier(_lr(), weights=weights).fit(X, y)


# --- LateFusionClassifier ----------------------------------------------------------------


def test_late_fusion_is_the_weighted_mean_of_per_modality_probabilities():
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr(), weights={"face": 0.75, "audio": 0.25}, rule="mean")
    clf.fit(X, y)
    assert set(clf.estimators_) == {"face", "audio"}
    assert clf.estimators_["face"] is not clf.estimator
    per = clf.predict_proba_per_modality(X)
    np.testing.assert_allclose(clf.predict_proba(X), 0.75 * per["face"] + 0.25 * per["audio"])
    face_alone = LogisticRegression(max_iter=1000).fit(X.iloc[:, :4].to_numpy(), y)
    np.testing.assert_allclose(per["face"], face_alone.predict_proba(X.iloc[:, :4].to_numpy()))
    # a sequence of weights follows the order of modalities_
    seq = clone(clf).set_params(weights=[3, 1]).fit(X, y)
    np.testing.assert_allclose(seq.predict_proba(X), clf.predict_proba(X))
    assert list(clf.classes_) == ["anger", "joy", "sad"]
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_product_is_the_default_rule():
    assert LateFusionClassifier(_lr()).rule == "product"


def test_late_fusion_product_rule_is_the_weighted_geometric_mean():
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr(), weights=[0.6, 0.4], rule="product").fit(X, y)
    per = clf.predict_proba_per_modality(X)
    expected = per["face"] ** 0.6 * per["audio"] ** 0.4
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6)


@pytest.mark.parametrize("rule", ["mean", "product"])
def test_explain_attributes_the_decision_to_modalities(rule):
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr(), weights=[0.7, 0.3], rule=rule).fit(X, y)
    frame = clf.explain(X.iloc[:20])
    assert list(frame.columns) == ["predicted", "proba", "face", "audio", "present"]
    assert frame.index.equals(X.index[:20])
    np.testing.assert_array_equal(frame["predicted"], clf.predict(X.iloc[:20]))
    if rule == "mean":
        np.testing.assert_allclose(frame[["face", "audio"]].sum(axis=1), frame["proba"])
    else:
        assert (frame[["face", "audio"]] <= 0).all().all()


def test_late_fusion_weights_are_tuned_by_grid_search():
    X, y = _two_modalities()
    search = GridSearchCV(
        LateFusionClassifier(_lr()),
        {"weights": weight_grid(["face", "audio"], step=0.5), "rule": ["mean", "product"]},
        cv=StratifiedKFold(3),
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert search.best_params_["weights"]["face"] >= 0.5  # face is the informative one


def test_sample_weight_and_class_weight_reach_each_modality():
    X, y = _two_modalities(weights=[0.7, 0.2, 0.1])
    sw = np.where(y == "sad", 5.0, 1.0)
    clf = LateFusionClassifier(_lr()).fit(X, y, sample_weight=sw)
    face = LogisticRegression(max_iter=1000).fit(X.iloc[:, :4].to_numpy(), y, sample_weight=sw)
    np.testing.assert_allclose(clf.estimators_["face"].coef_, face.coef_, rtol=1e-4, atol=1e-6)
    balanced = LateFusionClassifier(_lr()).set_params(estimator__class_weight="balanced")
    balanced.fit(X, y)
    assert all(est.class_weight == "balanced" for est in balanced.estimators_.values())
    assert clf.estimator.class_weight is None  # the user's estimator is not touched


def test_sample_weight_with_an_estimator_that_cannot_take_it():
    X, y = _two_modalities()
    with pytest.raises(TypeError, match="KNeighborsClassifier does not accept sample_weight"):
        LateFusionClassifier(KNeighborsClassifier()).fit(X, y, sample_weight=np.ones(len(y)))


# --- missing modalities --------------------------------------------------------------------


def _drop(X, modality, rows):
    X = X.copy()
    X.loc[X.index[rows], [c for c in X if c.startswith(modality + "__")]] = np.nan
    return X


@pytest.mark.parametrize("rule", ["mean", "product"])
def test_late_fusion_renormalises_weights_over_present_modalities(rule):
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr(), weights=[0.8, 0.2], rule=rule).fit(X, y)
    per = clf.predict_proba_per_modality(X)
    Xm = _drop(X, "face", slice(0, 10))
    proba = clf.predict_proba(Xm)
    np.testing.assert_allclose(proba[:10], per["audio"][:10])  # audio alone decides
    np.testing.assert_allclose(proba[10:], clf.predict_proba(X)[10:])
    assert np.isnan(clf.predict_proba_per_modality(Xm)["face"][:10]).all()
    frame = clf.explain(Xm)
    assert (frame["face"][:10] == 0).all() and (frame["present"][:10] == 1).all()


def test_late_fusion_with_no_modality_predicts_the_prior_with_a_warning():
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr()).fit(X, y)
    Xm = _drop(_drop(X, "face", [0]), "audio", [0])
    with pytest.warns(UserWarning, match="1 sample\\(s\\) have no modality present"):
        proba = clf.predict_proba(Xm)
    np.testing.assert_allclose(proba[0], clf.class_prior_)


def test_zero_weighted_modality_alone_still_predicts():
    X, y = _two_modalities()
    clf = LateFusionClassifier(_lr(), weights={"face": 1.0, "audio": 0.0}).fit(X, y)
    proba = clf.predict_proba(_drop(X, "face", [0, 1]))
    np.testing.assert_allclose(proba[:2], clf.predict_proba_per_modality(X)["audio"][:2])


def test_late_fusion_fits_each_modality_on_its_present_rows():
    X, y = _two_modalities()
    Xm = _drop(X, "audio", slice(0, 60))
    clf = LateFusionClassifier(_lr()).fit(Xm, y)
    audio = LogisticRegression(max_iter=1000).fit(X.iloc[60:, 4:].to_numpy(), y[60:])
    np.testing.assert_allclose(clf.estimators_["audio"].coef_, audio.coef_, rtol=1e-4)
    assert clf.predict(Xm).shape == (len(y),)


def test_late_fusion_when_a_modality_lacks_a_class_in_fit():
    X, y = _two_modalities()
    Xm = _drop(X, "audio", np.flatnonzero(y == "sad"))
    clf = LateFusionClassifier(_lr()).fit(Xm, y)
    per = clf.predict_proba_per_modality(X)
    assert (per["audio"][:, 2] == 0).all()  # audio never saw "sad": probability 0
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_late_fusion_errors_on_a_modality_missing_everywhere():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="'audio' is missing \\(all NaN\\) in every"):
        LateFusionClassifier(_lr()).fit(_drop(X, "audio", slice(None)), y)


# --- EarlyFusion ---------------------------------------------------------------------------


def test_early_fusion_standardises_and_weighs_each_block():
    X, y = _two_modalities()
    Z = EarlyFusion().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(Z.std(axis=0), 1)
    W = EarlyFusion(weights={"face": 3, "audio": 1}).fit_transform(X)
    # weights rescaled to average 1 (1.5, 0.5); each block times sqrt(weight)
    np.testing.assert_allclose(W[:, :4], Z[:, :4] * np.sqrt(1.5))
    np.testing.assert_allclose(W[:, 4:], Z[:, 4:] * np.sqrt(0.5))
    # the block's share of total variance is proportional to weight x width
    assert W[:, :4].var(axis=0).sum() / W[:, 4:].var(axis=0).sum() == pytest.approx(
        (1.5 * 4) / (0.5 * 6)
    )


def test_early_fusion_norms():
    X, y = _two_modalities()
    block = EarlyFusion(norm="block").fit_transform(X)
    np.testing.assert_allclose(block[:, :4].var(axis=0).sum(), 1.0)
    np.testing.assert_allclose(block[:, 4:].var(axis=0).sum(), 1.0)
    l2 = EarlyFusion(norm="l2").fit_transform(X)
    np.testing.assert_allclose(np.linalg.norm(l2[:, :4], axis=1), 1.0)
    np.testing.assert_allclose(EarlyFusion(norm="none").fit_transform(X), X.to_numpy())


@pytest.mark.parametrize("norm", ["standard", "block", "l2", "none"])
def test_early_fusion_imputes_a_missing_block(norm):
    X, y = _two_modalities()
    fusion = EarlyFusion(norm=norm, add_indicator=True).fit(_drop(X, "audio", [5, 6]))
    Z = fusion.transform(_drop(X, "audio", [0, 1]))
    assert np.isfinite(Z).all()
    if norm in ("standard", "block", "l2"):
        np.testing.assert_allclose(Z[:2, 4:10], 0.0)
    else:
        np.testing.assert_allclose(Z[:2, 4:10], np.broadcast_to(fusion.mean_[4:], (2, 6)))
    np.testing.assert_array_equal(Z[:3, -2:], [[1, 0], [1, 0], [1, 1]])
    names = fusion.get_feature_names_out()
    assert list(names[-2:]) == ["face__present", "audio__present"]
    assert names[0] == "face__f0"


def test_early_fusion_in_a_pipeline_with_missing_modalities():
    X, y = _two_modalities()
    Xm = _drop(X, "audio", slice(0, 50))
    model = make_pipeline(EarlyFusion(add_indicator=True), _lr()).fit(Xm, y)
    assert model.score(_drop(X, "face", slice(0, 30)), y) > 0.5


def test_early_fusion_set_output_pandas():
    X, y = _two_modalities()
    out = EarlyFusion(add_indicator=True).set_output(transform="pandas").fit_transform(X)
    assert list(out.columns[-1:]) == ["audio__present"]


@pytest.mark.parametrize("as_path", [False, True])
def test_late_fusion_memory_folder_expands_home_and_keeps_results(tmp_path, monkeypatch, as_path):
    from pathlib import Path

    monkeypatch.setenv("HOME", str(tmp_path))
    X, y = _two_modalities()
    folder = Path("~/fits") if as_path else "~/fits"
    cached = LateFusionClassifier(_lr(), memory=folder).fit(X, y)
    assert (tmp_path / "fits").is_dir() and not Path("~").exists()
    plain = LateFusionClassifier(_lr()).fit(X, y)
    again = LateFusionClassifier(_lr(), weights=[0.9, 0.1], memory=folder).fit(X, y)
    np.testing.assert_allclose(cached.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_allclose(  # a cached fit: same per-modality models, other weights
        again.estimators_["face"].coef_, plain.estimators_["face"].coef_
    )
