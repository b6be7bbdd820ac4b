"""``asterism build``: run every stage that is out of date, in pipeline order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asterism.build.embed import (
    EmbedReport,
    Progress,
    embed_conceptual,
    embed_historical,
    embed_images,
    embeddable,
)
from asterism.build.graph import GraphReport, build_graph, open_graph
from asterism.build.index import IndexReport, build_indexes, open_searcher
from asterism.config import Settings
from asterism.embed.models import Models
from asterism.store.features import FeatureStore
from asterism.store.sql import SqlStore


@dataclass
class BuildReport:
    embed: EmbedReport
    index: IndexReport | None
    artworks: int
    graph: GraphReport | None = None

    @property
    def changed(self) -> bool:
        return (
            self.embed.changed
            or bool(self.index and self.index.changed)
            or bool(self.graph and self.graph.changed)
        )


def index_folder(settings: Settings) -> Path:
    return settings.home / "indexes"


def run_build(
    settings: Settings,
    *,
    painters_csv: Path | None = None,
    stages: tuple[str, ...] = ("embed", "index", "graph"),
    progress: Progress | None = None,
) -> BuildReport:
    store = SqlStore(settings.store_url)
    try:
        features = FeatureStore(store.engine)
        artworks = embeddable(list(store.artworks()))
        report = EmbedReport()
        painters_csv = painters_csv or settings.painters_csv
        models = Models(settings.models, settings.home, painters_csv=painters_csv)
        if "embed" in stages:
            embed_images(
                artworks, settings.home, features, models, report, workers=settings.workers, progress=progress
            )
            embed_conceptual(artworks, features, models, report, home=settings.home, progress=progress)
            embed_historical(artworks, features, models, report, progress=progress)
        index = (
            build_indexes(features, index_folder(settings), settings.weights) if "index" in stages else None
        )
        graph = None
        if "graph" in stages and (index_folder(settings) / "formal.faiss").is_file():
            searcher = open_searcher(index_folder(settings))
            knowledge = models.historical(artworks).graph if artworks else None
            graph_store = open_graph(settings)
            try:
                graph = build_graph(settings, graph_store, searcher, knowledge, artworks)
            finally:
                graph_store.close()
        return BuildReport(report, index, len(artworks), graph)
    finally:
        store.close()
