"""A read-only, in-memory snapshot of the similarity edges for the recommender's hot path.

The graph database is the store of record, but a two-hop neighbourhood
query costs tens of milliseconds there (measured: ~37 ms on a 100k-node
LadybugDB graph) against a 10 ms budget for a whole recommendation. The
edges are few (K per node per type), so they are exported once into CSR
arrays (numpy) where one- and two-hop lookups are microseconds. Edges are
undirected here: A in B's top-K links them both ways, at the larger weight.

At a million works the snapshot is ~60M edges: building it from the graph
store at every server start took ~9 s at 100k (so ~1.5 min at 1M). The build
therefore writes the CSR arrays once (``save``) and a server maps them
(``load``): the operating system pages in what requests touch, several worker
processes share one copy, and start-up costs milliseconds whatever the size.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from asterism.files import atomic_write, fsync_folder
from asterism.graph.edges import EdgeSet
from asterism.home import Home
from asterism.index.vectors import Ids, as_ids

TWO_HOP_DECAY = 1.0  # a two-hop link weighs w1·w2 (already < either weight)


@dataclass(frozen=True)
class Neighbour:
    id: int
    type: str
    weight: float


class Adjacency:
    """Per edge type, a symmetric CSR matrix over the artwork ids the graph knows."""

    def __init__(self, edge_sets: Iterable[EdgeSet], nodes: Ids | None = None) -> None:
        sets = [e for e in edge_sets]
        known = [as_ids(nodes)] if nodes is not None else []
        known += [np.concatenate([e.src, e.dst]) for e in sets]
        self.ids: Ids = np.unique(np.concatenate(known)) if known else np.zeros(0, np.int64)
        n = len(self.ids)
        self.types = [e.type for e in sets]
        self._matrices: dict[str, csr_matrix] = {}
        for edges in sets:
            rows = np.searchsorted(self.ids, edges.src)
            cols = np.searchsorted(self.ids, edges.dst)
            self._matrices[edges.type] = _symmetric_max(rows, cols, edges.weight, n)
        self._combined = _combined(self._matrices.values(), n)
        self._linked = self._combined.copy()
        self._linked.data[:] = 1.0  # 0/1: counts two-hop paths with one product

    @classmethod
    def _of(
        cls, ids: Ids, matrices: dict[str, csr_matrix], combined: csr_matrix, linked: csr_matrix
    ) -> Adjacency:
        self = cls.__new__(cls)
        self.ids, self.types, self._matrices = ids, list(matrices), matrices
        self._combined, self._linked = combined, linked
        return self

    def save(self, folder: Path, version: str) -> None:
        """Write the CSR arrays as ``.npy`` files, then ``adjacency.json`` naming ``version`` last.

        ``version`` says which edges these are (the graph stage's state); ``load`` answers None
        for another version, so a snapshot never outlives the edges it was made from. The
        manifest is written last and atomically: a killed save leaves no manifest, or the old one.
        """
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "adjacency.json").unlink(missing_ok=True)
        arrays: dict[str, npt.NDArray[np.generic]] = {"ids": self.ids}
        named = {
            **{f"type-{i}": m for i, m in enumerate(self._matrices.values())},
            "combined": self._combined,
        }
        for name, matrix in named.items():
            arrays.update({f"{name}.data": matrix.data, f"{name}.indices": matrix.indices})
            arrays[f"{name}.indptr"] = matrix.indptr
        arrays["linked.data"] = self._linked.data
        for name, array in arrays.items():
            atomic_write(folder / f"{name}.npy", functools.partial(_save_npy, array=array))
        fsync_folder(folder)
        manifest = {"version": version, "types": self.types, "nodes": len(self.ids)}
        atomic_write(folder / "adjacency.json", lambda temporary: temporary.write_text(json.dumps(manifest)))

    @classmethod
    def load(cls, folder: Path, version: str) -> Adjacency | None:
        """The snapshot ``save`` wrote for ``version``, memory-mapped; None if absent or of other edges."""
        try:
            manifest = json.loads((folder / "adjacency.json").read_text())
        except (OSError, ValueError):
            return None
        if manifest.get("version") != version:
            return None
        ids = np.load(folder / "ids.npy", mmap_mode="r")
        n = len(ids)

        def matrix(name: str) -> csr_matrix:
            parts = [
                np.load(folder / f"{name}.{part}.npy", mmap_mode="r")
                for part in ("data", "indices", "indptr")
            ]
            return csr_matrix(tuple(parts), shape=(n, n), copy=False)

        matrices = {type_: matrix(f"type-{i}") for i, type_ in enumerate(manifest["types"])}
        combined = matrix("combined")
        ones = np.load(folder / "linked.data.npy", mmap_mode="r")  # the 0/1 twin: mapped, not allocated
        linked = csr_matrix((ones, combined.indices, combined.indptr), shape=(n, n), copy=False)
        return cls._of(ids, matrices, combined, linked)

    def _row(self, artwork_id: int) -> int | None:
        position = int(np.searchsorted(self.ids, artwork_id))
        if position < len(self.ids) and self.ids[position] == artwork_id:
            return position
        return None

    def neighbours(self, artwork_id: int, types: Iterable[str] | None = None) -> list[Neighbour]:
        """Every typed edge at this work, strongest first (ties by id, then type)."""
        row = self._row(artwork_id)
        if row is None:
            return []
        found = []
        for type_ in types or self.types:
            matrix = self._matrices.get(type_)
            if matrix is None:
                continue
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            for col, weight in zip(matrix.indices[start:end], matrix.data[start:end], strict=True):
                found.append(Neighbour(int(self.ids[col]), type_, float(weight)))
        return sorted(found, key=lambda n: (-n.weight, n.id, n.type))

    def edge(self, a: int, b: int, type_: str) -> float | None:
        """The weight of the ``type_`` edge between a and b, if there is one."""
        ra, rb, matrix = self._row(a), self._row(b), self._matrices.get(type_)
        if ra is None or rb is None or matrix is None:
            return None
        start, end = matrix.indptr[ra], matrix.indptr[ra + 1]
        hit = np.nonzero(matrix.indices[start:end] == rb)[0]
        return float(matrix.data[start + hit[0]]) if len(hit) else None

    def mixed_link_strength(
        self, anchors: Sequence[tuple[int, float]], candidates: Ids, avoid: Ids | None = None
    ) -> npt.NDArray[np.float64]:
        """The links of several works at once, each weighted by how close it is (an upload's neighbours).

        An upload has no links of its own; borrowing those of its one nearest work
        bets everything on that work being right. A similarity-weighted mean over
        its nearest works keeps what they agree on.
        """
        total = sum(max(weight, 0.0) for _, weight in anchors)
        out = np.zeros(len(candidates), dtype=np.float64)
        if total <= 0:
            return out
        for work, weight in anchors:
            if weight > 0:
                out += weight * self.link_strength(work, candidates, avoid)
        return out / total

    def link_strength(self, start: int, candidates: Ids, avoid: Ids | None = None) -> npt.NDArray[np.float64]:
        """Per candidate: the mean weight of the typed links joining it to ``start`` over 1 and 2 hops.

        Each direct edge counts its weight (one per type: formally *and*
        historically linked counts twice); a two-hop path start–m–c counts
        w1·w2 over the strongest edge of each hop. No link at all scores 0.

        Only the start's neighbourhood is read: its rows, and the rows of its
        neighbours (K² entries or so). Sums over every node, or a sparse
        product with the whole matrix, cost work in proportion to the
        collection (scipy's product allocates and clears arrays as long as
        it): ~5 ms a request at 1M works for the same answer.
        """
        candidates = as_ids(candidates)
        out = np.zeros(len(candidates), dtype=np.float64)
        row = self._row(start)
        if row is None or not self._matrices or len(candidates) == 0:
            return out
        columns, weights = [], []
        for matrix in self._matrices.values():  # direct links, one per type
            direct, weight = _row_of(matrix, row)
            columns.append(direct)
            weights.append(weight.astype(np.float64))
        middle, first = _row_of(self._combined, row)
        if avoid is not None and len(avoid) and len(middle):  # no path through a held-out work
            keep = ~np.isin(self.ids[middle], as_ids(avoid)) & (first != 0)
            middle, first = middle[keep], first[keep]
        if len(middle):  # two hops start–m–c: w(start, m) · w(m, c) for every m and every c of m
            lengths = self._combined.indptr[middle + 1] - self._combined.indptr[middle]
            entries = _gather(self._combined.indptr, middle, lengths)
            columns.append(self._combined.indices[entries])
            weights.append(
                TWO_HOP_DECAY * np.repeat(first.astype(np.float64), lengths) * self._combined.data[entries]
            )
        column, weight = np.concatenate(columns), np.concatenate(weights)
        positions = np.clip(np.searchsorted(self.ids, candidates), 0, len(self.ids) - 1)
        valid = self.ids[positions] == candidates
        wanted, slot_of = np.unique(positions[valid], return_inverse=True)
        slots = np.clip(np.searchsorted(wanted, column), 0, max(len(wanted) - 1, 0))
        hit = (column != row) & (wanted[slots] == column) if len(wanted) else np.zeros(len(column), bool)
        sums = np.bincount(slots[hit], weights=weight[hit], minlength=len(wanted))
        counts = np.bincount(slots[hit], minlength=len(wanted)).astype(np.float64)
        linked = counts > 0
        means = np.zeros(len(wanted), dtype=np.float64)
        means[linked] = sums[linked] / counts[linked]
        out[valid] = means[slot_of]
        return out

    def stats(self) -> dict[str, float | int]:
        """Average degree, isolated nodes and connected components over all similarity types."""
        n = len(self.ids)
        if n == 0:
            return {"nodes": 0, "average_degree": 0.0, "isolated": 0, "components": 0}
        degree = np.diff(self._combined.indptr)
        components, _ = connected_components(self._combined, directed=False)
        return {
            "nodes": n,
            "average_degree": float(degree.mean()),
            "isolated": int((degree == 0).sum()),
            "components": int(components),
        }

    @classmethod
    def from_store(cls, store: object, types: Iterable[str], nodes: Ids | None = None) -> Adjacency:
        edges = [store.edges(type_) for type_ in types]  # type: ignore[attr-defined]
        return cls(edges, nodes)

    def sizes(self) -> Mapping[str, int]:
        return {type_: int(matrix.nnz // 2) for type_, matrix in self._matrices.items()}


def snapshot_version(home: Home, store_name: str) -> str:
    """Which edges a snapshot holds: the digest of the graph stage's state for that store.

    The state changes whenever the stage writes edges or the served works change, so a
    snapshot of other edges (an older build, a graph store edited since) is never mapped.
    """
    state = home.graph_state(store_name)
    return hashlib.sha256(state.read_bytes() if state.is_file() else b"").hexdigest()


def _symmetric_max(rows: Ids, cols: Ids, weights: npt.NDArray[np.float32], n: int) -> csr_matrix:
    """An undirected weighted matrix; a pair given twice (both top-Ks) keeps its larger weight."""
    r = np.concatenate([rows, cols])
    c = np.concatenate([cols, rows])
    w = np.concatenate([weights, weights]).astype(np.float32)
    keep = r != c
    r, c, w = r[keep], c[keep], w[keep]
    if len(r) == 0:
        return csr_matrix((n, n), dtype=np.float32)
    order = np.lexsort((-w, c, r))  # per (r, c), the largest weight first
    r, c, w = r[order], c[order], w[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return csr_matrix((w[first], (r[first], c[first])), shape=(n, n))


def _combined(matrices: Iterable[csr_matrix], n: int) -> csr_matrix:
    """Element-wise maximum over the edge types: the strongest link between two works."""
    result = csr_matrix((n, n), dtype=np.float32)
    for matrix in matrices:
        result = result.maximum(matrix)
    return csr_matrix(result)


def _save_npy(path: Path, *, array: npt.NDArray[np.generic]) -> None:
    with path.open("wb") as out:  # np.save on a path not ending in .npy would write to another file
        np.save(out, np.ascontiguousarray(array))


def _row_of(matrix: csr_matrix, row: int) -> tuple[Ids, npt.NDArray[np.float32]]:
    """(columns, weights) of one CSR row, as views."""
    begin, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[begin:end], matrix.data[begin:end]


def _gather(indptr: npt.NDArray[np.int64], rows: Ids, lengths: npt.NDArray[np.int64]) -> Ids:
    """The positions in a CSR matrix's ``indices``/``data`` of every entry of ``rows``, row by row."""
    total = int(lengths.sum())
    offsets = np.repeat(indptr[rows] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return (offsets + np.arange(total)).astype(np.int64)
