"""Fusion on real data: RAVDESS face action units + voice features, missing modalities.

Reads ../shared/data/ravdess_av_features/features.csv; skipped where it is absent.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skemotion.fusion import EarlyFusion, LateFusionClassifier

FEATURES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_av_features" / "features.csv"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not FEATURES.exists(),
        reason=f"RAVDESS features not found at {FEATURES} (see ../shared/data/README.md)",
    ),
]


@pytest.fixture(scope="module")
def ravdess():
    df = pd.read_csv(FEATURES)
    face = [c for c in df if c.startswith("au_")]
    audio = [c for c in df if c.startswith("audio_") and c != "audio_file"]
    X = df[face + audio].set_axis(
        [f"face__{c}" for c in face] + [f"audio__{c}" for c in audio], axis=1
    )
    return X, df["emotion"].to_numpy(dtype=object), df["actor"].to_numpy()


def _lr():
    return LogisticRegression(C=0.1, max_iter=2000)


FUSED = {
    "late": lambda: LateFusionClassifier(make_pipeline(StandardScaler(), _lr())),
    "early": lambda: make_pipeline(EarlyFusion(add_indicator=True), _lr()),
}


@pytest.mark.parametrize("fused", sorted(FUSED))
@pytest.mark.parametrize("dropped, kept", [("audio", "face"), ("face", "audio")])
def test_fused_model_with_30_percent_of_a_modality_missing(ravdess, fused, dropped, kept):
    X, y, actors = ravdess
    rng = np.random.default_rng(0)
    pred_fused = np.empty_like(y)
    pred_kept = np.empty_like(y)
    kept_cols = [c for c in X if c.startswith(kept + "__")]
    dropped_cols = [c for c in X if c.startswith(dropped + "__")]
    with threadpool_limits(1):  # multi-threaded BLAS is far slower on a busy machine
        for train, test in StratifiedGroupKFold(3).split(X, y, actors):  # by speaker
            X_test = X.iloc[test].copy()
            missing = rng.random(len(test)) < 0.3
            X_test.loc[X_test.index[missing], dropped_cols] = np.nan
            model = FUSED[fused]().fit(X.iloc[train], y[train])
            pred_fused[test] = model.predict(X_test)
            alone = make_pipeline(StandardScaler(), _lr()).fit(X.iloc[train][kept_cols], y[train])
            pred_kept[test] = alone.predict(X_test[kept_cols])
    assert pd.notna(pred_fused).all() and len(pred_fused) == len(y)
    fused_acc, kept_acc = accuracy_score(y, pred_fused), accuracy_score(y, pred_kept)
    print(f"{fused} fusion, 30% {dropped} missing: {fused_acc:.3f}; {kept} alone: {kept_acc:.3f}")
    assert fused_acc >= kept_acc, (fused_acc, kept_acc)


def test_speaker_normalisation_lifts_unseen_actors_face_and_fusion(ravdess):
    """Per-actor normalisation in make_multimodal_pipeline, on actors never seen in fit."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from skemotion import make_multimodal_pipeline

    X, y, actors = ravdess
    frame = X.rename(columns=lambda c: c.split("__", 1)[1]).copy().assign(actor=actors)
    face = [c for c in frame if c.startswith("au_")]
    audio = [c for c in frame if c.startswith("audio_")]
    lda = make_pipeline(
        StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )
    cv = list(StratifiedGroupKFold(5).split(frame, y, actors))

    def accuracy(encoders, fusion, speaker):
        pipe = make_multimodal_pipeline(encoders, fusion, speaker=speaker)
        pred = np.empty_like(y)
        for train, test in cv:
            pred[test] = pipe.fit(frame.iloc[train], y[train]).predict(frame.iloc[test])
        return accuracy_score(y, pred)

    face_only = {"face": ("passthrough", face)}
    both = {**face_only, "audio": ("passthrough", audio)}
    with threadpool_limits(1):
        plain = accuracy(face_only, lda, None)
        adapted = accuracy(face_only, lda, "actor")
        fused = accuracy(both, LateFusionClassifier(lda), "actor")
    # Measured: face 0.57 -> 0.75 with per-actor normalisation; fused above both.
    assert adapted > plain + 0.1
    assert fused > adapted
