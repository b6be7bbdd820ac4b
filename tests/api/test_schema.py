"""Schemathesis against the app's own OpenAPI schema: generated requests, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.service import Service


@pytest.fixture(scope="session")
def api_schema(built: Settings, service: Service) -> Any:
    app = create_app(built, service=service, ui=None)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
