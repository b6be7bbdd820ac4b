"""The affinity graph: typed similarity edges between artworks, plus the knowledge graph, in one store.

``open_graph`` is the one way to reach the configured store; the build's
graph stage writes through it and the server reads through it.
"""

from __future__ import annotations

from asterism.config import Settings
from asterism.graph.base import GraphStore
from asterism.home import Home


def open_graph(settings: Settings, *, read_only: bool = False, home: Home | None = None) -> GraphStore:
    """The configured graph store (LadybugDB under the data home by default, or a Neo4j server).

    ``home``: the build generation whose LadybugDB to open (default: the one being served).
    """
    if settings.graph.backend == "neo4j":
        from asterism.graph.neo4j import Neo4jGraph

        if not settings.graph.neo4j_uri:
            raise ValueError("graph.backend is neo4j but graph.neo4j_uri is not set")
        return Neo4jGraph(
            settings.graph.neo4j_uri, user=settings.graph.neo4j_user, password=settings.graph.neo4j_password
        )
    from asterism.graph.ladybug import LadybugGraph

    return LadybugGraph((home or settings.paths.current()).ladybug, read_only=read_only)


__all__ = ["GraphStore", "open_graph"]
