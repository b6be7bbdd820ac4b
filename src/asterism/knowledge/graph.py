"""The knowledge graph of art history the historical affinity is learned from.

Nodes: artworks, artists, movements/styles, places (nationalities, cultures,
places of origin), periods (decades), centuries, classifications. Edges:
CREATED_BY, MEMBER_OF_MOVEMENT, FROM_PLACE, IN_PERIOD, IN_CENTURY,
HAS_CLASSIFICATION, PERIOD_IN_CENTURY, INFLUENCED_BY, TEACHER_OF. Nodes and
edges are plain lists so a graph database can bulk-load them as they are.
Painters from PainterPalette outside the collection are kept only when they
are one influence/teacher hop from a collection artist, so the graph stays
bounded by the collection.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

from asterism.knowledge.painters import Painter, PainterIndex
from asterism.normalize.artists import artist_key, parse_artist
from asterism.normalize.dates import century_label, date_midpoint, decade_of
from asterism.shapes import Artwork


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    label: str


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    type: str


def artwork_node(artwork: Artwork) -> str:
    return f"artwork:{artwork.source}/{artwork.source_id}"


def _slug(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass
class KnowledgeGraph:
    nodes: MutableMapping[str, Node] = field(default_factory=dict)  # a server's: ``entities.SavedNodes``
    edges: set[Edge] = field(default_factory=set)
    entities: dict[str, list[str]] = field(default_factory=dict)  # artwork node -> its entity nodes

    def add(self, type_: str, key: str, label: str) -> str:
        node_id = f"{type_.lower()}:{_slug(key)}"
        self.nodes.setdefault(node_id, Node(node_id, type_, label))
        return node_id

    def link(self, src: str, dst: str, type_: str) -> None:
        if src != dst:
            self.edges.add(Edge(src, dst, type_))

    @classmethod
    def build(cls, artworks: Iterable[Artwork], painters: PainterIndex | None = None) -> KnowledgeGraph:
        graph = cls()
        matched: dict[str, Painter] = {}
        for artwork in artworks:
            node = graph.add("Artwork", f"{artwork.source}/{artwork.source_id}", artwork.title or "Untitled")
            entities = graph._artwork_entities(artwork, painters, matched)
            graph.entities[node] = entities
            for entity in entities:
                graph.link(node, entity, _EDGE_FOR[graph.nodes[entity].type])
        if painters is not None:
            graph._painter_relations(painters, matched)
        return graph

    def _artwork_entities(
        self, artwork: Artwork, painters: PainterIndex | None, matched: dict[str, Painter]
    ) -> list[str]:
        found: list[str] = []
        display = artwork.artist_display or artwork.artist_name
        info = parse_artist(display) if display else None
        painter = painters.match(display) if painters and display else None
        name = painter.name if painter else (artwork.artist_name or (info.name if info else None))
        if name:
            artist = self.add("Artist", artist_key(name) or name, name)
            found.append(artist)
            if painter is not None:
                matched[artist] = painter
                for movement in painter.movements[:4]:
                    self.link(artist, self.add("Movement", movement, movement), "MEMBER_OF_MOVEMENT")
                for nationality in painter.nationalities[:2]:
                    self.link(artist, self.add("Place", nationality, nationality), "FROM_PLACE")
        for style in artwork.styles[:4]:
            found.append(self.add("Movement", style, style))
        places = [artwork.culture, artwork.place, info.nationality if info else None]
        for place in dict.fromkeys(p for p in places if p):
            found.append(self.add("Place", place, place))
        if artwork.classification:
            found.append(self.add("Classification", artwork.classification, artwork.classification))
        middle = date_midpoint(artwork.date_start, artwork.date_end)
        if middle is not None:
            decade = decade_of(middle)
            period = self.add("Period", f"{decade}s", f"{decade}s")
            century = century_label(middle) or ""
            century_node = self.add("Century", century, century)
            self.link(period, century_node, "PERIOD_IN_CENTURY")
            found += [period, century_node]
        return list(dict.fromkeys(found))

    def _painter_relations(self, painters: PainterIndex, matched: dict[str, Painter]) -> None:
        for artist, painter in matched.items():
            for relation, keys in (
                ("INFLUENCED_BY", painter.influenced_by),
                ("TEACHER_OF", painter.teachers),
            ):
                for key in keys:
                    other = painters.get(key)
                    if other is None:
                        continue
                    other_node = self.add("Artist", other.key, other.name)
                    for movement in other.movements[:2]:
                        self.link(other_node, self.add("Movement", movement, movement), "MEMBER_OF_MOVEMENT")
                    if relation == "INFLUENCED_BY":
                        self.link(artist, other_node, relation)
                    else:
                        self.link(other_node, artist, relation)  # teacher -> pupil

    def content_hash(self) -> str:
        """A digest of the graph's nodes and edges: same graph, same digest."""
        digest = hashlib.sha256()
        for node_id in sorted(self.nodes):
            digest.update(node_id.encode() + b"\n")
        for edge in sorted(self.edges, key=lambda e: (e.src, e.dst, e.type)):
            digest.update(f"{edge.src}\t{edge.dst}\t{edge.type}\n".encode())
        return digest.hexdigest()


_EDGE_FOR = {
    "Artist": "CREATED_BY",
    "Movement": "MEMBER_OF_MOVEMENT",
    "Place": "FROM_PLACE",
    "Classification": "HAS_CLASSIFICATION",
    "Period": "IN_PERIOD",
    "Century": "IN_CENTURY",
}
