"""Initial schema: images, artworks, problems, checkpoints, pending_files.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("phash", sa.String(16), nullable=False),
        sa.Column("phash_fine", sa.String(64), nullable=False, server_default=""),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("ext", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False, server_default="1"),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("ocr_text", sa.Text, nullable=False, server_default=""),
        sa.Column("thumbs", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_images_phash", "images", ["phash"])
    op.create_table(
        "artworks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(512), nullable=False),
        sa.Column("collection", sa.Text),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("artist_name", sa.Text),
        sa.Column("artist_display", sa.Text),
        sa.Column("date_display", sa.Text),
        sa.Column("date_start", sa.Integer),
        sa.Column("date_end", sa.Integer),
        sa.Column("culture", sa.Text),
        sa.Column("place", sa.Text),
        sa.Column("classification", sa.Text),
        sa.Column("medium", sa.Text),
        sa.Column("subjects", sa.JSON, nullable=False),
        sa.Column("styles", sa.JSON, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("credit_line", sa.Text),
        sa.Column("provenance", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("license_id", sa.String(64), nullable=False),
        sa.Column("attribution", sa.Text, nullable=False, server_default=""),
        sa.Column("source_url", sa.Text),
        sa.Column("image_url", sa.Text),
        sa.Column("image_sha256", sa.String(64), sa.ForeignKey("images.sha256")),
        sa.Column("extras", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("duplicate_of", sa.Integer),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "source_id", name="uq_artworks_source_key"),
    )
    op.create_index("ix_artworks_license_id", "artworks", ["license_id"])
    op.create_index("ix_artworks_image_sha256", "artworks", ["image_sha256"])
    op.create_index("ix_artworks_status", "artworks", ["status"])
    op.create_table(
        "problems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(512), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "source_id", "stage", name="uq_problems_item_stage"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("cursor", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pending_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    for table in ("pending_files", "checkpoints", "problems", "artworks", "images"):
        op.drop_table(table)
