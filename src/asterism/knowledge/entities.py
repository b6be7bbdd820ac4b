"""The knowledge graph without its artworks: what a server needs, saved by the build.

A server used to rebuild the whole knowledge graph over every work at each
start (6–12 s at 50k works) only to label entities, follow an artist's
movements and influences, and list a shown work's entities. The entity part
(every non-artwork node and the edges among them) is small — bounded by
artists, places, movements and periods, not by works — so the build saves it
beside the historical model's node vectors (``save_entities``), and a work's
own entities are read from its record when it is shown (``WorkEntities``),
with the same painter matching as the build (``KnowledgeGraph._artwork_entities``).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from asterism.files import atomic_write
from asterism.knowledge.graph import Edge, KnowledgeGraph, Node, artwork_node
from asterism.knowledge.painters import PainterIndex
from asterism.shapes import Artwork

ENTITIES = "entities.json"
ENTITY_CACHE = 50_000  # works whose entities are kept (a page shows ~13; evaluation walks them all)


def entity_part(graph: KnowledgeGraph) -> KnowledgeGraph:
    """The graph's non-artwork nodes and the edges among them (no work's entity list)."""
    nodes = {key: node for key, node in graph.nodes.items() if node.type != "Artwork"}
    edges = {e for e in graph.edges if e.src in nodes and e.dst in nodes}
    return KnowledgeGraph(nodes=nodes, edges=edges)


def save_entities(graph: KnowledgeGraph, folder: Path) -> None:
    """Write the entity part of ``graph`` into a historical model's folder (atomically)."""
    part = entity_part(graph)
    nodes = sorted(part.nodes.values(), key=lambda n: n.id)
    types = sorted({n.type for n in nodes})
    document = {  # flat lists, a type as one letter: parsed ~5x faster than a list per node
        "ids": [n.id for n in nodes],
        "labels": [n.label for n in nodes],
        "types": types,
        "type_codes": "".join(chr(65 + types.index(n.type)) for n in nodes),
        "edges": sorted([e.src, e.dst, e.type] for e in part.edges),
    }
    atomic_write(folder / ENTITIES, lambda path: path.write_text(json.dumps(document)))


def load_entities(folder: Path) -> KnowledgeGraph | None:
    """The entity part saved in ``folder``, or None when the build did not save one."""
    try:
        document = json.loads((folder / ENTITIES).read_text())
        nodes = SavedNodes(document["ids"], document["labels"], document["types"], document["type_codes"])
        edges = {Edge(e[0], e[1], e[2]) for e in document["edges"]}
    except (OSError, ValueError, KeyError, TypeError, IndexError):  # absent, torn, or another layout
        return None
    return KnowledgeGraph(nodes=nodes, edges=edges)


class SavedNodes(MutableMapping[str, Node]):
    """Saved entity nodes by id, each made a ``Node`` when asked for.

    A server asks for a few labels a request; making every node up front cost seconds at
    ~200k entities (frozen dataclasses). A node added later (the graph is not written at
    serve time, but the mapping stays a graph's) goes into an overlay.
    """

    def __init__(self, ids: list[str], labels: list[str], types: list[str], codes: str) -> None:
        self._labels, self._types, self._codes = labels, types, codes
        self._at = {key: i for i, key in enumerate(ids)}
        self._added: dict[str, Node] = {}

    def __getitem__(self, key: str) -> Node:
        found = self._added.get(key)
        if found is not None:
            return found
        at = self._at[key]
        return Node(key, self._types[ord(self._codes[at]) - 65], self._labels[at])

    def __setitem__(self, key: str, node: Node) -> None:
        self._added[key] = node

    def __delitem__(self, key: str) -> None:
        raise TypeError("saved entity nodes are read-only")

    def __contains__(self, key: object) -> bool:
        return key in self._at or key in self._added

    def __iter__(self) -> Iterator[str]:
        yield from self._at
        yield from (k for k in self._added if k not in self._at)

    def __len__(self) -> int:
        return len(self._at) + sum(k not in self._at for k in self._added)


class WorkEntities:
    """A work's entity nodes, read from its record as the build read them, cached (bounded).

    The PainterPalette index is loaded at the first work asked (a few tenths of a second),
    not at start. Each reading goes into a scratch graph: entity ids depend only on the record
    and the painters, and the served graph is never written while requests read it.
    """

    def __init__(self, painters_csv: Path | None) -> None:
        self.painters_csv = painters_csv
        self._painters: PainterIndex | None = None
        self._loaded = painters_csv is None
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def painters(self) -> PainterIndex | None:
        with self._lock:
            if not self._loaded:
                assert self.painters_csv is not None
                self._painters = PainterIndex.load(self.painters_csv)
                self._loaded = True
            return self._painters

    def __call__(self, artwork: Artwork) -> list[str]:
        node = artwork_node(artwork)
        with self._lock:
            found = self._cache.get(node)
            if found is not None:
                self._cache.move_to_end(node)
                return found
        found = KnowledgeGraph()._artwork_entities(artwork, self.painters(), {})
        with self._lock:
            self._cache[node] = found
            if len(self._cache) > ENTITY_CACHE:
                self._cache.popitem(last=False)
        return found
