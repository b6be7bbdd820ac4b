"""The graph layer: k-NN edges, the LadybugDB store, the in-memory adjacency, against hand-made cases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from asterism.graph.adjacency import Adjacency
from asterism.graph.base import Entity, GraphStore, Link
from asterism.graph.edges import EdgeSet, knn_edges, reverse_edges
from asterism.graph.ladybug import LadybugGraph
from asterism.index.faiss_index import VectorIndex
from asterism.index.vectors import VectorSet


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_knn_edges_are_the_exact_top_k_above_the_threshold() -> None:
    rng = np.random.default_rng(0)
    matrix = unit(rng.standard_normal((300, 16)))
    ids = np.arange(1000, 1300, dtype=np.int64)
    vectors = VectorSet.from_arrays(ids, matrix)
    edges = knn_edges("FORMAL_SIM", VectorIndex.build(ids, matrix, kind="flat"), vectors, k=5, threshold=0.3)
    sims = matrix @ matrix.T
    np.fill_diagonal(sims, -np.inf)
    for row in range(0, 300, 37):
        expected = {int(ids[j]) for j in np.argsort(-sims[row])[:5] if sims[row, j] >= 0.3}
        got = set(edges.dst[edges.src == ids[row]].tolist())
        assert got == expected
    assert (edges.weight >= 0.3).all() and (edges.src != edges.dst).all()
    assert np.bincount(edges.src - 1000).max() <= 5


def test_reverse_edges_only_where_the_new_work_beats_the_weakest() -> None:
    existing = EdgeSet(
        "FORMAL_SIM", np.array([1, 1, 2]), np.array([2, 3, 1]), np.array([0.9, 0.6, 0.9], np.float32)
    )
    new = EdgeSet("FORMAL_SIM", np.array([9, 9]), np.array([1, 2]), np.array([0.7, 0.5], np.float32))
    back = reverse_edges(new, existing, k=2, new_ids=np.array([9]))
    # work 1 is full (k=2) with weakest 0.6 < 0.7: gains 1→9; work 2 has one edge (< k): gains 2→9
    assert sorted(zip(back.src.tolist(), back.dst.tolist(), strict=True)) == [(1, 9), (2, 9)]
    back = reverse_edges(new, existing, k=1, new_ids=np.array([9]))
    assert list(zip(back.src.tolist(), back.dst.tolist(), strict=True)) == []  # both full with stronger edges


def link_strength_by_products(adjacency: Adjacency, start: int, candidates: np.ndarray,
                              avoid: np.ndarray | None) -> np.ndarray:  # fmt: skip
    """The link term's definition as whole-matrix products: dense, slow, obviously right."""
    ids, n = adjacency.ids, len(adjacency.ids)
    row = int(np.searchsorted(ids, start))
    sums, counts = np.zeros(n), np.zeros(n)
    for matrix in adjacency._matrices.values():
        dense = matrix.toarray().astype(np.float64)
        sums += dense[row]
        counts += dense[row] != 0
    combined = adjacency._combined.toarray().astype(np.float64)
    first = combined[row].copy()
    if avoid is not None:
        first[np.isin(ids, avoid)] = 0.0
    sums += first @ combined
    counts += (first != 0).astype(float) @ (combined != 0).astype(float)
    counts[row] = 0
    out = np.zeros(len(candidates))
    for i, candidate in enumerate(candidates):
        at = np.searchsorted(ids, candidate)
        if at < n and ids[at] == candidate and counts[at] > 0:
            out[i] = sums[at] / counts[at]
    return out


def test_link_strength_reads_only_the_neighbourhood_and_equals_the_matrix_products() -> None:
    rng = np.random.default_rng(8)
    ids = np.arange(10, 410, dtype=np.int64)
    edges = [
        EdgeSet(t, rng.choice(ids, 1200), rng.choice(ids, 1200), rng.uniform(0.1, 1, 1200).astype(np.float32))
        for t in ("FORMAL_SIM", "CONCEPT_SIM", "HISTORICAL_SIM")
    ]
    edges = [
        EdgeSet(e.type, e.src[e.src != e.dst], e.dst[e.src != e.dst], e.weight[e.src != e.dst]) for e in edges
    ]
    adjacency = Adjacency(edges, nodes=ids)
    for start in (10, 77, 409):
        # repeated, unknown (5, 9999) and the start itself among the candidates, in any order
        candidates = np.concatenate([rng.choice(ids, 150), [5, 9999, start], rng.choice(ids, 5)])
        for avoid in (None, rng.choice(ids, 40)):
            got = adjacency.link_strength(start, candidates, avoid)
            expected = link_strength_by_products(adjacency, start, candidates, avoid)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
            assert (got > 0).sum() > 20  # enough linked candidates for the comparison to mean something
    assert len(adjacency.link_strength(10, np.zeros(0, np.int64))) == 0


