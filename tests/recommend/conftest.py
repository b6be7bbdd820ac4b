"""A built sample collection (real AIC paintings + PainterPalette), shared by the recommender tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from asterism.build.runner import run_build
from asterism.config import Settings, load_settings
from asterism.images.store import ContentStore
from asterism.ingest.harvest import HarvestOptions
from asterism.ingest.pipeline import Ingestor
from asterism.recommend.service import Service, open_service
from asterism.sources.samples import sample_source
from asterism.store.sql import SqlStore

SAMPLE_SIZE = 120


@pytest.fixture(scope="session")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("recommend") / "home"
    settings = load_settings(
        home=home, ocr={"mode": "never"}, workers=2, batch_size=32,
        painters_csv=shared_data / "knowledge" / "PainterPalette.csv",
    )  # fmt: skip
    store = SqlStore(settings.store_url)
    ingestor = Ingestor(
        settings,
        store,
        ContentStore(settings.home, settings.images.thumb_sizes),
        HarvestOptions.from_settings(settings),
    )
    source = sample_source(shared_data / "aic-paintings", limit=SAMPLE_SIZE)
    asyncio.run(ingestor.run(source, "sample:aic-paintings"))
    store.close()
    run_build(settings)
    return settings


@pytest.fixture(scope="session")
def service(built: Settings) -> Iterator[Service]:
    opened = open_service(built)
    yield opened
    opened.close()
