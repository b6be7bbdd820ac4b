"""Opening the built indexes for queries: what the server and the build stages both need.

The index stage writes, per affinity, a FAISS index plus its ids and vectors
as ``.npy`` (see ``stages/index.py``); readers memory-map them, so several
server processes share one copy of the vectors in the page cache.
"""

from __future__ import annotations

import hashlib

import numpy as np

from asterism.embed.base import AFFINITIES
from asterism.home import Home
from asterism.index.faiss_index import VectorIndex
from asterism.index.search import MultiSearcher


def vector_digest(ids: np.ndarray, matrix: np.ndarray) -> str:
    """Identity of a set of vectors: equal digests mean nothing to rebuild."""
    digest = hashlib.sha256(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(matrix, dtype=np.float32).tobytes())
    return digest.hexdigest()


def open_searcher(home: Home) -> MultiSearcher:
    """The per-affinity indexes and their vectors, memory-mapped, ready for queries."""
    indexes, vectors = {}, {}
    for affinity in AFFINITIES:
        files = home.index(str(affinity))
        if not files.faiss.is_file():
            continue
        indexes[str(affinity)] = VectorIndex.load(files.faiss)
        ids = np.load(files.ids, mmap_mode="r")
        matrix = np.load(files.vectors, mmap_mode="r")
        vectors[str(affinity)] = (np.asarray(ids), matrix)
    return MultiSearcher(indexes, vectors)
