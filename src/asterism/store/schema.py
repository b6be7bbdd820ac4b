"""The property store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

``artworks`` holds one row per (source, source_id): the ``Artwork`` fields.
``images`` holds one row per distinct image (sha256): the blueprint's images
table, content-addressed so exact duplicates are stored once. Alembic
migrations in ``store/migrations`` create exactly these tables; a test checks
the two never drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

images = sa.Table(
    "images",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("phash", sa.String(16), nullable=False, index=True),
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

artworks = sa.Table(
    "artworks",
    metadata,
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
    sa.Column("license_id", sa.String(64), nullable=False, index=True),
    sa.Column("attribution", sa.Text, nullable=False, server_default=""),
    sa.Column("source_url", sa.Text),
    sa.Column("image_url", sa.Text),
    sa.Column("image_sha256", sa.String(64), sa.ForeignKey("images.sha256"), index=True),
    sa.Column("extras", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("status_reason", sa.Text),
    sa.Column("duplicate_of", sa.Integer),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # set by every write of the row: the records' fingerprint reads its maximum (migration 0007)
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.UniqueConstraint("source", "source_id", name="uq_artworks_source_key"),
)

problems = sa.Table(
    "problems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("source_id", sa.String(512), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "source_id", "stage", name="uq_problems_item_stage"),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("cursor", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Files written for a batch that is not yet committed: swept at the next start if the batch never was.
pending_files = sa.Table(
    "pending_files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
)

# ----------------------------------------------------------------------------- representations
# What the embedding stage computed from each distinct image (once per sha256, however many
# artworks share it): the formal vector, predicted ImageNet labels and the dominant colours.
image_features = sa.Table(
    "image_features",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("images.sha256"), primary_key=True),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("palette", sa.JSON, nullable=False),
    sa.Column("formal", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# What the OCR stage did with each distinct image (``stages/ocr.py``): its text goes to
# ``images.ocr_text``, in the same transaction as this row, so a row here means "done with
# ``reader``" and a re-run (or a resumed one) skips the image. ``outcome``: text, none (read,
# nothing real), skipped (the text gate saw no writing), timeout, failed.
ocr_results = sa.Table(
    "ocr_results",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("images.sha256"), primary_key=True),
    sa.Column("reader", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),  # migration 0007
)

# Per-artwork vectors that depend on its metadata (conceptual, historical); ``input_hash`` is a
# hash of exactly what went in, so only changed artworks are recomputed.
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("artwork_id", sa.Integer, sa.ForeignKey("artworks.id"), primary_key=True),
    sa.Column("affinity", sa.String(80), primary_key=True),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("document", sa.Text, nullable=False, server_default=""),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # one affinity's rows (build's up-to-date check, index loads, imported spaces): migration 0006
    sa.Index(
        "ix_embeddings_affinity_artwork",
        "affinity",
        "artwork_id",
        postgresql_include=["model", "input_hash"],
        postgresql_ops={"affinity": "varchar_pattern_ops"},
    ),
)

# ----------------------------------------------------------------------------- evaluation
# The blind preference study: a start, two result lists from two weightings shown left/right in
# random order, and the person's vote. Which weighting was on which side is kept here, never sent.
preference_pairs = sa.Table(
    "preference_pairs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("start_id", sa.Integer, nullable=False),
    sa.Column("left_variant", sa.String(32), nullable=False),
    sa.Column("right_variant", sa.String(32), nullable=False),
    sa.Column("choice", sa.String(8), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
)
