"""One FAISS index per affinity: cosine on unit vectors, results as artwork ids.

Which index: the type follows the collection's size unless configured.
Below ~50k vectors ``IndexFlatIP`` is exact and still ~1 ms a query, so there
is nothing to tune. Up to a few million, ``IndexHNSWFlat`` (M=32) answers in a
fraction of a millisecond; its ``efSearch`` is tuned after each build (and
each doubling) to the smallest value reaching recall@10 ≥ 0.95 (+0.01 margin)
against exact search, on vectors held out of the graph until tuned, because
the right value depends on the data, not on the index size alone (where the
data put the target out of reach, the smallest value within 0.01 of the best
recall measured: the cost grows with efSearch, the recall no more).
Beyond that, ``IndexIVFPQ`` (trained on a sample) keeps memory at tens of
bytes a vector; its scores are approximate, which is fine because the
multi-affinity searcher re-scores every candidate exactly from the VectorSet.

Ids: the index is wrapped in ``IndexIDMap`` (the id array is serialised in the
same file as the index) rather than keeping an id array beside it, so one
atomic rename publishes index and mapping together and they can never drift
apart after a crash. Plain ``IndexIDMap`` rather than ``IndexIDMap2``: the
latter adds a hash map id→position (tens of bytes a vector, rebuilt on every
load) that only ``reconstruct(id)`` needs, and exact vectors come from the
VectorSet. A sorted copy of the ids answers "already present?" for ``add``.

Files: ``save`` writes temp + fsync + rename, then a JSON manifest beside it
(kind, dim, model key, config, a digest of the id mapping). ``load`` maps the
file with ``IO_FLAG_MMAP_IFC | IO_FLAG_READ_ONLY`` (in faiss 1.15 that is the
flag that maps flat codes, HNSW storage and IVF lists; plain ``IO_FLAG_MMAP``
only affects IVF lists) and falls back to a normal read. A mapped index must
never be mutated (faiss aborts the process), so ``add`` first turns it into an
in-memory copy. Atomic renames also keep existing mappings valid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

from asterism.embed.base import Vectors
from asterism.files import atomic_write
from asterism.index.vectors import Ids, VectorSet, as_ids, as_matrix, last_occurrences

log = logging.getLogger(__name__)
_params: Any = faiss  # the bundled stubs lack the SearchParameters* classes this module uses

Kind = Literal["auto", "flat", "hnsw", "ivfpq"]
Concrete = Literal["flat", "hnsw", "ivfpq"]
Scores = npt.NDArray[np.float32]
FLAT_LIMIT, HNSW_LIMIT = 50_000, 4_000_000
EF_CANDIDATES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
TUNE_SAMPLE, TUNE_MARGIN = 300, 0.01  # held-out queries for efSearch tuning; margin for their sampling error
PLATEAU = 0.01  # when the target recall is out of reach: recall this close to the best measured is enough
EF_FILTERED = 2048  # the highest efSearch a search within an admitted set raises itself to
FORMAT = 2


@dataclass(frozen=True)
class IndexConfig:
    """How an index is built; ``kind="auto"`` picks by size and switches type as the set grows."""

    kind: Kind = "auto"
    flat_limit: int = FLAT_LIMIT
    hnsw_limit: int = HNSW_LIMIT
    hnsw_m: int = 32
    ef_construction: int = 100
    ef_search: int = 64  # starting point; replaced by the tuned value when target_recall is set
    target_recall: float | None = 0.95  # recall@10 the HNSW efSearch is tuned for; None: keep ef_search
    nlist: int | None = None  # IVF lists; default ≈ 4·√n
    pq_m: int | None = None  # PQ sub-quantizers; default: the largest divisor of dim ≤ dim/4 (≤ 64)
    nprobe: int = 128  # IVF lists scanned; bench/search.py: 32 → recall 0.83, 128 → 0.92 (re-ranked, 1M)
    train_size: int = 200_000

    def choose(self, size: int) -> Concrete:
        if self.kind != "auto":
            return self.kind
        if size < self.flat_limit:
            return "flat"
        return "hnsw" if size < self.hnsw_limit else "ivfpq"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexConfig:
        return cls(**{key: value for key, value in data.items() if key in {f.name for f in fields(cls)}})


def choose_kind(size: int, kind: Kind = "auto") -> Concrete:
    """The index type for ``size`` vectors under the default thresholds."""
    return IndexConfig(kind=kind).choose(size)


def _pq_m(dim: int) -> int:
    limit = max(1, min(64, dim // 4))
    return max(m for m in range(1, limit + 1) if dim % m == 0)


def _new_inner(dim: int, kind: Concrete, config: IndexConfig, data: Vectors, total: int) -> Any:
    """An empty (but trained, for IVF-PQ) inner index for ``total`` vectors, ``data`` their sample."""
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        inner: Any = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = config.ef_construction
        inner.hnsw.efSearch = config.ef_search
        return inner
    if len(data) < 64:
        raise ValueError(f"IVF-PQ needs at least 64 vectors to train on, got {len(data)}: use a flat index")
    rng = np.random.default_rng(0)
    sample = data[np.sort(rng.choice(len(data), min(len(data), config.train_size), replace=False))]
    nlist = config.nlist or int(4 * math.sqrt(total))
    nlist = max(1, min(nlist, len(sample) // 39 or 1))  # k-means wants ≥ 39 points a centroid
    nbits = 8 if len(sample) >= 39 * 256 else max(1, min(8, int(math.log2(max(2, len(sample) // 39)))))
    quantizer = faiss.IndexFlatIP(dim)
    inner = faiss.IndexIVFPQ(
        quantizer, dim, nlist, config.pq_m or _pq_m(dim), nbits, faiss.METRIC_INNER_PRODUCT
    )
    inner.train(np.ascontiguousarray(sample))
    inner.nprobe = config.nprobe
    return inner


def _kind_of(inner: Any) -> Concrete:
    kinds: tuple[tuple[Any, Concrete], ...] = (
        (faiss.IndexHNSW, "hnsw"), (faiss.IndexIVF, "ivfpq"), (faiss.IndexFlat, "flat"),
    )  # fmt: skip
    for base, kind in kinds:
        if isinstance(inner, base):
            return kind
    raise ValueError(f"unsupported index type {type(inner).__name__}")


class VectorIndex:
    """A searchable set of (artwork id, unit vector) for one affinity."""

    def __init__(self, dim: int, *, config: IndexConfig | None = None, model: str = "") -> None:
        self.dim = dim
        self.config = config or IndexConfig()
        self.model = model
        self.kind: Concrete = self.config.choose(0)
        self._index: Any = None  # IndexIDMap, created by the first add (IVF-PQ trains on it)
        self._sorted_ids: Ids = np.zeros(0, dtype=np.int64)
        self._mapped = False
        self._tuned_at = 0

    @classmethod
    def build(
        cls,
        ids: Any,
        vectors: Any,
        *,
        kind: Kind | None = None,
        config: IndexConfig | None = None,
        model: str = "",
    ) -> VectorIndex:
        """A new index over these vectors; ``kind`` overrides ``config.kind``."""
        settings = config or IndexConfig()
        if kind is not None:
            settings = replace(settings, kind=kind)
        matrix = as_matrix(vectors)
        index = cls(int(matrix.shape[1]), config=settings, model=model)
        index.add(as_ids(ids), matrix)
        return index

    @classmethod
    def from_vector_set(cls, vectors: VectorSet, *, config: IndexConfig | None = None) -> VectorIndex:
        return cls.build(vectors.ids, vectors.vectors, config=config, model=vectors.model)

    @property
    def ntotal(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    def ids(self) -> Ids:
        """Artwork ids in index order (a copy)."""
        if self._index is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(faiss.vector_to_array(self._index.id_map), dtype=np.int64)

    def contains(self, ids: Any) -> npt.NDArray[np.bool_]:
        found: npt.NDArray[np.bool_] = np.isin(as_ids(ids), self._sorted_ids)
        return found

    @property
    def mapped(self) -> bool:
        """Whether the index is a read-only memory mapping of its file."""
        return self._mapped

    @property
    def inner(self) -> Any:
        """The wrapped FAISS index (flat, HNSW or IVF-PQ), for inspection."""
        return None if self._index is None else faiss.downcast_index(self._index.index)

    @property
    def ef_search(self) -> int | None:
        return int(self.inner.hnsw.efSearch) if self.kind == "hnsw" and self._index is not None else None

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if self.kind == "hnsw" and self._index is not None:
            self.inner.hnsw.efSearch = int(value)

    @property
    def nprobe(self) -> int | None:
        return int(self.inner.nprobe) if self.kind == "ivfpq" and self._index is not None else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self.kind == "ivfpq" and self._index is not None:
            self.inner.nprobe = int(value)

    def add(self, ids: Any, vectors: Any, *, source: VectorSet | None = None) -> int:
        """Add the works not yet indexed (present ids are skipped); returns how many were added.

        HNSW and flat indexes grow in place. When the new size calls for
        another type (``kind="auto"``), the index is rebuilt from all vectors:
        taken from ``source`` when given, else read back from a flat/HNSW
        index's own exact storage (an IVF-PQ index only has lossy codes, so it
        needs ``source``).
        """
        new_ids = as_ids(ids)
        matrix = as_matrix(vectors, self.dim) if len(new_ids) else np.zeros((0, self.dim), np.float32)
        if len(new_ids) != len(matrix):
            raise ValueError(f"{len(new_ids)} ids for {len(matrix)} vectors")
        keep = last_occurrences(new_ids)
        keep = keep[~self.contains(new_ids[keep])]
        if len(keep) == 0:
            return 0
        new_ids, matrix = new_ids[keep], matrix[keep]
        target = self.config.choose(self.ntotal + len(new_ids))
        if self._index is None or target != self.kind:
            if self.ntotal:
                old_ids, old_vectors = self._ids_and_vectors(source)
                new_ids, matrix = np.concatenate([old_ids, new_ids]), np.concatenate([old_vectors, matrix])
                log.info("index grows to %d vectors: rebuilding %s as %s", len(new_ids), self.kind, target)
            inner = _new_inner(self.dim, target, self.config, matrix, len(new_ids))
            self._index, self.kind, self._mapped = faiss.IndexIDMap(inner), target, False
            self._sorted_ids, self._tuned_at = np.zeros(0, dtype=np.int64), 0
        self._make_writable()
        due = self.kind == "hnsw" and self.ntotal + len(new_ids) >= 2 * self._tuned_at
        self._insert(new_ids, matrix, tune=due and self.config.target_recall is not None)
        self._sorted_ids = np.union1d(self._sorted_ids, new_ids)
        return len(keep)

    def _insert(self, ids: Ids, matrix: Vectors, *, tune: bool) -> None:
        """``add_with_ids``, tuning efSearch on the way when asked.

        A random tenth (≤ 300) of the batch is held back, used as queries for
        ``tune_ef_search`` and added afterwards: queries already in the graph
        would overstate recall, since HNSW links each node to its neighbours.
        """
        held = np.zeros(0, dtype=np.intp)
        if tune and len(ids) >= 100:
            held = np.sort(
                np.random.default_rng(0).choice(len(ids), min(TUNE_SAMPLE, len(ids) // 10), replace=False)
            )
        rest = np.setdiff1d(np.arange(len(ids)), held)
        self._index.add_with_ids(matrix[rest], ids[rest])
        if len(held):
            self.tune_ef_search(
                matrix[held], target=min(0.999, float(self.config.target_recall or 0) + TUNE_MARGIN)
            )
            self._tuned_at = self.ntotal + len(held)
            self._index.add_with_ids(matrix[held], ids[held])

    def _ids_and_vectors(self, source: VectorSet | None) -> tuple[Ids, Vectors]:
        ids = self.ids()
        if source is not None:
            found, vectors = source.get(ids)
            if found.all():
                return ids, vectors
        if self.kind in ("flat", "hnsw"):
            return ids, np.asarray(self.inner.reconstruct_n(0, self.ntotal), dtype=np.float32)
        raise ValueError("changing the type of an IVF-PQ index needs the VectorSet of all its vectors")

    def _make_writable(self) -> None:
        """A memory-mapped index is a read-only view: copy it into memory before changing it."""
        if self._mapped:
            self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self._mapped = False

    def tune_ef_search(self, queries: Any, *, target: float = 0.95, k: int = 10) -> int:
        """Set HNSW efSearch to the smallest candidate reaching ``target`` recall@k on ``queries``.

        Ground truth is brute force over the HNSW index's own flat storage. When no candidate
        reaches the target (hard data: at 1M clustered 720-d vectors recall@10 was 0.90 at 128
        and 0.94 at 512, bench/RESULTS.md), the smallest candidate within ``PLATEAU`` of the best
        recall measured: each step up costs search time in proportion to efSearch, and past the
        plateau buys less than a point of recall for it. Returns the chosen value.
        """
        if self.kind != "hnsw" or self.ntotal <= k:
            return int(self.ef_search or 0)
        matrix, inner = as_matrix(queries, self.dim), self.inner
        truth = [set(row.tolist()) for row in faiss.downcast_index(inner.storage).search(matrix, k)[1]]
        recalls: dict[int, float] = {}
        for ef in (candidate for candidate in EF_CANDIDATES if candidate >= k):
            found = inner.search(matrix, k, params=_params.SearchParametersHNSW(efSearch=ef))[1]
            recalls[ef] = float(
                np.mean([len(truth[i] & set(row.tolist())) / k for i, row in enumerate(found)])
            )
            if recalls[ef] >= target:
                break
        if not recalls:  # k above every candidate: nothing to tune
            return int(self.ef_search or 0)
        reached = [ef for ef, value in recalls.items() if value >= target]
        if reached:
            chosen = reached[0]
        else:
            best = max(recalls.values())
            chosen = min(ef for ef, value in recalls.items() if value >= best - PLATEAU)
            log.warning(
                "HNSW recall@%d stays below %.3f (best %.3f); efSearch %d, within %.2f of it",
                k, target, best, chosen, PLATEAU,
            )  # fmt: skip
        inner.hnsw.efSearch = chosen
        return chosen

    def search_padded(
        self, queries: Any, k: int, *, exclude: Any = (), within: Any = None, ef: int | None = None
    ) -> tuple[Scores, Ids]:
        """Batch search: (scores, ids) of shape (n_queries, min(k, ntotal)), best first.

        Slots without a result (HNSW/IVF can return fewer than k) hold id -1
        and score -inf. ``exclude`` ids are filtered inside the index (an
        ``IDSelectorNot``), so they do not use up the k slots. ``within``
        (None: everywhere) restricts the search to those ids, also inside the
        index (an ``IDSelectorBatch`` of ``within`` minus ``exclude``): a filter
        applied after a search keeps only its share of the k, one applied here
        keeps all k. Flat search stays exact. HNSW walks the whole graph but
        only admitted nodes enter its efSearch queue, so the walk ends early
        with a small admitted share: on 12k vectors, k=50, efSearch 50 kept
        recall 0.93 at a 25 % share, 0.72 at 10 % and filled 58 % of the k at
        5 %. efSearch is raised by 1/share instead (up to ``EF_FILTERED``),
        which measured recall 1.0 from 50 % down to 2 %; smaller sets are
        better scored exactly, which ``MultiSearcher`` does.

        ``ef``: the HNSW efSearch for this call instead of the tuned one (the
        graph stage's k-NN asks for less recall than a query, see
        ``graph.edges.knn_edges``); ignored by other index types.
        """
        matrix = as_matrix(queries, self.dim)
        width = max(0, min(int(k), self.ntotal))
        if width == 0:
            return np.zeros((len(matrix), 0), np.float32), np.zeros((len(matrix), 0), np.int64)
        excluded = np.unique(as_ids(exclude))
        selector: Any = None
        share = 1.0
        if within is not None:
            admitted = np.setdiff1d(as_ids(within), excluded)
            share = len(admitted) / self.ntotal
            if len(admitted) == 0:  # IDSelectorBatch of nothing: every slot empty, no search needed
                shape = (len(matrix), width)
                return np.full(shape, -np.inf, np.float32), np.full(shape, -1, np.int64)
            batch = faiss.IDSelectorBatch(admitted)  # referenced until return
            selector = batch
        elif len(excluded):
            batch = faiss.IDSelectorBatch(excluded)
            selector = faiss.IDSelectorNot(batch)
        if self.kind == "hnsw":
            ef = max(int(self.ef_search or 0) if ef is None else int(ef), width)
            ef = max(ef, min(EF_FILTERED, math.ceil(ef / share))) if share < 1 else ef
            params: Any = _params.SearchParametersHNSW(efSearch=ef)
        elif self.kind == "ivfpq":
            params = _params.SearchParametersIVF(nprobe=int(self.nprobe or 1))
        else:
            params = faiss.SearchParameters() if selector is not None else None
        if selector is not None:
            params.sel = selector
        scores, ids = self._index.search(matrix, width, params=params)
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
        return scores, ids

    def search(
        self, queries: Any, k: int, *, exclude: Any = (), within: Any = None
    ) -> tuple[list[Scores], list[Ids]]:
        """Per query, (scores, ids) of up to k nearest works, best first, with missing (-1) slots dropped."""
        scores, ids = self.search_padded(queries, k, exclude=exclude, within=within)
        valid = ids >= 0
        return [row[ok] for row, ok in zip(scores, valid, strict=True)], [
            row[ok] for row, ok in zip(ids, valid, strict=True)
        ]

    def manifest(self) -> dict[str, Any]:
        ids = self.ids()
        return {
            "format": FORMAT,
            "kind": self.kind,
            "dim": self.dim,
            "ntotal": self.ntotal,
            "model": self.model,
            "ids": "IndexIDMap (artwork ids stored in the index file)",
            "ids_sha256": hashlib.sha256(ids.tobytes()).hexdigest(),
            "ef_search": self.ef_search,
            "nprobe": self.nprobe,
            "config": asdict(self.config),
        }

    def save(self, path: Path) -> None:
        """Write the index atomically, then its manifest (``<path>.json``)."""
        if self._index is None:
            raise ValueError("nothing to save: add vectors first")
        atomic_write(path, lambda temporary: faiss.write_index(self._index, str(temporary)))
        manifest = json.dumps(self.manifest(), indent=1)
        atomic_write(path.with_suffix(".json"), lambda temporary: temporary.write_text(manifest))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True, config: IndexConfig | None = None) -> VectorIndex:
        """Read an index written by ``save``, memory-mapped when ``mmap`` and the type allows it."""
        meta_file = path.with_suffix(".json")
        manifest: dict[str, Any] = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        raw, mapped = None, False
        if mmap:
            try:
                raw = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
                mapped = True
            except RuntimeError:
                log.info("%s cannot be memory-mapped: reading it into memory", path)
        if raw is None:  # read_index returns the concrete, owning type (a downcast_index proxy would not own)
            raw = faiss.read_index(str(path))
        if not hasattr(raw, "id_map"):
            raise ValueError(f"{path} is not an id-mapped index")
        settings = config or IndexConfig.from_dict(manifest.get("config", {}))
        index = cls(int(raw.d), config=settings, model=str(manifest.get("model", "")))
        index._index, index._mapped = raw, mapped
        index.kind = _kind_of(index.inner)
        index._tuned_at = index.ntotal
        ids = index.ids()
        index._sorted_ids = np.sort(ids)
        digest = manifest.get("ids_sha256")
        if manifest and (
            manifest.get("ntotal") != index.ntotal
            or (digest and digest != hashlib.sha256(ids.tobytes()).hexdigest())
        ):
            log.warning("%s: manifest does not describe the index (interrupted save?); model unknown", path)
            index.model = ""
        if index.kind == "hnsw":
            index.ef_search = int(manifest.get("ef_search") or settings.ef_search)
        elif index.kind == "ivfpq":
            index.nprobe = int(manifest.get("nprobe") or settings.nprobe)
        return index
