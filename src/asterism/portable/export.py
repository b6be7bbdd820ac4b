"""``asterism export``: a data home written out as a folder that any Parquet reader understands.

What goes in, and why (the layout is in ``portable/__init__``):

* the property store, table by table: it is the source of truth, and restoring
  it with its ids keeps every ``artwork_id`` a client saved meaningful;
* the vectors once, as the store keeps them (formal per image, the others per
  work, imported spaces by name), with their model keys and input hashes: the
  indexes are rebuilt from exactly these, and a later build finds nothing stale
  and re-embeds nothing. The served indexes' digests go in the manifest, so a
  restore can say whether it rebuilt the very vectors that were served;
* the affinity graph as stored (nodes, typed edges, the knowledge graph) rather
  than recomputed: edges added by incremental builds differ from a fresh k-NN,
  and the answers depend on the edges;
* the historical model's node vectors and the PainterPalette file the build
  read: the server refits the knowledge graph from them, and with them the fit
  is the same, so nothing is re-learned on the new machine;
* with ``--images``, the pictures and thumbnails, content-addressed as in the home.

FAISS files, recognition data and models are not exported: the first two are
derived (a restore rebuilds the indexes, a build the recognition data from the
pictures), models are pulled or bundled by name.

An export runs under the home's ingest and build locks, so the store and the
served generation do not move under it; it writes into a new or empty folder,
``manifest.json`` last (``portable/manifest``), and a failed export removes
what it wrote.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel

import asterism
from asterism.config import Settings
from asterism.embed.base import AFFINITIES
from asterism.embed.registry import Models
from asterism.graph import open_graph
from asterism.graph.base import SIMILARITY_TYPES
from asterism.home import Home, OutsideHome
from asterism.ingest.pipeline import home_lock
from asterism.portable import manifest as manifests
from asterism.portable.tables import TABLES, file_name, kind, write_parquet, write_table
from asterism.recommend.query import QueryError
from asterism.settings_file import toml
from asterism.stages.generations import build_lock
from asterism.stages.index import COMPOSITE
from asterism.store import database_url, open_database
from asterism.store.features import SPACE_PREFIX
from asterism.store.schema import artworks, embeddings, image_features, images

RECORDS = [t for t in TABLES if t not in (image_features, embeddings)]
SETTINGS = "settings.toml"


class ExportRefused(QueryError):
    """The export cannot be written where asked (a folder that is not empty, one inside the home)."""

    status = 409


@dataclass
class ExportReport:
    folder: Path
    counts: dict[str, Any]
    files: int = 0
    bytes: int = 0
    missing_images: list[str] = field(default_factory=list)  # stored paths whose file was not there
    seconds: float = 0.0


def export_home(settings: Settings, folder: Path, *, images: bool = False) -> ExportReport:
    """Write the home of ``settings`` into ``folder`` (new or empty); ``images``: the pictures too."""
    started = time.perf_counter()
    home = settings.paths
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExportRefused(f"{folder} is not an empty folder: export into a new one")
    if folder == home.root or home.root in folder.parents:
        raise ExportRefused(f"{folder} is inside the data home {home.root}: export somewhere else")
    url = database_url(settings)
    if url.startswith("sqlite") and not Path(sa.engine.make_url(url).database or "").is_file():
        raise ExportRefused(f"no collection in {home.root} (no {home.database_file.name}): nothing to export")
    created = not folder.exists()
    with home_lock(home), build_lock(home):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            written = _Written(folder)
            manifest = _write_all(settings, home, written, images)
            manifest["files"] = manifests.describe(folder, written.names)
            manifests.write(folder, manifest)
        except BaseException:
            _discard(folder, created)
            raise
    files = manifest["files"]
    return ExportReport(
        folder,
        manifest["counts"],
        files=len(files),
        bytes=sum(int(f["bytes"]) for f in files.values()),
        missing_images=list((manifest.get("images") or {}).get("missing", [])),
        seconds=time.perf_counter() - started,
    )


class _Written:
    """The export folder, and the name of every file written into it (for the manifest)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        self.names.append(name)
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def _write_all(settings: Settings, home: Home, out: _Written, images: bool) -> dict[str, Any]:
    served = home.current()
    built = served.built()
    manifest: dict[str, Any] = {
        "format": manifests.FORMAT,
        "version": manifests.VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "asterism": asterism.__version__,
    }
    with open_database(settings) as database:
        manifest["source"] = {
            "database": database.engine.dialect.name,
            "generation": served.generation,
            "build_version": served.build_version() if built else None,
        }
        with database.engine.connect() as connection:
            manifest["records"] = {
                table.name: {"file": (name := f"records/{table.name}.parquet"), "table": table.name,
                             "rows": write_table(connection, table, out.path(name))}
                for table in RECORDS
            }  # fmt: skip
            manifest["vectors"] = _vectors(connection, out)
        works = [a for a in database.records.artworks() if a.embeddable]
    out.path(SETTINGS).write_text(toml(portable_settings(settings)), encoding="utf-8")
    manifest["settings"] = SETTINGS
    manifest["indexes"] = _indexes(settings, served, manifest["vectors"]) if built else None
    manifest["graph"], manifest["knowledge"] = _graph(settings, served, out) if built else (None, None)
    manifest["inputs"] = _inputs(settings, works, manifest, out)
    manifest["images"] = _images(settings, home, out) if images else None
    manifest["counts"] = _counts(manifest)
    return manifest


