"""Indexes that make the records' fingerprint cheap: the newest ``updated_at`` of works and OCR results.

A server maps the catalogue snapshot a build wrote instead of reading every
record (``recommend/snapshot.py``), but only while the records are those the
build read: the store's ``fingerprint`` compares counts, the largest id and the
newest ``updated_at`` of ``artworks`` and of the ``ocr_results`` that found
text (every write path of a record sets it). Without these indexes the two maxima scan the tables: at a
million works, a noticeable part of a start that should take seconds.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_artworks_updated_at", "artworks", ["updated_at"])
    op.create_index("ix_ocr_results_updated_at", "ocr_results", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_ocr_results_updated_at", table_name="ocr_results")
    op.drop_index("ix_artworks_updated_at", table_name="artworks")
