"""Export → restore into SQLite and into PostgreSQL gives the same collection, answering the same way."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.graph import open_graph
from asterism.graph.base import SIMILARITY_TYPES
from asterism.portable import DamagedExport
from asterism.portable.tables import TABLES, utc
from asterism.recommend.snapshot import MappedRecords
from asterism.store import open_database

STARTS = 4


def rows(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every row of every store table, times as UTC (SQLite gives them back naive)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with open_database(settings) as database, database.engine.connect() as connection:
        for table in TABLES:
            query = sa.select(table).order_by(*table.primary_key.columns)
            found = [dict(r._mapping) for r in connection.execute(query)]
            for row in found:
                for name, value in row.items():
                    if hasattr(value, "tzinfo"):
                        row[name] = utc(value)
            out[table.name] = found
    return out


def graph_content(settings: Settings) -> dict[str, Any]:
    graph = open_graph(settings, read_only=True, home=settings.paths.current())
    try:
        edges = {}
        for type_ in SIMILARITY_TYPES:
            found = graph.edges(type_)
            edges[type_] = sorted(
                zip(found.src.tolist(), found.dst.tolist(), found.weight.tolist(), strict=True)
            )
        return {"artworks": graph.artwork_ids().tolist(), "edges": edges, "knowledge": graph.knowledge()}
    finally:
        graph.close()


def answers(settings: Settings) -> dict[int, list[dict[str, Any]]]:
    """The first page for a few starts, and for one of them with other weights, as plain data.

    Served from the build's catalogue snapshot (records decoded from it, not read from the store),
    as a server started on the home would serve them.
    """
    with Collection(settings) as collection:
        assert isinstance(collection.service().catalogue.records, MappedRecords)
        starts = sorted(collection.service().catalogue.ids)[:: 120 // STARTS][:STARTS]
        out = {start: [r.model_dump() for r in collection.recommend(artwork_id=start, k=8).results]
               for start in starts}  # fmt: skip
        page = collection.recommend(artwork_id=starts[0], k=8, weights={"historical": 0.8}, diversity=0.3)
        out[-1] = [r.model_dump() for r in page.results]
        return out


def assert_same_collection(original: Settings, restored: Settings) -> None:
    assert rows(restored) == rows(original)
    with Collection(original) as before, Collection(restored) as after:
        old, new = before.service().searcher.vectors, after.service().searcher.vectors
        assert sorted(new) == sorted(old) == ["conceptual", "formal", "historical"]
        for affinity in old:
            assert np.array_equal(new[affinity].ids, old[affinity].ids)
            assert np.array_equal(new[affinity].vectors, old[affinity].vectors)
    for name in ("formal", "conceptual", "historical", "composite"):
        state = [
            json.loads(s.paths.current().index(name).state.read_text())["digest"]
            for s in (original, restored)
        ]
        assert state[0] == state[1], name
    assert graph_content(restored) == graph_content(original)
    before_answers, after_answers = answers(original), answers(restored)
    for start, results in before_answers.items():
        assert [(r["artwork"]["id"], r["score"]) for r in after_answers[start]] == [
            (r["artwork"]["id"], r["score"]) for r in results
        ]
        assert after_answers[start] == results  # reasons and credits too


def test_the_export_describes_itself(built: Settings, exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    assert (manifest["format"], manifest["version"]) == ("asterism-export", 1)
    with Collection(built) as collection:
        stats = collection.stats()
    assert manifest["counts"]["artworks"] == stats["artworks"] == 120
    assert manifest["counts"]["images"] == stats["images"]
    assert set(manifest["counts"]["vectors"]) == {"formal", "conceptual", "historical"}
    assert all(n > 0 for n in manifest["counts"]["edges"].values())
    assert manifest["counts"]["entities"] > 0 and manifest["counts"]["links"] > 0
    listed = set(manifest["files"])
    on_disk = {p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file()}
    assert on_disk == listed | {"manifest.json"}
    for name, facts in manifest["files"].items():
        data = (exported / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (facts["bytes"], facts["sha256"])
    # plain Parquet: records and vectors read without Asterism
    artworks = pq.read_table(exported / "records" / "artworks.parquet")
    assert artworks.num_rows == 120 and "title" in artworks.column_names
    conceptual = pq.read_table(exported / "vectors" / "conceptual.parquet")
    matrix = np.asarray(conceptual.column("vector").to_pylist(), dtype=np.float32)
    assert matrix.shape == (conceptual.num_rows, manifest["vectors"]["conceptual"]["dims"][0])
    sources, keys = artworks.column("source").to_pylist(), artworks.column("source_id").to_pylist()
    names = {i: f"{s}:{k}" for i, s, k in zip(artworks.column("id").to_pylist(), sources, keys, strict=True)}
    refs = zip(conceptual.column("artwork_id").to_pylist(), conceptual.column("ref").to_pylist(), strict=True)
    assert all(ref == names[work] for work, ref in refs)
    # pictures content-addressed: an original's name is the SHA-256 of its bytes
    originals = [n for n in listed if n.startswith("images/")]
    assert len(originals) == stats["images"]
    for name in originals[:10]:
        assert Path(name).stem == hashlib.sha256((exported / name).read_bytes()).hexdigest()
    # the manifest is the last file written
    latest = max((exported / name).stat().st_mtime_ns for name in listed)
    assert (exported / "manifest.json").stat().st_mtime_ns >= latest


def test_restore_into_sqlite_serves_the_same_answers(built: Settings, exported: Path, tmp_path: Path) -> None:
    home = tmp_path / "restored"
    with Collection(load_settings(home=home)) as collection:
        report = collection.restore(exported)
        assert report.database == "sqlite" and report.differing == []
        assert report.counts["artworks"] == 120
        assert report.snapshots is not None and report.snapshots.catalogue == "wrote 120 records"
    assert (home / "asterism.db").is_file() and not list(tmp_path.glob(".restored.restoring-*"))
    restored = load_settings(home=home, ocr={"mode": "never"})
    assert restored.paths.recorded_painters() == home / "inputs" / "PainterPalette.csv"
    assert_same_collection(built, restored)
    # the next build finds nothing stale: nothing is re-embedded, re-indexed or re-linked, and the
    # start-up snapshots the restore wrote (an export does not carry them) are those it would write
    served = restored.paths.current().generation
    with Collection(restored) as collection:
        rebuilt = collection.build(stages=("embed", "index", "graph"))
    assert not (rebuilt.embed.changed or (rebuilt.index and rebuilt.index.changed)), rebuilt
    assert not (rebuilt.graph and rebuilt.graph.changed), rebuilt
    assert rebuilt.snapshots is not None and rebuilt.snapshots.catalogue == "unchanged"
    assert restored.paths.current().generation == served  # nothing new: nothing published


@pytest.mark.postgres
def test_restore_into_postgres_serves_the_same_answers(
    built: Settings, exported: Path, tmp_path: Path, pg_url: str, shared_data: Path
) -> None:
    home = tmp_path / "restored"
    with Collection(load_settings(home=home)) as collection:
        report = collection.restore(exported, database=pg_url)
    assert report.database.startswith("postgresql+psycopg://") and report.differing == []
    restored = load_settings(home=home, ocr={"mode": "never"})
    assert restored.store.backend == "postgres" and not (home / "asterism.db").exists()
    assert_same_collection(built, restored)
    # the id sequence moved past the restored ids: the next work ingested gets the next id
    with Collection(restored) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=121)
        ids = sorted(a.id for a in collection.service().records.artworks() if a.id is not None)
    assert len(ids) == 121 and ids[-1] == ids[-2] + 1


def test_a_killed_export_is_never_taken_for_a_whole_one(built: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "killed"
    code = (
        "from asterism.collection import Collection; from asterism.config import load_settings; "
        f"Collection(load_settings(home={str(built.home)!r})).export({str(folder)!r}, images=True)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 120
    while not (folder / "records").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)  # mid-way: the records are being written
    process.wait()
    if (folder / "manifest.json").exists():
        pytest.skip("the export finished before it could be killed")
    assert any(folder.iterdir())  # a partial export was left behind
    collection = Collection(load_settings(home=tmp_path / "new"))
    with collection, pytest.raises(DamagedExport, match=r"manifest\.json is missing"):
        collection.restore(folder)
    assert not (tmp_path / "new").exists()
