"""scikit-learn's estimator checks on every public estimator.

Encoders embed raw items (texts), while scikit-learn's checks generate numeric
matrices. As skrub does for its string encoders, we route the checks' data through
a text rendering of each numeric row (one row -> one text), so the checks exercise
the real estimator on real texts. Checks that build their numeric input without
that hook are listed as expected failures, each with its reason.

The other estimators run the same checks beside their own fixtures, each with its
rendering of numeric rows into items and its reasons: ImageEncoder in test_image.py,
FaceEncoder in test_face.py, AudioFeatures in test_audio.py, AudioEncoder in
test_audio_encoder.py, the fusion estimators in test_fusion.py and
test_fusion_attention.py.
"""

import numpy as np
import pytest
from _tiny_models import tiny_text_model_dir
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skemotion import TextEncoder

_original_enforce = estimator_checks._enforce_estimator_tags_X


def _as_texts(X):
    """One text per numeric row, in one column as ColumnTransformer passes it.

    The texts are strings of digits, so that checks which derive a target with
    ``X[:, 0].astype(int)`` still can; the encoder sees them as ordinary text.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    texts = ["".join(str(round(abs(v) * 100)) for v in row)[:15] for row in X]
    return np.asarray(texts, dtype=object)[:, None]


def _enforce_text_input(estimator, X, X_test=None, kernel=None):
    if not isinstance(estimator, TextEncoder):
        if kernel is None:
            return _original_enforce(estimator, X, X_test)
        return _original_enforce(estimator, X, X_test, kernel)
    if X_test is not None:
        return _as_texts(X), _as_texts(X_test)
    return _as_texts(X)


@pytest.fixture(autouse=True)
def _texts_for_text_encoders(monkeypatch):
    monkeypatch.setattr(estimator_checks, "_enforce_estimator_tags_X", _enforce_text_input)


_NUMBERS = (
    "feeds numbers that bypass scikit-learn's input hook; TextEncoder rejects "
    "non-string items with a TypeError naming the item (tested in test_text.py)"
)
_SPARSE = "texts cannot be held in a scipy sparse matrix"

TEXT_ENCODER_XFAILS = {
    "check_estimators_dtypes": _NUMBERS,
    "check_complex_data": _NUMBERS + "; complex numbers are not text",
    "check_estimators_nan_inf": _NUMBERS + "; missing texts are tested in test_text.py",
    "check_fit1d": "1-D input is a list of texts, which TextEncoder accepts; " + _NUMBERS,
    "check_estimator_sparse_tag": _SPARSE,
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_fit2d_predict1d": "1-D input is a list of texts, which TextEncoder accepts",
    "check_positive_only_tag_during_fit": "subtracts the mean from the input, which is text",
    "check_n_features_in_after_fitting": (
        "slices a second column out of the input; TextEncoder reads exactly one column"
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, TextEncoder):
        return TEXT_ENCODER_XFAILS
    return {}


@parametrize_with_checks(
    [TextEncoder(tiny_text_model_dir(), device="cpu")],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
