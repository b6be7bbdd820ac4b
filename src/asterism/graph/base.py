"""What a graph store does, whichever database holds it (LadybugDB embedded, Neo4j server).

The graph holds Artwork nodes (by artwork id), Entity nodes of the knowledge
graph (Artist, Movement, Place, Period, Century, Classification; by key),
the typed similarity edges between artworks and the knowledge relations.
Writes are bulk (whole columns); reads are the few questions the
recommender and ``asterism connect`` ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from asterism.graph.edges import EdgeSet
from asterism.index.vectors import Ids

SIMILARITY_TYPES = ("FORMAL_SIM", "CONCEPT_SIM", "HISTORICAL_SIM")
# Knowledge relations; each may go Artwork → Entity or Entity → Entity.
KNOWLEDGE_TYPES = (
    "CREATED_BY",
    "MEMBER_OF_MOVEMENT",
    "FROM_PLACE",
    "HAS_CLASSIFICATION",
    "IN_PERIOD",
    "IN_CENTURY",
    "PERIOD_IN_CENTURY",
    "INFLUENCED_BY",
    "TEACHER_OF",
)


@dataclass(frozen=True)
class Entity:
    key: str  # e.g. "artist:claude monet"
    kind: str  # Artist, Movement, Place, Period, Century, Classification
    label: str


@dataclass(frozen=True)
class Link:
    """A knowledge relation: from an artwork (int id) or an entity (key) to an entity."""

    src: int | str
    dst: str
    type: str


@dataclass(frozen=True)
class PathNode:
    artwork_id: int | None  # set for artworks
    entity: Entity | None  # set for knowledge-graph nodes


@dataclass(frozen=True)
class PathStep:
    """One hop of a path: the relation type and, for similarity edges, its weight."""

    type: str
    weight: float | None
    forward: bool = True  # the stored edge points from the earlier node of the path to the later one


@dataclass(frozen=True)
class GraphPath:
    nodes: list[PathNode]
    steps: list[PathStep]  # len(nodes) - 1


class GraphStore(Protocol):
    """A graph database holding the affinity graph and the knowledge graph."""

    name: str

    def add_artworks(self, ids: Ids) -> int:
        """Create the nodes of works not yet in the graph; returns how many were new."""
        ...

    def artwork_ids(self) -> Ids: ...

    def replace_knowledge(self, entities: Sequence[Entity], links: Sequence[Link]) -> None:
        """Swap the whole knowledge graph for this one (it is rebuilt with the historical model)."""
        ...

    def knowledge(self) -> tuple[list[Entity], list[Link]]:
        """The whole knowledge graph as stored (entities by key, links by type, source, target)."""
        ...

    def replace_edges(self, edges: EdgeSet) -> None:
        """All edges of ``edges.type`` become exactly these."""
        ...

    def add_edges(self, edges: EdgeSet) -> None:
        """Append edges of one type (incremental builds)."""
        ...

    def edges(self, type_: str) -> EdgeSet:
        """Every edge of one similarity type, as columns."""
        ...

    def counts(self) -> dict[str, int]:
        """Nodes per label and edges per type."""
        ...

    def shortest_path(self, a: int, b: int, max_hops: int = 6) -> GraphPath | None:
        """A shortest chain of edges (any type, either direction) from artwork a to artwork b."""
        ...

    def close(self) -> None: ...
