"""Every query of both graph backends, side by side, so LadybugDB and Neo4j stay in step.

LadybugDB (Kùzu's Cypher) has a typed schema: node and rel tables are
declared, bulk loads use ``COPY ... FROM <dataframe>``, and shortest paths
are ``[* SHORTEST 1..n]``. Neo4j 5 is schemaless except for constraints,
loads with batched ``UNWIND $rows ... MERGE``, and uses ``shortestPath``.
The Entity key property is ``key`` (not ``id``) in both: in LadybugDB a path
mixing Artwork(id INT64) and Entity nodes misreads a same-named property of
another type.
"""

from __future__ import annotations

from asterism.graph.base import KNOWLEDGE_TYPES, SIMILARITY_TYPES

# ------------------------------------------------------------------ LadybugDB
LADYBUG_SCHEMA = [
    "CREATE NODE TABLE IF NOT EXISTS Artwork(id INT64, PRIMARY KEY(id))",
    "CREATE NODE TABLE IF NOT EXISTS Entity(key STRING, kind STRING, label STRING, PRIMARY KEY(key))",
    *[
        f"CREATE REL TABLE IF NOT EXISTS {t}(FROM Artwork TO Artwork, weight DOUBLE)"
        for t in SIMILARITY_TYPES
    ],
    *[
        f"CREATE REL TABLE IF NOT EXISTS {t}(FROM Artwork TO Entity, FROM Entity TO Entity)"
        for t in KNOWLEDGE_TYPES
    ],
]
LADYBUG_SIMILARITY_TABLE = "CREATE REL TABLE {type}(FROM Artwork TO Artwork, weight DOUBLE)"
LADYBUG_KNOWLEDGE_TABLE = "CREATE REL TABLE {type}(FROM Artwork TO Entity, FROM Entity TO Entity)"
LADYBUG_ENTITY_TABLE = "CREATE NODE TABLE Entity(key STRING, kind STRING, label STRING, PRIMARY KEY(key))"
LADYBUG_ARTWORK_IDS = "MATCH (a:Artwork) RETURN a.id"
LADYBUG_EDGES = (
    "MATCH (a:Artwork)-[r:{type}]->(b:Artwork) RETURN a.id AS src, b.id AS dst, r.weight AS weight"
)
LADYBUG_ENTITIES = "MATCH (e:Entity) RETURN e.key, e.kind, e.label ORDER BY e.key"
LADYBUG_LINKS_FROM_ARTWORKS = "MATCH (a:Artwork)-[:{type}]->(e:Entity) RETURN a.id, e.key"
LADYBUG_LINKS_FROM_ENTITIES = "MATCH (a:Entity)-[:{type}]->(e:Entity) RETURN a.key, e.key"
LADYBUG_COUNT_NODES = "MATCH (n:{label}) RETURN count(n)"
LADYBUG_COUNT_RELS = "MATCH ()-[r:{type}]->() RETURN count(r)"
# ``connect`` walks similarity edges and artist relations only: hubs such as a century or
# "Painting" would link any two works in two meaningless hops.
PATH_TYPES = "FORMAL_SIM|CONCEPT_SIM|HISTORICAL_SIM|CREATED_BY|INFLUENCED_BY|TEACHER_OF"
LADYBUG_SHORTEST = (
    "MATCH p = (a:Artwork)-[:{types}* SHORTEST 1..{hops}]-(b:Artwork) "
    "WHERE a.id = $a AND b.id = $b RETURN nodes(p), rels(p) LIMIT 1"
)

