"""``asterism build``: run every stage that is out of date, in pipeline order."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asterism.config import Settings
from asterism.embed.registry import Models
from asterism.graph import open_graph
from asterism.home import Home
from asterism.index.files import open_searcher
from asterism.recommend.query import QueryError
from asterism.shapes import Artwork
from asterism.stages.embed import (
    Distributor,
    EmbedReport,
    Progress,
    embed_conceptual,
    embed_historical,
    embed_images,
)
from asterism.stages.generations import abandon, begin, build_lock, publish
from asterism.stages.graph import GraphReport, build_graph
from asterism.stages.index import IndexReport, build_indexes
from asterism.stages.layout import LayoutReport, build_layouts
from asterism.stages.ocr import OcrReport, run_ocr
from asterism.stages.recognition import RecognitionReport, build_recognition
from asterism.stages.snapshots import SnapshotReport, write_snapshots
from asterism.store import open_database
from asterism.store.features import FeatureStore


class BuildFailed(QueryError):
    """A build that stopped before publishing, with what to do about it (HTTP 507: out of storage)."""

    status = 507


@dataclass
class BuildReport:
    embed: EmbedReport
    index: IndexReport | None
    artworks: int
    graph: GraphReport | None = None
    recognition: RecognitionReport | None = None
    ocr: OcrReport | None = None
    layout: LayoutReport | None = None
    snapshots: SnapshotReport | None = None

    @property
    def changed(self) -> bool:
        return (
            bool(self.ocr and self.ocr.changed)
            or self.embed.changed
            or bool(self.index and self.index.changed)
            or bool(self.graph and self.graph.changed)
            or bool(self.recognition and self.recognition.changed)
            or bool(self.layout and self.layout.changed)
            or bool(self.snapshots and self.snapshots.changed)
        )


def run_build(
    settings: Settings,
    *,
    painters_csv: Path | None = None,
    stages: tuple[str, ...] = ("ocr", "embed", "index", "graph", "layout", "recognition"),
    progress: Progress | None = None,
    distributor: Distributor | None = None,
    relayout: bool = False,
) -> BuildReport:
    """Every stage of ``stages`` that is out of date, in order: ocr → embed → index → graph → layout →
    recognition.

    After the index and graph stages, the snapshots a server maps at start are written into the
    generation (``stages/snapshots.py``): the catalogue's records and the knowledge graph's entity part.

    ``ocr`` reads the text of pictures that have no OCR result yet (``stages/ocr.py``), so the
    conceptual embedding finds it stored.

    One build per home at a time (``BuildRunning`` otherwise). The embed stage writes vectors into
    the property store; the later stages write a new generation that replaces the served one only
    when complete and changed (``stages/generations.py``). ``distributor``: where the embed stage's
    networks run (default: this process; ``RayDistributor``: a Ray cluster). ``relayout``: lay the
    collection maps out anew instead of placing new works into them (``stages/layout.py``).
    """
    home = settings.paths
    served = home.current().generation
    try:
        return _build(settings, home, painters_csv, stages, progress, distributor, relayout)
    except Exception as exc:
        if not _no_space(exc):
            raise
        raise BuildFailed(
            f"no space left on the device of {home.root} during the build ({_first_line(exc)}): nothing "
            "was switched, "
            f"the served generation {served or '(none yet)'} is unchanged. Free some space and build again."
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


def _no_space(exc: BaseException) -> bool:
    """A full disk, however the layer that hit it says so (OSError, SQLite, FAISS, LadybugDB)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = str(exc)
    return "No space left on device" in text or "database or disk is full" in text


def _build(
    settings: Settings,
    home: Home,
    painters_csv: Path | None,
    stages: tuple[str, ...],
    progress: Progress | None,
    distributor: Distributor | None = None,
    relayout: bool = False,
) -> BuildReport:
    with build_lock(home):
        database = open_database(settings)
        try:
            features = database.features
            text = run_ocr(settings, database, progress=progress) if "ocr" in stages else None
            fingerprint = database.records.fingerprint()  # before the records: see stages/snapshots.py
            artworks = [a for a in database.records.artworks() if a.embeddable]
            report = EmbedReport()
            models = Models.of(settings, painters_csv)
            home.record_build_inputs(models.painters_csv)
            if "embed" in stages:
                embed_images(
                    artworks, home, features, models, report, workers=settings.workers, progress=progress,
                    distributor=distributor,
                )  # fmt: skip
                embed_conceptual(
                    artworks, features, models, report, home=home, progress=progress, distributor=distributor
                )
                embed_historical(artworks, features, models, report, progress=progress)
            built = BuildReport(report, None, len(artworks), ocr=text)
            if not {"index", "graph", "layout", "recognition"} & set(stages):
                return built
            fresh = begin(home)
            try:
                _derive(settings, fresh, features, models, artworks, stages, built, progress, relayout,
                        fingerprint)  # fmt: skip
            except BaseException:
                abandon(fresh)
                raise
            if built.changed or not home.current().built():
                publish(home, fresh)
            else:  # nothing new: the served generation stays, and servers keep their caches
                abandon(fresh)
            return built
        finally:
            database.close()


def _derive(
    settings: Settings,
    fresh: Home,
    features: FeatureStore,
    models: Models,
    artworks: list[Artwork],
    stages: tuple[str, ...],
    built: BuildReport,
    progress: Progress | None,
    relayout: bool = False,
    fingerprint: dict[str, Any] | None = None,
) -> None:
    """The stages after embedding, written into the generation ``fresh``."""
    if "index" in stages:
        built.index = build_indexes(features, fresh, settings.weights, spaces=settings.models.spaces)
    served = [a for a in artworks if a.servable]
    historical = None
    if "graph" in stages and fresh.built():
        searcher = open_searcher(fresh)
        historical = models.historical(artworks) if artworks else None
        knowledge = historical.graph if historical is not None else None
        graph_store = open_graph(settings, home=fresh)
        try:
            built.graph = build_graph(settings, fresh, graph_store, searcher, knowledge, served)
        finally:
            graph_store.close()
    if "index" in stages and fresh.built() and fingerprint is not None:  # what a server maps at start
        historical = historical or (models.historical(artworks) if artworks else None)
        built.snapshots = write_snapshots(fresh, artworks, fingerprint, historical, models.painters_csv)
    if "layout" in stages and fresh.built():
        built.layout = build_layouts(fresh, relayout=relayout)
    if "recognition" in stages and settings.recognise.enabled:
        built.recognition = build_recognition(
            served, fresh, models.featurizer.backbone, workers=settings.workers, progress=progress
        )
