"""The real default models, loaded once per test session (a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.conceptual import MiniLM
from asterism.embed.featurize import ImageFeaturizer


@pytest.fixture(scope="session")
def featurizer() -> Iterator[ImageFeaturizer]:
    yield ImageFeaturizer(EfficientNetLite0(threads=2))


@pytest.fixture(scope="session")
def minilm() -> Iterator[MiniLM]:
    yield MiniLM(threads=2)
