"""The mapper of the ingest pipeline: image bytes in, ``ImageFacts`` and files out.

It is pure CPU work on one image (hash, decode, perceptual hash, thumbnails,
embedded metadata), so the pipeline runs it on a thread pool: Pillow releases
the GIL, and two workers keep two cores busy. Text in the picture is read
afterwards, by its own resumable stage (``stages/ocr.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asterism.config import Settings
from asterism.images.decode import ImageRejected, decode_image
from asterism.images.phash import perceptual_hashes
from asterism.images.store import ContentStore
from asterism.shapes import ImageFacts


@dataclass(frozen=True)
class HarvestOptions:
    max_pixels: int
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HarvestOptions:
        return cls(max_pixels=settings.images.max_pixels, max_bytes=settings.images.max_bytes)


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
        thumbs=thumbs,
    )


__all__ = ["HarvestOptions", "ImageRejected", "harvest_image", "sha256_of"]
