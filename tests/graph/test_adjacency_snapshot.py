"""The graph snapshot a build writes and a server maps: the same answers as one built from the edges."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest

from asterism.graph.adjacency import Adjacency
from asterism.graph.edges import EdgeSet


def random_edges(seed: int, nodes: int = 400, per_node: int = 6) -> list[EdgeSet]:
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(10**6, size=nodes, replace=False)).astype(np.int64)
    out = []
    for type_ in ("FORMAL", "CONCEPTUAL", "HISTORICAL"):
        src = np.repeat(ids, per_node)
        dst = rng.choice(ids, size=len(src))
        out.append(EdgeSet(type_, src, dst, rng.random(len(src)).astype(np.float32)))
    return out


def on_disk(array: object) -> bool:
    """Whether ``array`` is (a view of) a memory-mapped file rather than a copy in memory."""
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_a_mapped_snapshot_answers_as_the_one_built_from_edges(tmp_path: Path) -> None:
    edges = random_edges(1)
    built = Adjacency(edges)
    built.save(tmp_path, "v1")
    mapped = Adjacency.load(tmp_path, "v1")
    assert mapped is not None
    matrices = [mapped._combined, mapped._linked, *mapped._matrices.values()]
    assert all(on_disk(m.data) and on_disk(m.indices) and on_disk(m.indptr) for m in matrices)
    assert on_disk(mapped.ids)
    assert mapped.types == built.types and mapped.sizes() == built.sizes() and mapped.stats() == built.stats()
    rng = np.random.default_rng(2)
    candidates = np.concatenate([built.ids, rng.choice(10**6, 50)])
    for start in rng.choice(built.ids, 25):
        start = int(start)
        assert mapped.neighbours(start) == built.neighbours(start)
        avoid = rng.choice(built.ids, 5)
        np.testing.assert_array_equal(
            mapped.link_strength(start, candidates, avoid), built.link_strength(start, candidates, avoid)
        )
        other = built.neighbours(start)[0]
        assert mapped.edge(start, other.id, other.type) == built.edge(start, other.id, other.type)
    anchors = [(int(i), 0.5) for i in built.ids[:3]]
    np.testing.assert_array_equal(
        mapped.mixed_link_strength(anchors, candidates), built.mixed_link_strength(anchors, candidates)
    )


def test_a_snapshot_of_other_edges_is_not_used(tmp_path: Path) -> None:
    Adjacency(random_edges(1)).save(tmp_path, "v1")
    assert Adjacency.load(tmp_path, "v2") is None
    assert Adjacency.load(tmp_path / "missing", "v1") is None


def test_a_save_that_fails_midway_leaves_no_usable_snapshot(tmp_path: Path) -> None:
    """The manifest goes first and comes back last: half-written arrays are never read as a snapshot."""
    Adjacency(random_edges(1)).save(tmp_path, "v1")
    (tmp_path / "combined.data.npy").unlink()
    (tmp_path / "combined.data.npy").mkdir()  # the next save cannot replace this file
    with pytest.raises(OSError):
        Adjacency(random_edges(3)).save(tmp_path, "v2")
    assert Adjacency.load(tmp_path, "v1") is None and Adjacency.load(tmp_path, "v2") is None
