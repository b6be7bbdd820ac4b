"""What an embedder is, and the three affinities it can serve.

Each affinity (formal, conceptual, historical) is one vector per artwork,
L2-normalised so that cosine similarity is a dot product. An embedder has an
id and a version; both are stored with every vector, so changing the model
(or its version) re-embeds, and nothing else has to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]  # (height, width, 3)


class Affinity(StrEnum):
    FORMAL = "formal"
    CONCEPTUAL = "conceptual"
    HISTORICAL = "historical"


AFFINITIES: tuple[Affinity, ...] = (Affinity.FORMAL, Affinity.CONCEPTUAL, Affinity.HISTORICAL)


@dataclass(frozen=True)
class ModelInfo:
    """Identity of the model that made a vector: changing any field re-embeds."""

    id: str
    version: str
    dim: int

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


class ImageEmbedder(Protocol):
    """Images in, one L2-normalised row per image out."""

    info: ModelInfo

    def embed_images(self, images: Sequence[RGB]) -> Vectors: ...


class TextEmbedder(Protocol):
    """Texts in, one L2-normalised row per text out."""

    info: ModelInfo

    def embed_texts(self, texts: Sequence[str]) -> Vectors: ...


def l2_normalise(vectors: npt.NDArray[np.floating] | Vectors, eps: float = 1e-12) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    result: Vectors = (array / np.maximum(norms, eps)).astype(np.float32, copy=False)
    return result
