"""One affinity's vectors on disk: the source of truth every index is rebuilt from.

FAISS indexes are derived data: an HNSW graph or an IVF-PQ codebook can be
rebuilt, re-tuned or swapped for another type at any time, but only if the
exact vectors are kept somewhere simple. A ``VectorSet`` is that place: an
int64 id array and a float32 matrix (row *i* is the vector of ``ids[i]``),
stored as plain ``.npy`` files so they can be memory-mapped by any process
(the searcher re-scores candidates from them without loading the matrix).

Durability: each save writes a new *generation* of both files (temp file,
fsync, rename, fsync of the folder) and only then replaces ``manifest.json``
the same way; the manifest names the files of the current generation, so a
crash at any point leaves either the old or the new set, never ids from one
and vectors from the other. Old files are unlinked afterwards; a reader that
still has them mapped keeps a valid view (the inode lives until unmapped).

The manifest also records the model key (e.g. ``effnet-lite0-formal@3``):
vectors from different models are not comparable, so opening a set with the
wrong expected model raises ``ModelMismatch`` instead of silently mixing them.

Row order is insertion order (new ids are appended), which keeps "the old
rows unchanged, new rows after them" cheap to detect for incremental index
builds. Lookups by id use a sorted permutation (``searchsorted``), not a
Python dict, so a million ids cost 16 MB rather than ~100 MB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from asterism.embed.base import Vectors
from asterism.files import atomic_write

Ids = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
MANIFEST = "manifest.json"
FORMAT = 1


class ModelMismatch(ValueError):
    """The stored vectors were made by another model than the one expected."""


class Upserted(NamedTuple):
    replaced: int
    added: int


def as_ids(ids: Any) -> Ids:
    """Artwork ids as a 1-D int64 array (rejecting floats that would silently truncate)."""
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"ids must be integers, got {array.dtype}")
    return np.ascontiguousarray(array.reshape(-1), dtype=np.int64)


def as_matrix(vectors: Any, dim: int | None = None) -> Vectors:
    """Vectors as a C-contiguous float32 matrix, one row per id, finite values only."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError(f"expected a (n, dim) matrix, got shape {matrix.shape}")
    if dim is not None and matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or infinity")
    result: Vectors = np.ascontiguousarray(matrix)
    return result


def last_occurrences(ids: Ids) -> npt.NDArray[np.intp]:
    """Sorted positions of the last occurrence of each distinct id (a later row wins)."""
    reversed_unique = np.unique(ids[::-1], return_index=True)[1]
    positions: npt.NDArray[np.intp] = np.sort(len(ids) - 1 - reversed_unique)
    return positions


