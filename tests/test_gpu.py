"""Device and precision handling on CUDA; skipped on machines without a GPU."""

import numpy as np
import pytest
from conftest import needs_minilm

from skemotion import TextEncoder

pytestmark = [pytest.mark.gpu, needs_minilm]

TEXTS = ["I am so happy", "I feel joyful", "I am furious", "What a sad day"] * 8


def _parameter_dtype(encoder):
    return next(encoder._model.parameters()).dtype


def test_auto_device_is_cuda_and_auto_precision_is_fp16():
    import torch

    encoder = TextEncoder().fit(TEXTS)
    X = encoder.transform(TEXTS)
    assert encoder._model.device.type == "cuda"
    assert _parameter_dtype(encoder) == torch.float16
    assert X.dtype == np.float32 and np.isfinite(X).all()


def test_fp16_agrees_with_fp32_and_cpu():
    half = TextEncoder(device="cuda").fit_transform(TEXTS)
    full = TextEncoder(device="cuda", precision="float32").fit_transform(TEXTS)
    cpu = TextEncoder(device="cpu").fit_transform(TEXTS)
    cosines = (
        np.sum(half * full, axis=1) / np.linalg.norm(half, axis=1) / np.linalg.norm(full, axis=1)
    )
    assert cosines.min() > 0.999
    np.testing.assert_allclose(full, cpu, atol=1e-4)


def test_precisions_are_cached_apart(tmp_path):
    half = TextEncoder(device="cuda", cache=tmp_path)
    full = TextEncoder(device="cuda", precision="float32", cache=tmp_path)
    assert half._fingerprint() != full._fingerprint()
