"""The model registry of one build or one server: which embedder makes which affinity.

Models load lazily: a build with nothing to do never loads torch weights, and
a server loads each model once. Identities (``ModelInfo``) are known without
loading, so "is this vector up to date?" is a cheap comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from asterism.config import ModelSettings, Settings
from asterism.embed.backbone import EfficientNetLite0, backbone_info
from asterism.embed.base import ModelInfo, TextEmbedder
from asterism.embed.checkpoints import clip_info, dinov2_info
from asterism.embed.conceptual import ConceptEncoder, concept_info
from asterism.embed.featurize import ImageFeaturizer, formal_info
from asterism.embed.formal import FormalLayout, layout_for
from asterism.home import Home
from asterism.shapes import Artwork

TEXT_INFO = ModelInfo("all-minilm-l6-v2", "1", 384)


class Models:
    """Lazily loaded embedders for the settings' choice of models."""

    def __init__(self, settings: ModelSettings, home: Home, *, painters_csv: Path | None = None) -> None:
        self.settings = settings
        self.home = home
        self.painters_csv = painters_csv

    @classmethod
    def of(cls, settings: Settings, painters_csv: Path | None = None) -> Models:
        """The models of a data home. PainterPalette: given, else configured, else the last build's.

        The server must read the same knowledge graph the build embedded, or its
        historical model would be refitted on other facts.
        """
        home = settings.paths
        painters = painters_csv or settings.painters_csv or home.recorded_painters()
        return cls(settings.models, home, painters_csv=painters)

    # ----------------------------------------------------------------- formal
    @cached_property
    def formal_info(self) -> ModelInfo:
        extra = dinov2_info(self.settings.dinov2_path) if self.settings.dinov2_path else None
        texture_dim = EfficientNetLite0.TEXTURE_DIM + (extra.dim if extra else 0)
        layout = layout_for(texture_dim, self.settings.formal_parts)
        return formal_info(backbone_info(), layout, extra)

    @cached_property
    def formal_layout(self) -> FormalLayout:
        extra = dinov2_info(self.settings.dinov2_path) if self.settings.dinov2_path else None
        return layout_for(
            EfficientNetLite0.TEXTURE_DIM + (extra.dim if extra else 0), self.settings.formal_parts
        )

    @cached_property
    def featurizer(self) -> ImageFeaturizer:
        from asterism.embed.checkpoints import Dinov2

        backbone = EfficientNetLite0(
            threads=self.settings.threads,
            runtime=self.settings.runtime,
            cache_dir=self.home.onnx_cache,
        )
        path = self.settings.dinov2_path
        extra = Dinov2(path, threads=self.settings.threads) if path else None
        featurizer = ImageFeaturizer(backbone, self.settings.formal_parts, extra)
        assert featurizer.info == self.formal_info
        return featurizer

    # ----------------------------------------------------------------- conceptual
    @cached_property
    def text_info(self) -> ModelInfo:
        if self.settings.text_path is None:
            return TEXT_INFO
        path = self.settings.text_path
        config = path / "config.json"
        stamp = json.loads(config.read_text())["_name_or_path"] if config.is_file() else path.name
        return ModelInfo(f"text:{path.name}", str(stamp), 0)

    @cached_property
    def text(self) -> TextEmbedder:
        from asterism.embed.conceptual import MiniLM

        return MiniLM(path=self.settings.text_path, threads=self.settings.threads)

    @cached_property
    def concept_info(self) -> ModelInfo:
        path = self.settings.clip_path
        return concept_info(self.settings.conceptual, self.text_info, clip_info(path) if path else None)

    @cached_property
    def concept(self) -> ConceptEncoder:
        """The conceptual encoder for the settings' mode (text, clip or text+clip)."""
        from asterism.embed.checkpoints import Clip

        mode = self.settings.conceptual
        clip = (
            Clip(
                self.settings.clip_path,
                threads=self.settings.threads,
                runtime=self.settings.runtime,
                cache_dir=self.home.onnx_cache,  # the image tower is exported once, then reused
                precision=self.settings.tower_precision,
            )
            if self.settings.clip_path
            else None
        )
        encoder = ConceptEncoder(mode, self.concept_info, self.text if mode != "clip" else None, clip)
        return encoder

    # ----------------------------------------------------------------- historical
    def historical(self, artworks: Sequence[Artwork]) -> Any:
        """The historical model for these artworks: loaded if one with the same content exists."""
        from asterism.embed.historical import HistoricalModel
        from asterism.knowledge.painters import PainterIndex

        painters = PainterIndex.load(self.painters_csv) if self.painters_csv else None
        return HistoricalModel.fit_or_load(list(artworks), painters, self.home.historical_models)
