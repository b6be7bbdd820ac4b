"""What a source is: something that yields pages of artworks and can fetch their images.

A source never writes anything. It yields ``Page`` objects, each carrying a
``cursor`` that says how to continue *after* that page. The ingest pipeline
stores a page's records and its cursor in one transaction, so a run killed at
any moment resumes from the last stored page without duplicates or gaps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from asterism.shapes import Artwork


class SourceError(Exception):
    """A source could not deliver something; the message says what and why."""


@dataclass(frozen=True)
class ImageRef:
    """Where a record's image bytes are: a URL or a local file."""

    url: str | None = None
    path: Path | None = None
    sha1: str | None = None  # when the source publishes it (Commons), to verify downloads


@dataclass
class SourceRecord:
    artwork: Artwork
    image: ImageRef | None


@dataclass
class Page:
    records: list[SourceRecord]
    cursor: dict[str, Any] | None  # None: this was the last page
    problems: list[tuple[str, str]] = field(default_factory=list)  # (source_id, reason)


@runtime_checkable
class Source(Protocol):
    """A collection Asterism can ingest from."""

    name: str
    key: str
    """The checkpoint key naming this walk: the same source with the same arguments resumes, a
    different query starts its own walk. Built from the source's own arguments, so every caller
    (CLI, tests, scripts) names the same walk the same way."""

    def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        """Yield pages starting after ``cursor`` (None: from the beginning)."""
        ...

    async def fetch_image(self, ref: ImageRef) -> bytes:
        """Return the image bytes; raise ``SourceError`` with a reason if impossible."""
        ...

    async def aclose(self) -> None: ...
