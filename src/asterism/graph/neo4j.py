"""The server graph store: Neo4j 5 through the official driver, for collections beyond one machine's disk.

Same interface and same graph as LadybugDB (queries side by side in
``cypher.py``). Writes go in batches through ``UNWIND $rows`` with ``MERGE``
on constrained keys, one transaction per batch, never one per edge.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from asterism.graph import cypher
from asterism.graph.base import (
    KNOWLEDGE_TYPES,
    SIMILARITY_TYPES,
    Entity,
    GraphPath,
    Link,
    PathNode,
    PathStep,
)
from asterism.graph.edges import EdgeSet
from asterism.index.vectors import Ids, as_ids

BATCH = 10_000


def _batches(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _run_batch(tx: Any, query: str, parameters: dict[str, Any]) -> None:
    tx.run(query, parameters).consume()


class Neo4jGraph:
    """A Neo4j database reached at ``uri`` (``bolt://`` or ``neo4j://``)."""

    name = "neo4j"

    def __init__(
        self, uri: str, *, user: str = "neo4j", password: str = "", database: str | None = None
    ) -> None:
        from neo4j import GraphDatabase

        self._driver = GraphDatabase.driver(uri, auth=(user, password) if password else None)
        self._database = database
        for statement in cypher.NEO4J_SCHEMA:
            self._run(statement)

    def _run(self, query: str, **parameters: Any) -> list[Any]:
        with self._driver.session(database=self._database) as session:
            return list(session.run(query, parameters))

    def _write(self, query: str, rows: Sequence[Any], key: str = "rows") -> None:
        with self._driver.session(database=self._database) as session:
            for batch in _batches(rows):
                session.execute_write(_run_batch, query, {key: list(batch)})

    def artwork_ids(self) -> Ids:
        return np.sort(np.asarray([r["id"] for r in self._run(cypher.NEO4J_ARTWORK_IDS)], dtype=np.int64))

    def add_artworks(self, ids: Ids) -> int:
        wanted = np.unique(as_ids(ids))
        new = wanted[~np.isin(wanted, self.artwork_ids())]
        self._write(cypher.NEO4J_ADD_ARTWORKS, [int(i) for i in new], key="ids")
        return len(new)

    def replace_knowledge(self, entities: Sequence[Entity], links: Sequence[Link]) -> None:
        self._run(cypher.NEO4J_DROP_KNOWLEDGE)
        unique = {entity.key: entity for entity in entities}
        for kind in sorted({e.kind for e in unique.values()}):
            rows = [
                {"key": e.key, "kind": e.kind, "label": e.label} for e in unique.values() if e.kind == kind
            ]
            self._write(cypher.fill(cypher.NEO4J_ADD_ENTITIES, kind=kind), rows)
        for type_ in KNOWLEDGE_TYPES:
            pairs = {(link.src, link.dst) for link in links if link.type == type_ and link.dst in unique}
            chosen = sorted(pairs, key=str)
            from_art = [{"src": s, "dst": d} for s, d in chosen if isinstance(s, int)]
            from_entity = [{"src": s, "dst": d} for s, d in chosen if isinstance(s, str)]
            self._write(cypher.fill(cypher.NEO4J_ARTWORK_LINKS, type=type_), from_art)
            self._write(cypher.fill(cypher.NEO4J_ENTITY_LINKS, type=type_), from_entity)

    def knowledge(self) -> tuple[list[Entity], list[Link]]:
        entities = [Entity(r["key"], r["kind"], r["label"]) for r in self._run(cypher.NEO4J_ENTITIES)]
        links: list[Link] = []
        for type_ in KNOWLEDGE_TYPES:
            for query in (cypher.NEO4J_LINKS_FROM_ARTWORKS, cypher.NEO4J_LINKS_FROM_ENTITIES):
                links += [Link(r["src"], r["dst"], type_) for r in self._run(cypher.fill(query, type=type_))]
        return entities, sorted(links, key=lambda link: (link.type, str(link.src), link.dst))

    def replace_edges(self, edges: EdgeSet) -> None:
        _check_type(edges.type)
        self._run(cypher.fill(cypher.NEO4J_DROP_EDGES, type=edges.type))
        self.add_edges(edges)

    def add_edges(self, edges: EdgeSet) -> None:
        _check_type(edges.type)
        if not len(edges):
            return
        self.add_artworks(np.concatenate([edges.src, edges.dst]))
        rows = [
            {"src": int(s), "dst": int(d), "weight": float(w)}
            for s, d, w in zip(edges.src, edges.dst, edges.weight, strict=True)
        ]
        self._write(cypher.fill(cypher.NEO4J_ADD_EDGES, type=edges.type), rows)

    def edges(self, type_: str) -> EdgeSet:
        _check_type(type_)
        rows = self._run(cypher.fill(cypher.NEO4J_EDGES, type=type_))
        return EdgeSet(
            type_,
            np.asarray([r["src"] for r in rows], dtype=np.int64),
            np.asarray([r["dst"] for r in rows], dtype=np.int64),
            np.asarray([r["weight"] for r in rows], dtype=np.float32),
        )

    def counts(self) -> dict[str, int]:
        out = {
            label: int(self._run(cypher.fill(cypher.NEO4J_COUNT_NODES, label=label))[0]["n"])
            for label in ("Artwork", "Entity")
        }
        for row in self._run("MATCH (e:Entity) RETURN e.kind AS kind, count(e) AS n"):
            out[f"Entity:{row['kind']}"] = int(row["n"])
        for type_ in (*SIMILARITY_TYPES, *KNOWLEDGE_TYPES):
            out[type_] = int(self._run(cypher.fill(cypher.NEO4J_COUNT_RELS, type=type_))[0]["n"])
        return out

    def shortest_path(self, a: int, b: int, max_hops: int = 6) -> GraphPath | None:
        if a == b:
            return GraphPath([PathNode(a, None)], [])
        query = cypher.fill(
            cypher.NEO4J_SHORTEST, types=cypher.PATH_TYPES, hops=max(1, min(int(max_hops), 10))
        )
        rows = self._run(query, a=int(a), b=int(b))
        if not rows:
            return None
        path = rows[0]["p"]
        nodes = [
            PathNode(int(n["id"]), None)
            if "Artwork" in n.labels
            else PathNode(None, Entity(n["key"], n["kind"], n["label"]))
            for n in path.nodes
        ]
        steps = [
            PathStep(r.type, r.get("weight"), r.start_node.element_id == path.nodes[i].element_id)
            for i, r in enumerate(path.relationships)
        ]
        return GraphPath(nodes, steps)

    def close(self) -> None:
        self._driver.close()


def _check_type(type_: str) -> None:
    if type_ not in SIMILARITY_TYPES:
        raise ValueError(f"unknown similarity edge type {type_!r}")
