"""scikit-learn's estimator checks on every public estimator of skemotion.

The registry (instances, expected failures with their reasons, the input hook that
renders the checks' numeric rows as texts, images, faces or clips) is in
tests/_estimators.py. Each module's own behaviour is tested in its test file.
"""

import importlib.util
import inspect

import pytest
from _estimators import (
    INIT_PARAMS,
    enforce_check_input,
    estimators_to_check,
    expected_failed_checks,
    missing_modules,
    writes_item_files,
)
from sklearn.base import BaseEstimator
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import skemotion
import skemotion.fusion


def _public_estimators():
    objects = [
        getattr(module, name) for module in (skemotion, skemotion.fusion) for name in module.__all__
    ]
    return {obj for obj in objects if inspect.isclass(obj) and issubclass(obj, BaseEstimator)}


def test_every_public_estimator_is_checked():
    registered = set(INIT_PARAMS)
    assert _public_estimators() - registered == set(), "add them to tests/_estimators.py"
    assert registered - _public_estimators() == set(), "registered but not public"
    unchecked = {
        Estimator.__name__: modules
        for Estimator in registered
        if (modules := missing_modules(Estimator))
    }
    if unchecked:
        pytest.skip(f"estimator checks not run, for want of these libraries: {unchecked}")


@pytest.fixture
def _one_thread():
    """Run each check on one BLAS thread and one torch thread.

    The checks fit tiny models on tiny data, where more threads only contend: on a busy
    2-core machine, fits and forward passes measured 17x to 50x slower.
    """
    if importlib.util.find_spec("torch") is None:
        with threadpool_limits(1):
            yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.usefixtures("_one_thread")
@parametrize_with_checks(list(estimators_to_check()), expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check, monkeypatch, request):
    if writes_item_files(estimator):
        # The item files are named by the digits of their row, relative to this folder.
        monkeypatch.chdir(request.getfixturevalue("tmp_path"))
    monkeypatch.setattr(estimator_checks, "_enforce_estimator_tags_X", enforce_check_input)
    check(estimator)