# ------------------------------------------------------------------ Neo4j 5
NEO4J_SCHEMA = [
    "CREATE CONSTRAINT artwork_id IF NOT EXISTS FOR (a:Artwork) REQUIRE a.id IS UNIQUE",
    "CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE e.key IS UNIQUE",
    "CREATE INDEX entity_kind IF NOT EXISTS FOR (e:Entity) ON (e.kind)",
]
NEO4J_ADD_ARTWORKS = "UNWIND $ids AS id MERGE (:Artwork {id: id})"
NEO4J_ARTWORK_IDS = "MATCH (a:Artwork) RETURN a.id AS id"
# Entity labels (Artist, Movement, ...) are added per kind: a label cannot be a parameter.
NEO4J_ADD_ENTITIES = (
    "UNWIND $rows AS row MERGE (e:Entity {key: row.key}) SET e.kind = row.kind, e.label = row.label, e:{kind}"
)
NEO4J_DROP_KNOWLEDGE = "MATCH (e:Entity) DETACH DELETE e"
NEO4J_ARTWORK_LINKS = "UNWIND $rows AS row MATCH (a:Artwork {id: row.src}) MATCH (e:Entity {key: row.dst}) MERGE (a)-[:{type}]->(e)"
NEO4J_ENTITY_LINKS = "UNWIND $rows AS row MATCH (a:Entity {key: row.src}) MATCH (e:Entity {key: row.dst}) MERGE (a)-[:{type}]->(e)"
NEO4J_DROP_EDGES = "MATCH ()-[r:{type}]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
NEO4J_ADD_EDGES = (
    "UNWIND $rows AS row MATCH (a:Artwork {id: row.src}) MATCH (b:Artwork {id: row.dst}) "
    "MERGE (a)-[r:{type}]->(b) SET r.weight = row.weight"
)
NEO4J_EDGES = "MATCH (a:Artwork)-[r:{type}]->(b:Artwork) RETURN a.id AS src, b.id AS dst, r.weight AS weight"
NEO4J_ENTITIES = "MATCH (e:Entity) RETURN e.key AS key, e.kind AS kind, e.label AS label ORDER BY e.key"
NEO4J_LINKS_FROM_ARTWORKS = "MATCH (a:Artwork)-[:{type}]->(e:Entity) RETURN a.id AS src, e.key AS dst"
NEO4J_LINKS_FROM_ENTITIES = "MATCH (a:Entity)-[:{type}]->(e:Entity) RETURN a.key AS src, e.key AS dst"
NEO4J_COUNT_NODES = "MATCH (n:{label}) RETURN count(n) AS n"
NEO4J_COUNT_RELS = "MATCH ()-[r:{type}]->() RETURN count(r) AS n"
NEO4J_SHORTEST = (
    "MATCH (a:Artwork {id: $a}), (b:Artwork {id: $b}) "
    "MATCH p = shortestPath((a)-[:{types}*..{hops}]-(b)) RETURN p"
)


# ------------------------------------------------------------------ bulk export (graph/neo4j_import.py)
# Streamed reads for the neo4j-admin CSV export. LadybugDB materialises a whole result, so
# artwork-side reads go by ranges of artwork ids; ``b`` is left unlabelled so the plan expands
# from ``a`` rather than joining the Artwork table a second time (several times faster).
EXPORT_ENTITIES = "MATCH (e:Entity) RETURN e.key AS key, e.kind AS kind, e.label AS label"
EXPORT_ENTITY_LINKS = "MATCH (a:Entity)-[:{type}]->(e:Entity) RETURN a.key AS src, e.key AS dst"
LADYBUG_EXPORT_EDGES = (
    "MATCH (a:Artwork)-[r:{type}]->(b) WHERE a.id >= $lo AND a.id <= $hi "
    "RETURN a.id AS src, b.id AS dst, r.weight AS weight"
)
LADYBUG_EXPORT_ARTWORK_LINKS = "MATCH (a:Artwork)-[:{type}]->(e:Entity) WHERE a.id >= $lo AND a.id <= $hi RETURN a.id AS src, e.key AS dst"
NEO4J_EXPORT_ARTWORK_LINKS = "MATCH (a:Artwork)-[:{type}]->(e:Entity) RETURN a.id AS src, e.key AS dst"


def fill(query: str, **names: str | int) -> str:
    """Put identifiers (rel types, labels, hop limits: never user input) into a query's ``{name}`` slots."""
    for name, value in names.items():
        text = str(value)
        if not text.replace("_", "").replace("|", "").isalnum():
            raise ValueError(f"not a plain identifier: {text!r}")
        query = query.replace("{" + name + "}", text)
    return query
