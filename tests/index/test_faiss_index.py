"""VectorIndex on real FAISS: exactness, HNSW recall, ids through save/mmap-load, growth and type switches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asterism.embed.base import l2_normalise
from asterism.index.faiss_index import EF_CANDIDATES, PLATEAU, IndexConfig, VectorIndex, choose_kind
from asterism.index.vectors import VectorSet


def clustered(n: int, dim: int, *, centres: int = 400, rank: int = 12, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres, each cluster spread along its own low-rank subspace.

    Real embeddings have a low local intrinsic dimension; uniform noise in all
    dimensions would make every neighbour search unrealistically hard. The
    centres depend only on ``dim``, so ``seed`` draws other works (e.g.
    queries) from the same collection.
    """
    shape = np.random.default_rng(dim)
    middle = l2_normalise(shape.standard_normal((centres, dim)))
    bases = shape.standard_normal((centres, rank, dim)).astype(np.float32) / np.sqrt(dim)
    rng = np.random.default_rng(seed)
    label = rng.integers(centres, size=n)
    spread = np.einsum("nr,nrd->nd", rng.standard_normal((n, rank)).astype(np.float32), bases[label])
    noise = 0.15 / np.sqrt(dim) * rng.standard_normal((n, dim))
    return l2_normalise(middle[label] + 0.5 * spread + noise)


def exact(data: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-(queries @ data.T), axis=1, kind="stable")[:, :k]
    return ids[order]


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def test_kind_follows_size() -> None:
    assert choose_kind(10) == "flat" and choose_kind(60_000) == "hnsw" and choose_kind(10_000_000) == "ivfpq"
    assert choose_kind(10, "hnsw") == "hnsw"


def test_exact_index_returns_the_true_neighbours_as_artwork_ids() -> None:
    data = clustered(2000, 32)
    ids = np.arange(2000, dtype=np.int64) * 7 + 1000  # artwork ids, not positions
    queries = clustered(20, 32, seed=1)
    index = VectorIndex.build(ids, data)
    assert index.kind == "flat" and index.ntotal == 2000
    scores, found = index.search(queries, 10)
    np.testing.assert_array_equal(np.stack(found), exact(data, ids, queries, 10))
    np.testing.assert_allclose(scores[0], np.sort(queries[0] @ data.T)[::-1][:10], rtol=1e-5)


def test_hnsw_recall_at_10_is_at_least_095_on_a_clustered_set() -> None:
    data, queries = clustered(20_000, 64), clustered(200, 64, seed=1)
    ids = np.arange(20_000, dtype=np.int64) + 1
    index = VectorIndex.build(ids, data, kind="hnsw")
    assert index.kind == "hnsw" and index.ef_search is not None
    _, found = index.search(queries, 10)  # one batch call for all queries
    assert recall(found, exact(data, ids, queries, 10)) >= 0.95


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivfpq"])
def test_ids_survive_save_and_memory_mapped_load(tmp_path: Path, kind: str) -> None:
    data = clustered(12_000, 32)
    ids = np.random.default_rng(3).permutation(np.arange(1, 40_000))[:12_000].astype(np.int64)
    config = IndexConfig(nprobe=16)
    index = VectorIndex.build(ids, data, kind=kind, config=config, model="m@1")  # type: ignore[arg-type]
    queries = clustered(30, 32, seed=2)
    before_scores, before = index.search_padded(queries, 10)
    path = tmp_path / f"{kind}.faiss"
    index.save(path)
    loaded = VectorIndex.load(path, mmap=True)
    assert loaded.mapped and loaded.kind == kind and loaded.ntotal == 12_000 and loaded.model == "m@1"
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    after_scores, after = loaded.search_padded(queries, 10)
    np.testing.assert_array_equal(after, before)
    np.testing.assert_allclose(after_scores, before_scores, rtol=1e-6)
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["kind"] == kind and manifest["ntotal"] == 12_000 and manifest["model"] == "m@1"
    assert loaded.ef_search == index.ef_search and loaded.nprobe == index.nprobe


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_add_after_load_keeps_old_ids_finds_new_ones_and_skips_present_ids(tmp_path: Path, kind: str) -> None:
    data = clustered(3000, 32)
    ids = np.arange(3000, dtype=np.int64) + 1
    VectorIndex.build(ids[:2500], data[:2500], kind=kind).save(tmp_path / "i.faiss")  # type: ignore[arg-type]
    index = VectorIndex.load(tmp_path / "i.faiss")  # memory-mapped: add must copy it first
    assert index.add(ids[2400:], data[2400:]) == 500  # 100 of these are already present
    assert index.ntotal == 3000 and not index.mapped
    assert index.add(ids[:10], data[:10]) == 0 and index.ntotal == 3000
    assert sorted(index.ids().tolist()) == ids.tolist()
    _, found = index.search(data[[5, 2999]], 1)
    assert [f[0] for f in found] == [6, 3000]
    index.save(tmp_path / "i.faiss")
    assert VectorIndex.load(tmp_path / "i.faiss").ntotal == 3000


