"""Metadata reaches the estimators inside skemotion's meta-estimators, with and without
scikit-learn's metadata routing: sample weights through a Pipeline, speakers as groups to
the cross-validation splitters."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_fusion import _drop, _two_modalities
from threadpoolctl import threadpool_limits

import skemotion._routing
from skemotion import (
    LateFusionClassifier,
    StackingFusionClassifier,
    TunedOffsetClassifierCV,
    speaker_cv,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(params=[False, True], ids=["without-routing", "with-routing"])
def routing(request):
    """Run the test with scikit-learn's metadata routing disabled, then enabled."""
    with sklearn.config_context(enable_metadata_routing=request.param):
        yield request.param


def _lr(routing):
    """A logistic regression that takes sample weights in both modes.

    Under routing a consumer gets sample_weight only if it requests it.
    """
    lr = LogisticRegression(max_iter=1000)
    return lr.set_fit_request(sample_weight=True) if routing else lr


def _scaler(routing):
    """StandardScaler, which takes sample_weight too: under routing it must say no."""
    scaler = StandardScaler()
    return scaler.set_fit_request(sample_weight=False) if routing else scaler


def _scaled_lr(routing):
    """The base classifier the fusion docs recommend."""
    return make_pipeline(_scaler(routing), _lr(routing))


def _weights(n, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 5.0, n)


@pytest.fixture
def imbalanced():
    return make_classification(
        n_samples=300, n_classes=3, n_informative=4, weights=[0.7, 0.2, 0.1], random_state=0
    )


class _RecordingSplitter(StratifiedGroupKFold):
    """StratifiedGroupKFold that records the groups and folds of every split.

    The record is a class attribute: meta-estimators deep-copy their `cv` when cloned.
    """

    calls = []

    def split(self, X, y=None, groups=None):
        folds = list(super().split(X, y, groups))
        type(self).calls.append((None if groups is None else np.asarray(groups), folds))
        return iter(folds)


@pytest.fixture
def recording_splitter():
    _RecordingSplitter.calls = []
    yield _RecordingSplitter
    _RecordingSplitter.calls = []


def _assert_split_by_group(calls, n_calls):
    assert len(calls) == n_calls
    for groups, folds in calls:
        assert groups is not None
        for train, test in folds:
            assert not set(groups[train]) & set(groups[test])


# --- sample_weight through a Pipeline --------------------------------------------------


