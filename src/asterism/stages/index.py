"""The index stage: the property store's vectors into one FAISS index per affinity (+ composite).

Each affinity's vectors are read from the store (the source of truth),
digested, and compared with the digest saved beside the index: equal means
nothing to do; the old rows unchanged with new rows after them means the new
works are added to the existing index; anything else rebuilds that index.
The vectors are also saved as ``.npy`` (memory-mapped at query time) so the
searcher can re-score candidates exactly with query-time weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from asterism.config import Weights
from asterism.embed.base import AFFINITIES
from asterism.files import atomic_write
from asterism.home import Home, IndexFiles
from asterism.index.faiss_index import IndexConfig, Kind, VectorIndex
from asterism.index.files import vector_digest
from asterism.index.search import composite
from asterism.index.vectors import save_npy
from asterism.recommend.query import QueryError
from asterism.store.features import SPACE_PREFIX, FeatureStore

COMPOSITE = "composite"


@dataclass
class IndexReport:
    built: dict[str, str] = field(default_factory=dict)  # affinity -> "rebuilt" | "added N" | "unchanged"
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(state != "unchanged" for state in self.built.values())


def _save_vectors(files: IndexFiles, ids: np.ndarray, matrix: np.ndarray) -> None:
    atomic_write(files.ids, lambda temporary: save_npy(temporary, ids.astype(np.int64)))
    atomic_write(files.vectors, lambda temporary: save_npy(temporary, matrix.astype(np.float32)))


def _update(
    home: Home,
    name: str,
    ids: np.ndarray,
    matrix: np.ndarray,
    kind: Kind,
    report: IndexReport,
    config: IndexConfig | None = None,
) -> None:
    files = home.index(name)
    manifest_path = files.state
    state = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    digest = vector_digest(ids, matrix)
    index_path = files.faiss
    report.sizes[name] = len(ids)
    if state.get("digest") == digest and index_path.is_file():
        report.built[name] = "unchanged"
        return
    old = int(state.get("count", 0))
    prefix_same = (
        index_path.is_file()
        and 0 < old <= len(ids)
        and state.get("dim") == int(matrix.shape[1])
        and state.get("prefix_digest") == vector_digest(ids[:old], matrix[:old])
        and state.get("kind_setting") == kind
    )
    if prefix_same:
        index = VectorIndex.load(index_path, mmap=False)
        added = index.add(ids[old:], matrix[old:])
        report.built[name] = f"added {added}"
    else:
        index = VectorIndex.build(ids, matrix, kind=kind, config=config)
        report.built[name] = f"rebuilt ({index.kind})"
    index.save(index_path)
    _save_vectors(files, ids, matrix)
    new_state = {
        "digest": digest,
        "count": len(ids),
        "dim": int(matrix.shape[1]),
        "prefix_digest": digest,
        "kind_setting": kind,
    }
    atomic_write(manifest_path, lambda path: path.write_text(json.dumps(new_state)))


def build_indexes(
    features: FeatureStore,
    home: Home,
    weights: Weights,
    *,
    kind: Kind = "auto",
    spaces: Mapping[str, str] | None = None,
) -> IndexReport:
    """Bring every affinity index and the composite index up to date with the store.

    ``spaces``: affinities served from an imported vector space (``stages/spaces.py``) instead of
    our own vectors; works the space does not cover are absent from that index (they score 0 there).
    """
    started = time.perf_counter()
    home.indexes.mkdir(parents=True, exist_ok=True)
    report = IndexReport()
    loaded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for affinity in AFFINITIES:
        source = SPACE_PREFIX + spaces[str(affinity)] if spaces and str(affinity) in spaces else str(affinity)
        ids, matrix = features.load(source)
        if source != str(affinity) and len(ids) == 0:
            raise QueryError(f"models.spaces serves {affinity} from {source!r}, which holds no vectors: "
                             "import them (asterism vectors import) or remove the setting")  # fmt: skip
        if len(ids) == 0:
            continue
        loaded[str(affinity)] = (ids, matrix)
        _update(home, str(affinity), ids, matrix, kind, report)
    if len(loaded) == len(AFFINITIES):
        all_ids = np.unique(np.concatenate([ids for ids, _ in loaded.values()]))
        parts: dict[str, np.ndarray] = {}
        for name, (ids, matrix) in loaded.items():
            aligned = np.zeros((len(all_ids), matrix.shape[1]), dtype=np.float32)
            aligned[np.searchsorted(all_ids, ids)] = matrix
            parts[name] = aligned
        shares = {
            "formal": weights.formal,
            "conceptual": weights.conceptual,
            "historical": weights.historical,
        }
        _update(home, COMPOSITE, all_ids, composite(parts, shares), kind, report)
    report.seconds = time.perf_counter() - started
    return report
