"""``asterism build``: run every stage that is out of date, in pipeline order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asterism.config import Settings
from asterism.embed.registry import Models
from asterism.graph import open_graph
from asterism.index.files import open_searcher
from asterism.stages.embed import EmbedReport, Progress, embed_conceptual, embed_historical, embed_images
from asterism.stages.graph import GraphReport, build_graph
from asterism.stages.index import IndexReport, build_indexes
from asterism.stages.recognition import RecognitionReport, build_recognition
from asterism.store import open_database


@dataclass
class BuildReport:
    embed: EmbedReport
    index: IndexReport | None
    artworks: int
    graph: GraphReport | None = None
    recognition: RecognitionReport | None = None

    @property
    def changed(self) -> bool:
        return (
            self.embed.changed
            or bool(self.index and self.index.changed)
            or bool(self.graph and self.graph.changed)
            or bool(self.recognition and self.recognition.changed)
        )


def run_build(
    settings: Settings,
    *,
    painters_csv: Path | None = None,
    stages: tuple[str, ...] = ("embed", "index", "graph", "recognition"),
    progress: Progress | None = None,
) -> BuildReport:
    """Every stage of ``stages`` that is out of date, in pipeline order: embed → index → graph → recognition."""
    home = settings.paths
    database = open_database(settings)
    try:
        features = database.features
        artworks = [a for a in database.records.artworks() if a.embeddable]
        report = EmbedReport()
        models = Models.of(settings, painters_csv)
        home.record_build_inputs(models.painters_csv)
        if "embed" in stages:
            embed_images(
                artworks, home, features, models, report, workers=settings.workers, progress=progress
            )
            embed_conceptual(artworks, features, models, report, home=home, progress=progress)
            embed_historical(artworks, features, models, report, progress=progress)
        spaces = settings.models.spaces
        index = build_indexes(features, home, settings.weights, spaces=spaces) if "index" in stages else None
        graph = None
        if "graph" in stages and home.built():
            searcher = open_searcher(home)
            knowledge = models.historical(artworks).graph if artworks else None
            graph_store = open_graph(settings)
            try:
                served = [a for a in artworks if a.servable]
                graph = build_graph(settings, graph_store, searcher, knowledge, served)
            finally:
                graph_store.close()
        recognition = None
        if "recognition" in stages and settings.recognise.enabled:
            served = [a for a in artworks if a.servable]
            recognition = build_recognition(
                served, home, models.featurizer.backbone, workers=settings.workers, progress=progress
            )
        return BuildReport(report, index, len(artworks), graph, recognition)
    finally:
        database.close()
