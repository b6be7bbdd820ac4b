"""Representations: image_features (per image) and embeddings (per artwork and affinity).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_features",
        sa.Column("sha256", sa.String(64), sa.ForeignKey("images.sha256"), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("palette", sa.JSON, nullable=False),
        sa.Column("formal", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "embeddings",
        sa.Column("artwork_id", sa.Integer, sa.ForeignKey("artworks.id"), primary_key=True),
        sa.Column("affinity", sa.String(16), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False, server_default=""),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
    op.drop_table("image_features")