class VectorSet:
    """Ids and unit vectors of one affinity, optionally backed by a folder.

    Loaded sets are memory-mapped read-only; the first ``upsert`` copies the
    matrix into memory (copy-on-write), and ``save`` writes it back.
    """

    def __init__(
        self, ids: Ids, vectors: Vectors, *, model: str = "", folder: Path | None = None, generation: int = 0
    ) -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        self._ids = ids
        self._vectors = vectors
        self._owned = False  # arrays may be a read-only mapping or the caller's: copy before writing
        self.model = model
        self.folder = folder
        self._generation = generation
        self._reindex()
        if len(self._sorted) > 1 and bool((self._sorted[1:] == self._sorted[:-1]).any()):
            raise ValueError("ids must be unique")

    # construction ---------------------------------------------------------------------------------

    @classmethod
    def empty(cls, dim: int, *, model: str = "", folder: Path | None = None) -> VectorSet:
        return cls(
            np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32), model=model, folder=folder
        )

    @classmethod
    def from_arrays(cls, ids: Any, vectors: Any, *, model: str = "", folder: Path | None = None) -> VectorSet:
        """Wrap arrays (e.g. already memory-mapped ``.npy`` files) without copying when possible."""
        matrix = np.asarray(vectors)
        if matrix.dtype != np.float32 or matrix.ndim != 2:
            matrix = as_matrix(vectors)
        return cls(as_ids(ids), matrix, model=model, folder=folder)

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / MANIFEST).is_file()

    @classmethod
    def open(cls, folder: Path, *, model: str | None = None, mmap: bool = True) -> VectorSet:
        """Load the current generation; ``model`` (if given) must match the recorded model key."""
        manifest = json.loads((folder / MANIFEST).read_text())
        if model is not None and manifest["model"] != model:
            raise ModelMismatch(
                f"{folder} holds vectors of {manifest['model']!r}, expected {model!r}: re-embed and rebuild"
            )
        mode: Any = "r" if mmap else None
        ids = np.load(folder / manifest["ids"], mmap_mode=mode)
        vectors = np.load(folder / manifest["vectors"], mmap_mode=mode)
        if len(ids) != manifest["count"] or vectors.shape != (manifest["count"], manifest["dim"]):
            raise ValueError(f"{folder}: files do not match the manifest (count {manifest['count']})")
        return cls(
            ids, vectors, model=str(manifest["model"]), folder=folder, generation=int(manifest["generation"])
        )

    @classmethod
    def open_or_create(cls, folder: Path, dim: int, model: str, *, mmap: bool = True) -> VectorSet:
        """The stored set if it exists (and matches ``model``), else an empty one bound to ``folder``."""
        if cls.exists(folder):
            return cls.open(folder, model=model, mmap=mmap)
        return cls.empty(dim, model=model, folder=folder)

    # reading --------------------------------------------------------------------------------------

    @property
    def ids(self) -> Ids:
        """The ids in row order (read-only view)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    @property
    def vectors(self) -> Vectors:
        """The matrix in row order (read-only view)."""
        view = self._vectors.view()
        view.flags.writeable = False
        return view

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, artwork_id: object) -> bool:
        return isinstance(artwork_id, int | np.integer) and bool(self.rows([int(artwork_id)])[0] >= 0)

    def rows(self, ids: Any) -> npt.NDArray[np.intp]:
        """Row of each id, -1 where absent."""
        wanted = as_ids(ids)
        if len(self._sorted) == 0:
            return np.full(len(wanted), -1, dtype=np.intp)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        hit = self._sorted[at] == wanted
        rows: npt.NDArray[np.intp] = np.where(hit, self._order[at], -1).astype(np.intp)
        return rows

    def get(self, ids: Any) -> tuple[Mask, Vectors]:
        """(found mask, vectors): one row per requested id, zeros where the id is absent."""
        rows = self.rows(ids)
        found = rows >= 0
        result = np.zeros((len(rows), self.dim), dtype=np.float32)
        if found.any():
            result[found] = self._vectors[rows[found]]
        return found, result

    # writing --------------------------------------------------------------------------------------

    def upsert(self, ids: Any, vectors: Any) -> Upserted:
        """Replace the rows of ids already present, append the others (in the given order).

        A repeated id within one call takes its last vector. Nothing is written
        to disk until ``save``.
        """
        new_ids = as_ids(ids)
        matrix = as_matrix(vectors, self.dim) if len(new_ids) else np.zeros((0, self.dim), np.float32)
        if len(new_ids) != len(matrix):
            raise ValueError(f"{len(new_ids)} ids for {len(matrix)} vectors")
        if len(new_ids) == 0:
            return Upserted(0, 0)
        keep = last_occurrences(new_ids)
        new_ids, matrix = new_ids[keep], matrix[keep]
        rows = self.rows(new_ids)
        present = rows >= 0
        if present.any():
            if not self._owned:
                self._vectors = np.array(self._vectors, dtype=np.float32)  # copy-on-write
            self._vectors[rows[present]] = matrix[present]
        if (~present).any():
            self._ids = np.concatenate([np.asarray(self._ids), new_ids[~present]])
            self._vectors = np.concatenate([np.asarray(self._vectors), matrix[~present]])
            self._reindex()
        self._owned = True
        return Upserted(int(present.sum()), int((~present).sum()))

    def save(self, folder: Path | None = None) -> Path:
        """Write a new generation atomically and make it current; returns the folder."""
        target = folder or self.folder
        if target is None:
            raise ValueError("this VectorSet has no folder: pass one to save()")
        target.mkdir(parents=True, exist_ok=True)
        previous = json.loads((target / MANIFEST).read_text()) if (target / MANIFEST).is_file() else None
        generation = max(self._generation, int(previous["generation"]) if previous else 0) + 1
        names = {"ids": f"ids.{generation:06d}.npy", "vectors": f"vectors.{generation:06d}.npy"}
        atomic_write(target / names["ids"], lambda p: save_npy(p, np.asarray(self._ids, dtype=np.int64)))
        atomic_write(target / names["vectors"], lambda p: save_npy(p, np.asarray(self._vectors)))
        manifest = {
            "format": FORMAT,
            "model": self.model,
            "dim": self.dim,
            "count": len(self),
            "generation": generation,
            **names,
        }
        atomic_write(target / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=1)))
        for stale in (*target.glob("ids.*.npy"), *target.glob("vectors.*.npy")):
            if stale.name not in names.values():
                stale.unlink(missing_ok=True)
        self.folder, self._generation = target, generation
        return target

    def _reindex(self) -> None:
        self._order: npt.NDArray[np.intp] = np.argsort(self._ids, kind="stable")
        self._sorted: Ids = np.asarray(self._ids)[self._order]


def save_npy(path: Path, array: npt.NDArray[Any]) -> None:
    with path.open("wb") as handle:
        np.save(handle, array)
