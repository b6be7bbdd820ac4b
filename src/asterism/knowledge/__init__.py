"""Art-history knowledge: painters, the knowledge graph, node embeddings."""
