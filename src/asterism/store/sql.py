"""``SqlStore``: the property store on SQLite (embedded) or PostgreSQL (server).

The same SQLAlchemy Core statements run on both; only the upsert construct
comes from the dialect. The schema is created and upgraded by Alembic on open,
so an old data home is migrated in place. Every batch (records, their images,
problems and the source cursor) is one transaction: a killed process leaves
either all of a batch or none of it. A dropped PostgreSQL connection re-runs the
operation, a locked SQLite waits, both for a stated time (``store/retry.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from asterism.shapes import Artwork, ImageFacts, Problem, Status
from asterism.store.base import Batch, Canonical, Known
from asterism.store.retry import Patience, resilient, run
from asterism.store.schema import artworks, checkpoints, images, ocr_results, pending_files, problems

ARTWORK_FIELDS = [
    c.name for c in artworks.columns if c.name not in ("id", "image_sha256", "fingerprint", "created_at")
]
MIGRATIONS = Path(__file__).with_name("migrations")


def _now() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, patience: Patience | None = None) -> Engine:
    """An engine with the pragmas SQLite needs to be a good embedded store.

    A SQLite write waits ``busy_timeout`` for another writer's lock; a PostgreSQL
    connection is pinged before use, so one a server restart killed is replaced.
    """
    patience = patience or Patience()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": patience.busy_timeout})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class SqlStore:
    """PropertyStore over SQLAlchemy Core."""

    def __init__(self, url: str, *, engine: Engine | None = None, patience: Patience | None = None) -> None:
        self.patience = patience or Patience()
        self.engine = engine or create_engine(url, self.patience)
        run(self.engine, self.patience, lambda: migrate(self.engine), "migrate")
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    # ------------------------------------------------------------------ writes
    @resilient
    def write_batch(self, batch: Batch, links: dict[str, Canonical] | None = None) -> dict[str, int]:
        now = _now()
        with self.engine.begin() as conn:
            if batch.images:
                stmt = self._insert(images).on_conflict_do_nothing(index_elements=["sha256"])
                conn.execute(stmt, [_image_row(i, now) for i in batch.images])
            ids: dict[str, int] = {}
            if batch.artworks:
                rows = [_artwork_row(a, batch.fingerprints.get(a.source_id, ""), now) for a in batch.artworks]
                stmt = self._insert(artworks)
                update = {
                    name: stmt.excluded[name] for name in [*ARTWORK_FIELDS, "image_sha256", "fingerprint"]
                }
                update.pop("created_at", None)
                conn.execute(
                    stmt.on_conflict_do_update(index_elements=["source", "source_id"], set_=update), rows
                )
                ids = self._ids(conn, batch.source, [a.source_id for a in batch.artworks])
            for source_id, canonical in (links or {}).items():
                if isinstance(canonical, int):
                    target: int | None = canonical
                else:
                    target = self._ids(conn, canonical[0], [canonical[1]]).get(canonical[1])
                if target is not None and source_id in ids and ids[source_id] != target:
                    conn.execute(
                        sa.update(artworks).where(artworks.c.id == ids[source_id]).values(duplicate_of=target)
                    )
            if batch.problems:
                stmt = self._insert(problems)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["source", "source_id", "stage"],
                        set_={"reason": stmt.excluded.reason, "at": stmt.excluded.at},
                    ),
                    [p.model_dump() for p in batch.problems],
                )
            if batch.resolved:
                conn.execute(
                    sa.delete(problems).where(
                        problems.c.source == batch.source, problems.c.source_id.in_(batch.resolved)
                    )
                )
            if batch.checkpoint_key is not None:
                self._save_checkpoint(conn, batch, now)
            if batch.images:
                shas = [i.sha256 for i in batch.images]
                conn.execute(sa.delete(pending_files).where(pending_files.c.sha256.in_(shas)))
        return ids

    def _save_checkpoint(self, conn: sa.Connection, batch: Batch, now: datetime) -> None:
        key = (checkpoints.c.source == batch.source) & (checkpoints.c.key == batch.checkpoint_key)
        if batch.finished or batch.cursor is None:
            conn.execute(sa.delete(checkpoints).where(key))
            return
        stmt = self._insert(checkpoints)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["source", "key"],
                set_={"cursor": stmt.excluded.cursor, "updated_at": stmt.excluded.updated_at},
            ),
            {"source": batch.source, "key": batch.checkpoint_key, "cursor": batch.cursor, "updated_at": now},
        )

    @resilient
    def mark_pending(self, shas: Sequence[str]) -> None:
        if not shas:
            return
        with self.engine.begin() as conn:
            stmt = self._insert(pending_files).on_conflict_do_nothing(index_elements=["sha256"])
            conn.execute(stmt, [{"sha256": s} for s in shas])

    @resilient
    def take_orphans(self) -> list[str]:
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(pending_files.c.sha256).where(
                    ~sa.exists().where(images.c.sha256 == pending_files.c.sha256)
                )
            ).all()
            conn.execute(sa.delete(pending_files))
        return [r.sha256 for r in rows]

    # ------------------------------------------------------------------- reads
    @staticmethod
    def _ids(conn: sa.Connection, source: str, source_ids: Sequence[str]) -> dict[str, int]:
        rows = conn.execute(
            sa.select(artworks.c.id, artworks.c.source_id).where(
                artworks.c.source == source, artworks.c.source_id.in_(list(source_ids))
            )
        )
        return {r.source_id: r.id for r in rows}

    @resilient
    def known(self, source: str, source_ids: Sequence[str]) -> dict[str, Known]:
        if not source_ids:
            return {}
        query = sa.select(
            artworks.c.id,
            artworks.c.source_id,
            artworks.c.fingerprint,
            artworks.c.image_sha256,
            artworks.c.status,
        ).where(artworks.c.source == source, artworks.c.source_id.in_(list(source_ids)))
        with self.engine.connect() as conn:
            return {
                r.source_id: Known(r.id, r.fingerprint, r.image_sha256, r.status) for r in conn.execute(query)
            }

    @resilient
    def image(self, sha256: str) -> ImageFacts | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(images).where(images.c.sha256 == sha256)).first()
        return _stored_image(row._mapping) if row else None

    @resilient
    def images(self, sha256s: Sequence[str]) -> dict[str, ImageFacts]:
        wanted = sorted(set(sha256s))
        found: dict[str, ImageFacts] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # under every backend's bound-parameter limit
                query = sa.select(images).where(images.c.sha256.in_(wanted[start : start + 500]))
                found.update((row.sha256, _stored_image(row._mapping)) for row in conn.execute(query))
        return found

    def _select_artworks(self) -> sa.Select[Any]:
        image_cols = [c.label(f"img_{c.name}") for c in images.columns]
        return sa.select(artworks, *image_cols).select_from(
            artworks.outerjoin(images, artworks.c.image_sha256 == images.c.sha256)
        )

    @resilient
    def artwork(self, artwork_id: int) -> Artwork | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._select_artworks().where(artworks.c.id == artwork_id)).first()
        return _artwork(row._mapping) if row else None

    @resilient
    def artwork_by_key(self, source: str, source_id: str) -> Artwork | None:
        query = self._select_artworks().where(artworks.c.source == source, artworks.c.source_id == source_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _artwork(row._mapping) if row else None

    def artworks(self, *, source: str | None = None, status: str | None = None) -> Iterator[Artwork]:
        query = self._select_artworks().order_by(artworks.c.id)
        if source:
            query = query.where(artworks.c.source == source)
        if status:
            query = query.where(artworks.c.status == status)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=500).execute(query):
                yield _artwork(row._mapping)

    @resilient
    def phashes(self, *, status: str | None = None) -> list[tuple[int, str, str]]:
        query = (
            sa.select(artworks.c.id, images.c.phash, images.c.phash_fine)
            .join(images, artworks.c.image_sha256 == images.c.sha256)
            .where(artworks.c.duplicate_of.is_(None))
            .order_by(artworks.c.id)
        )
        if status:
            query = query.where(artworks.c.status == status)
        with self.engine.connect() as conn:
            return [(r.id, r.phash, r.phash_fine) for r in conn.execute(query)]

    @resilient
    def artwork_ids_for_image(self, sha256: str) -> list[int]:
        query = sa.select(artworks.c.id).where(artworks.c.image_sha256 == sha256).order_by(artworks.c.id)
        with self.engine.connect() as conn:
            return [r.id for r in conn.execute(query)]

    @resilient
    def get_checkpoint(self, source: str, key: str) -> dict[str, Any] | None:
        query = sa.select(checkpoints.c.cursor).where(
            checkpoints.c.source == source, checkpoints.c.key == key
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        return dict(value) if value else None

    @resilient
    def problems(self, source: str | None = None) -> list[Problem]:
        query = sa.select(problems).order_by(problems.c.id)
        if source:
            query = query.where(problems.c.source == source)
        with self.engine.connect() as conn:
            return [
                Problem(source=r.source, source_id=r.source_id, stage=r.stage, reason=r.reason, at=r.at)
                for r in conn.execute(query)
            ]

    @resilient
    def fingerprint(self) -> dict[str, Any]:
        """What changes whenever a stored record does, read in milliseconds at any size.

        Every write of a work (``write_batch``'s upsert and its duplicate links in the same
        transaction, ``bulk_load``) sets ``updated_at``; no path deletes a work (a count change
        would show it). OCR writes an image's text with its ``ocr_results`` row, and the text is
        non-empty exactly when the outcome is "text": so the count and newest ``updated_at`` of
        those rows move whenever a text appears, changes or goes, and not when a picture is read
        again and still has none (a build that only ran OCR over text-free pictures changes
        nothing). Counts, the largest id and the newest ``updated_at`` (indexed: migration 0007)
        say whether the records are still those a build read (``recommend/snapshot.py``).
        """
        texts_only = ocr_results.c.outcome == "text"
        with self.engine.connect() as conn:
            works = conn.execute(
                sa.select(sa.func.count(), sa.func.max(artworks.c.id), sa.func.max(artworks.c.updated_at))
            ).one()
            texts = conn.execute(
                sa.select(sa.func.count(), sa.func.max(ocr_results.c.updated_at)).where(texts_only)
            ).one()
        return {
            "artworks": int(works[0]),
            "max_id": int(works[1] or 0),
            "updated": str(works[2] or ""),
            "ocr": int(texts[0]),
            "ocr_updated": str(texts[1] or ""),
        }

    @resilient
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(artworks)).scalar() or 0)

    @resilient
    def stats(self) -> dict[str, Any]:
        """Counts by source, license and status, plus images and problems."""
        out: dict[str, Any] = {"artworks": 0}
        with self.engine.connect() as conn:
            for column in ("source", "license_id", "status"):
                col = artworks.c[column]
                rows = conn.execute(sa.select(col, sa.func.count()).group_by(col).order_by(col)).all()
                out[f"by_{column.removesuffix('_id')}"] = {str(r[0]): int(r[1]) for r in rows}
            rows = conn.execute(
                sa.select(artworks.c.source, artworks.c.status, sa.func.count()).group_by(
                    artworks.c.source, artworks.c.status
                )
            ).all()
            out["by_source_status"] = {f"{r[0]}/{r[1]}": int(r[2]) for r in rows}
            out["artworks"] = sum(out["by_source"].values())
            out["images"] = int(conn.execute(sa.select(sa.func.count()).select_from(images)).scalar() or 0)
            out["near_duplicates"] = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(artworks)
                    .where(artworks.c.duplicate_of.is_not(None))
                ).scalar()
                or 0
            )
            out["problems"] = int(
                conn.execute(sa.select(sa.func.count()).select_from(problems)).scalar() or 0
            )
        return out

    def close(self) -> None:
        self.engine.dispose()


def _image_row(image: ImageFacts, now: datetime) -> dict[str, Any]:
    return {**image.model_dump(), "ext": image.ext, "created_at": now}


def _artwork_row(artwork: Artwork, fingerprint: str, now: datetime) -> dict[str, Any]:
    data = artwork.model_dump(include=set(ARTWORK_FIELDS) - {"updated_at"})
    data["status"] = str(artwork.status)
    data["image_sha256"] = artwork.image.sha256 if artwork.image else None
    data["fingerprint"] = fingerprint
    data["created_at"] = now
    data["updated_at"] = now
    return data


def _stored_image(m: Any, prefix: str = "") -> ImageFacts:
    return ImageFacts(
        sha256=m[f"{prefix}sha256"],
        phash=m[f"{prefix}phash"],
        phash_fine=m[f"{prefix}phash_fine"],
        width=m[f"{prefix}width"],
        height=m[f"{prefix}height"],
        mime=m[f"{prefix}mime"],
        path=m[f"{prefix}path"],
        bytes=m[f"{prefix}bytes"],
        frames=m[f"{prefix}frames"],
        metadata=m[f"{prefix}metadata"] or {},
        ocr_text=m[f"{prefix}ocr_text"] or "",
        thumbs=m[f"{prefix}thumbs"] or {},
    )


def _artwork(m: Any) -> Artwork:
    data = {name: m[name] for name in ARTWORK_FIELDS if name not in ("updated_at",)}
    data["status"] = Status(m["status"])
    data["subjects"] = data.get("subjects") or []
    data["styles"] = data.get("styles") or []
    data["extras"] = data.get("extras") or {}
    image = _stored_image(m, "img_") if m["img_sha256"] else None
    return Artwork(id=m["id"], image=image, **data)
