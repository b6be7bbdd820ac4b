"""What a server starts from: the build's snapshots when they are current, else every record read anew.

Reading a million records into objects and refitting the knowledge graph over
them took minutes at every start (bench/RESULTS.md, "Scale"). The build writes
the catalogue snapshot and the graph's entity part (``stages/snapshots.py``);
a start maps them in well under a second. They are used only while they are
true: the property store's fingerprint and the PainterPalette file must be
those the build read. Otherwise — a record changed since the build, a home
built before snapshots, a partial snapshot — the server reads every record as
before and logs why. The license policy is applied at every start either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asterism.config import Settings
from asterism.embed.historical import HistoricalModel
from asterism.embed.registry import Models
from asterism.home import Home
from asterism.knowledge.entities import WorkEntities
from asterism.recommend import snapshot
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explain import KnowledgeView
from asterism.recommend.snapshot import painters_stamp
from asterism.store import Database

log = logging.getLogger(__name__)


@dataclass
class Served:
    """The served works, the historical model and the knowledge view, and where they came from."""

    catalogue: Catalogue
    historical: HistoricalModel | None
    knowledge: KnowledgeView | None
    origin: str  # "snapshot", or why every record was read from the store


def open_served(
    settings: Settings, home: Home, database: Database, models: Models, *, snapshots: bool = True
) -> Served:
    """From the generation's snapshots when current (``snapshots``), else from every stored record."""
    why = "snapshots not asked for"
    if snapshots:
        mapped, why = _mapped(settings, home, database, models)
        if mapped is not None:
            return mapped
        log.info("reading every record from the property store: %s", why)
    artworks = [a for a in database.records.artworks() if a.embeddable]
    catalogue = Catalogue(artworks, settings.license)  # the policy of now, not of the ingest
    historical = models.historical(artworks) if artworks else None
    knowledge = KnowledgeView(historical.graph) if historical is not None else None
    return Served(catalogue, historical, knowledge, why)


def _mapped(settings: Settings, home: Home, database: Database, models: Models) -> tuple[Served | None, str]:
    meta = snapshot.manifest(home.catalogue)
    if meta is None:
        return None, f"no complete catalogue snapshot under {home.catalogue} (run `asterism build`)"
    stored = database.records.fingerprint()
    if meta.get("fingerprint") != stored:
        return (
            None,
            f"the records changed since the build (store {stored}, snapshot {meta.get('fingerprint')})",
        )
    if meta.get("painters") != painters_stamp(models.painters_csv):
        return None, "the PainterPalette file is not the one the build read"
    mapped = snapshot.Snapshot.load(home.catalogue)
    if mapped is None:
        return None, f"the catalogue snapshot under {home.catalogue} is unreadable"
    catalogue = Catalogue.mapped(mapped, settings.license)
    version = meta.get("historical")
    if version is None:
        if len(mapped.ids):
            return None, "the snapshot names no historical model"
        return Served(catalogue, None, None, "snapshot"), "snapshot"
    entities = WorkEntities(models.painters_csv)
    historical = HistoricalModel.served(models.home.historical_models, str(version), entities)
    if historical is None:
        return None, f"the historical model {version} has no saved entity part"
    return Served(catalogue, historical, KnowledgeView(historical.graph, entities), "snapshot"), "snapshot"
