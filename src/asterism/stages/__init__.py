"""Build stages after ingest: embeddings, then indexes; each does only what is out of date."""
