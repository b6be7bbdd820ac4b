"""``asterism build``: run every stage that is out of date, in pipeline order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from asterism.config import Settings
from asterism.embed.registry import Models
from asterism.shapes import Status
from asterism.stages.embed import (
    EmbedReport,
    Progress,
    embed_conceptual,
    embed_historical,
    embed_images,
    embeddable,
)
from asterism.stages.graph import GraphReport, build_graph, open_graph
from asterism.stages.index import IndexReport, build_indexes, open_searcher
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


BUILD_INPUTS = "build.json"


def painters_for(settings: Settings, given: Path | None = None) -> Path | None:
    """The PainterPalette file of this home: given, else configured, else the one the last build used.

    The recommender must read the same knowledge graph the build embedded, or
    its historical model would be refitted on different facts.
    """
    if given is not None or settings.painters_csv is not None:
        return given or settings.painters_csv
    recorded = settings.home / BUILD_INPUTS
    if recorded.is_file():
        value = json.loads(recorded.read_text()).get("painters_csv")
        if value and Path(value).is_file():
            return Path(value)
    return None


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
        painters_csv = painters_for(settings, painters_csv)
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / BUILD_INPUTS).write_text(
            json.dumps({"painters_csv": str(painters_csv.resolve()) if painters_csv else None})
        )
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
                served = [a for a in artworks if a.status == Status.ACTIVE]
                graph = build_graph(settings, graph_store, searcher, knowledge, served)
            finally:
                graph_store.close()
        return BuildReport(report, index, len(artworks), graph)
    finally:
        store.close()
