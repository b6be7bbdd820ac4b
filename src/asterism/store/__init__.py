"""The property store: artwork records, image facts, problems and checkpoints."""

from __future__ import annotations

from asterism.config import Settings
from asterism.store.base import Batch, Known, PropertyStore
from asterism.store.sql import SqlStore


def open_store(settings: Settings) -> PropertyStore:
    """The configured backend (SQLite by default, PostgreSQL with store.backend=postgres)."""
    return SqlStore(settings.store_url)


__all__ = ["Batch", "Known", "PropertyStore", "SqlStore", "open_store"]
