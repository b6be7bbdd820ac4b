"""``Database``: the property store, the image features and vectors, and the study votes over one engine.

Callers open one ``Database`` and see its views, each with its own job:
``records`` (the ``PropertyStore`` protocol: artworks, images, problems,
checkpoints), ``features`` (per-image features and per-artwork vectors),
``ocr`` (the OCR stage's results and the text they wrote) and ``study``
(preference votes). They share the engine, so one data home holds one
connection pool whether it is SQLite or PostgreSQL.
"""

from __future__ import annotations

from asterism.config import Settings
from asterism.home import Home
from asterism.store.base import PropertyStore
from asterism.store.features import FeatureStore
from asterism.store.ocr import OcrResults
from asterism.store.retry import Patience
from asterism.store.sql import SqlStore
from asterism.store.study import StudyVotes

DEFAULT_POSTGRES = "postgresql+psycopg://127.0.0.1:5432/asterism"


def database_url(settings: Settings, home: Home | None = None) -> str:
    """The configured URL; SQLite defaults to the data home's ``asterism.db``."""
    if settings.store.url:
        return settings.store.url
    if settings.store.backend == "postgres":
        return DEFAULT_POSTGRES
    return f"sqlite:///{(home or settings.paths).database_file}"


class Database:
    """One engine, three views. Opening migrates the schema to the newest revision."""

    def __init__(self, url: str, patience: Patience | None = None) -> None:
        sql = SqlStore(url, patience=patience)
        self.url = url
        self.engine = sql.engine
        self.records: PropertyStore = sql
        self.features = FeatureStore(self.engine)
        self.ocr = OcrResults(self.engine)
        self.study = StudyVotes(self.engine, sql.patience)

    def close(self) -> None:
        self.records.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(settings: Settings) -> Database:
    """The configured backend: SQLite in the data home by default, PostgreSQL with store.backend."""
    patience = Patience(settings.store.busy_timeout, settings.store.reconnect_timeout)
    return Database(database_url(settings), patience)
