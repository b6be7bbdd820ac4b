"""The sample collection exported once per session, for the round-trip tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from asterism.collection import Collection
from asterism.config import Settings


@pytest.fixture(scope="session")
def exported(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built sample home (120 works) exported with its pictures."""
    folder = tmp_path_factory.mktemp("export") / "sample"
    with Collection(built) as collection:
        collection.export(folder, images=True)
    return folder
