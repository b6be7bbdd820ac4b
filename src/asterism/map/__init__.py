"""The collection map: every work placed on a plane so that neighbours on it are neighbours in an affinity."""
