"""``asterism restore``: an export made into a new data home that serves at once, re-embedding nothing.

Nothing is written before every file of the export has been checked against
its manifest (``manifest.read_verified``): a damaged or unfinished export is
refused with the file named. Then the home is assembled in a hidden folder
beside the target and renamed into place at the end, so a failed (or killed)
restore leaves no half-made home. Into PostgreSQL, the home is assembled on
SQLite first and its store moved over last by ``migrate_store`` in one
transaction: the same copy as ``asterism migrate``, and a database that is
either untouched or whole.

One code path with the build: the property store is filled with the exported
rows (ids kept), and then a build generation is made exactly as ``asterism
build`` makes one (``generations.begin`` … ``publish``): the index stage
(``build_indexes``) reads the restored vectors from the store and writes the
FAISS indexes, and the graph store is loaded with the exported nodes, edges
and knowledge graph through the same bulk writes the graph stage uses. The
indexes are rebuilt because they are a function of the vectors (their digests
are compared with the exported ones and any difference is reported); the
edges are restored, not recomputed, because they are not: incremental builds
add edges a fresh k-NN would not find. The graph stage's state file comes
along, so the next build sees everything up to date, and the historical
model's node vectors and PainterPalette file, so the server refits nothing.

Last, once the home is in place, the build's snapshot step runs on the restored
generation (``stages/snapshots.snapshot_served``), so the first server start
maps the catalogue instead of reading every record. An export does not carry
the snapshot, and it cannot be written in the hidden folder: its manifest names
the PainterPalette file by resolved path (the hidden copy's would never match the
home's, and the home's does not exist before the rename) and the store's
fingerprint (into PostgreSQL, the store is moved after the hidden folder is
filled), both compared by the server at every start. A
restore killed during that step, or failing in it (logged, ``snapshots`` None), leaves a whole home that reads its records at
start until the next ``asterism build``, as before.

The restored home has no recognition data (a build makes it from the
pictures, when they were exported) and its graph is an embedded LadybugDB.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import sqlalchemy as sa

from asterism.config import Settings, load_settings
from asterism.embed.historical import HistoricalModel
from asterism.files import atomic_write, fsync_folder
from asterism.graph import open_graph
from asterism.graph.base import Entity, Link
from asterism.graph.edges import EdgeSet
from asterism.home import Home
from asterism.knowledge.graph import KnowledgeGraph
from asterism.portable.manifest import DamagedExport, member, read_verified
from asterism.portable.migrate import hidden, migrate_store, postgres_url
from asterism.portable.tables import (
    TABLES,
    advance_sequences,
    count,
    first_filled,
    insert,
    read_rows,
)
from asterism.recommend.query import QueryError
from asterism.stages.generations import abandon, begin, build_lock, publish
from asterism.stages.index import build_indexes
from asterism.stages.snapshots import SnapshotReport, snapshot_served
from asterism.store import Database, open_database


class RestoreRefused(QueryError):
    """The restore cannot go where asked: a home that is not empty, a database that holds data."""

    status = 409


log = logging.getLogger(__name__)


@dataclass
class RestoreReport:
    home: Path
    database: str  # "sqlite" or the PostgreSQL URL (password hidden)
    counts: dict[str, int] = field(default_factory=dict)  # rows per store table
    generation: str | None = None  # the build generation made (None: the export had no build)
    indexes: dict[str, str] = field(default_factory=dict)  # index stage's report per index
    # indexes whose rebuilt vectors differ from those served at export (the store was newer)
    differing: list[str] = field(default_factory=list)
    snapshots: SnapshotReport | None = None  # the start-up snapshots written for the restored generation
    seconds: float = 0.0


def restore_home(folder: Path, home: Path, *, database: str | None = None) -> RestoreReport:
    """Restore the export in ``folder`` into the new (or empty) home ``home``.

    ``database``: a PostgreSQL URL for the store (an empty database); default SQLite in the home.
    """
    started = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    manifest = read_verified(folder)  # every checksum, before anything is written
    target = Path(home).expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreRefused(f"{target} is not empty: restore into a new home")
    url = postgres_url(database) if database else None
    if url is not None:
        _check_empty(url)
    staging = target.parent / f".{target.name}.restoring-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        settings = _settings(folder, manifest, staging)
        report = RestoreReport(target, "sqlite")
        _restore(folder, manifest, settings, Home(target), report)
        if url is not None:  # last, in one transaction: until here PostgreSQL was not touched
            report.database = migrate_store(settings, url).url
            for suffix in ("", "-wal", "-shm"):
                Path(f"{settings.paths.database_file}{suffix}").unlink(missing_ok=True)
        os.rename(staging, target)  # a missing target, or an empty folder: replaced in one step
        fsync_folder(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if report.generation is not None:  # with the settings, painters and store a server will read
        try:
            report.snapshots = snapshot_served(load_settings(home=target))
        except Exception:  # the home is whole and in place: it reads its records at start instead
            log.warning("restored, but the start-up snapshots were not written", exc_info=True)
    report.seconds = time.perf_counter() - started
    return report


def _check_empty(url: str) -> None:
    """Refuse a PostgreSQL database that holds any row, before anything is written."""
    with Database(url) as database, database.engine.connect() as connection:
        filled = first_filled(connection)
    if filled is not None:
        raise RestoreRefused(
            f"{hidden(url)} already holds data (table {filled}): restore into an empty database"
        )


def _settings(folder: Path, manifest: dict[str, Any], staging: Path) -> Settings:
    """The exported settings, as the new home's ``asterism.toml`` and as this restore's settings.

    They are passed as arguments too (not only read from the file), so that the composite index is
    built with the exported weights whatever ``ASTERISM_CONFIG`` names. The store is SQLite in the
    hidden folder (moved into PostgreSQL at the end, when asked), the graph the embedded one.
    """
    config = Home(staging).config_file
    shutil.copyfile(member(folder, manifest, manifest["settings"]), config)
    values = tomllib.loads(config.read_text(encoding="utf-8"))
    values["store"] = {**values.get("store", {}), "backend": "sqlite", "url": None}
    values["graph"] = {**values.get("graph", {}), "backend": "ladybug"}
    return load_settings(home=staging, **values)


def _restore(
    folder: Path, manifest: dict[str, Any], settings: Settings, target: Home, report: RestoreReport
) -> None:
    with open_database(settings) as database:
        with database.engine.begin() as connection:
            report.counts = _fill_store(connection, folder, manifest)
        _home_files(folder, manifest, settings.paths, target)
        if manifest.get("indexes"):
            _generation(folder, manifest, settings, database, report)


def _fill_store(connection: sa.Connection, folder: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """Every exported table into the store in one transaction, parents first, ids kept."""
    sources: dict[str, list[dict[str, Any]]] = {}
    for entry in [*manifest["records"].values(), *manifest["vectors"].values()]:
        sources.setdefault(entry["table"], []).append(entry)
    known = {table.name for table in TABLES}
    unknown = sorted(set(sources) - known)
    if unknown:
        raise DamagedExport(
            f"the export holds table(s) {', '.join(unknown)}, which this Asterism does not have"
        )
    counts: dict[str, int] = {}
    for table in TABLES:
        expected = 0
        for entry in sources.get(table.name, []):
            for rows in read_rows(member(folder, manifest, entry["file"]), table):
                insert(connection, table, rows)
            expected += int(entry["rows"])
        counts[table.name] = count(connection, table)
        if counts[table.name] != expected:
            raise DamagedExport(
                f"{table.name}: the manifest lists {expected} rows, the files hold {counts[table.name]}"
            )
    advance_sequences(connection)
    return counts


def _home_files(folder: Path, manifest: dict[str, Any], home: Home, target: Home) -> None:
    """The PainterPalette file, the historical model and the pictures, where the home keeps them."""
    inputs = manifest.get("inputs") or {}
    if inputs.get("painters_csv"):
        name = Path(inputs["painters_csv"]).name
        home.inputs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(member(folder, manifest, inputs["painters_csv"]), home.inputs / name)
        home.record_build_inputs(target.inputs / name)  # where it will be once the home is in place
    model = (manifest.get("knowledge") or {}).get("model")
    if model:
        table = pq.read_table(member(folder, manifest, model["file"]))
        nodes = [str(n) for n in table.column("node").to_pylist()]
        matrix = np.asarray(table.column("vector").to_pylist(), dtype=np.float32).reshape(len(nodes), -1)
        vectors = dict(zip(nodes, matrix, strict=True))
        # ``save`` writes only the node vectors; the graph is rebuilt from the records when loaded
        HistoricalModel(KnowledgeGraph(), vectors, model["version"]).save(
            home.historical_models / model["version"]
        )
    if manifest.get("images"):
        for name in manifest["files"]:
            if name.startswith(("images/", "thumbs/")):
                path = home.file(name)
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, path)


def _generation(
    folder: Path, manifest: dict[str, Any], settings: Settings, database: Database, report: RestoreReport
) -> None:
    """A build generation made as the build makes one: indexes from the store, then the graph, then publish."""
    home = settings.paths
    with build_lock(home):
        fresh = begin(home)
        try:
            built = build_indexes(database.features, fresh, settings.weights, spaces=settings.models.spaces)
            if manifest.get("graph"):
                _graph(folder, manifest, settings, fresh)
        except BaseException:
            abandon(fresh)
            raise
        publish(home, fresh)
    report.generation = fresh.generation
    report.indexes = dict(built.built)
    for name, entry in manifest["indexes"].items():
        state = fresh.index(name).state
        if not state.is_file() or _digest(state) != entry["digest"]:
            report.differing.append(name)


def _digest(state: Path) -> str:
    return str(json.loads(state.read_text())["digest"])


def _graph(folder: Path, manifest: dict[str, Any], settings: Settings, fresh: Home) -> None:
    """Nodes, typed edges and the knowledge graph into the generation's graph store, as exported."""
    graph, knowledge = manifest["graph"], manifest.get("knowledge")
    store = open_graph(settings, home=fresh)
    try:
        ids = pq.read_table(member(folder, manifest, graph["artworks"]["file"])).column("id").to_numpy()
        store.add_artworks(np.asarray(ids, dtype=np.int64))
        for type_, entry in graph["edges"].items():
            table = pq.read_table(member(folder, manifest, entry["file"]))
            edges = EdgeSet(
                type_,
                np.asarray(table.column("src").to_numpy(), dtype=np.int64),
                np.asarray(table.column("dst").to_numpy(), dtype=np.int64),
                np.asarray(table.column("weight").to_numpy(), dtype=np.float32),
            )
            store.replace_edges(edges)
        if knowledge:
            rows = pq.read_table(member(folder, manifest, knowledge["entities"]["file"])).to_pylist()
            entities = [Entity(r["key"], r["kind"], r["label"]) for r in rows]
            rows = pq.read_table(member(folder, manifest, knowledge["links"]["file"])).to_pylist()
            links = [
                Link(
                    int(r["src_artwork"]) if r["src_artwork"] is not None else str(r["src_entity"]),
                    r["dst"],
                    r["type"],
                )
                for r in rows
            ]
            store.replace_knowledge(entities, links)
        name = store.name
    finally:
        store.close()
    if graph.get("state"):
        text = member(folder, manifest, graph["state"]).read_text()
        atomic_write(fresh.graph_state(name), lambda path: path.write_text(text))
