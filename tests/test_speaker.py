"""Tests of SpeakerNormalizer: per-speaker statistics, unseen and tiny speakers, NaN rows.

scikit-learn's estimator checks run in test_common.py, where the input hook appends a
speaker column to their numeric matrices (see tests/_estimators.py).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import SpeakerNormalizer

# --- data ------------------------------------------------------------------------------


def _speakers(n_per_speaker=20, seed=0):
    """Three speakers whose features differ by a speaker offset and scale."""
    rng = np.random.default_rng(seed)
    frames = []
    for speaker, (offset, spread) in {"ann": (10, 1), "bob": (-5, 3), "cy": (0, 0.5)}.items():
        values = rng.normal(offset, spread, (n_per_speaker, 2))
        frames.append(pd.DataFrame({"actor": speaker, "f0": values[:, 0], "f1": values[:, 1]}))
    return pd.concat(frames, ignore_index=True)


def _own_standardised(frame):
    """What per-speaker standardisation by hand gives (population std, ddof=0)."""
    grouped = frame.groupby("actor")[["f0", "f1"]]
    return ((frame[["f0", "f1"]] - grouped.transform("mean"))
            / grouped.transform(lambda s: s.std(ddof=0))).to_numpy()  # fmt: skip


# --- statistics ----------------------------------------------------------------------------


def test_each_speaker_is_standardised_with_its_own_statistics():
    frame = _speakers()
    out = SpeakerNormalizer("actor", min_samples=1).fit_transform(frame)
    np.testing.assert_allclose(out, _own_standardised(frame))
    for speaker in ("ann", "bob", "cy"):
        rows = out[(frame["actor"] == speaker).to_numpy()]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0), 1)


def test_statistics_per_speaker_are_exposed():
    frame = _speakers()
    normalizer = SpeakerNormalizer("actor", min_samples=1).fit(frame)
    assert list(normalizer.speakers_) == ["ann", "bob", "cy"]
    ann = frame[frame["actor"] == "ann"]
    np.testing.assert_allclose(normalizer.speaker_mean_[0], ann[["f0", "f1"]].mean())
    np.testing.assert_allclose(normalizer.speaker_scale_[0], ann[["f0", "f1"]].std(ddof=0))
    np.testing.assert_array_equal(normalizer.speaker_count_, np.full((3, 2), 20))
    np.testing.assert_allclose(normalizer.mean_, frame[["f0", "f1"]].mean())
    assert list(normalizer.get_feature_names_out()) == ["f0", "f1"]


def test_centre_only_keeps_the_scale():
    frame = _speakers()
    out = SpeakerNormalizer("actor", with_std=False, min_samples=1).fit_transform(frame)
    expected = frame[["f0", "f1"]] - frame.groupby("actor")[["f0", "f1"]].transform("mean")
    np.testing.assert_allclose(out, expected.to_numpy())
    np.testing.assert_array_equal(
        SpeakerNormalizer("actor", with_std=False).fit(frame).speaker_scale_, 1.0
    )


def test_speaker_column_may_sit_anywhere_and_hold_numbers():
    frame = _speakers()
    moved = frame[["f0", "actor", "f1"]].assign(
        actor=frame["actor"].map({"ann": 7, "bob": 3, "cy": 5})
    )
    out = SpeakerNormalizer("actor", min_samples=1).fit_transform(moved)
    np.testing.assert_allclose(out, _own_standardised(frame))
    assert list(SpeakerNormalizer("actor").fit(moved).speakers_) == [3, 5, 7]


def test_numpy_input_with_a_column_position():
    frame = _speakers()
    X = frame[["f0", "f1", "actor"]].to_numpy(dtype=object)
    out = SpeakerNormalizer(speaker=-1, min_samples=1).fit_transform(X)
    np.testing.assert_allclose(out, _own_standardised(frame))
    names = SpeakerNormalizer(speaker=2).fit(X).get_feature_names_out()
    assert list(names) == ["x0", "x1"]


def test_pandas_output():
    frame = _speakers()
    out = SpeakerNormalizer("actor").set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["f0", "f1"]
    assert out.index.equals(frame.index)


# --- speakers not seen in fit, tiny speakers, NaN ---------------------------------------------


def test_unseen_speaker_uses_its_own_rows_in_transform():
    frame = _speakers()
    train, new = frame[frame["actor"] != "bob"], frame[frame["actor"] == "bob"]
    normalizer = SpeakerNormalizer("actor", min_samples=1).fit(train)
    np.testing.assert_allclose(normalizer.transform(new), _own_standardised(new))
    # A seen speaker keeps its fit statistics, whatever else is in the batch.
    mixed = pd.concat([new, train.iloc[:3]])
    np.testing.assert_allclose(normalizer.transform(mixed)[-3:], normalizer.transform(train)[:3])


def test_tiny_speaker_is_shrunk_towards_the_population():
    frame = _speakers()
    normalizer = SpeakerNormalizer("actor", min_samples=10).fit(frame)
    one = pd.DataFrame({"actor": ["zoe"], "f0": [4.0], "f1": [1.0]})
    # One row: a tenth of its own statistics (mean = the row, variance 0), nine tenths
    # of the population's.
    mean = 0.1 * one[["f0", "f1"]].to_numpy() + 0.9 * normalizer.mean_
    scale = np.sqrt(0.9 * normalizer.var_)
    np.testing.assert_allclose(normalizer.transform(one), (one[["f0", "f1"]] - mean) / scale)
    # With enough rows a speaker's own statistics are used as they are.
    five = frame[frame["actor"] == "ann"].iloc[:5].assign(actor="zoe")
    own = SpeakerNormalizer("actor", min_samples=5).fit(frame).transform(five)
    np.testing.assert_allclose(own, _own_standardised(five))


def test_single_row_speaker_with_no_shrinkage_is_not_infinite():
    out = SpeakerNormalizer("actor", min_samples=1).fit_transform(
        pd.DataFrame({"actor": ["a", "b", "b"], "f0": [1.0, 2.0, 4.0]})
    )
    np.testing.assert_allclose(out.ravel(), [0.0, -1.0, 1.0])


def test_nan_rows_are_ignored_and_stay_nan():
    frame = _speakers()
    holes = frame.copy()
    holes.loc[[0, 1, 25], ["f0", "f1"]] = np.nan  # a missing modality in three rows
    normalizer = SpeakerNormalizer("actor", min_samples=1).fit(holes)
    out = normalizer.transform(holes)
    assert np.isnan(out[[0, 1, 25]]).all()
    assert not np.isnan(np.delete(out, [0, 1, 25], axis=0)).any()
    np.testing.assert_allclose(normalizer.speaker_count_[:, 0], [18, 19, 20])
    kept = holes.dropna()
    np.testing.assert_allclose(np.delete(out, [0, 1, 25], axis=0), _own_standardised(kept))


def test_feature_never_present_for_a_speaker_uses_the_population():
    frame = _speakers()
    frame.loc[frame["actor"] == "cy", "f1"] = np.nan
    normalizer = SpeakerNormalizer("actor", min_samples=1).fit(frame)
    np.testing.assert_allclose(normalizer.speaker_mean_[2, 1], normalizer.mean_[1])


# --- errors -----------------------------------------------------------------------------------


def test_missing_speaker_id_names_the_row():
    frame = _speakers()
    frame.loc[4, "actor"] = None
    with pytest.raises(ValueError, match="speaker id is missing in 1 row.*row 4"):
        SpeakerNormalizer("actor").fit(frame)


def test_pandas_missing_and_unhashable_ids():
    frame = _speakers()
    frame["actor"] = pd.array(frame["actor"], dtype="string")
    frame.loc[7, "actor"] = pd.NA
    with pytest.raises(ValueError, match="missing in 1 row.*row 7"):
        SpeakerNormalizer("actor").fit(frame)
    frame = _speakers().astype({"actor": object})
    frame.at[2, "actor"] = ["ann"]
    with pytest.raises(TypeError, match="row 2 is a list.*string or a number"):
        SpeakerNormalizer("actor").fit(frame)


def test_unknown_speaker_column_lists_the_columns():
    with pytest.raises(ValueError, match="no column 'speaker'.*'actor', 'f0', 'f1'"):
        SpeakerNormalizer().fit(_speakers())


def test_column_name_on_numpy_input_says_to_use_a_position():
    with pytest.raises(ValueError, match="no column names.*speaker=0"):
        SpeakerNormalizer("actor").fit(np.zeros((4, 3)))


def test_non_numeric_feature_is_an_error():
    frame = _speakers().assign(f1="loud")
    with pytest.raises(
        ValueError, match=r"column\(s\) of text besides the speaker column .actor. \(.f1.\)"
    ):
        SpeakerNormalizer("actor").fit(frame)


# --- composition ------------------------------------------------------------------------------


def test_clone_and_pickle_keep_the_statistics():
    frame = _speakers()
    normalizer = SpeakerNormalizer("actor").fit(frame)
    restored = pickle.loads(pickle.dumps(normalizer))
    np.testing.assert_array_equal(restored.transform(frame), normalizer.transform(frame))
    fresh = clone(normalizer)
    assert fresh.get_params() == normalizer.get_params()
    assert not hasattr(fresh, "speakers_")


def test_in_a_pipeline_with_grouped_cross_validation():
    rng = np.random.default_rng(0)
    # The label shifts a feature by 1 within each speaker, but speakers differ by +-20:
    # only a per-speaker view separates the classes.
    speaker = np.repeat(np.arange(8), 20)
    y = np.tile([0, 1], 80)
    f0 = rng.normal(0, 0.3, 160) + y + rng.normal(0, 20, 8)[speaker]
    X = pd.DataFrame({"speaker": speaker, "f0": f0})
    cv = GroupKFold(4)
    with_speaker = make_pipeline(SpeakerNormalizer(), LogisticRegression())
    plain = make_pipeline(StandardScaler(), LogisticRegression())
    adapted = cross_val_score(with_speaker, X, y, groups=speaker, cv=cv).mean()
    unadapted = cross_val_score(plain, X[["f0"]], y, groups=speaker, cv=cv).mean()
    assert adapted > 0.9 > 0.7 > unadapted