@pytest.fixture(params=["ladybug", "neo4j"])
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """Each graph backend; Neo4j only where a server is given (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD)."""
    store: GraphStore
    if request.param == "ladybug":
        store = LadybugGraph(tmp_path / "g" / "graph.lbug")
    else:
        uri = os.environ.get("NEO4J_URI")
        if not uri:
            pytest.skip("NEO4J_URI is not set: no Neo4j server to test against")
        from asterism.graph.neo4j import Neo4jGraph

        store = Neo4jGraph(
            uri, user=os.environ.get("NEO4J_USER", "neo4j"), password=os.environ.get("NEO4J_PASSWORD", "")
        )
        store._run("MATCH (n) DETACH DELETE n")  # a scratch database: the test owns it
    yield store
    store.close()


def test_graph_store_round_trip_and_paths(graph: GraphStore) -> None:
    assert graph.add_artworks(np.arange(1, 8)) == 7
    assert graph.add_artworks(np.arange(5, 11)) == 3  # existing ids are skipped, not a crash
    chain = EdgeSet("FORMAL_SIM", np.array([1, 2, 3]), np.array([2, 3, 4]), np.full(3, 0.8, np.float32))
    graph.replace_edges(chain)
    graph.add_edges(EdgeSet("CONCEPT_SIM", np.array([4]), np.array([5]), np.array([0.6], np.float32)))
    exported = graph.edges("FORMAL_SIM")
    assert sorted(zip(exported.src.tolist(), exported.dst.tolist(), strict=True)) == [(1, 2), (2, 3), (3, 4)]
    graph.replace_knowledge(
        [Entity("artist:a", "Artist", "A"), Entity("artist:b", "Artist", "B")],
        [Link(1, "artist:a", "CREATED_BY"), Link(9, "artist:b", "CREATED_BY"),
         Link("artist:b", "artist:a", "INFLUENCED_BY")],
    )  # fmt: skip
    assert graph.knowledge() == (
        [Entity("artist:a", "Artist", "A"), Entity("artist:b", "Artist", "B")],
        [Link(1, "artist:a", "CREATED_BY"), Link(9, "artist:b", "CREATED_BY"),
         Link("artist:b", "artist:a", "INFLUENCED_BY")],
    )  # fmt: skip
    counts = graph.counts()
    assert counts["Artwork"] == 10 and counts["FORMAL_SIM"] == 3 and counts["CONCEPT_SIM"] == 1
    assert counts["Entity:Artist"] == 2 and counts["CREATED_BY"] == 2 and counts["INFLUENCED_BY"] == 1

    path = graph.shortest_path(1, 5)
    assert path is not None and [n.artwork_id for n in path.nodes] == [1, 2, 3, 4, 5]
    assert [s.type for s in path.steps] == ["FORMAL_SIM"] * 3 + ["CONCEPT_SIM"]
    via_artists = graph.shortest_path(1, 9)
    assert via_artists is not None and [s.type for s in via_artists.steps] == [
        "CREATED_BY", "INFLUENCED_BY", "CREATED_BY"]  # fmt: skip
    assert via_artists.nodes[1].entity == Entity("artist:a", "Artist", "A")
    assert graph.shortest_path(1, 10) is None  # no edges at all
    graph.replace_edges(EdgeSet.empty("FORMAL_SIM"))
    assert graph.counts()["FORMAL_SIM"] == 0


def test_adjacency_link_strength_by_hand() -> None:
    # 1 -F0.8- 2 -H0.5- 3 ; 1 -C0.6- 2 ; 4 isolated-ish: 4 -F0.9- 5
    edges = [
        EdgeSet("FORMAL_SIM", np.array([1, 4]), np.array([2, 5]), np.array([0.8, 0.9], np.float32)),
        EdgeSet("CONCEPT_SIM", np.array([2]), np.array([1]), np.array([0.6], np.float32)),
        EdgeSet("HISTORICAL_SIM", np.array([2]), np.array([3]), np.array([0.5], np.float32)),
    ]
    adjacency = Adjacency(edges, nodes=np.array([1, 2, 3, 4, 5, 6]))
    strength = adjacency.link_strength(1, np.array([2, 3, 4, 99]))
    # to 2: direct F 0.8 and C 0.6 -> mean 0.7; to 3: two hops via 2: max(0.8, 0.6) * 0.5 = 0.4
    assert strength == pytest.approx([0.7, 0.4, 0.0, 0.0])
    assert [(n.id, n.type) for n in adjacency.neighbours(1)] == [(2, "FORMAL_SIM"), (2, "CONCEPT_SIM")]
    assert adjacency.edge(2, 1, "FORMAL_SIM") == pytest.approx(0.8)
    assert adjacency.edge(1, 3, "FORMAL_SIM") is None
    stats = adjacency.stats()
    assert stats["components"] == 3 and stats["isolated"] == 1  # {1,2,3}, {4,5}, {6}
    # an upload near 1 (0.9) and 4 (0.3) borrows both works' links, weighted by closeness
    mixed = adjacency.mixed_link_strength([(1, 0.9), (4, 0.3)], np.array([2, 3, 5]))
    assert mixed == pytest.approx([0.9 * 0.7 / 1.2, 0.9 * 0.4 / 1.2, 0.3 * 0.9 / 1.2])
    assert adjacency.mixed_link_strength([(1, 0.0)], np.array([2])) == pytest.approx([0.0])
    # a held-out work carries no two-hop link: 1 reaches 3 only through 2
    assert adjacency.link_strength(1, np.array([3]), avoid=np.array([2])) == pytest.approx([0.0])
