"""Vector indexes: one FAISS index per affinity, the weighted composite, multi-affinity search."""
