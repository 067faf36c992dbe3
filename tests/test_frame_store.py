"""FrameStore: frame-level rows of a long recording kept in a temporary file."""

import numpy as np
import pytest

from skemotion._encoders import _frame_store
from skemotion._encoders._frame_store import FrameStore


@pytest.fixture
def values():
    return np.random.default_rng(0).standard_normal((3, 50)).astype(np.float32)


@pytest.fixture
def store(values):
    store = FrameStore()
    for start in range(0, 50, 7):  # blocks of uneven length, as the analysis gives them
        store.append(values[:, start : start + 7])
    yield store
    store.close()


def test_appended_blocks_read_back_as_one_array(store, values):
    assert store.shape == (3, 50) and store.dtype == np.float32
    np.testing.assert_array_equal(store.read(0, 50), values)
    np.testing.assert_array_equal(store.read(12, 31), values[:, 12:31])
    # Bounds past either end are clipped, as slicing would.
    np.testing.assert_array_equal(store.read(-5, 80), values)


def test_blocks_come_with_their_neighbours_as_context(store, values, monkeypatch):
    monkeypatch.setattr(_frame_store, "READ_FRAMES", 16)
    seen = []
    for block, begin, count in store.blocks(context=2):
        start = len(seen) * 16
        first = max(0, start - 2)
        np.testing.assert_array_equal(block, values[:, first : start + count + 2])
        seen.append(block[:, begin : begin + count])
    assert [piece.shape[1] for piece in seen] == [16, 16, 16, 2]
    np.testing.assert_array_equal(np.concatenate(seen, axis=1), values)


def test_take_selects_rows_and_masked_frames_as_float64(store, values, monkeypatch):
    monkeypatch.setattr(_frame_store, "READ_FRAMES", 16)  # the mask spans several reads
    mask = np.arange(50) % 3 == 0
    taken = store.take([0, 2], mask)
    assert taken.dtype == np.float64
    np.testing.assert_array_equal(taken, values[[0, 2]][:, mask])


def test_derive_maps_blocks_into_a_new_store(store, values, monkeypatch):
    monkeypatch.setattr(_frame_store, "READ_FRAMES", 16)

    # A computation along time that needs one neighbour each side: equal to one pass.
    def smooth(x):
        padded = np.pad(x, ((0, 0), (1, 1)), mode="edge")
        return (padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3

    derived = store.derive(smooth, context=1)
    try:
        np.testing.assert_allclose(derived.read(0, 50), smooth(values), rtol=1e-6)
    finally:
        derived.close()


def test_a_block_of_another_shape_or_dtype_is_refused(store):
    with pytest.raises(ValueError, match="a block of 2 rows of float32, not 3 of float32"):
        store.append(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="a block of 3 rows of float64, not 3 of float32"):
        store.append(np.zeros((3, 4)))
    assert store.n_frames == 50  # nothing half-written


def test_a_closed_store_holds_no_file(values):
    store = FrameStore()
    store.append(values)
    store.close()
    with pytest.raises(ValueError):
        store.read(0, 1)
