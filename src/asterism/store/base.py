"""The property store interface: what the pipeline and later stages need from it.

One implementation (``SqlStore``) serves both SQLite and PostgreSQL through
SQLAlchemy Core; the Protocol is what a new backend would implement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from asterism.shapes import Artwork, ImageFacts, Problem


@dataclass
class Batch:
    """Everything one transaction writes: records, their new images, problems, the cursor."""

    source: str
    artworks: list[Artwork] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # source_id -> fingerprint
    images: list[ImageFacts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)  # source_ids whose old problems are gone
    checkpoint_key: str | None = None
    cursor: dict[str, Any] | None = None
    finished: bool = False  # the source is exhausted: drop the checkpoint


# A near-duplicate's canonical artwork: its store id, or its (source, source_id)
# when it may be in the same batch.
Canonical = int | tuple[str, str]


@dataclass(frozen=True)
class Known:
    """What the store already holds for a record, to skip unchanged ones cheaply."""

    id: int
    fingerprint: str
    image_sha256: str | None
    status: str


class PropertyStore(Protocol):
    def write_batch(self, batch: Batch, links: dict[str, Canonical] | None = None) -> dict[str, int]:
        """Upsert a batch atomically; returns {source_id: artwork id}.

        ``links`` marks near-duplicates: {source_id: (source, source_id) of the canonical artwork},
        resolved inside the same transaction so the canonical may be in this very batch.
        """
        ...

    def known(self, source: str, source_ids: Sequence[str]) -> dict[str, Known]: ...

    def image(self, sha256: str) -> ImageFacts | None: ...

    def images(self, sha256s: Sequence[str]) -> dict[str, ImageFacts]:
        """The stored facts of those of ``sha256s`` that are stored, in one query."""
        ...

    def artwork(self, artwork_id: int) -> Artwork | None: ...

    def artwork_by_key(self, source: str, source_id: str) -> Artwork | None: ...

    def artworks(self, *, source: str | None = None, status: str | None = None) -> Iterator[Artwork]: ...

    def phashes(self, *, status: str | None = None) -> list[tuple[int, str, str]]:
        """(artwork id, coarse phash, fine phash) of every canonical artwork with an image (and ``status``)."""
        ...

    def artwork_ids_for_image(self, sha256: str) -> list[int]: ...

    def fingerprint(self) -> dict[str, Any]:
        """Counts, largest id and newest write of the records: equal while no record changed."""
        ...

    def get_checkpoint(self, source: str, key: str) -> dict[str, Any] | None: ...

    def problems(self, source: str | None = None) -> list[Problem]: ...

    def mark_pending(self, shas: Sequence[str]) -> None:
        """Record the sha256 of images about to be written, before writing them."""
        ...

    def take_orphans(self) -> list[str]:
        """Pending files whose image row never got committed (a killed run); clears the list."""
        ...

    def stats(self) -> dict[str, Any]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...
