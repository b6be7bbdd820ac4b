"""Text in the pictures, in the property store: ``images.ocr_text`` plus the ``ocr_results`` ledger.

The text lives where it always did, on the image row (``ImageFacts.ocr_text``),
so the concept documents, the explanations and the API read it unchanged. The
ledger says which images the OCR stage is done with, and how: both are written
in one transaction per chunk, so a killed stage loses at most its last chunk and
a re-run picks up exactly the images without a result (one row per sha256: a
re-run can never duplicate one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from asterism.store.schema import images, ocr_results

OUTCOMES = ("text", "none", "skipped", "timeout", "failed")


@dataclass(frozen=True)
class OcrResult:
    """What the OCR stage did with one image."""

    sha256: str
    outcome: str  # one of OUTCOMES
    text: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Pending:
    """An image the OCR stage still has to look at."""

    sha256: str
    path: str  # of the original, relative to the data home


class OcrResults:
    """Reads and writes the OCR ledger and the text it stands for, on the store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    def pending(self, reader: str, *, redo_skipped: bool = False) -> list[Pending]:
        """Images without a result from ``reader`` (and, with ``redo_skipped``, those the gate skipped)."""
        done = sa.and_(ocr_results.c.sha256 == images.c.sha256, ocr_results.c.reader == reader)
        if redo_skipped:
            done = sa.and_(done, ocr_results.c.outcome != "skipped")
        query = (
            sa.select(images.c.sha256, images.c.path)
            .where(~sa.exists().where(done))
            .order_by(images.c.created_at, images.c.sha256)
        )
        with self.engine.connect() as conn:
            return [Pending(r.sha256, r.path) for r in conn.execute(query)]

    def put(self, reader: str, results: Sequence[OcrResult]) -> None:
        """Texts onto their image rows and the ledger rows, in one transaction."""
        if not results:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "sha256": r.sha256,
                "reader": reader,
                "outcome": r.outcome,
                "seconds": r.seconds,
                "updated_at": now,
            }
            for r in results
        ]
        stmt = self._insert(ocr_results)
        update = {c: stmt.excluded[c] for c in ("reader", "outcome", "seconds", "updated_at")}
        text = (
            sa.update(images)
            .where(images.c.sha256 == sa.bindparam("key"))
            .values(ocr_text=sa.bindparam("text"))
        )
        with self.engine.begin() as conn:
            conn.execute(text, [{"key": r.sha256, "text": r.text} for r in results])
            conn.execute(stmt.on_conflict_do_update(index_elements=["sha256"], set_=update), rows)

    def outcomes(self) -> Counter[str]:
        """How many images ended each way (every reader)."""
        query = sa.select(ocr_results.c.outcome, sa.func.count()).group_by(ocr_results.c.outcome)
        with self.engine.connect() as conn:
            return Counter({str(outcome): int(n) for outcome, n in conn.execute(query)})

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(ocr_results)).scalar() or 0)


__all__ = ["OUTCOMES", "OcrResult", "OcrResults", "Pending"]
