"""A damaged, unfinished or misplaced export is refused with the file named, and nothing is half-written.

A small home (a few ingested works and an imported vector space, no build) keeps these quick.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.portable import DamagedExport, ExportRefused, RestoreRefused
from asterism.portable.export import portable_settings
from asterism.store import open_database

WORKS = 6
runner = CliRunner()


@pytest.fixture(scope="module")
def small(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """A home of a few works with an imported space, and its export (not to be damaged: copy it)."""
    root = tmp_path_factory.mktemp("small")
    settings = load_settings(home=root / "home", ocr={"mode": "never"}, workers=2, batch_size=8)
    with Collection(settings) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=WORKS)
        with open_database(settings) as database:
            refs = [a.ref for a in database.records.artworks()]
        np.save(root / "v.npy", np.random.default_rng(1).normal(size=(len(refs), 8)).astype(np.float32))
        (root / "ids.txt").write_text("\n".join(refs) + "\n")
        collection.import_vectors(root / "v.npy", "tiny", ids=root / "ids.txt")
        collection.export(root / "export")
    return settings, root / "export"


@pytest.fixture
def export(small: tuple[Settings, Path], tmp_path: Path) -> Path:
    """A fresh copy of the small export, to damage."""
    return Path(shutil.copytree(small[1], tmp_path / "export"))


def refused(export: Path, home: Path, message: str) -> None:
    with Collection(load_settings(home=home)) as collection, pytest.raises(DamagedExport, match=message):
        collection.restore(export)
    assert not home.exists(), "nothing of the new home may be left"
    assert not list(home.parent.glob(f".{home.name}.restoring-*"))


def test_a_deleted_vectors_file_is_refused_naming_it(export: Path, tmp_path: Path) -> None:
    (export / "vectors" / "space-tiny.parquet").unlink()
    refused(export, tmp_path / "new", "vectors/space-tiny.parquet is missing")


def test_a_flipped_byte_is_refused_naming_the_file(export: Path, tmp_path: Path) -> None:
    damaged = export / "records" / "artworks.parquet"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    refused(export, tmp_path / "new", "records/artworks.parquet is damaged")


def test_a_missing_or_unreadable_manifest_is_refused(export: Path, tmp_path: Path) -> None:
    manifest = export / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])  # cut short
    refused(export, tmp_path / "new", "manifest.json cannot be read")
    manifest.unlink()  # what a killed export leaves: everything but the manifest
    refused(export, tmp_path / "new", "manifest.json is missing")


def test_the_cli_exits_non_zero_naming_the_file(export: Path, tmp_path: Path) -> None:
    (export / "records" / "images.parquet").unlink()
    result = runner.invoke(app, ["restore", str(export), "--home", str(tmp_path / "new")])
    assert result.exit_code == 2
    assert "records/images.parquet is missing" in " ".join(result.stderr.split())
    assert not (tmp_path / "new").exists()


def test_a_whole_export_restores_through_the_cli(small: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, _ = small
    result = runner.invoke(app, ["--home", str(settings.home), "export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["restore", str(tmp_path / "out"), "--home", str(tmp_path / "new")])
    assert result.exit_code == 0, result.stderr
    restored = load_settings(home=tmp_path / "new")
    with open_database(settings) as before, open_database(restored) as after:
        assert list(after.records.artworks()) == list(before.records.artworks())
        old, new = before.features.load("space:tiny"), after.features.load("space:tiny")
        assert np.array_equal(old[0], new[0]) and np.array_equal(old[1], new[1])
        assert after.features.spaces() == before.features.spaces()
    assert not restored.paths.manifest.exists()  # nothing was built, so no generation is made


def test_exports_and_restores_go_only_where_nothing_is(
    small: tuple[Settings, Path], export: Path, tmp_path: Path
) -> None:
    settings, _ = small
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with Collection(settings) as collection, pytest.raises(ExportRefused, match="not an empty folder"):
        collection.export(tmp_path / "busy")
    with Collection(settings) as collection, pytest.raises(ExportRefused, match="inside the data home"):
        collection.export(settings.home / "export")
    with Collection(load_settings(home=tmp_path / "busy")) as collection:
        with pytest.raises(RestoreRefused, match="is not empty"):
            collection.restore(export)
        with pytest.raises(ExportRefused, match="no collection"):
            collection.export(tmp_path / "nothing")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]


@pytest.mark.postgres
def test_a_database_that_holds_data_is_refused(export: Path, tmp_path: Path, pg_url: str) -> None:
    with Collection(load_settings(home=tmp_path / "first")) as collection:
        assert collection.restore(export, database=pg_url).counts["artworks"] == WORKS
    second = Collection(load_settings(home=tmp_path / "second"))
    with second, pytest.raises(RestoreRefused, match="already holds data"):
        second.restore(export, database=pg_url)
    assert not (tmp_path / "second").exists()


def test_exported_settings_are_what_differs_from_the_defaults(tmp_path: Path) -> None:
    assert portable_settings(load_settings(home=tmp_path)) == {}
    settings = load_settings(
        home=tmp_path, weights={"formal": 0.6, "conceptual": 0.2, "historical": 0.2}, graph={"k": 12},
        api={"admin_token": "secret"}, store={"url": "postgresql+psycopg://u:pw@db/x"},
    )  # fmt: skip
    chosen = portable_settings(settings)
    assert chosen == {"weights": {"formal": 0.6, "conceptual": 0.2, "historical": 0.2}, "graph": {"k": 12}}
    assert "secret" not in json.dumps(chosen) and "pw" not in json.dumps(chosen)
