"""The hybrid recommender: candidates from the indexes and the graph, one score, true reasons."""
