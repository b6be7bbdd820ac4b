"""Where a recommendation starts: a stored work's vectors, or a picture embedded on the fly.

An uploaded picture goes through exactly the code a stored work went
through (safe decode, the same featurizer, the same concept document and
encoder), so it lands in the same spaces. It has no metadata, so its
historical vector is inferred from its formal + conceptual neighbours and
shown as such ("looks like French painting, 1860–1890 (inferred)").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from asterism.config import ImageSettings, OcrSettings
from asterism.embed.base import RGB, Affinity, Vectors
from asterism.embed.conceptual import concept_document
from asterism.embed.formal import reweight
from asterism.embed.historical import HistoricalModel, InferredHistory
from asterism.embed.registry import Models
from asterism.images.decode import ImageRejected, decode_image
from asterism.index.search import Hit, MultiSearcher
from asterism.recognise.locate import Region, locate
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explain import Side
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import QueryError

INFER_FROM = 10  # neighbours the history of a picture is inferred from
UPLOAD_PIXELS = 512  # decode uploads at about this size (JPEG draft): the models need 256


class NotFound(QueryError):
    """The start artwork is not in the collection (HTTP 404)."""

    status = 404


class BadImage(QueryError):
    """The upload is not a picture we can read (HTTP 400)."""

    status = 400


class ImageTooLarge(BadImage):
    """Over the byte or pixel limit (HTTP 413)."""

    status = 413


class NeedsModel(QueryError):
    """An affinity is served from imported vectors whose model this server does not have (HTTP 422)."""

    status = 422


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
    exclude: frozenset[int] = (
        frozenset()
    )  # works that must not be candidates (the start itself, held-out works)
    neighbours: list[int] = field(default_factory=list)  # an upload's history was inferred from these works
    closeness: list[float] = field(default_factory=list)  # their similarity to the upload, best first


class StartResolver:
    """Turns a query's start into vectors and a described side."""

    def __init__(
        self,
        images: ImageSettings,
        ocr: OcrSettings,
        searcher: MultiSearcher,
        catalogue: Catalogue,
        explainer: Explainer,
        models: Models | None,
        historical: HistoricalModel | None,
        formal_parts: Sequence[float] | None = None,
        spaces: Mapping[Affinity, str] | None = None,
        upload_formal_parts: Sequence[float] | None = None,
        space_encoders: Mapping[Affinity, Callable[[RGB], Vectors]] | None = None,
        locate_picture: bool = False,
    ) -> None:
        """``models`` None: a server without image models (by-id questions only).

        ``formal_parts``: query-time weights of palette, composition and texture (None: as built);
        ``upload_formal_parts``: the same for an uploaded picture. ``space_encoders``: for an affinity
        served from imported vectors, the active model that made them (an upload is embedded by it).
        ``spaces``: affinities served from imported vectors, with the model an upload would need.
        """
        self.images = images
        self.ocr = ocr
        self.searcher = searcher
        self.catalogue = catalogue
        self.explainer = explainer
        self.models = models
        self.historical = historical
        self.formal_parts = formal_parts
        self.upload_formal_parts = upload_formal_parts
        self.spaces = dict(spaces or {})
        self.space_encoders = dict(space_encoders or {})
        self.locate_picture = locate_picture

    def from_id(self, artwork_id: int) -> Start:
        vectors = {
            affinity: vector
            for affinity in self.searcher.vectors
            if (vector := self.searcher.vector(affinity, artwork_id)) is not None
        }
        artwork = self.catalogue.get(artwork_id)
        if not vectors or artwork is None:
            raise NotFound(f"no artwork with id {artwork_id} in the collection")
        side = self.explainer.side(artwork, vectors.get(Affinity.FORMAL), facts=False)  # read with the page's
        return Start(
            artwork_id,
            artwork_id,
            self._weigh(vectors, self.formal_parts),
            side,
            exclude=frozenset({artwork_id}),
        )

    def _weigh(
        self, vectors: dict[Affinity, Vectors], parts: Sequence[float] | None
    ) -> dict[Affinity, Vectors]:
        """The query's formal parts re-weighted at query time (explanations keep the stored vector)."""
        formal = vectors.get(Affinity.FORMAL)
        if parts is None or formal is None or Affinity.FORMAL in self.spaces:  # imported: no parts to weigh
            return vectors
        return {**vectors, Affinity.FORMAL: reweight(formal, self.explainer.layout, parts)}

    def from_image(
        self,
        data: bytes,
        *,
        ocr: bool | None = None,
        exclude: Iterable[int] = (),
        max_bytes: int | None = None,
        max_pixels: int | None = None,
        formats: frozenset[str] | None = None,
        stand_in: Mapping[Affinity, Vectors] | None = None,
    ) -> Start:
        """Embed an uploaded picture as a start.

        ``exclude`` holds works out of everything this start touches (leave-one-out): they are
        not among the neighbours its history is inferred from, not its graph anchor, and not
        candidates. Limits default to the image settings; the API passes its stricter upload limits.
        An affinity served from imported vectors needs the upload embedded by that space's model:
        ``stand_in`` gives that vector (the evaluation's stored copy of it), else ``NeedsModel``.
        """
        picture = self.decode(data, max_bytes=max_bytes, max_pixels=max_pixels, formats=formats)
        return self.from_picture(picture, ocr=ocr, exclude=exclude, stand_in=stand_in)

    def decode(
        self,
        data: bytes,
        *,
        max_bytes: int | None = None,
        max_pixels: int | None = None,
        formats: frozenset[str] | None = None,
        max_decoded_pixels: int | None = None,
    ) -> Image.Image:
        """An upload's bytes, checked against the limits and decoded at about ``UPLOAD_PIXELS``.

        ``max_decoded_pixels``: the API's bound on what a picture decodes to (see ``decode_image``).
        """
        if self.models is None:
            raise QueryError("this server has no models loaded: search by image is unavailable")
        limits = self.images
        try:
            decoded = decode_image(
                data,
                max_pixels=max_pixels or limits.max_pixels,
                max_bytes=max_bytes or limits.max_bytes,
                draft_size=UPLOAD_PIXELS,
                allowed_formats=formats,
                max_decoded_pixels=max_decoded_pixels,
            )
        except ImageRejected as exc:
            raise _rejection(str(exc)) from None
        picture = decoded.image  # ours alone: reduced in place, no second full-size copy
        if max(picture.size) > UPLOAD_PIXELS:
            picture.thumbnail((UPLOAD_PIXELS, UPLOAD_PIXELS))
        return picture

    def from_picture(
        self,
        picture: Image.Image,
        *,
        ocr: bool | None = None,
        exclude: Iterable[int] = (),
        stand_in: Mapping[Affinity, Vectors] | None = None,
        regions: Sequence[Region] | None = None,
    ) -> Start:
        """A decoded picture as a start (``from_image`` without the bytes).

        A photo of a framed picture on a wall is described by the picture alone: when ``locate``
        finds the frame's inner edge, that rectified crop is embedded instead of the whole photo
        (frame and wall would otherwise weigh on palette and layout as much as the work does).
        ``regions``: what ``locate`` already found in this picture (the recogniser's), if anything.
        """
        if self.models is None:
            raise QueryError("this server has no models loaded: search by image is unavailable")
        held_out = frozenset(int(i) for i in exclude)
        rgb = np.asarray(picture, dtype=np.uint8)
        if self.locate_picture:
            located = regions if regions is not None else locate(rgb)
            framed = next((r for r in located if r.how == "frame"), None)
            if framed is not None:
                rgb = framed.crop
                picture = Image.fromarray(rgb)
        features = self.models.featurizer([rgb])[0]
        text = self._ocr(picture) if (ocr if ocr is not None else self._ocr_default()) else ""
        document = concept_document(None, features.labels, text)
        conceptual = self.models.concept.encode([document], [rgb])[0]
        vectors: dict[Affinity, Vectors] = {Affinity.FORMAL: features.formal}
        if conceptual.any():
            vectors[Affinity.CONCEPTUAL] = conceptual
        for affinity, model in self.spaces.items():  # our encoders speak another space than the index
            vectors.pop(affinity, None)
            if stand_in is not None and affinity in stand_in:
                vectors[affinity] = np.asarray(stand_in[affinity], dtype=np.float32)
            elif affinity in self.space_encoders:
                vectors[affinity] = self.space_encoders[affinity](rgb)
            else:
                raise NeedsModel(
                    f"the {affinity} affinity is served from imported vectors of {model}: "
                    f"an upload needs that model (asterism models pull {model})"
                )
        side = Side(
            None, labels=features.labels, palette=features.palette, ocr_text=text, formal=features.formal
        )
        anchor = None
        found = self.searcher.search(
            vectors, {Affinity.FORMAL: 0.5, Affinity.CONCEPTUAL: 0.5}, k=2 * INFER_FROM, exclude=held_out
        )
        neighbours = [hit for hit in found if hit.id in self.catalogue][:INFER_FROM]  # served works only
        if neighbours:
            anchor = neighbours[0].id
            history = self._infer(neighbours)
            if history is not None:
                side.inferred = history
                if history.vector.any():
                    vectors[Affinity.HISTORICAL] = history.vector
        return Start(
            None,
            anchor,
            self._weigh(vectors, self.upload_formal_parts),
            side,
            exclude=held_out,
            neighbours=[hit.id for hit in neighbours],
            closeness=[float(hit.total) for hit in neighbours],
        )

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

        mode = self.ocr.mode
        return mode == "always" or (mode == "gate" and tesseract_available())

    def _ocr(self, picture: Image.Image) -> str:
        from asterism.images.ocr import read_text
        from asterism.images.text_gate import has_text

        if self.ocr.mode == "gate" and not has_text(picture):  # a few ms, where Tesseract takes 100-300
            return ""
        try:
            return read_text(
                picture,
                min_confidence=self.ocr.min_confidence,
                languages=self.ocr.languages,
                timeout=self.ocr.timeout,
                max_side=self.ocr.max_side,
            )
        except Exception:  # OCR is a bonus: a failure leaves the labels to describe the picture
            return ""
