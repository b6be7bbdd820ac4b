"""The embedded graph store: LadybugDB (the maintained Kùzu fork), one folder, no server.

Writes are bulk loads: ``COPY <table> FROM <DataFrame>`` runs at hundreds of
thousands of edges a second here, while per-row ``MATCH ... CREATE`` runs at
about a hundred (measured on 2 cores). Two traps shape the code: a COPY that
meets an existing primary key crashes the process (so new node ids are
filtered against the stored ones first), and replacing all edges of a type
is a ``DROP TABLE`` + ``CREATE`` + ``COPY`` (far faster than deleting rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


class LadybugGraph:
    """A LadybugDB database at ``path`` (created on first use)."""

    name = "ladybug"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        import ladybug

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = ladybug.Database(str(path), read_only=read_only)
        self._conn: Any = ladybug.Connection(self._db)
        if not read_only:
            for statement in cypher.LADYBUG_SCHEMA:
                self._conn.execute(statement)

    def _rows(self, query: str, parameters: dict[str, Any] | None = None) -> list[list[Any]]:
        result = self._conn.execute(query, parameters or {})
        rows: list[list[Any]] = result.get_all()
        return rows

    def artwork_ids(self) -> Ids:
        table = self._conn.execute(cypher.LADYBUG_ARTWORK_IDS).get_as_arrow()
        return np.sort(np.asarray(table.column(0).to_numpy(), dtype=np.int64))

    def add_artworks(self, ids: Ids) -> int:
        wanted = np.unique(as_ids(ids))
        new = wanted[~np.isin(wanted, self.artwork_ids())]
        if len(new):
            frame = pd.DataFrame({"id": new})  # noqa: F841 - COPY reads the local variable by name
            self._conn.execute("COPY Artwork FROM frame")
        return len(new)

    def replace_knowledge(self, entities: Sequence[Entity], links: Sequence[Link]) -> None:
        for type_ in KNOWLEDGE_TYPES:
            self._conn.execute(f"DROP TABLE IF EXISTS {type_}")
        self._conn.execute("DROP TABLE IF EXISTS Entity")
        self._conn.execute(cypher.LADYBUG_ENTITY_TABLE)
        for type_ in KNOWLEDGE_TYPES:
            self._conn.execute(cypher.fill(cypher.LADYBUG_KNOWLEDGE_TABLE, type=type_))
        unique = {entity.key: entity for entity in entities}
        if unique:
            nodes = pd.DataFrame(  # noqa: F841
                {
                    "key": list(unique),
                    "kind": [e.kind for e in unique.values()],
                    "label": [e.label for e in unique.values()],
                }
            )
            self._conn.execute("COPY Entity FROM nodes")
        artworks = set(self.artwork_ids().tolist())
        for type_ in KNOWLEDGE_TYPES:
            chosen = {(link.src, link.dst) for link in links if link.type == type_ and link.dst in unique}
            from_art = sorted((s, d) for s, d in chosen if isinstance(s, int) and s in artworks)
            from_entity = sorted((s, d) for s, d in chosen if isinstance(s, str) and s in unique)
            for pairs, source in ((from_art, "Artwork"), (from_entity, "Entity")):
                if pairs:
                    frame = pd.DataFrame({"from": [s for s, _ in pairs], "to": [d for _, d in pairs]})  # noqa: F841
                    self._conn.execute(f"COPY {type_} FROM frame (from='{source}', to='Entity')")

    def knowledge(self) -> tuple[list[Entity], list[Link]]:
        entities = [
            Entity(str(k), str(kind), str(label)) for k, kind, label in self._rows(cypher.LADYBUG_ENTITIES)
        ]
        links: list[Link] = []
        for type_ in KNOWLEDGE_TYPES:
            for query in (cypher.LADYBUG_LINKS_FROM_ARTWORKS, cypher.LADYBUG_LINKS_FROM_ENTITIES):
                links += [
                    Link(src, str(dst), type_) for src, dst in self._rows(cypher.fill(query, type=type_))
                ]
        return entities, sorted(links, key=lambda link: (link.type, str(link.src), link.dst))

    def replace_edges(self, edges: EdgeSet) -> None:
        self._check_type(edges.type)
        self._conn.execute(f"DROP TABLE IF EXISTS {edges.type}")
        self._conn.execute(cypher.fill(cypher.LADYBUG_SIMILARITY_TABLE, type=edges.type))
        self.add_edges(edges)

    def add_edges(self, edges: EdgeSet) -> None:
        self._check_type(edges.type)
        if not len(edges):
            return
        self.add_artworks(np.concatenate([edges.src, edges.dst]))
        frame = pd.DataFrame(  # noqa: F841
            {"from": edges.src, "to": edges.dst, "weight": edges.weight.astype(np.float64)}
        )
        self._conn.execute(f"COPY {edges.type} FROM frame")

    def edges(self, type_: str) -> EdgeSet:
        self._check_type(type_)
        table = self._conn.execute(cypher.fill(cypher.LADYBUG_EDGES, type=type_)).get_as_arrow()
        return EdgeSet(
            type_,
            np.asarray(table.column("src").to_numpy(), dtype=np.int64),
            np.asarray(table.column("dst").to_numpy(), dtype=np.int64),
            np.asarray(table.column("weight").to_numpy(), dtype=np.float32),
        )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for label in ("Artwork", "Entity"):
            out[label] = int(self._rows(cypher.fill(cypher.LADYBUG_COUNT_NODES, label=label))[0][0])
        for kind, count in self._rows("MATCH (e:Entity) RETURN e.kind, count(e)"):
            out[f"Entity:{kind}"] = int(count)
        for type_ in (*SIMILARITY_TYPES, *KNOWLEDGE_TYPES):
            out[type_] = int(self._rows(cypher.fill(cypher.LADYBUG_COUNT_RELS, type=type_))[0][0])
        return out

    def shortest_path(self, a: int, b: int, max_hops: int = 6) -> GraphPath | None:
        if a == b:
            return GraphPath([PathNode(a, None)], [])
        query = cypher.fill(
            cypher.LADYBUG_SHORTEST, types=cypher.PATH_TYPES, hops=max(1, min(int(max_hops), 10))
        )
        rows = self._rows(query, {"a": int(a), "b": int(b)})
        if not rows:
            return None
        nodes, rels = rows[0]
        path_nodes = [
            PathNode(int(n["id"]), None)
            if n["_LABEL"] == "Artwork"
            else PathNode(None, Entity(n["key"], n["kind"], n["label"]))
            for n in nodes
        ]
        steps = [
            PathStep(r["_LABEL"], r.get("weight"), r["_SRC"] == nodes[i]["_ID"]) for i, r in enumerate(rels)
        ]
        return GraphPath(path_nodes, steps)

    @staticmethod
    def _check_type(type_: str) -> None:
        if type_ not in SIMILARITY_TYPES:
            raise ValueError(f"unknown similarity edge type {type_!r}")

    def close(self) -> None:
        self._conn.close()
        self._db.close()