def portable_settings(settings: Settings) -> dict[str, Any]:
    """The settings the exported data was shaped by, where they differ from the defaults.

    Served licences, the composite index's weights, the graph's k and thresholds, tuned
    recommendation and recognition values, formal parts and served spaces: as in effect now,
    from file, environment or code. Defaults stay out, so the restored home follows its own
    version's; paths, hosts, tokens and the store are this machine's and stay out too.
    """
    weights = settings.weights.model_dump(mode="json")
    data: dict[str, Any] = {
        "weights": weights if _changed(settings.weights) else {},  # all three or none: they are one choice
        "license": _changed(settings.license),
        "recommend": _changed(settings.recommend),
        "recognise": _changed(settings.recognise),
        "models": _changed(settings.models, {"formal_parts", "spaces"}),
        "graph": _changed(settings.graph, {"k", "thresholds"}),
    }
    return {name: _without_none(values) for name, values in data.items() if values}


def _changed(section: BaseModel, include: set[str] | None = None) -> dict[str, Any]:
    return section.model_dump(mode="json", exclude_defaults=True, include=include)


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null: an unset value is left out, and reads back as its default."""
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}


def _vectors(connection: sa.Connection, out: _Written) -> dict[str, Any]:
    """Formal vectors per image, then one file per stored affinity of per-work vectors."""
    found: dict[str, Any] = {}
    name = "vectors/formal.parquet"
    rows = write_table(connection, image_features, out.path(name))
    found["formal"] = {"file": name, "table": image_features.name, "key": "sha256", "rows": rows,
                       **_shapes(connection, image_features.c.model, image_features.c.formal)}  # fmt: skip
    ref = (artworks.c.source + ":" + artworks.c.source_id).label("ref")
    columns = [(file_name(c), kind(c)) for c in embeddings.columns]
    stored = connection.execute(sa.select(embeddings.c.affinity).distinct().order_by(embeddings.c.affinity))
    for (affinity,) in stored.all():
        query = (
            sa.select(*embeddings.columns, ref)
            .join(artworks, artworks.c.id == embeddings.c.artwork_id)
            .where(embeddings.c.affinity == affinity)
            .order_by(embeddings.c.artwork_id)
        )
        name = f"vectors/{str(affinity).replace(':', '-')}.parquet"
        rows = write_parquet(connection, query, [*columns, ("ref", "str")], out.path(name))
        shapes = _shapes(
            connection, embeddings.c.model, embeddings.c.vector, embeddings.c.affinity == affinity
        )
        found[str(affinity)] = {
            "file": name,
            "table": embeddings.name,
            "key": "artwork_id",
            "rows": rows,
            **shapes,
        }
    return found


def _shapes(connection: sa.Connection, model: Any, blob: Any, where: Any = None) -> dict[str, Any]:
    """{"models": {model key: rows}, "dims": [...]} of one set of stored vectors."""
    query = sa.select(model, sa.func.length(blob), sa.func.count()).group_by(model, sa.func.length(blob))
    if where is not None:
        query = query.where(where)
    models: dict[str, int] = {}
    dims: set[int] = set()
    for key, size, rows in connection.execute(query):
        models[str(key)] = models.get(str(key), 0) + int(rows)
        dims.add(int(size) // 4)
    return {"models": models, "dims": sorted(dims)}


def _indexes(settings: Settings, served: Home, vectors: dict[str, Any]) -> dict[str, Any]:
    """What each served index was built from, and the digest of its vectors (from the index state)."""
    spaces = settings.models.spaces
    found: dict[str, Any] = {}
    for name in [*(str(a) for a in AFFINITIES), COMPOSITE]:
        state_file = served.index(name).state
        if not state_file.is_file():
            continue
        state = json.loads(state_file.read_text())
        source = SPACE_PREFIX + spaces[name] if name in spaces else name
        entry = {"count": state["count"], "dim": state["dim"], "digest": state["digest"]}
        if name == COMPOSITE:
            entry["from"] = [str(a) for a in AFFINITIES]
            entry["weights"] = settings.weights.model_dump()
        else:
            entry["from"] = source
            entry["models"] = sorted((vectors.get(source) or {}).get("models", {}))
        found[name] = entry
    return found


def _write_columns(path: Path, columns: dict[str, pa.Array]) -> int:
    table = pa.table(columns)
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def _graph(
    settings: Settings, served: Home, out: _Written
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The graph store's content: Artwork nodes, similarity edges per type, the knowledge graph."""
    if settings.graph.backend == "ladybug" and not served.ladybug.exists():
        return None, None  # built without the graph stage
    store = open_graph(settings, read_only=True, home=served)
    try:
        ids = store.artwork_ids()
        graph: dict[str, Any] = {"backend": store.name, "edges": {}}
        name = "graph/artworks.parquet"
        graph["artworks"] = {
            "file": name,
            "rows": _write_columns(out.path(name), {"id": pa.array(ids, pa.int64())}),
        }
        for type_ in SIMILARITY_TYPES:
            edges = store.edges(type_)
            name = f"graph/{type_}.parquet"
            columns = {"src": pa.array(edges.src, pa.int64()), "dst": pa.array(edges.dst, pa.int64()),
                       "weight": pa.array(edges.weight, pa.float32())}  # fmt: skip
            graph["edges"][type_] = {"file": name, "rows": _write_columns(out.path(name), columns)}
        entities, links = store.knowledge()
        state = served.graph_state(store.name)
        if state.is_file():
            shutil.copyfile(state, out.path("graph/state.json"))
            graph["state"] = "graph/state.json"
    finally:
        store.close()
    knowledge: dict[str, Any] = {}
    name = "knowledge/entities.parquet"
    columns = {"key": pa.array([e.key for e in entities], pa.string()),
               "kind": pa.array([e.kind for e in entities], pa.string()),
               "label": pa.array([e.label for e in entities], pa.string())}  # fmt: skip
    knowledge["entities"] = {"file": name, "rows": _write_columns(out.path(name), columns)}
    name = "knowledge/links.parquet"
    columns = {"type": pa.array([link.type for link in links], pa.string()),
               "src_artwork": pa.array([link.src if isinstance(link.src, int) else None for link in links], pa.int64()),
               "src_entity": pa.array([link.src if isinstance(link.src, str) else None for link in links], pa.string()),
               "dst": pa.array([link.dst for link in links], pa.string())}  # fmt: skip
    knowledge["links"] = {"file": name, "rows": _write_columns(out.path(name), columns)}
    return graph, knowledge


