"""``migrate``: a home's SQLite store moved into PostgreSQL answers exactly as before, and keeps growing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.portable import MigrateRefused
from asterism.portable.tables import TABLES, utc
from asterism.store import Database, database_url, open_database


def answers(settings: Settings) -> list[list[tuple[int | None, float]]]:
    with Collection(settings) as collection:
        starts = sorted(collection.service().catalogue.ids)[::40]
        pages = [collection.recommend(artwork_id=start, k=8) for start in starts]
        return [[(r.artwork.id, r.score) for r in page.results] for page in pages]


def rows(database: Database) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with database.engine.connect() as connection:
        for table in TABLES:
            found = [
                dict(r._mapping)
                for r in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            out[table.name] = [
                {k: utc(v) if hasattr(v, "tzinfo") else v for k, v in row.items()} for row in found
            ]
    return out


@pytest.mark.postgres
def test_migrate_moves_the_store_and_the_answers_stay(
    built: Settings, tmp_path: Path, pg_url: str, shared_data: Path
) -> None:
    home = Path(shutil.copytree(built.home, tmp_path / "home", symlinks=True))
    settings = load_settings(home=home, ocr={"mode": "never"})
    before = answers(settings)
    with Collection(settings) as collection:
        report = collection.migrate(pg_url.replace("postgresql+psycopg://", "postgresql://"))
        assert collection.settings.store.backend == "postgres"
    assert report.counts["artworks"] == 120 and report.kept == home / "asterism.db"
    migrated = load_settings(home=home, ocr={"mode": "never"})
    assert (migrated.store.backend, database_url(migrated)) == ("postgres", pg_url)
    with Database(f"sqlite:///{home / 'asterism.db'}") as old, open_database(migrated) as new:
        assert new.engine.dialect.name == "postgresql"
        assert rows(new) == rows(old)
    assert answers(migrated) == before
    # the store keeps growing in PostgreSQL: the next work gets the next id
    with Collection(migrated) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=121)
        assert collection.stats()["artworks"] == 121
        with open_database(migrated) as database:
            ids = sorted(a.id for a in database.records.artworks() if a.id is not None)
    assert ids[-1] == ids[-2] + 1
    with Collection(migrated) as collection, pytest.raises(MigrateRefused, match="not SQLite"):
        collection.migrate(pg_url)


@pytest.mark.postgres
def test_migrate_refuses_a_database_that_holds_data(built: Settings, tmp_path: Path, pg_url: str) -> None:
    with Database(pg_url) as database, database.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO pending_files (sha256) VALUES ('x')"))
    home = Path(shutil.copytree(built.home, tmp_path / "home", symlinks=True))
    with (
        Collection(load_settings(home=home)) as collection,
        pytest.raises(MigrateRefused, match="pending_files"),
    ):
        collection.migrate(pg_url)
    assert load_settings(home=home).store.backend == "sqlite"
    with (
        Collection(load_settings(home=home)) as collection,
        pytest.raises(MigrateRefused, match="not a PostgreSQL"),
    ):
        collection.migrate("sqlite:///elsewhere.db")
