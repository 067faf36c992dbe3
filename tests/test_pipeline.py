"""Tests of make_multimodal_pipeline."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion._pipeline import make_multimodal_pipeline
from skemotion.fusion import EarlyFusion, LateFusionClassifier, weight_grid


class _Length(TransformerMixin, BaseEstimator):
    """A stand-in encoder with a cache parameter: text length and word count."""

    def __init__(self, cache=None):
        self.cache = cache

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        texts = pd.Series(np.asarray(X).ravel())
        return np.column_stack([texts.str.len(), texts.str.count(" ") + 1]).astype(float)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["len", "words"], dtype=object)


def _frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "text": ["so " * (1 + 3 * int(label)) + "ok" for label in y],
            "au_1": y + rng.normal(0, 0.5, n),
            "au_2": rng.normal(0, 1, n),
            "pitch": 100 + 20 * y + rng.normal(0, 30, n),
        }
    )
    return frame, np.array(["calm", "angry"])[y]


FACE = ["au_1", "au_2"]


def test_columns_are_prefixed_by_modality_and_fusion_finds_them():
    df, y = _frame()
    pipe = make_multimodal_pipeline(
        {"text": _Length(), "face": ("passthrough", FACE), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(make_pipeline(StandardScaler(), LogisticRegression())),
    )
    assert isinstance(pipe, Pipeline) and list(pipe.named_steps) == ["encoders", "fusion"]
    pipe.fit(df, y)
    names = pipe.named_steps["encoders"].get_feature_names_out()
    assert list(names) == ["text__len", "text__words", "face__au_1", "face__au_2", "audio__pitch"]
    fusion = pipe.named_steps["fusion"]
    assert {m: list(c) for m, c in fusion.modalities_.items()} == {
        "text": [0, 1], "face": [2, 3], "audio": [4],
    }  # fmt: skip
    assert pipe.score(df, y) > 0.8


def test_grid_search_over_fusion_weights():
    df, y = _frame()
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", FACE), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
    )
    search = GridSearchCV(
        pipe, {"fusion__weights": weight_grid(["face", "audio"], step=0.25)}, cv=StratifiedKFold(3)
    ).fit(df, y)
    assert len(search.cv_results_["params"]) == 5
    assert search.predict(df).shape == (len(y),)


class _CountedLR(LogisticRegression):
    """LogisticRegression that counts its fits (in this process)."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        _CountedLR.fits.append(X.shape)
        return super().fit(X, y, sample_weight=sample_weight)


def _tone_clips(folder, y, seconds=0.4, rate=16000):
    """One WAV file per label: a tone whose pitch depends on the label, with noise."""
    sf = pytest.importorskip("soundfile")
    rng = np.random.default_rng(0)
    paths = []
    t = np.arange(int(seconds * rate)) / rate
    for i, label in enumerate(y):
        freq = (180.0 if label == "calm" else 300.0) + rng.normal(0, 40)
        clip = 0.4 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.05, t.size)
        paths.append(str(folder / f"clip{i:03d}.wav"))
        sf.write(paths[-1], clip.astype(np.float32), rate)
    return paths


