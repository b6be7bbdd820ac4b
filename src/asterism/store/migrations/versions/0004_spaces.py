"""Imported vector spaces: an affinity name is now ``space:<name>`` (up to 64 characters of name).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("embeddings") as batch:
        batch.alter_column(
            "affinity", type_=sa.String(80), existing_type=sa.String(16), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM embeddings WHERE affinity LIKE 'space:%'")  # they would not fit 16 characters
    with op.batch_alter_table("embeddings") as batch:
        batch.alter_column(
            "affinity", type_=sa.String(16), existing_type=sa.String(80), existing_nullable=False
        )
