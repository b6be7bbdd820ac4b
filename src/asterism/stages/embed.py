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
from asterism.embed.featurize import Features, ImageFeaturizer, read_rgb
from asterism.embed.formal import FormalParts
from asterism.embed.registry import Models
from asterism.home import Home, OutsideHome
from asterism.shapes import Artwork
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


def _chunks(items: Sequence[tuple[str, Path]], size: int) -> Iterator[Sequence[tuple[str, Path]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(featurizer: ImageFeaturizer, path: Path) -> tuple[RGB, FormalParts]:
    image = read_rgb(path)
    return image, featurizer.analyse(image)


def embed_images(
    artworks: Sequence[Artwork],
    home: Home,
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
        try:
            todo[image.sha256] = home.file(relative)
        except OutsideHome as exc:  # a bad stored path fails that image, never the build
            report.image_failures.append((image.sha256, str(exc)))
    items = list(todo.items())
    if not items:
        return
    started = time.perf_counter()
    done = 0
    for batch in featurize_files(models.featurizer, items, workers=workers):
        rows = [ImageFeatures(sha, key, f.labels, f.palette, f.formal) for sha, f in batch.features]
        features.put_image_features(rows)
        report.images += len(rows)
        report.image_failures += batch.failures
        done += len(batch.features) + len(batch.failures)
        if progress:
            progress("images", done, len(items))
    report.seconds["images"] = time.perf_counter() - started


@dataclass
class FeatureBatch:
    features: list[tuple[str, Features]]  # (key, features) in input order
    failures: list[tuple[str, str]]  # (key, reason)


def featurize_files(
    featurizer: ImageFeaturizer, items: Sequence[tuple[str, Path]], *, workers: int = 2, chunk: int = CHUNK
) -> Iterator[FeatureBatch]:
    """Image features of (key, path) items, one batch per chunk, decoding ahead while the CNN runs.

    Worker threads decode and compute palette/composition for the next chunk
    (Pillow and NumPy release the GIL) while the main thread runs the
    backbone on this one. A file that fails to decode is reported, never fatal.
    """
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        chunks = _chunks(items, chunk)
        pending = _submit(pool, featurizer, next(chunks, None))
        while pending is not None:
            following = _submit(pool, featurizer, next(chunks, None))
            batch = FeatureBatch([], [])
            keys: list[str] = []
            images: list[RGB] = []
            parts: list[FormalParts] = []
            for key, future in pending:
                try:
                    picture, part = future.result()
                except Exception as exc:  # a file gone bad is reported, never fatal
                    batch.failures.append((key, f"{type(exc).__name__}: {exc}"))
                    continue
                keys.append(key)
                images.append(picture)
                parts.append(part)
            batch.features = list(zip(keys, featurizer.finish(images, parts), strict=True))
            yield batch
            pending = following


def _submit(
    pool: ThreadPoolExecutor, featurizer: ImageFeaturizer, chunk: Sequence[tuple[str, Path]] | None
) -> list[tuple[str, Future[tuple[RGB, FormalParts]]]] | None:
    if chunk is None:
        return None
    return [(key, pool.submit(_load, featurizer, path)) for key, path in chunk]


def embed_conceptual(
    artworks: Sequence[Artwork],
    features: FeatureStore,
    models: Models,
    report: EmbedReport,
    *,
    home: Home | None = None,
    progress: Progress | None = None,
) -> None:
    """Concept documents (metadata + labels + OCR), and pictures in the CLIP modes, embedded where changed."""
    started = time.perf_counter()
    info = models.concept_info
    with_images = models.settings.conceptual != "text"
    image_features = features.image_features(a.image.sha256 for a in artworks if a.image)
    stored = features.embedding_inputs(Affinity.CONCEPTUAL)
    todo: list[tuple[Artwork, str, str]] = []
    for artwork in artworks:
        assert artwork.id is not None
        found = image_features.get(artwork.image.sha256) if artwork.image else None
        document = concept_document(
            artwork, found.labels if found else [], artwork.image.ocr_text if artwork.image else ""
        )
        seen = artwork.image.sha256 if with_images and artwork.image else ""
        digest = document_hash(document + seen, info)
        if stored.get(artwork.id) != (info.key, digest):
            todo.append((artwork, document, digest))
    step = 64 if with_images else 256
    for start in range(0, len(todo), step):
        chunk = todo[start : start + step]
        pictures = [_picture(home, artwork) for artwork, _, _ in chunk] if with_images else None
        vectors = models.concept.encode([document for _, document, _ in chunk], pictures)
        features.put_embeddings(
            [
                Embedding(artwork.id, Affinity.CONCEPTUAL, info.key, digest, vector, document)
                for (artwork, document, digest), vector in zip(chunk, vectors, strict=True)
                if artwork.id is not None
            ]
        )
        report.conceptual += len(chunk)
        if progress:
            progress("conceptual", start + len(chunk), len(todo))
    report.seconds["conceptual"] = time.perf_counter() - started


def _picture(home: Home | None, artwork: Artwork) -> RGB | None:
    """The work's stored thumbnail as RGB for the CLIP modes; None if it has none or it cannot be read."""
    if home is None or artwork.image is None:
        return None
    relative = artwork.image.thumbs.get("thumb") or artwork.image.path
    try:
        return read_rgb(home.file(relative))
    except Exception:  # an unreadable file falls back to the document, like a work without a picture
        return None


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
