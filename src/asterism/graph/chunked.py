"""The graph read in chunks, whichever store holds it: what a bulk export streams from.

LadybugDB materialises a query's result whole, so it is read by ranges of
``chunk`` artwork ids (K edges each per type); Neo4j's driver streams, so it
is read ``chunk`` rows at a time. Either way nothing holds all the edges at
once (``graph/neo4j_import.py`` writes them out as they come).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from asterism.graph import cypher
from asterism.graph.base import Entity, GraphStore
from asterism.graph.edges import EdgeSet
from asterism.index.vectors import Ids

CHUNK = 20_000  # artworks per LadybugDB read (K edges each per type); rows per Neo4j chunk


class GraphSource(Protocol):
    """The graph read in chunks, whichever store holds it."""

    def artwork_ids(self) -> Ids:
        """Every Artwork node's id, ascending."""
        ...

    def entities(self) -> Iterator[Sequence[Entity]]: ...

    def similarity_edges(self, type_: str) -> Iterator[EdgeSet]: ...

    def knowledge_links(self, type_: str, start: str) -> Iterator[Sequence[tuple[Any, str]]]:
        """(start, entity key) pairs of one relation from ``start`` nodes, "Artwork" or "Entity"."""
        ...


class LadybugSource:
    """A ``LadybugGraph`` read by ranges of ``chunk`` artwork ids (its results are materialised whole)."""

    def __init__(self, graph: Any, chunk: int = CHUNK) -> None:
        self.graph = graph
        self.chunk = max(1, int(chunk))
        self._ids: Ids | None = None

    def artwork_ids(self) -> Ids:
        if self._ids is None:
            self._ids = np.asarray(self.graph.artwork_ids(), dtype=np.int64)
        return self._ids

    def _ranges(self) -> Iterator[tuple[int, int]]:
        ids = self.artwork_ids()
        for start in range(0, len(ids), self.chunk):
            yield int(ids[start]), int(ids[min(start + self.chunk, len(ids)) - 1])

    def _arrow(self, query: str, parameters: dict[str, Any] | None = None) -> Any:
        return self.graph._conn.execute(query, parameters or {}).get_as_arrow()

    def entities(self) -> Iterator[Sequence[Entity]]:
        for batch in self._arrow(cypher.EXPORT_ENTITIES).to_batches(self.chunk):
            yield [
                Entity(str(k), str(c), str(lb)) for k, c, lb in zip(*batch.to_pydict().values(), strict=True)
            ]

    def similarity_edges(self, type_: str) -> Iterator[EdgeSet]:
        query = cypher.fill(cypher.LADYBUG_EXPORT_EDGES, type=type_)
        for lo, hi in self._ranges():
            table = self._arrow(query, {"lo": lo, "hi": hi})
            yield EdgeSet(
                type_,
                np.asarray(table.column("src").to_numpy(), dtype=np.int64),
                np.asarray(table.column("dst").to_numpy(), dtype=np.int64),
                np.asarray(table.column("weight").to_numpy(), dtype=np.float32),
            )

    def knowledge_links(self, type_: str, start: str) -> Iterator[Sequence[tuple[Any, str]]]:
        if start == "Entity":
            for batch in self._arrow(cypher.fill(cypher.EXPORT_ENTITY_LINKS, type=type_)).to_batches(
                self.chunk
            ):
                columns = batch.to_pydict()
                yield list(zip(columns["src"], columns["dst"], strict=True))
            return
        query = cypher.fill(cypher.LADYBUG_EXPORT_ARTWORK_LINKS, type=type_)
        for lo, hi in self._ranges():
            columns = self._arrow(query, {"lo": lo, "hi": hi}).to_pydict()
            yield list(zip(columns["src"], columns["dst"], strict=True))


class Neo4jSource:
    """A ``Neo4jGraph`` read through the driver's streamed results, ``chunk`` rows at a time."""

    def __init__(self, graph: Any, chunk: int = CHUNK) -> None:
        self.graph = graph
        self.chunk = max(1, int(chunk))

    def _stream(self, query: str) -> Iterator[list[Any]]:
        with self.graph._driver.session(database=self.graph._database) as session:
            rows: list[Any] = []
            for record in session.run(query):
                rows.append(record.values())
                if len(rows) >= self.chunk:
                    yield rows
                    rows = []
            if rows:
                yield rows

    def artwork_ids(self) -> Ids:
        return np.asarray(self.graph.artwork_ids(), dtype=np.int64)

    def entities(self) -> Iterator[Sequence[Entity]]:
        for rows in self._stream(cypher.EXPORT_ENTITIES):
            yield [Entity(str(k), str(c), str(lb)) for k, c, lb in rows]

    def similarity_edges(self, type_: str) -> Iterator[EdgeSet]:
        for rows in self._stream(cypher.fill(cypher.NEO4J_EDGES, type=type_)):
            src, dst, weight = zip(*rows, strict=True)
            yield EdgeSet(
                type_,
                np.asarray(src, dtype=np.int64),
                np.asarray(dst, dtype=np.int64),
                np.asarray(weight, dtype=np.float32),
            )

    def knowledge_links(self, type_: str, start: str) -> Iterator[Sequence[tuple[Any, str]]]:
        query = cypher.EXPORT_ENTITY_LINKS if start == "Entity" else cypher.NEO4J_EXPORT_ARTWORK_LINKS
        for rows in self._stream(cypher.fill(query, type=type_)):
            yield [(s, d) for s, d in rows]


def graph_source(store: GraphStore, chunk: int = CHUNK) -> GraphSource:
    """The chunked reader for one of the two graph stores."""
    if store.name == "ladybug":
        return LadybugSource(store, chunk)
    if store.name == "neo4j":
        return Neo4jSource(store, chunk)
    raise ValueError(f"no bulk export from a {store.name!r} graph store")


__all__ = ["CHUNK", "GraphSource", "LadybugSource", "Neo4jSource", "graph_source"]
