"""Node embeddings of the knowledge graph: random walks + skip-gram (DeepWalk/node2vec).

Nodes that share neighbourhoods (two painters of one movement, two decades
of one century, an artist and their teacher) get nearby vectors. The walks
are node2vec's with p = q = 1 (uniform), which is DeepWalk: on this small,
typed, mostly bipartite graph the return/in-out bias adds little and costs a
second-order transition table. Everything is seeded and single-threaded so
the same graph always gives the same vectors (an unchanged collection is
never re-embedded); gensim's default hash depends on PYTHONHASHSEED, so a
stable one is passed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from asterism.knowledge.graph import Edge

DIM, WALKS, LENGTH, WINDOW, EPOCHS, SEED = 64, 10, 30, 5, 3, 7


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode())


def random_walks(
    nodes: list[str], edges: Iterable[Edge], walks: int, length: int, seed: int
) -> list[list[str]]:
    index = {node: i for i, node in enumerate(nodes)}
    neighbours: list[list[int]] = [[] for _ in nodes]
    for edge in edges:
        a, b = index[edge.src], index[edge.dst]
        neighbours[a].append(b)
        neighbours[b].append(a)
    adjacency = [np.asarray(sorted(set(n)), dtype=np.int64) for n in neighbours]
    rng = np.random.default_rng(seed)
    out: list[list[str]] = []
    for _ in range(walks):
        for start in rng.permutation(len(nodes)):
            walk = [int(start)]
            for _ in range(length - 1):
                options = adjacency[walk[-1]]
                if len(options) == 0:
                    break
                walk.append(int(options[rng.integers(len(options))]))
            out.append([nodes[i] for i in walk])
    return out


def embed_nodes(
    nodes: list[str], edges: Iterable[Edge], *, dim: int = DIM, seed: int = SEED
) -> dict[str, npt.NDArray[np.float32]]:
    """A unit vector per node (isolated nodes get none)."""
    from gensim.models import Word2Vec

    walks = random_walks(sorted(nodes), edges, WALKS, LENGTH, seed)
    model = Word2Vec(
        sentences=walks,
        vector_size=dim,
        window=WINDOW,
        min_count=1,
        sg=1,
        negative=5,
        workers=1,
        seed=seed,
        epochs=EPOCHS,
        hashfxn=_stable_hash,
    )
    vectors = {}
    for node in model.wv.index_to_key:
        vector = np.asarray(model.wv[node], dtype=np.float32)
        vectors[str(node)] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return vectors
