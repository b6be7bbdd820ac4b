"""Asterism: explore open-access art collections from a picture.

The folders read as the pipeline: ``sources`` (museum APIs, local folders) ->
``ingest`` (harvest images and metadata) -> ``store`` (property store) -> later
stages (embeddings, indexes, graph, recommender, API). ``models`` holds the
data shapes every stage shares; ``config`` the one settings object.
"""

__version__ = "0.1.0"
