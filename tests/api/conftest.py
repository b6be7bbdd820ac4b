"""An API client over the built sample collection (the app in-process, through ASGI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.service import Service


@pytest.fixture(scope="session")
def client(built: Settings, service: Service) -> Iterator[TestClient]:
    settings = built.model_copy(update={"api": built.api.model_copy(update={"admin_token": "s3cret"})})
    with TestClient(create_app(settings, service=service, ui=None)) as test_client:
        yield test_client
