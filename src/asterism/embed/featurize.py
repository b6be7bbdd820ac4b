"""Pictures to image features: formal vector, predicted labels and dominant colours.

Shared by the batch build (every stored image) and the recommender (an
uploaded picture), so an upload is described exactly like a stored work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from asterism.embed import formal
from asterism.embed.backbone import EfficientNetLite0, to_input
from asterism.embed.base import RGB, ImageEmbedder, ModelInfo, l2_normalise
from asterism.images.decode import to_rgb

FORMAL_VERSION = "1"
WORK_PIXELS = 256  # the stored "thumb" size: big enough for 224 px input, cheap to decode
BACKBONE_BATCH = 8  # measured sweet spot on 2 cores with channels-last


@dataclass
class Features:
    formal: np.ndarray
    labels: list[tuple[str, float]]
    palette: list[tuple[str, float]]


def read_rgb(path: Path | BinaryIO, size: int = WORK_PIXELS) -> RGB:
    """Decode a stored picture (a file or its bytes) to RGB at about ``size`` px, JPEG draft mode if possible."""
    with Image.open(path) as im:
        im.draft("RGB", (size, size))
        rgb = to_rgb(im)
        if max(rgb.size) > size * 2:
            rgb.thumbnail((size, size), Image.Resampling.BILINEAR)
        return np.asarray(rgb, dtype=np.uint8)


def formal_info(
    backbone: ModelInfo, layout: formal.FormalLayout, extra: ModelInfo | None = None
) -> ModelInfo:
    """The formal model's identity: backbone (+ extra texture model), formal code version, part weights."""
    weights = "-".join(f"{w:.3f}" for w in layout.weights)
    models = backbone.key + (f"+{extra.key}" if extra else "")
    return ModelInfo("formal", f"{FORMAL_VERSION}+{models}+w{weights}", layout.dim)


class ImageFeaturizer:
    """The backbone plus the formal layout: the formal model as one object with one key.

    ``extra`` (e.g. DINOv2 from a local checkpoint) joins the texture part:
    the part becomes [√½·CNN texture statistics | √½·extra features], so the
    explanation "similar texture" still names one part.
    """

    def __init__(
        self,
        backbone: EfficientNetLite0,
        weights: tuple[float, float, float] | None = None,
        extra: ImageEmbedder | None = None,
    ) -> None:
        self.backbone = backbone
        self.extra = extra
        texture_dim = backbone.texture_dim + (extra.info.dim if extra else 0)
        self.layout = formal.layout_for(texture_dim, weights)
        self.info = formal_info(backbone.info, self.layout, extra.info if extra else None)

    def analyse(self, image: RGB) -> formal.FormalParts:
        """The CPU-only part (palette, composition, dominant colours): safe to run in worker threads."""
        return formal.analyse(image)

    def prepare(self, image: RGB) -> RGB:
        """What ``finish`` needs of a picture, made ahead in a worker thread: the backbone's 224 px input.

        The backbone resizes any other size to exactly this, so ``finish`` gives the same vectors
        for the picture and for its input; an extra texture model sees its own resize of the picture.
        """
        return image if self.extra is not None else to_input(image)

    def finish(self, images: Sequence[RGB], parts: Sequence[formal.FormalParts]) -> list[Features]:
        """Run the backbone in small batches and assemble the features of each picture."""
        out: list[Features] = []
        for start in range(0, len(images), BACKBONE_BATCH):
            chunk = list(images[start : start + BACKBONE_BATCH])
            chunk_parts = list(parts[start : start + BACKBONE_BATCH])
            result = self.backbone.run(chunk)
            texture = result.texture
            if self.extra is not None:
                half = np.float32(np.sqrt(0.5))
                texture = np.concatenate(
                    [half * l2_normalise(texture), half * self.extra.embed_images(chunk)], axis=1
                )
            vectors = formal.assemble(chunk_parts, texture, self.layout)
            labels = self.backbone.top_labels(result.probabilities)
            for vector, label_list, part in zip(vectors, labels, chunk_parts, strict=True):
                colours = part.colours if part.colours is not None else formal.dominant_colours(part.lab)
                out.append(Features(vector, label_list, colours))
        return out

    def __call__(self, images: Sequence[RGB]) -> list[Features]:
        return self.finish(images, [self.analyse(image) for image in images])