def test_weight_search_with_a_real_encoder_encodes_each_clip_once(tmp_path, monkeypatch):
    """11 weights x 5 folds (56 pipeline fits) analyse each clip once and fit each
    modality's classifier once per fold, through the cache and the fusion memory."""
    pytest.importorskip("soxr")
    from skemotion import AudioFeatures, EmbeddingCache

    df, y = _frame(n=60)
    df["audio"] = _tone_clips(tmp_path, y)
    analysed = []
    encode_batch = AudioFeatures._encode_batch
    monkeypatch.setattr(
        AudioFeatures,
        "_encode_batch",
        lambda self, model, items: analysed.extend(items) or encode_batch(self, model, items),
    )
    monkeypatch.setattr(_CountedLR, "fits", [])
    cache = EmbeddingCache(tmp_path / "cache")
    features = AudioFeatures(features=("mfcc", "pitch"), stats=("mean", "std"))
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", FACE), "audio": (features, "audio")},
        fusion=LateFusionClassifier(
            make_pipeline(StandardScaler(), _CountedLR()), memory=tmp_path / "fits"
        ),
        cache=cache,
    )
    search = GridSearchCV(
        pipe, {"fusion__weights": weight_grid(["face", "audio"], step=0.1)}, cv=StratifiedKFold(5)
    ).fit(df, y)
    assert len(search.cv_results_["params"]) == 11
    assert len(analysed) == len(df)  # each clip analysed once, in the first fold's fit
    assert cache.stats()["misses"] == len(df) and cache.count() == len(df)
    assert len(_CountedLR.fits) == 2 * (5 + 1)  # two modalities x (5 folds + the refit)
    # The memory changes the cost, not the result.
    plain = GridSearchCV(
        make_multimodal_pipeline(
            {"face": ("passthrough", FACE), "audio": (features, "audio")},
            fusion=LateFusionClassifier(make_pipeline(StandardScaler(), LogisticRegression())),
            cache=cache,
        ),
        {"fusion__weights": weight_grid(["face", "audio"], step=0.1)},
        cv=StratifiedKFold(5),
    ).fit(df, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
    assert len(analysed) == len(df)  # the second search analysed nothing


def test_early_fusion_step_is_a_pipeline():
    df, y = _frame()
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", FACE), "audio": ("passthrough", ["pitch"])},
        fusion=make_pipeline(EarlyFusion(), LogisticRegression()),
    )
    pipe.set_params(fusion__earlyfusion__weights={"face": 0.5, "audio": 0.5}).fit(df, y)
    assert pipe.score(df, y) > 0.8


def test_sampler_makes_an_imblearn_pipeline_and_keeps_column_names():
    imblearn = pytest.importorskip("imblearn", reason="imbalanced-learn is not installed")
    from imblearn.over_sampling import SMOTE

    df, y = _frame()
    keep = (y == "angry") | (np.arange(len(y)) % 4 == 0)  # imbalance: few "calm"
    df, y = df[keep].reset_index(drop=True), y[keep]
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", FACE), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
        sampler=SMOTE(random_state=0),
    )
    assert isinstance(pipe, imblearn.pipeline.Pipeline)
    assert list(pipe.named_steps) == ["encoders", "sampler", "fusion"]
    pipe.fit(df, y)
    fusion = pipe.named_steps["fusion"]
    assert list(fusion.feature_names_in_) == ["face__au_1", "face__au_2", "audio__pitch"]
    assert list(fusion.modalities_) == ["face", "audio"]
    # SMOTE balanced the classes the fusion step was trained on
    resampled = pipe.named_steps["sampler"].fit_resample(
        pipe.named_steps["encoders"].transform(df), y
    )
    assert isinstance(resampled[0], pd.DataFrame)
    assert (pd.Series(resampled[1]).value_counts() == (y == "angry").sum()).all()


def test_numpy_output_needs_explicit_modalities():
    df, y = _frame()
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", FACE), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
    )
    pipe.named_steps["encoders"].set_output(transform="default")
    with pytest.raises(ValueError, match="no column names"):
        pipe.fit(df, y)
    pipe.set_params(fusion__modalities={"face": slice(0, 2), "audio": [2]}).fit(df, y)
    assert pipe.score(df, y) > 0.8


def test_cache_is_set_on_clones_only():
    encoder = _Length(cache="mine")
    pipe = make_multimodal_pipeline(
        {"text": encoder, "face": ("passthrough", FACE), "other": (StandardScaler(), ["pitch"])},
        fusion=LogisticRegression(),
        cache="/tmp/shared-cache",
    )
    transformers = dict((n, t) for n, t, _ in pipe.named_steps["encoders"].transformers)
    assert transformers["text"].cache == "/tmp/shared-cache"
    assert transformers["text"] is not encoder and encoder.cache == "mine"
    assert transformers["face"] == "passthrough"
    assert isinstance(transformers["other"], StandardScaler)  # no cache parameter: left alone
    kept = make_multimodal_pipeline({"text": encoder}, fusion=LogisticRegression())
    assert kept.named_steps["encoders"].transformers[0][1] is encoder


def test_encoder_reads_the_column_named_after_its_modality():
    pipe = make_multimodal_pipeline({"text": _Length()}, fusion=LogisticRegression())
    assert pipe.named_steps["encoders"].transformers[0][2] == "text"


