"""The graph stage: typed similarity edges and the knowledge graph into the graph store.

Per edge type, the vectors the edges were computed from are digested (as the
index stage does). Same digest: nothing to do. The old rows unchanged with
new rows after them: only the new works' top-K, plus reverse edges to them
(``graph.edges.reverse_edges``), are added. Anything else: that type's
edges are recomputed and replaced in one bulk load. The knowledge graph is
replaced whenever the historical model's graph changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asterism.config import Settings
from asterism.embed.base import AFFINITIES
from asterism.files import atomic_write
from asterism.graph.adjacency import Adjacency, snapshot_version
from asterism.graph.base import Entity, GraphStore, Link
from asterism.graph.edges import (
    EDGE_TYPE,
    EdgeSet,
    edge_recall,
    knn_edges,
    reverse_edges,
    thresholds,
    tune_build_ef,
)
from asterism.home import Home
from asterism.index.files import vector_digest
from asterism.index.search import MultiSearcher
from asterism.knowledge.graph import KnowledgeGraph, artwork_node
from asterism.shapes import Artwork


@dataclass
class GraphReport:
    built: dict[str, str] = field(default_factory=dict)  # edge type -> "unchanged" | "added N" | "rebuilt N"
    edges_per_second: float = 0.0
    recall: dict[str, float] = field(default_factory=dict)  # edge type -> sampled recall of rebuilt edges
    ef: dict[str, int] = field(default_factory=dict)  # edge type -> HNSW efSearch of its k-NN
    knowledge: str = "unchanged"
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.knowledge != "unchanged" or any(v != "unchanged" for v in self.built.values())


def knowledge_rows(graph: KnowledgeGraph, artworks: Sequence[Artwork]) -> tuple[list[Entity], list[Link]]:
    """The knowledge graph with artwork nodes as artwork ids, ready for a bulk load."""
    ids = {artwork_node(a): a.id for a in artworks if a.id is not None}
    entities = [Entity(n.id, n.type, n.label) for n in graph.nodes.values() if n.type != "Artwork"]
    links = []
    for edge in graph.edges:
        if edge.src in ids:
            artwork_id = ids[edge.src]
            assert artwork_id is not None
            links.append(Link(int(artwork_id), edge.dst, edge.type))
        elif edge.src in graph.nodes and edge.dst in graph.nodes:
            links.append(Link(edge.src, edge.dst, edge.type))
    return entities, links


def build_graph(
    settings: Settings,
    home: Home,
    store: GraphStore,
    searcher: MultiSearcher,
    knowledge: KnowledgeGraph | None,
    artworks: Sequence[Artwork],
) -> GraphReport:
    started = time.perf_counter()
    state_path = home.graph_state(store.name)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    report = GraphReport()
    limits = thresholds(settings.graph.thresholds)
    k = settings.graph.k
    served = np.asarray(sorted(a.id for a in artworks if a.id is not None), dtype=np.int64)
    store.add_artworks(served)
    written, spent = 0, 0.0
    for affinity in AFFINITIES:
        type_ = EDGE_TYPE[affinity]
        vectors = searcher.vectors.get(affinity)
        index = searcher.indexes.get(affinity)
        if vectors is None or index is None:
            continue
        ids, matrix = vectors.ids, vectors.vectors
        hidden = ids[~np.isin(ids, served)]  # embedded but not served (license, status): no edges
        digest = vector_digest(ids, matrix) + ":" + vector_digest(served, np.zeros((len(served), 0)))
        seen = state.get(type_, {})
        # edges from before the recall target existed were searched at the queries' efSearch: as good
        same_terms = (
            seen.get("k") == k
            and seen.get("threshold") == limits[affinity]
            and seen.get("edge_recall", settings.graph.edge_recall) == settings.graph.edge_recall
        )
        if seen.get("digest") == digest and same_terms:
            report.built[type_] = "unchanged"
            continue
        old = int(seen.get("count", 0))
        same_prefix = (
            0 < old <= len(ids)
            and same_terms
            and seen.get("prefix") == vector_digest(ids[:old], matrix[:old])
            and set(seen.get("served", [])) <= set(served.tolist())
        )
        ef = tune_build_ef(
            type_,
            index,
            vectors,
            k=k,
            threshold=limits[affinity],
            target=settings.graph.edge_recall,
            exclude=hidden,
        )
        if ef is not None:
            report.ef[type_] = ef
        if same_prefix:
            new_ids = ids[old:]
            fresh = knn_edges(
                type_, index, vectors, k=k, threshold=limits[affinity], only=new_ids, exclude=hidden, ef=ef
            )
            back = reverse_edges(fresh, store.edges(type_), k=k, new_ids=new_ids)
            edges = EdgeSet.concat(type_, [fresh, back])
            t = time.perf_counter()
            store.add_edges(edges)
            spent += time.perf_counter() - t
            report.built[type_] = f"added {len(edges)}"
        else:
            edges = knn_edges(type_, index, vectors, k=k, threshold=limits[affinity], exclude=hidden, ef=ef)
            report.recall[type_] = edge_recall(
                edges, vectors, k=k, threshold=limits[affinity], exclude=hidden
            )
            t = time.perf_counter()
            store.replace_edges(edges)
            spent += time.perf_counter() - t
            report.built[type_] = f"rebuilt {len(edges)}"
        written += len(edges)
        state[type_] = {
            "digest": digest,
            "prefix": vector_digest(ids, matrix),
            "count": len(ids),
            "k": k,
            "threshold": limits[affinity],
            "edge_recall": settings.graph.edge_recall,
            "served": served.tolist(),
        }
        _save(state_path, state)
    if knowledge is not None:
        version = knowledge.content_hash() + ":" + vector_digest(served, np.zeros((len(served), 0)))
        if state.get("knowledge") != version:
            entities, links = knowledge_rows(knowledge, artworks)
            store.replace_knowledge(entities, links)
            state["knowledge"] = version
            _save(state_path, state)
            report.knowledge = f"{len(entities)} entities, {len(links)} links"
    report.edges_per_second = written / spent if spent else 0.0
    snapshot, version = home.adjacency(store.name), snapshot_version(home, store.name)
    if Adjacency.load(snapshot, version) is None:  # the server maps this instead of reading every edge
        Adjacency.from_store(store, EDGE_TYPE.values(), served).save(snapshot, version)
    report.seconds = time.perf_counter() - started
    return report


def _save(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(json.dumps(state, indent=1)))
