"""One FAISS index per affinity: cosine on unit vectors, ids that are artwork ids.

The index type follows the collection's size unless configured: exact
``IndexFlatIP`` below ~50k vectors (fast enough and always right), HNSW up to
a few million (sub-millisecond queries at recall ≥ 0.95 with efSearch ~64),
IVF-PQ beyond (memory). Each is wrapped in ``IndexIDMap2`` so search returns
artwork ids directly and adding new works never renumbers old ones. Files are
written atomically and read memory-mapped where the index type allows it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

Kind = Literal["auto", "flat", "hnsw", "ivfpq"]
FLAT_LIMIT, HNSW_LIMIT = 50_000, 5_000_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64
Ids = npt.NDArray[np.int64]


def choose_kind(size: int, kind: Kind = "auto") -> Literal["flat", "hnsw", "ivfpq"]:
    if kind != "auto":
        return kind
    if size < FLAT_LIMIT:
        return "flat"
    return "hnsw" if size < HNSW_LIMIT else "ivfpq"


def _new_index(dim: int, kind: str, training: np.ndarray | None) -> Any:
    if kind == "flat":
        inner: Any = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        assert training is not None and len(training) > 0
        lists = max(1, min(4096, int(np.sqrt(len(training)) * 4)))
        quantizer = faiss.IndexFlatIP(dim)
        inner = faiss.IndexIVFPQ(quantizer, dim, lists, max(1, dim // 8 if dim % 8 == 0 else dim // 4), 8)
        inner.metric_type = faiss.METRIC_INNER_PRODUCT
        inner.train(training[: min(len(training), 100_000)])
        inner.nprobe = 16
    return faiss.IndexIDMap2(inner)


class VectorIndex:
    """A searchable set of (artwork id, unit vector) for one affinity."""

    def __init__(self, dim: int, kind: str, index: Any, model: str = "") -> None:
        self.dim = dim
        self.kind = kind
        self.model = model
        self._index = index

    @classmethod
    def build(cls, ids: Ids, vectors: np.ndarray, *, kind: Kind = "auto", model: str = "") -> VectorIndex:
        dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else 1
        chosen = choose_kind(len(ids), kind)
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        index = cls(dim, chosen, _new_index(dim, chosen, data if chosen == "ivfpq" else None), model)
        if len(ids):
            index._index.add_with_ids(data, np.ascontiguousarray(ids, dtype=np.int64))
        return index

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> Ids:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: Ids, vectors: np.ndarray) -> int:
        """Add works not yet in the index; returns how many were added."""
        present = set(self.ids().tolist())
        keep = np.asarray([i not in present for i in ids.tolist()], dtype=bool)
        if keep.any():
            self._index.add_with_ids(
                np.ascontiguousarray(vectors[keep], dtype=np.float32), np.ascontiguousarray(ids[keep])
            )
        return int(keep.sum())

    def search(self, queries: np.ndarray, k: int) -> tuple[npt.NDArray[np.float32], Ids]:
        """(scores, ids) per query, best first; -1 ids (fewer than k works) are left to the caller."""
        data = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, ids = self._index.search(data, max(1, min(k, max(self.ntotal, 1))))
        return scores.astype(np.float32), ids.astype(np.int64)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        faiss.write_index(self._index, str(temporary))
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)
        manifest = {"dim": self.dim, "kind": self.kind, "model": self.model, "ntotal": self.ntotal}
        path.with_suffix(".json").write_text(json.dumps(manifest))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> VectorIndex:
        manifest = json.loads(path.with_suffix(".json").read_text())
        index: Any = None
        if mmap:
            try:
                index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            except RuntimeError:
                index = None  # this index type cannot be memory-mapped: read it normally
        if index is None:
            index = faiss.read_index(str(path))
        if manifest["kind"] == "hnsw":
            inner: Any = faiss.downcast_index(index.index)
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(int(manifest["dim"]), str(manifest["kind"]), index, str(manifest.get("model", "")))
