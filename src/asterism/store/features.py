"""Representations in the property store: per-image features and per-artwork vectors.

Vectors are kept beside the records (not only in the FAISS files) because the
store is transactional and shared by both backends: the index files can
always be rebuilt from here, and "what is up to date" is one query (the model
key and the hash of the inputs that made each vector).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from asterism.store.schema import artworks, embeddings, image_features

Vector = npt.NDArray[np.float32]
# An imported vector space is stored as affinity "space:<name>", its model key "imported:<model name>".
SPACE_PREFIX = "space:"
MODEL_PREFIX = "imported:"


@dataclass
class ImageFeatures:
    """What one image gave the embedding stage."""

    sha256: str
    model: str
    labels: list[tuple[str, float]]  # predicted ImageNet labels with probabilities
    palette: list[tuple[str, float]]  # dominant colours as (#rrggbb, share of pixels)
    formal: Vector


@dataclass
class PictureFacts:
    """What explanations read of one image: its labels and palette (not its vector)."""

    labels: list[tuple[str, float]]
    palette: list[tuple[str, float]]


@dataclass
class Embedding:
    artwork_id: int
    affinity: str
    model: str
    input_hash: str
    vector: Vector
    document: str = ""  # the text that was embedded (conceptual), for explanations


def _blob(vector: Vector) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float32).copy()


class FeatureStore:
    """Reads and writes ``image_features`` and ``embeddings`` on the store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    # ------------------------------------------------------------------ image features
    def image_models(self) -> dict[str, str]:
        """{sha256: model key} of every image that has features."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(image_features.c.sha256, image_features.c.model))
            return {r.sha256: r.model for r in rows}

    def put_image_features(self, rows: Sequence[ImageFeatures]) -> None:
        if not rows:
            return
        now = datetime.now(UTC)
        values = [
            {
                "sha256": r.sha256,
                "model": r.model,
                "labels": [[label, round(float(p), 4)] for label, p in r.labels],
                "palette": [[colour, round(float(s), 4)] for colour, s in r.palette],
                "formal": _blob(r.formal),
                "updated_at": now,
            }
            for r in rows
        ]
        stmt = self._insert(image_features)
        update = {c: stmt.excluded[c] for c in ("model", "labels", "palette", "formal", "updated_at")}
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=["sha256"], set_=update), values)

    def image_features(self, shas: Iterable[str]) -> dict[str, ImageFeatures]:
        wanted = list(dict.fromkeys(shas))
        found: dict[str, ImageFeatures] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for r in conn.execute(sa.select(image_features).where(image_features.c.sha256.in_(chunk))):
                    found[r.sha256] = _features(r._mapping)
        return found

    def picture_facts(self, shas: Iterable[str]) -> dict[str, PictureFacts]:
        """Labels and palettes of these images, without the formal vector (what a shown page reads)."""
        wanted = list(dict.fromkeys(shas))
        t = image_features.c
        found: dict[str, PictureFacts] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for r in conn.execute(sa.select(t.sha256, t.labels, t.palette).where(t.sha256.in_(chunk))):
                    found[r.sha256] = PictureFacts(
                        labels=[(str(label), float(p)) for label, p in r.labels],
                        palette=[(str(colour), float(s)) for colour, s in r.palette],
                    )
        return found

    # ------------------------------------------------------------------ per-artwork embeddings
    def embedding_inputs(self, affinity: str) -> dict[int, tuple[str, str]]:
        """{artwork id: (model key, input hash)} for one affinity."""
        query = sa.select(embeddings.c.artwork_id, embeddings.c.model, embeddings.c.input_hash).where(
            embeddings.c.affinity == affinity
        )
        with self.engine.connect() as conn:
            return {r.artwork_id: (r.model, r.input_hash) for r in conn.execute(query)}

    def put_embeddings(self, rows: Sequence[Embedding]) -> None:
        if not rows:
            return
        now = datetime.now(UTC)
        values = [
            {
                "artwork_id": r.artwork_id,
                "affinity": r.affinity,
                "model": r.model,
                "input_hash": r.input_hash,
                "document": r.document,
                "vector": _blob(r.vector),
                "updated_at": now,
            }
            for r in rows
        ]
        stmt = self._insert(embeddings)
        update = {c: stmt.excluded[c] for c in ("model", "input_hash", "document", "vector", "updated_at")}
        with self.engine.begin() as conn:
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["artwork_id", "affinity"], set_=update), values
            )

    def replace_affinity(self, affinity: str, rows: Sequence[Embedding]) -> None:
        """Every vector of one affinity replaced by ``rows``, in one transaction (an imported space)."""
        now = datetime.now(UTC)
        values = [
            {"artwork_id": r.artwork_id, "affinity": affinity, "model": r.model, "input_hash": r.input_hash,
             "document": r.document, "vector": _blob(r.vector), "updated_at": now}
            for r in rows
        ]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(sa.delete(embeddings).where(embeddings.c.affinity == affinity))
            for start in range(0, len(values), 1000):
                conn.execute(sa.insert(embeddings), values[start : start + 1000])

    def spaces(self) -> dict[str, tuple[str, int]]:
        """{affinity: (model key, vectors)} of every imported space (affinity ``space:<name>``)."""
        query = (
            sa.select(embeddings.c.affinity, sa.func.min(embeddings.c.model), sa.func.count())
            .where(embeddings.c.affinity.like("space:%"))
            .group_by(embeddings.c.affinity)
        )
        with self.engine.connect() as conn:
            return {str(a): (str(m), int(n)) for a, m, n in conn.execute(query)}

    def documents(self, artwork_ids: Iterable[int], affinity: str = "conceptual") -> dict[int, str]:
        ids = [int(i) for i in artwork_ids]  # numpy integers do not bind as SQL parameters
        query = sa.select(embeddings.c.artwork_id, embeddings.c.document).where(
            embeddings.c.affinity == affinity, embeddings.c.artwork_id.in_(ids)
        )
        with self.engine.connect() as conn:
            return {r.artwork_id: r.document for r in conn.execute(query)}

    def load(self, affinity: str, model: str | None = None) -> tuple[npt.NDArray[np.int64], Vector]:
        """(artwork ids, matrix) of every stored vector of one affinity, ordered by id.

        The formal vectors live per image; each canonical artwork with features gets its image's.
        """
        if affinity == "formal":
            query: Any = (
                sa.select(artworks.c.id, image_features.c.formal.label("vector"))
                .join(image_features, artworks.c.image_sha256 == image_features.c.sha256)
                .where(artworks.c.duplicate_of.is_(None))
            )
            if model is not None:
                query = query.where(image_features.c.model == model)
        else:
            query = sa.select(embeddings.c.artwork_id.label("id"), embeddings.c.vector.label("vector")).where(
                embeddings.c.affinity == affinity
            )
            if model is not None:
                query = query.where(embeddings.c.model == model)
        query = query.order_by("id")
        ids: list[int] = []
        vectors: list[Vector] = []
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=2000).execute(query):
                ids.append(int(r.id))
                vectors.append(_vector(r.vector))
        if not vectors:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.asarray(ids, dtype=np.int64), np.vstack(vectors).astype(np.float32)


def _features(m: Any) -> ImageFeatures:
    return ImageFeatures(
        sha256=m["sha256"],
        model=m["model"],
        labels=[(str(label), float(p)) for label, p in m["labels"]],
        palette=[(str(colour), float(s)) for colour, s in m["palette"]],
        formal=_vector(m["formal"]),
    )
