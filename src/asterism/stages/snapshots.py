"""The snapshot step: what a server maps at start instead of reading every record and refitting.

Runs after the index (and graph) stage, into the new generation:

- the catalogue snapshot (``recommend/snapshot.py``): every embeddable record as
  filter columns and JSON documents, with the property store's fingerprint read
  *before* the records were — a write in between leaves a snapshot older than the
  store says, which a server detects and reads the store instead; never the reverse;
- the knowledge graph's entity part beside the historical model's node vectors
  (``knowledge/entities.py``), named in the catalogue manifest with the model's
  version and the PainterPalette file it was read with.

Idempotent: the same fingerprint, model and painters leave the snapshot linked
from the served generation as it is ("unchanged"), and a build with nothing new
publishes nothing.

A restore runs the same step through ``snapshot_served``, once the restored home is
where it will be served from (``portable/restore.py``): what the manifest records
(the PainterPalette file's resolved path, the store's fingerprint) is only what the
server will compare it with once the home, its settings and its store are in place.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asterism.config import Settings
from asterism.embed.historical import HistoricalModel
from asterism.embed.registry import Models
from asterism.home import Home
from asterism.knowledge.entities import load_entities, save_entities
from asterism.recommend import snapshot
from asterism.recommend.snapshot import painters_stamp
from asterism.shapes import Artwork
from asterism.stages.generations import build_lock
from asterism.store import open_database


@dataclass
class SnapshotReport:
    catalogue: str = "unchanged"  # or "wrote N records"
    knowledge: str = "unchanged"  # or "saved N entities"
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.catalogue != "unchanged"


def snapshot_meta(
    fingerprint: dict[str, Any], model: HistoricalModel | None, painters: Path | None
) -> dict[str, Any]:
    """What the catalogue manifest records about its inputs (compared again by the server)."""
    return {
        "fingerprint": fingerprint,
        "historical": model.info.version if model is not None else None,
        "painters": painters_stamp(painters),
    }


def write_snapshots(
    home: Home,
    artworks: Sequence[Artwork],
    fingerprint: dict[str, Any],
    model: HistoricalModel | None,
    painters: Path | None,
) -> SnapshotReport:
    """Write what is out of date of the snapshots into generation ``home``."""
    started = time.perf_counter()
    report = SnapshotReport()
    if model is not None:
        folder = home.historical_models / model.info.version
        if load_entities(folder) is None:  # absent, or saved in another layout
            save_entities(model.graph, folder)
            report.knowledge = (
                f"saved {sum(n.type != 'Artwork' for n in model.graph.nodes.values())} entities"
            )
    meta = snapshot_meta(fingerprint, model, painters)
    current = snapshot.manifest(home.catalogue)
    if current is None or any(current.get(key) != value for key, value in meta.items()):
        snapshot.save(home.catalogue, artworks, meta)
        report.catalogue = f"wrote {len(artworks)} records"
    report.seconds = time.perf_counter() - started
    return report


def snapshot_served(settings: Settings) -> SnapshotReport | None:
    """The snapshot step for the generation the home of ``settings`` serves (None: it has none built).

    What the build does after its index stage, from the home as a server will open it: the
    store's fingerprint before its records, the PainterPalette file ``Models.of`` names (the
    settings', else the one the last build or restore recorded) and the historical model
    fitted, or loaded, over those records and painters.
    """
    home = settings.paths
    with build_lock(home):
        served = home.current()
        if not served.built():
            return None
        with open_database(settings) as database:
            fingerprint = database.records.fingerprint()  # before the records: see the module docstring
            artworks = [a for a in database.records.artworks() if a.embeddable]
        models = Models.of(settings)
        historical = models.historical(artworks) if artworks else None
        return write_snapshots(served, artworks, fingerprint, historical, models.painters_csv)
