"""The affinity graph: typed similarity edges between artworks, plus the knowledge graph, in one store."""
