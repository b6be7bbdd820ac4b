"""Open everything a recommendation needs, once, from the settings: the one entry point for CLI and API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import faiss

from asterism.config import Settings
from asterism.embed.registry import Models
from asterism.graph.adjacency import Adjacency
from asterism.graph.base import GraphPath
from asterism.graph.edges import EDGE_TYPE
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.engine import Recommender
from asterism.recommend.explain import KnowledgeView
from asterism.recommend.query import Query, QueryError
from asterism.recommend.start import NotFound, StartResolver
from asterism.shapes import RecommendationPage
from asterism.stages.embed import embeddable
from asterism.stages.graph import open_graph
from asterism.stages.index import open_searcher
from asterism.stages.runner import index_folder, painters_for
from asterism.store.features import FeatureStore
from asterism.store.sql import SqlStore


class NotBuilt(QueryError):
    """The collection has not been built yet (run ``asterism build``)."""


@dataclass
class Service:
    settings: Settings
    store: SqlStore
    recommender: Recommender
    starts: StartResolver
    version: str = ""  # changes whenever a build changed the vectors, indexes or graph

    def recommend(self, query: Query) -> RecommendationPage:
        if query.artwork_id is not None:
            start = self.starts.from_id(query.artwork_id)
        else:
            assert query.image is not None
            start = self.starts.from_image(query.image)
        return self.recommender.recommend(start, query)

    def connect(self, a: int, b: int, max_hops: int = 6) -> GraphPath | None:
        for artwork_id in (a, b):
            if artwork_id not in self.recommender.catalogue:
                raise NotFound(f"no artwork with id {artwork_id} in the collection")
        graph = open_graph(self.settings, read_only=True)
        try:
            return graph.shortest_path(a, b, max_hops)
        finally:
            graph.close()

    def close(self) -> None:
        self.store.close()


def open_service(settings: Settings, *, with_models: bool = True) -> Service:
    """Load indexes, the graph snapshot, the catalogue and (lazily) the models."""
    # One query at a time per request: FAISS's OpenMP threads would only fight the request threads
    # (and the other worker processes) for the same cores; measured tails of seconds without this.
    faiss.omp_set_num_threads(1)
    folder = index_folder(settings)
    if not (folder / "formal.faiss").is_file():
        raise NotBuilt(f"no indexes under {folder}: run `asterism build` first")
    store = SqlStore(settings.store_url)
    features = FeatureStore(store.engine)
    artworks = embeddable(list(store.artworks()))
    catalogue = Catalogue(artworks)
    searcher = open_searcher(folder)
    graph = open_graph(settings, read_only=True)
    try:
        adjacency = Adjacency.from_store(graph, EDGE_TYPE.values(), catalogue.ids)
    finally:
        graph.close()
    models = Models(settings.models, settings.home, painters_csv=painters_for(settings))
    historical = models.historical(artworks) if artworks else None
    knowledge = KnowledgeView(historical.graph) if historical is not None else None
    recommender = Recommender(
        settings,
        searcher=searcher,
        adjacency=adjacency,
        catalogue=catalogue,
        features=features,
        knowledge=knowledge,
        layout=models.formal_layout,
    )
    starts = StartResolver(
        settings, searcher, catalogue, features, models if with_models else None, historical
    )
    return Service(settings, store, recommender, starts, collection_version(settings))


def collection_version(settings: Settings) -> str:
    """A digest of the build's state files: equal versions answer every question the same way."""
    digest = hashlib.sha256()
    for path in sorted(
        [*index_folder(settings).glob("*.state.json"), *(settings.home / "graph").glob("*.json")]
    ):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]
