"""Tests of AttentionFusionClassifier (torch) on small synthetic data."""

import pickle

import numpy as np
import pandas as pd
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


def _three_modalities(n=120):
    X, y = _two_modalities(n=n)
    rng = np.random.default_rng(1)
    text = pd.DataFrame(rng.normal(size=(n, 3)), columns=[f"text__t{i}" for i in range(3)])
    return pd.concat([X, text], axis=1), y


def test_attention_weights_shape_rows_and_missing_modalities():
    X, y = _three_modalities()
    clf = _attention(max_epochs=5).fit(X, y)
    assert list(clf.modalities_) == ["face", "audio", "text"]
    Xm = _drop(_drop(X, "audio", slice(0, 10)), "face", slice(5, 15))
    weights = clf.attention_weights(Xm)
    assert weights.shape == (len(X), 3, 3) and (weights >= 0).all()
    present = np.ones((len(X), 3), dtype=bool)
    present[:10, 1] = present[5:15, 0] = False
    np.testing.assert_allclose(weights.sum(axis=2), present.astype(float), atol=1e-12)
    # A missing modality is attended by none (its column) and attends to none (its row).
    assert (weights[:10, :, 1] == 0).all() and (weights[:10, 1, :] == 0).all()
    assert (weights[5:15, :, 0] == 0).all() and (weights[5:15, 0, :] == 0).all()
    np.testing.assert_allclose(weights[5:10, 2, 2], 1.0)  # text alone: attends to itself
    assert (weights[20:, :, :] > 0).all()  # all present: softmax weights are positive


def test_attention_weights_of_a_sample_without_modality_are_zero():
    X, y = _two_modalities(n=60)
    clf = _attention(max_epochs=2).fit(X, y)
    empty = _drop(_drop(X.iloc[:3], "face", slice(None)), "audio", slice(None))
    assert (clf.attention_weights(empty) == 0).all()


def test_attention_weights_are_those_of_the_pass_predict_proba_makes():
    X, y = _three_modalities()
    clf = _attention(max_epochs=5).fit(X, y)
    Xm = _drop(X, "text", slice(0, 30))
    seen = []
    hook = clf.network_.attention.register_forward_hook(
        lambda module, args, output: seen.append(output[1].detach().clone())
    )
    try:
        proba = clf.predict_proba(Xm)
    finally:
        hook.remove()
    assert len(seen) == 1
    captured = seen[0].numpy()
    weights = clf.attention_weights(Xm)
    present = ~np.isnan(Xm.to_numpy()[:, [0, 4, 10]])
    np.testing.assert_array_equal(weights, captured * present[:, :, None])
    # attention_weights left the network as it was: predict_proba gives the same again.
    np.testing.assert_array_equal(proba, clf.predict_proba(Xm))
