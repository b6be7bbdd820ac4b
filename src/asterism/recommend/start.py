"""Where a recommendation starts: a stored work's vectors, or a picture embedded on the fly.

An uploaded picture goes through exactly the code a stored work went
through (safe decode, the same featurizer, the same concept document and
encoder), so it lands in the same spaces. It has no metadata, so its
historical vector is inferred from its formal + conceptual neighbours and
shown as such ("looks like French painting, 1860–1890 (inferred)").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from asterism.config import Settings
from asterism.embed.base import Affinity, Vectors
from asterism.embed.conceptual import concept_document
from asterism.embed.historical import HistoricalModel, InferredHistory
from asterism.embed.registry import Models
from asterism.images.decode import ImageRejected, decode_image
from asterism.index.search import Hit, MultiSearcher
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explain import Side
from asterism.recommend.query import QueryError
from asterism.store.features import FeatureStore, ImageFeatures

INFER_FROM = 10  # neighbours the history of a picture is inferred from
UPLOAD_PIXELS = 512  # decode uploads at about this size (JPEG draft): the models need 256


class NotFound(QueryError):
    """The start artwork is not in the collection (HTTP 404)."""


class BadImage(QueryError):
    """The upload is not a picture we can read (HTTP 400)."""

    status = 400


class ImageTooLarge(BadImage):
    """Over the byte or pixel limit (HTTP 413)."""

    status = 413


class UnsupportedImage(BadImage):
    """Not an image, or a format we do not take (HTTP 415)."""

    status = 415


def _rejection(message: str) -> BadImage:
    if ", over the " in message or message.startswith("decompression bomb"):
        return ImageTooLarge(message)
    if message.startswith(("unsupported image format", "not an image")):
        return UnsupportedImage(message)
    return BadImage(message)


@dataclass
class Start:
    artwork_id: int | None  # the stored start, None for an upload
    anchor: int | None  # the work whose graph neighbours join the candidates
    vectors: dict[Affinity, Vectors]
    side: Side


class StartResolver:
    """Turns a query's start into vectors and a described side."""

    def __init__(
        self,
        settings: Settings,
        searcher: MultiSearcher,
        catalogue: Catalogue,
        features: FeatureStore | None,
        models: Models | None,
        historical: HistoricalModel | None,
        facts: Callable[[list[str]], dict[str, ImageFeatures]] | None = None,
    ) -> None:
        """``facts``: a cached lookup of image features (the recommender's), else the store is asked."""
        self.settings = settings
        self.searcher = searcher
        self.catalogue = catalogue
        self.features = features
        self.models = models
        self.historical = historical
        self.facts = facts

    def from_id(self, artwork_id: int) -> Start:
        vectors = {
            affinity: vector
            for affinity in self.searcher.vectors
            if (vector := self.searcher.vector(affinity, artwork_id)) is not None
        }
        artwork = self.catalogue.get(artwork_id)
        if not vectors or artwork is None:
            raise NotFound(f"no artwork with id {artwork_id} in the collection")
        fact = None
        if artwork.image and self.facts is not None:
            fact = self.facts([artwork.image.sha256]).get(artwork.image.sha256)
        elif artwork.image and self.features is not None:
            fact = self.features.image_features([artwork.image.sha256]).get(artwork.image.sha256)
        side = Side(
            artwork,
            labels=list(fact.labels) if fact else [],
            palette=list(fact.palette) if fact else [],
            ocr_text=artwork.image.ocr_text if artwork.image else "",
            formal=vectors.get(Affinity.FORMAL),
        )
        return Start(artwork_id, artwork_id, vectors, side)

    def from_image(
        self,
        data: bytes,
        *,
        ocr: bool | None = None,
        exclude: Sequence[int] = (),
        max_bytes: int | None = None,
        max_pixels: int | None = None,
        formats: frozenset[str] | None = None,
    ) -> Start:
        """Embed an uploaded picture; ``exclude`` keeps works out of its history inference (leave-one-out).

        Limits default to the image settings; the API passes its stricter upload limits.
        """
        if self.models is None:
            raise QueryError("this server has no models loaded: search by image is unavailable")
        limits = self.settings.images
        try:
            decoded = decode_image(
                data,
                max_pixels=max_pixels or limits.max_pixels,
                max_bytes=max_bytes or limits.max_bytes,
                draft_size=UPLOAD_PIXELS,
                allowed_formats=formats,
            )
        except ImageRejected as exc:
            raise _rejection(str(exc)) from None
        picture = decoded.image
        if max(picture.size) > UPLOAD_PIXELS:
            picture = picture.copy()
            picture.thumbnail((UPLOAD_PIXELS, UPLOAD_PIXELS))
        rgb = np.asarray(picture, dtype=np.uint8)
        features = self.models.featurizer([rgb])[0]
        text = self._ocr(picture) if (ocr if ocr is not None else self._ocr_default()) else ""
        document = concept_document(None, features.labels, text)
        conceptual = self.models.concept.encode([document], [rgb])[0]
        vectors: dict[Affinity, Vectors] = {Affinity.FORMAL: features.formal}
        if conceptual.any():
            vectors[Affinity.CONCEPTUAL] = conceptual
        side = Side(
            None, labels=features.labels, palette=features.palette, ocr_text=text, formal=features.formal
        )
        anchor = None
        neighbours = self.searcher.search(
            vectors, {Affinity.FORMAL: 0.5, Affinity.CONCEPTUAL: 0.5}, k=INFER_FROM
        )
        if neighbours:
            anchor = neighbours[0].id
            history = self._infer(neighbours)
            if history is not None:
                side.inferred = history
                if history.vector.any():
                    vectors[Affinity.HISTORICAL] = history.vector
        return Start(None, anchor, vectors, side)

    def _infer(self, neighbours: list[Hit]) -> InferredHistory | None:
        if self.historical is None:
            return None
        artworks, sims, ids = [], [], []
        for hit in neighbours:
            artwork = self.catalogue.get(hit.id)
            if artwork is not None:
                artworks.append(artwork)
                sims.append(max(hit.total, 1e-6))
                ids.append(hit.id)
        stored = self.searcher.vectors.get(Affinity.HISTORICAL)
        vectors = None
        if stored is not None and ids:
            found, rows = stored.get(ids)
            vectors = rows if found.all() else None
        return self.historical.infer(artworks, sims, vectors)

    def _ocr_default(self) -> bool:
        from asterism.images.ocr import tesseract_available

        mode = self.settings.ocr.mode
        return mode == "always" or (mode == "auto" and tesseract_available())

    def _ocr(self, picture: Image.Image) -> str:
        from asterism.images.ocr import read_text

        try:
            return read_text(
                picture,
                min_confidence=self.settings.ocr.min_confidence,
                languages=self.settings.ocr.languages,
            )
        except Exception:  # OCR is a bonus: a failure leaves the labels to describe the picture
            return ""