class _WeightRecordingLR(LogisticRegression):
    """LogisticRegression that records the sample weights of every fit (class attribute:
    the meta-estimators fit clones)."""

    received = []

    def fit(self, X, y, sample_weight=None):
        type(self).received.append(None if sample_weight is None else np.asarray(sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def recording_lr(routing):
    """A factory of weight-recording classifiers that request sample_weight under routing."""
    _WeightRecordingLR.received = []

    def make():
        lr = _WeightRecordingLR(max_iter=1000)
        return lr.set_fit_request(sample_weight=True) if routing else lr

    yield make
    _WeightRecordingLR.received = []


def _assert_received(expected):
    received = _WeightRecordingLR.received
    assert len(received) == len(expected)
    for got, want in zip(received, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_late_fusion_weights_reach_a_pipeline_final_step(routing):
    X, y = _two_modalities()
    weight = _weights(len(y))
    clf = LateFusionClassifier(_scaled_lr(routing)).fit(X, y, sample_weight=weight)
    face = X.filter(like="face__").to_numpy()
    by_hand = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    with sklearn.config_context(enable_metadata_routing=False):
        by_hand.fit(face, y, logisticregression__sample_weight=weight)
    fitted = clf.estimators_["face"]
    np.testing.assert_allclose(fitted[-1].coef_, by_hand[-1].coef_, rtol=1e-6)
    unweighted = LateFusionClassifier(_scaled_lr(routing)).fit(X, y)
    assert not np.allclose(unweighted.estimators_["face"][-1].coef_, fitted[-1].coef_)


def test_late_fusion_weights_of_present_rows_only(routing, recording_lr):
    """A modality missing in some rows is fitted on the weights of its other rows."""
    X, y = _two_modalities()
    weight = _weights(len(y))
    pipe = make_pipeline(_scaler(routing), recording_lr())
    LateFusionClassifier(pipe).fit(_drop(X, "audio", slice(0, 50)), y, sample_weight=weight)
    _assert_received([weight, weight[50:]])  # face, then audio


def test_stacking_weights_reach_every_fit(routing, recording_lr):
    X, y = _two_modalities()
    weight = _weights(len(y))
    clf = StackingFusionClassifier(
        make_pipeline(_scaler(routing), recording_lr()), final_estimator=recording_lr(), cv=3
    )
    clf.fit(X, y, sample_weight=weight)
    # Each modality's fit on all rows, then one per inner fold and modality; then the meta
    # classifier.
    inner = [weight[train] for train, _ in StratifiedKFold(3).split(X, y)]
    _assert_received([weight, weight, *inner, *inner, weight])


def test_stacking_default_meta_classifier_takes_the_weights(routing):
    X, y = _two_modalities()
    weight = _weights(len(y))
    default = StackingFusionClassifier(_lr(routing), cv=3).fit(X, y, sample_weight=weight)
    same = LogisticRegression(C=0.1, max_iter=5000)
    same = same.set_fit_request(sample_weight=True) if routing else same
    explicit = StackingFusionClassifier(_lr(routing), final_estimator=same, cv=3)
    explicit.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(default.final_estimator_.coef_, explicit.final_estimator_.coef_)
    unweighted = StackingFusionClassifier(_lr(routing), cv=3).fit(X, y)
    assert not np.allclose(unweighted.final_estimator_.coef_, default.final_estimator_.coef_)


def test_tuned_offsets_weights_reach_every_fit(imbalanced, routing, recording_lr):
    X, y = imbalanced
    weight = _weights(len(y))
    pipe = make_pipeline(_scaler(routing), recording_lr())
    TunedOffsetClassifierCV(pipe, cv=3).fit(X, y, sample_weight=weight)
    folds = StratifiedKFold(3).split(X, y)
    _assert_received([weight] + [weight[train] for train, _ in folds])


def test_a_pipeline_whose_final_step_takes_no_weights_is_named():
    X, y = _two_modalities()
    pipe = make_pipeline(StandardScaler(), KNeighborsClassifier())
    with pytest.raises(
        TypeError,
        match="KNeighborsClassifier \\(the final step of its Pipeline\\) does not accept "
        "sample_weight",
    ):
        LateFusionClassifier(pipe).fit(X, y, sample_weight=np.ones(len(y)))


def test_a_final_estimator_that_takes_no_weights_is_named():
    X, y = _two_modalities()
    clf = StackingFusionClassifier(_lr(False), final_estimator=KNeighborsClassifier())
    with pytest.raises(TypeError, match="its final_estimator KNeighborsClassifier does not"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))


def test_other_metadata_need_routing():
    X, y = _two_modalities()
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        LateFusionClassifier(_lr(False)).fit(X, y, classes=[0, 1, 2])


def test_under_routing_an_unrequested_weight_is_scikit_learns_error():
    X, y = _two_modalities()
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match="LogisticRegression.fit"):
            LateFusionClassifier(make_pipeline(LogisticRegression())).fit(
                X, y, sample_weight=np.ones(len(y))
            )


def test_get_metadata_routing_declares_the_children():
    with sklearn.config_context(enable_metadata_routing=True):
        late = LateFusionClassifier(_scaled_lr(True)).get_metadata_routing()
        assert late.consumes("fit", ["sample_weight", "groups"]) == {"sample_weight"}
        stacking = StackingFusionClassifier(LogisticRegression()).get_metadata_routing()
        # The default meta classifier takes the weights; an int cv takes groups.
        assert stacking.consumes("fit", ["sample_weight", "groups"]) == {
            "sample_weight",
            "groups",
        }
        tuned = TunedOffsetClassifierCV(LogisticRegression(), cv=StratifiedGroupKFold(3))
        assert tuned.get_metadata_routing().consumes("fit", ["groups"]) == {"groups"}


# --- groups to the splitters -----------------------------------------------------------


def _speakers(n, n_speakers=10):
    return np.arange(n) % n_speakers


def test_tuned_offsets_take_speaker_cv(imbalanced, routing, recording_splitter):
    X, y = imbalanced
    speaker = _speakers(len(y))
    tuned = TunedOffsetClassifierCV(LogisticRegression(), cv=recording_splitter(4)).fit(
        X, y, groups=speaker
    )
    _assert_split_by_group(recording_splitter.calls, n_calls=1)
    np.testing.assert_array_equal(recording_splitter.calls[0][0], speaker)
    assert tuned.offsets_.shape == (3,)
    # The case: speaker_cv() used to be split without the groups.
    TunedOffsetClassifierCV(LogisticRegression(), cv=speaker_cv(4)).fit(X, y, groups=speaker)


def test_an_int_cv_with_groups_splits_by_group(
    imbalanced, routing, recording_splitter, monkeypatch
):
    """An int cv is StratifiedGroupKFold with groups, StratifiedKFold without."""
    monkeypatch.setattr(skemotion._routing, "StratifiedGroupKFold", recording_splitter)
    X, y = imbalanced
    TunedOffsetClassifierCV(LogisticRegression(), cv=4).fit(X, y, groups=_speakers(len(y)))
    X, y = _two_modalities()
    StackingFusionClassifier(_lr(False), cv=4).fit(X, y, groups=_speakers(len(y)))
    _assert_split_by_group(recording_splitter.calls, n_calls=1 + 2)
    recording_splitter.calls.clear()
    StackingFusionClassifier(_lr(False), cv=4).fit(X, y)
    assert recording_splitter.calls == []


def test_tuned_offsets_groups_of_the_wrong_length(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="groups has 3 entries for 300 samples"):
        TunedOffsetClassifierCV(LogisticRegression()).fit(X, y, groups=[1, 2, 3])


def test_stacking_inner_folds_by_group(routing, recording_splitter):
    X, y = _two_modalities()
    speaker = _speakers(len(y))
    StackingFusionClassifier(_lr(False), cv=recording_splitter(4)).fit(X, y, groups=speaker)
    _assert_split_by_group(recording_splitter.calls, n_calls=2)  # one inner CV per modality


def test_routed_groups_reach_the_inner_folds_of_a_searched_pipeline(recording_splitter):
    """Under routing, one ``groups=`` feeds the outer folds and a step's inner folds."""
    X, y = _two_modalities()
    speaker = _speakers(len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(),
            TunedOffsetClassifierCV(LogisticRegression(), cv=recording_splitter(3)),
        )
        search = GridSearchCV(pipe, {"standardscaler__with_std": [True]}, cv=speaker_cv(2))
        search.fit(X.to_numpy(), y, groups=speaker)
    # 2 outer folds + the refit, each with an inner CV split by speaker.
    _assert_split_by_group(recording_splitter.calls, n_calls=3)
    # Scoring the pipeline works under routing (Pipeline.score asks every step's score).
    assert np.isfinite(search.best_score_)


def test_routed_groups_reach_the_stacking_step_of_a_pipeline(recording_splitter):
    X, y = _two_modalities()
    speaker = _speakers(len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StackingFusionClassifier(LogisticRegression(), cv=recording_splitter(3))
        )
        pipe.fit(X, y, groups=speaker)
    _assert_split_by_group(recording_splitter.calls, n_calls=2)
