"""Asterism: explore open-access art collections from a picture.

    import asterism

    with asterism.open("./asterism-data") as collection:
        collection.ingest("local", "./my-folder")
        collection.build()
        page = collection.recommend(artwork_id=40, weights={"formal": 0.6})

``open`` gives a ``Collection`` (``asterism.collection``): ingest, build,
recommend, connect, search, artwork, stats, problems, evaluate. Results are
the data shapes of ``asterism.shapes`` (``Artwork``, ``RecommendationPage``,
``Recommendation``, ``ConnectStep``, ``IngestReport``, ``Problem``).

The package reads as the pipeline: ``sources`` → ``ingest`` → ``store`` →
``embed`` → ``index`` → ``graph`` → ``stages`` (the build) → ``recommend``
(the read path) → ``api`` / ``cli``; ``home`` names every file of a data
home and ``config`` holds the one settings object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from asterism.config import Settings, load_settings
from asterism.shapes import Artwork, ConnectStep, IngestReport, Problem, Recommendation, RecommendationPage

if TYPE_CHECKING:
    from asterism.collection import Collection

__version__ = "0.1.0"


def open(home: str | Path | None = None, **settings: Any) -> Collection:
    """Open the collection in a data home (created on first use) for ingest, build and questions.

    ``home``: the data folder; default ``ASTERISM_HOME``, else ``./asterism-data``.
    ``settings``: any setting by name, overriding environment and ``<home>/asterism.toml``,
    e.g. ``ocr={"mode": "never"}``, ``store={"backend": "postgres", "url": "postgresql+psycopg://..."}``,
    ``painters_csv="PainterPalette.csv"``, ``weights={"formal": 0.6, "conceptual": 0.2, "historical": 0.2}``.

    Returns a ``Collection``; use it in a ``with`` block (or call ``close()``).
    """
    from asterism.collection import Collection

    return Collection(load_settings(home=Path(home) if home is not None else None, **settings))


def __getattr__(name: str) -> Any:
    """``asterism.Collection`` without importing the models when only ``__version__`` is wanted."""
    if name == "Collection":
        from asterism.collection import Collection

        return Collection
    raise AttributeError(f"module 'asterism' has no attribute {name!r}")


__all__ = [
    "Artwork",
    "Collection",
    "ConnectStep",
    "IngestReport",
    "Problem",
    "Recommendation",
    "RecommendationPage",
    "Settings",
    "__version__",
    "open",
]
