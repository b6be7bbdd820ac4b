"""The embedding stage: every stored work gets its formal, conceptual and historical vectors.

Reader → mapper → writer, as in clip-retrieval's inference: worker threads
decode thumbnails and compute palette/composition (NumPy releases the GIL),
the main thread runs the CNN in small batches, and each chunk is written in
one transaction, so a killed build resumes where it stopped. Only work whose
inputs changed is redone: image features are keyed by (sha256, model key),
per-artwork vectors by a hash of exactly what went in.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asterism.embed.base import RGB, Affinity
from asterism.embed.conceptual import concept_document, document_hash
from asterism.embed.featurize import ImageFeaturizer, read_rgb
from asterism.embed.formal import FormalParts
from asterism.embed.models import Models
from asterism.models import Artwork, Status
from asterism.store.features import Embedding, FeatureStore, ImageFeatures

CHUNK = 64
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


@dataclass
class EmbedReport:
    images: int = 0
    image_failures: list[tuple[str, str]] = field(default_factory=list)  # (sha256, reason)
    conceptual: int = 0
    historical: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        spent = self.seconds.get("images", 0.0)
        return self.images / spent if spent else 0.0

    @property
    def changed(self) -> bool:
        return bool(self.images or self.conceptual or self.historical)


def embeddable(artworks: Sequence[Artwork]) -> list[Artwork]:
    """Canonical works worth representing: stored, not failed, not a duplicate of another."""
    return [
        a
        for a in artworks
        if a.id is not None and a.duplicate_of is None and a.status in (Status.ACTIVE, Status.EXCLUDED)
    ]


def _chunks(items: Sequence[tuple[str, Path]], size: int) -> Iterator[Sequence[tuple[str, Path]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(featurizer: ImageFeaturizer, path: Path) -> tuple[RGB, FormalParts]:
    image = read_rgb(path)
    return image, featurizer.analyse(image)


def embed_images(
    artworks: Sequence[Artwork],
    home: Path,
    features: FeatureStore,
    models: Models,
    report: EmbedReport,
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> None:
    """Image features for every distinct image whose features are missing or from another model."""
    key = models.formal_info.key
    have = features.image_models()
    todo: dict[str, Path] = {}
    for artwork in artworks:
        image = artwork.image
        if image is None or have.get(image.sha256) == key or image.sha256 in todo:
            continue
        relative = image.thumbs.get("thumb") or image.path
        todo[image.sha256] = home / relative
    items = list(todo.items())
    if not items:
        return
    featurizer = models.featurizer
    started = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        chunks = _chunks(items, CHUNK)
        pending = _submit(pool, featurizer, next(chunks, None))
        while pending is not None:
            following = _submit(pool, featurizer, next(chunks, None))  # decode ahead while the CNN runs
            shas: list[str] = []
            images: list[RGB] = []
            parts: list[FormalParts] = []
            for sha, future in pending:
                try:
                    picture, part = future.result()
                except Exception as exc:  # a thumbnail gone bad is reported, never fatal
                    report.image_failures.append((sha, f"{type(exc).__name__}: {exc}"))
                    continue
                shas.append(sha)
                images.append(picture)
                parts.append(part)
            rows = [
                ImageFeatures(sha, key, f.labels, f.palette, f.formal)
                for sha, f in zip(shas, featurizer.finish(images, parts), strict=True)
            ]
            features.put_image_features(rows)
            report.images += len(rows)
            done += len(pending)
            if progress:
                progress("images", done, len(items))
            pending = following
    report.seconds["images"] = time.perf_counter() - started


def _submit(
    pool: ThreadPoolExecutor, featurizer: ImageFeaturizer, chunk: Sequence[tuple[str, Path]] | None
) -> list[tuple[str, Future[tuple[RGB, FormalParts]]]] | None:
    if chunk is None:
        return None
    return [(sha, pool.submit(_load, featurizer, path)) for sha, path in chunk]


def embed_conceptual(
    artworks: Sequence[Artwork],
    features: FeatureStore,
    models: Models,
    report: EmbedReport,
    *,
    progress: Progress | None = None,
) -> None:
    """Concept documents (metadata + labels + OCR) embedded where the document changed."""
    started = time.perf_counter()
    info = models.text_info
    image_features = features.image_features(a.image.sha256 for a in artworks if a.image)
    stored = features.embedding_inputs(Affinity.CONCEPTUAL)
    todo: list[tuple[int, str, str]] = []
    for artwork in artworks:
        assert artwork.id is not None
        found = image_features.get(artwork.image.sha256) if artwork.image else None
        document = concept_document(
            artwork, found.labels if found else [], artwork.image.ocr_text if artwork.image else ""
        )
        digest = document_hash(document, info)
        if stored.get(artwork.id) != (info.key, digest):
            todo.append((artwork.id, document, digest))
    for start in range(0, len(todo), 256):
        chunk = todo[start : start + 256]
        vectors = models.text.embed_texts([document for _, document, _ in chunk])
        features.put_embeddings(
            [
                Embedding(artwork_id, Affinity.CONCEPTUAL, info.key, digest, vector, document)
                for (artwork_id, document, digest), vector in zip(chunk, vectors, strict=True)
            ]
        )
        report.conceptual += len(chunk)
        if progress:
            progress("conceptual", start + len(chunk), len(todo))
    report.seconds["conceptual"] = time.perf_counter() - started


def embed_historical(
    artworks: Sequence[Artwork],
    features: FeatureStore,
    models: Models,
    report: EmbedReport,
    *,
    progress: Progress | None = None,
) -> None:
    """Knowledge-graph + date vectors; the graph model is refitted only when its content changed."""
    started = time.perf_counter()
    model = models.historical(artworks)
    key = model.info.key
    vectors = model.vectors(list(artworks))
    stored = features.embedding_inputs(Affinity.HISTORICAL)
    rows = []
    for artwork, vector in zip(artworks, vectors, strict=True):
        assert artwork.id is not None
        digest = hashlib.sha256(np.ascontiguousarray(vector, dtype=np.float32).tobytes()).hexdigest()
        if stored.get(artwork.id) != (key, digest):
            rows.append(Embedding(artwork.id, Affinity.HISTORICAL, key, digest, vector))
    for start in range(0, len(rows), 1000):
        features.put_embeddings(rows[start : start + 1000])
    report.historical = len(rows)
    if progress:
        progress("historical", len(artworks), len(artworks))
    report.seconds["historical"] = time.perf_counter() - started
