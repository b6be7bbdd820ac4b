"""Hot-query indexes: per-artwork vectors read by affinity.

Every other hot query already had its index (the primary keys, the unique
(source, source_id) key, image sha256, status); ``tests/store/test_hot_queries.py``
checks each plan on PostgreSQL. What was missing: ``embeddings`` is keyed
(artwork_id, affinity), so reading one affinity (every build's "what is up to
date", each index build's load, each server start's list of imported spaces)
scanned the whole table, vectors and all. The index leads with the affinity,
then the id (the order ``load`` returns), and carries model and input hash on
PostgreSQL so the up-to-date check reads the index alone. ``varchar_pattern_ops``
lets the spaces' ``LIKE 'space:%'`` use it under any database collation, not
only C; equality uses it as well.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_embeddings_affinity_artwork",
        "embeddings",
        ["affinity", "artwork_id"],
        postgresql_include=["model", "input_hash"],
        postgresql_ops={"affinity": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_embeddings_affinity_artwork", table_name="embeddings")
