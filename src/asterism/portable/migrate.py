"""``asterism migrate --to postgresql://…``: a home's SQLite store moved into PostgreSQL.

A collection that outgrows one file (several servers, a managed database,
backups by the database's own tools) moves without re-ingesting or
re-embedding: every table is copied with its ids into a PostgreSQL database
whose schema Alembic creates (the same migrations as any store), in one
transaction, so a failed copy leaves the target as empty as it was. The id
sequences are moved past the copied ids (``tables.advance_sequences``), the
row counts are checked, and only then is the home's ``asterism.toml`` pointed
at the new store (``[store] backend = "postgres"``). The SQLite file is left
where it was, untouched: the copy to go back to.

Indexes, graph and models are files of the home and do not move: the
recommendations are the same before and after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from asterism.config import Settings
from asterism.ingest.pipeline import home_lock
from asterism.portable.tables import advance_sequences, copy_table, count, first_filled
from asterism.recommend.query import QueryError
from asterism.settings_file import update_settings_file
from asterism.stages.generations import build_lock
from asterism.store import Database, database_url, open_database
from asterism.store.retry import Patience
from asterism.store.schema import metadata


class MigrateRefused(QueryError):
    """The store cannot be moved as asked: not SQLite, not a PostgreSQL URL, a target that holds data."""

    status = 409


@dataclass
class MigrateReport:
    url: str  # the PostgreSQL URL now in the settings (password hidden)
    settings_file: Path
    kept: Path  # the SQLite file, left as it was
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    seconds: float = 0.0


def postgres_url(url: str) -> str:
    """A PostgreSQL URL for the driver this project uses (``postgresql://`` means psycopg 3 here)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise MigrateRefused(f"{url!r} is not a database URL (postgresql://user@host:5432/name)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "postgresql":
        raise MigrateRefused(f"{parsed.render_as_string()} is not a PostgreSQL URL (postgresql://…)")
    return parsed.render_as_string(hide_password=False)


def hidden(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def migrate_store(settings: Settings, url: str) -> MigrateReport:
    """Copy the SQLite store of ``settings``' home into the (empty) PostgreSQL database at ``url``."""
    started = time.perf_counter()
    home = settings.paths
    source_url = database_url(settings)
    if not source_url.startswith("sqlite"):
        raise MigrateRefused(
            f"the store of {home.root} is not SQLite ({hidden(source_url)}): nothing to migrate"
        )
    target_url = postgres_url(url)
    patience = Patience(settings.store.busy_timeout, settings.store.reconnect_timeout)
    with home_lock(home), build_lock(home):
        source = open_database(settings)
        target = Database(target_url, patience)  # creates the schema (Alembic) if the database has none
        try:
            with target.engine.connect() as connection:
                filled = first_filled(connection)
            if filled is not None:
                raise MigrateRefused(
                    f"{hidden(target_url)} already holds data (table {filled}): migrate into an empty database"
                )
            counts: dict[str, int] = {}
            with source.engine.connect() as read, target.engine.begin() as write:
                for table in metadata.sorted_tables:
                    counts[table.name] = copy_table(read, write, table)
                advance_sequences(write)
            with target.engine.connect() as connection:
                for table in metadata.sorted_tables:
                    if count(connection, table) != counts[table.name]:
                        raise RuntimeError(f"{table.name}: {counts[table.name]} rows copied, "
                                           f"{count(connection, table)} found after the copy")  # fmt: skip
        finally:
            source.close()
            target.close()
        written = update_settings_file(home.config_file, "store", {"backend": "postgres", "url": target_url})
    kept = Path(sa.engine.make_url(source_url).database or home.database_file)
    return MigrateReport(hidden(target_url), written, kept, counts, time.perf_counter() - started)
