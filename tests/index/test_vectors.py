"""VectorSet: the durable per-affinity vectors (upsert, lookup, atomic generations, model key)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asterism.embed.base import l2_normalise
from asterism.index.vectors import MANIFEST, ModelMismatch, VectorSet

MODEL = "effnet-lite0-formal@3"


def unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    return l2_normalise(np.random.default_rng(seed).standard_normal((n, dim)))


def test_upsert_appends_new_ids_and_replaces_existing_rows() -> None:
    vectors = VectorSet.empty(8, model=MODEL)
    first = unit(3)
    assert vectors.upsert([10, 20, 30], first) == (0, 3)
    replacement = unit(2, seed=1)
    assert vectors.upsert([20, 40], replacement) == (1, 1)
    assert vectors.ids.tolist() == [10, 20, 30, 40]  # insertion order, new ids appended
    found, rows = vectors.get([40, 20, 99, 10])
    assert found.tolist() == [True, True, False, True]
    np.testing.assert_array_equal(rows[0], replacement[1])
    np.testing.assert_array_equal(rows[1], replacement[0])
    np.testing.assert_array_equal(rows[2], np.zeros(8, dtype=np.float32))
    np.testing.assert_array_equal(rows[3], first[0])
    assert len(vectors) == 4 and vectors.dim == 8 and 30 in vectors and 99 not in vectors


def test_a_repeated_id_in_one_call_keeps_its_last_vector() -> None:
    vectors = VectorSet.empty(8)
    batch = unit(3)
    assert vectors.upsert([5, 6, 5], batch) == (0, 2)
    np.testing.assert_array_equal(vectors.get([5])[1][0], batch[2])


def test_bad_input_is_rejected() -> None:
    vectors = VectorSet.empty(8)
    with pytest.raises(ValueError, match="dimension"):
        vectors.upsert([1], unit(1, dim=4))
    with pytest.raises(ValueError, match="NaN"):
        vectors.upsert([1], np.full((1, 8), np.nan))
    with pytest.raises(TypeError):
        vectors.upsert(np.array([1.5]), unit(1))
    with pytest.raises(ValueError, match="unique"):
        VectorSet.from_arrays([1, 1], unit(2))


def test_save_then_open_memory_maps_the_same_vectors(tmp_path: Path) -> None:
    folder = tmp_path / "formal"
    vectors = VectorSet.empty(8, model=MODEL, folder=folder)
    matrix = unit(50)
    vectors.upsert(np.arange(100, 150), matrix)
    vectors.save()
    loaded = VectorSet.open(folder, model=MODEL)
    assert isinstance(loaded.vectors.base, np.memmap) or isinstance(loaded.vectors, np.memmap)
    assert loaded.model == MODEL and loaded.ids.tolist() == list(range(100, 150))
    np.testing.assert_array_equal(loaded.vectors, matrix)
    np.testing.assert_array_equal(loaded.get([149])[1][0], matrix[49])
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["model"] == MODEL and manifest["count"] == 50 and manifest["dim"] == 8


def test_a_model_change_is_detected(tmp_path: Path) -> None:
    VectorSet.from_arrays([1], unit(1), model=MODEL).save(tmp_path / "v")
    with pytest.raises(ModelMismatch, match="effnet-lite0-formal@4"):
        VectorSet.open(tmp_path / "v", model="effnet-lite0-formal@4")
    with pytest.raises(ModelMismatch):
        VectorSet.open_or_create(tmp_path / "v", 8, "effnet-lite0-formal@4")
    assert len(VectorSet.open_or_create(tmp_path / "v", 8, MODEL)) == 1
    assert len(VectorSet.open_or_create(tmp_path / "new", 8, MODEL)) == 0


def test_upsert_on_a_mapped_set_copies_and_save_publishes_a_new_generation(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    original = unit(10)
    VectorSet.from_arrays(np.arange(10), original, model=MODEL).save(folder)
    loaded = VectorSet.open(folder)
    still_mapped = VectorSet.open(folder)  # another reader holding the old generation
    changed = unit(1, seed=5)
    assert loaded.upsert([3, 10], np.concatenate([changed, changed])) == (1, 1)
    np.testing.assert_array_equal(VectorSet.open(folder).get([3])[1][0], original[3])  # not written yet
    loaded.save()
    reopened = VectorSet.open(folder)
    assert len(reopened) == 11
    np.testing.assert_array_equal(reopened.get([3])[1][0], changed[0])
    np.testing.assert_array_equal(still_mapped.get([3])[1][0], original[3])  # old mapping stays valid
    npy = sorted(p.name for p in folder.glob("*.npy"))
    assert npy == ["ids.000002.npy", "vectors.000002.npy"]  # the previous generation was removed


def test_files_left_by_an_interrupted_save_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    matrix = unit(4)
    VectorSet.from_arrays([1, 2, 3, 4], matrix, model=MODEL).save(folder)
    # A crash after writing the next generation's files but before the manifest was replaced.
    np.save(folder / "ids.000002.npy", np.array([9], dtype=np.int64))
    (folder / ".vectors.000002.npy.abc.tmp").write_bytes(b"partial")
    loaded = VectorSet.open(folder)
    assert loaded.ids.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(loaded.vectors, matrix)


def test_wrapped_arrays_are_never_modified_in_place() -> None:
    ids, matrix = np.arange(3), unit(3)
    before = matrix.copy()
    vectors = VectorSet.from_arrays(ids, matrix)
    vectors.upsert([1], unit(1, seed=9))
    np.testing.assert_array_equal(matrix, before)
    with pytest.raises(ValueError):
        vectors.vectors[0, 0] = 2.0  # the public view is read-only