@pytest.mark.parametrize(
    "encoders, match",
    [({}, "non-empty dict"), ([("a", "passthrough")], "non-empty dict"),
     ({"a__b": "passthrough"}, "without '__'"), ({"a": ("passthrough", ["x"], 1)}, "length 3")],
)  # fmt: skip
def test_bad_encoders(encoders, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_pipeline(encoders, fusion=LogisticRegression())


# --- speaker normalisation --------------------------------------------------------------


def _speaker_frame(n_speakers=8, per_speaker=20, seed=0):
    """The label moves each modality a little within a speaker; speakers differ a lot."""
    rng = np.random.default_rng(seed)
    speaker = np.repeat([f"s{k}" for k in range(n_speakers)], per_speaker)
    y = np.tile([0, 1], n_speakers * per_speaker // 2)
    offset = rng.normal(0, 10, (n_speakers, 2))[np.repeat(np.arange(n_speakers), per_speaker)]
    frame = pd.DataFrame({
        "actor": speaker,
        "au_1": y + rng.normal(0, 0.4, len(y)) + offset[:, 0],
        "pitch": y + rng.normal(0, 0.6, len(y)) + offset[:, 1],
    })  # fmt: skip
    return frame, np.array(["calm", "angry"])[y]


def test_speaker_normalises_every_modality_and_is_dropped_before_fusion():
    df, y = _speaker_frame()
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", ["au_1"]), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
        speaker="actor",
    )
    assert list(pipe.named_steps) == ["encoders", "speaker", "fusion"]
    pipe.fit(df, y)
    fusion = pipe.named_steps["fusion"]
    assert list(fusion.feature_names_in_) == ["face__au_1", "audio__pitch"]
    normalised = pipe[:-1].transform(df)
    by_actor = normalised.groupby(df["actor"].to_numpy())
    np.testing.assert_allclose(by_actor.mean().to_numpy(), 0, atol=1e-12)
    # Speaker-independent: unseen actors are normalised from their own clips.
    from sklearn.model_selection import GroupKFold, cross_val_score

    cv, groups = GroupKFold(4), df["actor"]
    adapted = cross_val_score(pipe, df, y, groups=groups, cv=cv).mean()
    plain = make_multimodal_pipeline(
        {"face": ("passthrough", ["au_1"]), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
    )
    assert adapted > 0.85 > 0.7 > cross_val_score(plain, df, y, groups=groups, cv=cv).mean()


def test_speaker_options_are_step_parameters_and_nan_blocks_stay_missing():
    df, y = _speaker_frame()
    df.loc[:5, "pitch"] = np.nan  # audio missing for six clips
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", ["au_1"]), "audio": ("passthrough", ["pitch"])},
        fusion=LateFusionClassifier(LogisticRegression()),
        speaker="actor",
    ).set_params(speaker__min_samples=1, speaker__with_std=False)
    pipe.fit(df, y)
    assert pipe.named_steps["speaker"].min_samples == 1
    assert pipe[:-1].transform(df)["audio__pitch"].isna().sum() == 6
    assert pipe.predict(df).shape == (len(df),)


def test_speaker_with_a_sampler_resamples_normalised_features():
    pytest.importorskip("imblearn", reason="imbalanced-learn is not installed")
    from imblearn.over_sampling import RandomOverSampler

    df, y = _speaker_frame()
    pipe = make_multimodal_pipeline(
        {"face": ("passthrough", ["au_1"])},
        fusion=LogisticRegression(),
        speaker="actor",
        sampler=RandomOverSampler(random_state=0),
    )
    assert list(pipe.named_steps) == ["encoders", "speaker", "sampler", "fusion"]
    assert pipe.fit(df, y).score(df, y) > 0.8


@pytest.mark.parametrize(
    "encoders, speaker, match",
    [({"speaker": ("passthrough", ["au_1"])}, "actor", "no modality may be named 'speaker'"),
     ({"face": ("passthrough", ["au_1"])}, 3, "name of the input column")],
)  # fmt: skip
def test_bad_speaker(encoders, speaker, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_pipeline(encoders, fusion=LogisticRegression(), speaker=speaker)
