"""Shared fixtures: settings in a temporary home, real PostgreSQL, the shared data folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import asterism
from asterism.config import Settings, load_settings
from asterism.recommend.service import Service

SHARED_DATA = Path(
    os.environ.get("ASTERISM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
PG_URL = os.environ.get("ASTERISM_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a fresh data home, OCR off (tests that need it turn it on)."""
    return load_settings(home=tmp_path / "home", ocr={"mode": "never"}, workers=2, batch_size=8)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A private schema in the real PostgreSQL server, dropped afterwards.

    The server is part of this project's test environment: an unreachable
    server fails the test rather than skipping it.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


SAMPLE_SIZE = 120


@pytest.fixture(scope="session")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """120 real AIC sample paintings ingested and built (vectors, indexes, graph), once per session."""
    home = tmp_path_factory.mktemp("recommend") / "home"
    settings = load_settings(
        home=home, ocr={"mode": "never"}, workers=2, batch_size=32,
        painters_csv=shared_data / "knowledge" / "PainterPalette.csv",
    )  # fmt: skip
    with asterism.Collection(settings) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=SAMPLE_SIZE)
        collection.build()
    return settings


@pytest.fixture(scope="session")
def service(built: Settings) -> Iterator[Service]:
    """The built sample collection opened for questions, with its image models."""
    with asterism.Collection(built) as collection:
        yield collection.service()
