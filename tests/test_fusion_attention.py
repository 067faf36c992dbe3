"""Tests of AttentionFusionClassifier (torch) on small synthetic data."""

import pickle

import numpy as np
import pytest
from test_fusion import _drop, _two_modalities

from skemotion.fusion import AttentionFusionClassifier

torch = pytest.importorskip("torch", reason="AttentionFusionClassifier needs torch")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a busy shared machine, more threads only contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _attention(**params):
    defaults = dict(hidden_dim=16, n_heads=2, max_epochs=15, random_state=0, device="cpu")
    return AttentionFusionClassifier(**{**defaults, **params})


def test_attention_fusion_learns_and_is_deterministic():
    X, y = _two_modalities()
    a = _attention().fit(X, y)
    b = _attention().fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.score(X, y) > 0.7
    assert 1 <= a.best_epoch_ <= a.n_epochs_ <= 15
    assert len(a.validation_loss_) == a.n_epochs_
    c = _attention(random_state=1).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_attention_fusion_does_not_touch_torch_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    X, y = _two_modalities(n=80)
    _attention(max_epochs=2).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_attention_fusion_missing_modalities_and_weights():
    X, y = _two_modalities()
    Xm = _drop(X, "audio", slice(0, 40))
    clf = _attention(class_weight="balanced").fit(Xm, y, sample_weight=np.ones(len(y)))
    proba = clf.predict_proba(_drop(_drop(X, "face", slice(0, 20)), "audio", [0]))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


def test_attention_fusion_pickles():
    X, y = _two_modalities(n=80)
    clf = _attention(max_epochs=3).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))


def test_attention_fusion_checks_heads():
    X, y = _two_modalities(n=40)
    with pytest.raises(ValueError, match="'n_heads'.*must divide hidden_dim=16"):
        _attention(n_heads=3).fit(X, y)


def test_attention_fusion_unpickles_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    X, y = _two_modalities(n=60)
    clf = _attention(max_epochs=2).fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    X.to_pickle(tmp_path / "X.pkl")
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    code = (
        "import pickle, sys, numpy as np, pandas as pd; d = sys.argv[1]; "
        "m = pickle.load(open(d + '/model.pkl', 'rb')); "
        "assert np.allclose(m.predict_proba(pd.read_pickle(d + '/X.pkl')), "
        "np.load(d + '/expected.npy'))"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
