"""Run the real ingest pipeline from a test: one store, one source, one checkpoint key."""

from __future__ import annotations

import asyncio

from asterism.config import Settings
from asterism.images.store import ContentStore
from asterism.ingest.harvest import HarvestOptions
from asterism.ingest.pipeline import Ingestor
from asterism.sources.base import Source
from asterism.store.sql import SqlStore


def ingest_source(settings: Settings, source: Source, key: str) -> None:
    store = SqlStore(settings.store_url)
    try:
        ingestor = Ingestor(
            settings, store, ContentStore(settings.home, settings.images.thumb_sizes),
            HarvestOptions.from_settings(settings),
        )  # fmt: skip
        asyncio.run(ingestor.run(source, key))
    finally:
        store.close()