def _inputs(settings: Settings, works: list[Any], manifest: dict[str, Any], out: _Written) -> dict[str, Any]:
    """The PainterPalette file, and the historical model fitted on it (node vectors, by version)."""
    found: dict[str, Any] = {}
    models = Models.of(settings)
    if models.painters_csv is not None and Path(models.painters_csv).is_file():
        name = f"inputs/{Path(models.painters_csv).name}"
        shutil.copyfile(models.painters_csv, out.path(name))
        found["painters_csv"] = name
    if manifest["knowledge"] is not None and works and "historical" in manifest["vectors"]:
        model = models.historical(works)  # loads the saved model of this exact graph; fits it if missing
        nodes = sorted(model.node_vectors)
        if not nodes:
            return found
        matrix = np.stack([model.node_vectors[n] for n in nodes]).astype(np.float32)
        vectors = pa.FixedSizeListArray.from_arrays(
            pa.array(matrix.reshape(-1), pa.float32()), matrix.shape[1]
        )
        name = "knowledge/node_vectors.parquet"
        rows = _write_columns(out.path(name), {"node": pa.array(nodes, pa.string()), "vector": vectors})
        manifest["knowledge"]["model"] = {"version": model.info.version, "file": name, "rows": rows}
    return found


def _images(settings: Settings, home: Home, out: _Written) -> dict[str, Any]:
    """Every stored original and thumbnail, at the same relative path as in the home."""
    missing: list[str] = []
    copied = 0
    with open_database(settings) as database, database.engine.connect() as connection:
        rows = connection.execute(sa.select(images.c.path, images.c.thumbs).order_by(images.c.sha256))
        for path, thumbs in rows:
            for relative in [path, *sorted((thumbs or {}).values())]:
                try:
                    source = home.file(relative)
                except OutsideHome:
                    missing.append(str(relative))
                    continue
                if not source.is_file():
                    missing.append(str(relative))
                    continue
                shutil.copyfile(source, out.path(Path(relative).as_posix()))
                copied += 1
    return {"files": copied, "missing": missing}


def _counts(manifest: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = {name: entry["rows"] for name, entry in manifest["records"].items()}
    counts["vectors"] = {name: entry["rows"] for name, entry in manifest["vectors"].items()}
    if manifest["graph"] is not None:
        counts["graph_artworks"] = manifest["graph"]["artworks"]["rows"]
        counts["edges"] = {t: e["rows"] for t, e in manifest["graph"]["edges"].items()}
    if manifest["knowledge"] is not None:
        knowledge = manifest["knowledge"]
        counts["entities"], counts["links"] = knowledge["entities"]["rows"], knowledge["links"]["rows"]
        if "model" in knowledge:
            counts["node_vectors"] = knowledge["model"]["rows"]
    if manifest["images"] is not None:
        counts["image_files"] = manifest["images"]["files"]
    return counts


def _discard(folder: Path, created: bool) -> None:
    """Remove what a failed export wrote (the folder itself only if the export made it)."""
    if created:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
