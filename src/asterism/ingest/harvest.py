"""The mapper of the ingest pipeline: image bytes in, ``ImageFacts`` and files out.

It is pure CPU work on one image (hash, decode, perceptual hash, thumbnails,
embedded metadata, optional OCR), so the pipeline runs it on a thread pool:
Pillow and Tesseract release the GIL, and two workers keep two cores busy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asterism.config import Settings
from asterism.images.decode import ImageRejected, decode_image
from asterism.images.ocr import read_text, tesseract_available
from asterism.images.phash import perceptual_hashes
from asterism.images.store import ContentStore
from asterism.shapes import ImageFacts


@dataclass(frozen=True)
class HarvestOptions:
    max_pixels: int
    max_bytes: int
    ocr: bool
    ocr_min_confidence: float = 70.0
    ocr_languages: str = "eng"
    ocr_timeout: float = 5.0
    ocr_max_side: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings, ocr: bool | None = None) -> HarvestOptions:
        mode = settings.ocr.mode
        use_ocr = ocr if ocr is not None else mode == "always" or (mode == "auto" and tesseract_available())
        return cls(
            max_pixels=settings.images.max_pixels,
            max_bytes=settings.images.max_bytes,
            ocr=use_ocr,
            ocr_min_confidence=settings.ocr.min_confidence,
            ocr_languages=settings.ocr.languages,
            ocr_timeout=settings.ocr.timeout,
            ocr_max_side=settings.ocr.max_side,
        )


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def harvest_image(data: bytes, store: ContentStore, options: HarvestOptions) -> ImageFacts:
    """Decode, check and store one image; raises ``ImageRejected`` with the reason."""
    digest = sha256_of(data)
    largest = max(store.thumb_sizes.values(), default=None)
    decoded = decode_image(
        data, max_pixels=options.max_pixels, max_bytes=options.max_bytes, draft_size=largest
    )
    hashes = perceptual_hashes(decoded.image)
    path = store.write_original(digest, decoded.ext, data)
    thumbs = store.write_thumbnails(digest, decoded.image)
    text = ""
    if options.ocr:
        try:
            text = read_text(
                decoded.image,
                min_confidence=options.ocr_min_confidence,
                languages=options.ocr_languages,
                timeout=options.ocr_timeout,
                max_side=options.ocr_max_side,
            )
        except Exception as exc:
            text = ""
            decoded.metadata["ocr_error"] = str(exc)[:200]
    return ImageFacts(
        sha256=digest,
        phash=hashes.coarse,
        phash_fine=hashes.fine,
        width=decoded.width,
        height=decoded.height,
        mime=decoded.mime,
        path=store.relative(path),
        bytes=len(data),
        frames=decoded.frames,
        metadata=decoded.metadata,
        ocr_text=text,
        thumbs=thumbs,
    )


__all__ = ["HarvestOptions", "ImageRejected", "harvest_image", "sha256_of"]
