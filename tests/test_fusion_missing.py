"""Every fusion estimator treats missing modalities alike (bad inputs that must not pass
silently): a modality missing in every training row is an error; a row with no modality
at all is predicted with a warning; one column in two modalities is refused."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from test_fusion import _drop, _lr, _two_modalities

from skemotion.fusion import (
    AttentionFusionClassifier,
    EarlyFusion,
    LateFusionClassifier,
    StackingFusionClassifier,
    weight_grid,
)

CLASSIFIERS = {
    "late": lambda: LateFusionClassifier(_lr()),
    "stacking": lambda: StackingFusionClassifier(_lr(), cv=3),
    "attention": lambda: AttentionFusionClassifier(max_epochs=3, random_state=0, device="cpu"),
    "early": lambda: make_pipeline(EarlyFusion(), LogisticRegression()),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_modality_missing_in_every_training_row_is_an_error(name):
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="modality 'audio' is missing \\(all NaN\\) in every"):
        CLASSIFIERS[name]().fit(_drop(X, "audio", slice(None)), y)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_row_with_no_modality_is_predicted_with_a_warning(name):
    if name == "attention":
        pytest.importorskip("torch", reason="AttentionFusionClassifier trains a torch network")
    X, y = _two_modalities()
    clf = CLASSIFIERS[name]().fit(X, y)
    empty = _drop(_drop(X, "face", [0]), "audio", [0])
    with pytest.warns(UserWarning, match="1 sample\\(s\\) have no modality present"):
        proba = clf.predict_proba(empty)
    assert np.isfinite(proba).all()
    if name != "early":  # the classifiers that own the fallback predict the class prior
        np.testing.assert_allclose(proba[0], clf.class_prior_)


@pytest.mark.parametrize("name", ["late", "stacking", "attention"])
def test_overlapping_modalities_are_refused(name):
    X, y = _two_modalities()
    clf = CLASSIFIERS[name]().set_params(modalities={"face": [0, 1, 2, 3], "audio": [3, 4, 5]})
    with pytest.raises(ValueError, match="column 'face__f3' belongs to both 'face' and 'audio'"):
        clf.fit(X, y)


def test_overlapping_modalities_are_refused_by_early_fusion_on_numpy():
    X, y = _two_modalities()
    fusion = EarlyFusion(modalities={"face": slice(0, 5), "audio": slice(4, None)})
    with pytest.raises(ValueError, match="column position 4 belongs to both"):
        fusion.fit(X.to_numpy(), y)


def test_weight_grid_refuses_a_string_and_huge_grids():
    with pytest.raises(ValueError, match="not a single string. Got 'face'; pass a list"):
        weight_grid("face", 0.5)
    with pytest.raises(ValueError, match="92,378 points .* Use a larger step"):
        weight_grid([f"m{k}" for k in range(10)], step=0.1)
    assert len(weight_grid(["a", "b", "c"], step=0.01)) == 5151
