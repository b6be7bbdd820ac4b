"""Preference study: pairs of result lists shown blind, and the votes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preference_pairs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("start_id", sa.Integer, nullable=False),
        sa.Column("left_variant", sa.String(32), nullable=False),
        sa.Column("right_variant", sa.String(32), nullable=False),
        sa.Column("choice", sa.String(8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("preference_pairs")