def test_crossing_a_threshold_switches_type_and_keeps_results() -> None:
    data = clustered(1500, 32)
    ids = np.arange(1500, dtype=np.int64) * 3 + 5
    config = IndexConfig(flat_limit=400, hnsw_limit=1000, nlist=8, nprobe=8)
    source = VectorSet.from_arrays(ids, data)
    index = VectorIndex.build(ids[:300], data[:300], config=config)
    assert index.kind == "flat"
    queries = data[[0, 100, 250]]
    _, before = index.search(queries, 5)
    index.add(ids[300:600], data[300:600])  # rebuilt from its own exact storage
    assert index.kind == "hnsw" and index.ntotal == 600
    _, found = index.search(queries, 10)
    assert recall(found, exact(data[:600], ids[:600], queries, 10)) >= 0.9
    assert all(b[0] == f[0] for b, f in zip(before, found, strict=True))
    index.add(ids[600:], data[600:], source=source)
    assert index.kind == "ivfpq" and index.ntotal == 1500
    _, found = index.search(queries, 10)
    assert [f[0] for f in found] == ids[[0, 100, 250]].tolist()


def test_ivfpq_cannot_change_type_without_its_vector_set() -> None:
    data = clustered(1200, 32)
    ids = np.arange(1200, dtype=np.int64)
    index = VectorIndex.build(ids[:1100], data[:1100], config=IndexConfig(flat_limit=10, hnsw_limit=1000))
    assert index.kind == "ivfpq"
    shrink_back = IndexConfig(flat_limit=5000, hnsw_limit=10_000)  # now a flat index is due
    index.config = shrink_back
    with pytest.raises(ValueError, match="VectorSet"):
        index.add(ids[1100:], data[1100:])
    index.add(ids[1100:], data[1100:], source=VectorSet.from_arrays(ids, data))
    assert index.kind == "flat" and index.ntotal == 1200


def test_exclusions_are_filtered_inside_the_index_and_missing_slots_dropped() -> None:
    data = clustered(6, 16)
    ids = np.array([11, 12, 13, 14, 15, 16], dtype=np.int64)
    index = VectorIndex.build(ids, data)
    scores, found = index.search(data[0], 10, exclude=[11, 13])
    assert len(found[0]) == 4 and 11 not in found[0] and 13 not in found[0]
    padded_scores, padded = index.search_padded(data[0], 10, exclude=[11, 13])
    assert padded.shape == (1, 6) and (padded[0, 4:] == -1).all() and np.isneginf(padded_scores[0, 4:]).all()
    np.testing.assert_array_equal(scores[0], padded_scores[0, :4])


def test_an_unreachable_recall_target_takes_the_plateau_not_the_largest_ef_search() -> None:
    """Recall cannot exceed 1: asked for more, the tuning takes the smallest efSearch within
    ``PLATEAU`` of the best recall measured (before, always the largest candidate, 512)."""
    data = clustered(5000, 32)
    index = VectorIndex.build(np.arange(5000), data, config=IndexConfig(kind="hnsw", target_recall=None))
    queries = clustered(100, 32, seed=6)
    truth = exact(data, np.arange(5000), queries, 10)
    chosen = index.tune_ef_search(queries, target=1.01)
    assert EF_CANDIDATES[0] < chosen < EF_CANDIDATES[-1]
    at_chosen = recall(index.search(queries, 10)[1], truth)
    index.ef_search = EF_CANDIDATES[-1]
    assert at_chosen >= recall(index.search(queries, 10)[1], truth) - PLATEAU
    index.ef_search = EF_CANDIDATES[EF_CANDIDATES.index(chosen) - 1]
    assert recall(index.search(queries, 10)[1], truth) < at_chosen  # the step below was not enough


def test_batch_search_equals_single_queries() -> None:
    data = clustered(5000, 32)
    ids = np.arange(5000, dtype=np.int64)
    index = VectorIndex.build(ids, data, kind="hnsw")
    queries = clustered(50, 32, seed=4)
    _, batch = index.search_padded(queries, 10)
    single = np.stack([index.search_padded(q, 10)[1][0] for q in queries])
    np.testing.assert_array_equal(batch, single)


def test_ef_search_is_tuned_on_held_out_queries() -> None:
    data = clustered(5000, 32)
    untuned = VectorIndex.build(np.arange(5000), data, config=IndexConfig(kind="hnsw", target_recall=None))
    assert untuned.ef_search == 64
    queries = clustered(100, 32, seed=6)
    chosen = untuned.tune_ef_search(queries, target=0.99)
    assert untuned.ef_search == chosen
    assert untuned.tune_ef_search(queries, target=0.5) <= chosen
    tuned = VectorIndex.build(np.arange(5000), data, kind="hnsw")  # tuned at build time
    assert tuned.ntotal == 5000 and tuned.ef_search in EF_CANDIDATES
    _, found = tuned.search(queries, 10)
    assert recall(found, exact(data, np.arange(5000), queries, 10)) >= 0.95
