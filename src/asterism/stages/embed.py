"""The embedding stage: every stored work gets its formal, conceptual and historical vectors.

Reader → mapper → writer, as in clip-retrieval's inference: worker threads
decode thumbnails and compute palette/composition (NumPy releases the GIL),
the main thread runs the CNN in small batches, and each chunk is written in
one transaction, so a killed build resumes where it stopped. Only work whose
inputs changed is redone: image features are keyed by (sha256, model key),
per-artwork vectors by a hash of exactly what went in. Where the mapper runs
is one object, a ``Distributor``: this process (``LocalDistributor``, the
default) or a Ray cluster (``stages/distribute_ray.py``); reading and writing
stay here either way.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np

from asterism.embed.base import RGB, Affinity, Vectors
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


ImageSource = Path | bytes  # a picture's file, or its bytes shipped to a machine without the data home


def _read(source: ImageSource) -> RGB:
    return read_rgb(io.BytesIO(source) if isinstance(source, bytes) else source)


def _load(featurizer: ImageFeaturizer, source: ImageSource) -> tuple[RGB, FormalParts]:
    """Decode, analyse and prepare the network input: all of a picture's work that runs outside the networks."""
    image = _read(source)
    return featurizer.prepare(image), featurizer.analyse(image)


def read_picture(source: ImageSource | None) -> RGB | None:
    """A work's picture for the CLIP modes; None if it has none or it cannot be read (the document serves)."""
    if source is None:
        return None
    try:
        return _read(source)
    except Exception:  # an unreadable file falls back to the document, like a work without a picture
        return None


@dataclass(frozen=True)
class ConceptChunk:
    """One batch of the conceptual stage: its documents and, in the CLIP modes, each work's picture."""

    documents: list[str]
    pictures: list[ImageSource | None] | None = None


class Distributor(Protocol):
    """Where the embed stage's model work runs: this process, or a cluster (clip-retrieval's distributor).

    The stage reads what is stale and writes what comes back, in this process, one transaction
    per chunk; a distributor only maps chunks to results, with the same per-chunk functions
    (``finish_chunk``, ``ConceptEncoder.encode``) over the same chunks wherever it runs, so every
    distributor writes the same vectors. Scaling out changes this one object
    (``stages/distribute_ray.py``). Results may come back in any order: each names its chunk.
    """

    def featurize(self, models: Models, items: Sequence[tuple[str, Path]]) -> Iterator[FeatureBatch]:
        """Image features of (sha256, file) items, one batch per ``CHUNK`` items."""
        ...

    def encode(self, models: Models, chunks: Sequence[ConceptChunk]) -> Iterator[tuple[int, Vectors]]:
        """(index of the chunk, its conceptual vectors) for every chunk."""
        ...


class LocalDistributor:
    """Everything in this process: decoding in ``workers`` threads ahead of the networks (the default)."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def featurize(self, models: Models, items: Sequence[tuple[str, Path]]) -> Iterator[FeatureBatch]:
        return featurize_files(models.featurizer, items, workers=self.workers)

    def encode(self, models: Models, chunks: Sequence[ConceptChunk]) -> Iterator[tuple[int, Vectors]]:
        for index, chunk in enumerate(chunks):
            pictures = [read_picture(p) for p in chunk.pictures] if chunk.pictures is not None else None
            yield index, models.concept.encode(chunk.documents, pictures)


def embed_images(
    artworks: Sequence[Artwork],
    home: Home,
    features: FeatureStore,
    models: Models,
    report: EmbedReport,
    *,
    workers: int = 2,
    progress: Progress | None = None,
    distributor: Distributor | None = None,
) -> None:
    """Image features for every distinct image whose features are missing or from another model.

    ``distributor``: where the networks run (default: this process, decoding in ``workers`` threads).
    """
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
    for batch in (distributor or LocalDistributor(workers)).featurize(models, items):
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
            yield finish_chunk(featurizer, ((key, future.result) for key, future in pending))
            pending = following


def featurize_chunk(featurizer: ImageFeaturizer, chunk: Sequence[tuple[str, ImageSource]]) -> FeatureBatch:
    """One chunk decoded here and featurized: what a cluster worker runs (same result as ``featurize_files``)."""
    return finish_chunk(featurizer, ((key, partial(_load, featurizer, source)) for key, source in chunk))


def finish_chunk(
    featurizer: ImageFeaturizer, loaded: Iterable[tuple[str, Callable[[], tuple[RGB, FormalParts]]]]
) -> FeatureBatch:
    """The features of one chunk from its decoded pictures; a picture that failed to load is reported."""
    batch = FeatureBatch([], [])
    keys: list[str] = []
    images: list[RGB] = []
    parts: list[FormalParts] = []
    for key, load in loaded:
        try:
            picture, part = load()
        except Exception as exc:  # a file gone bad is reported, never fatal
            batch.failures.append((key, f"{type(exc).__name__}: {exc}"))
            continue
        keys.append(key)
        images.append(picture)
        parts.append(part)
    batch.features = list(zip(keys, featurizer.finish(images, parts), strict=True))
    return batch


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
    distributor: Distributor | None = None,
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
    chunks = [todo[start : start + step] for start in range(0, len(todo), step)]
    inputs = [
        ConceptChunk(
            [document for _, document, _ in chunk],
            [_picture(home, artwork) for artwork, _, _ in chunk] if with_images else None,
        )
        for chunk in chunks
    ]
    done = 0
    for index, vectors in (distributor or LocalDistributor()).encode(models, inputs):
        chunk = chunks[index]
        features.put_embeddings(
            [
                Embedding(artwork.id, Affinity.CONCEPTUAL, info.key, digest, vector, document)
                for (artwork, document, digest), vector in zip(chunk, vectors, strict=True)
                if artwork.id is not None
            ]
        )
        report.conceptual += len(chunk)
        done += len(chunk)
        if progress:
            progress("conceptual", done, len(todo))
    report.seconds["conceptual"] = time.perf_counter() - started


def _picture(home: Home | None, artwork: Artwork) -> Path | None:
    """The work's stored thumbnail for the CLIP modes; None if it has none (``read_picture`` decodes it)."""
    if home is None or artwork.image is None:
        return None
    relative = artwork.image.thumbs.get("thumb") or artwork.image.path
    try:
        return home.file(relative)
    except OutsideHome:  # a bad stored path: the document serves, like a work without a picture
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
