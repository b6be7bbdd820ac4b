"""Through the API: too deep a page is a 400 with a message, a request out of time a 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.service import Service, open_service

import imagegen


@pytest.fixture(scope="module")
def hurried(built: Settings) -> Iterator[tuple[TestClient, int]]:
    """The sample collection opened anew, as a server would open it, with a deadline no request can meet."""
    settings = built.model_copy(update={"recommend": built.recommend.model_copy(update={"deadline": 1e-9})})
    service = open_service(settings)
    try:
        with TestClient(create_app(settings, service=service, ui=None)) as client:
            yield client, int(service.catalogue.ids[0])
    finally:
        service.close()


def test_a_request_past_its_deadline_is_503_with_retry_after(hurried: tuple[TestClient, int]) -> None:
    client, start = hurried
    for response in (
        client.post("/v1/recommendations", json={"artwork_id": start, "k": 5}),
        client.get(f"/v1/artworks/{start}/similar", params={"k": 5, "diversity": 0.5}),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["status"] == 503 and "gave up on this request before search" in body["detail"]
    assert client.get(f"/v1/artworks/{start}").status_code == 200  # what is not a recommendation still works


def test_an_upload_past_its_deadline_stops_before_recognition(hurried: tuple[TestClient, int]) -> None:
    """The upload's deadline starts before its picture is decoded, not once ranking begins."""
    client, _ = hurried
    picture = imagegen.jpeg(5, (300, 240))
    response = client.post("/v1/recommendations", files={"image": ("p.jpg", picture, "image/jpeg")})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "gave up on this request before recognition" in response.json()["detail"]


def test_too_deep_a_page_is_400_with_a_message(client: TestClient, service: Service) -> None:
    start = int(service.catalogue.ids[0])
    for response in (
        client.post("/v1/recommendations", json={"artwork_id": start, "k": 100, "page": 50, "diversity": 1}),
        client.get(f"/v1/artworks/{start}/similar", params={"k": 100, "page": 50, "diversity": 1}),
    ):
        assert response.status_code == 400, response.text
        assert "5100 results is deeper than this server reads" in response.json()["detail"]
    allowed = client.get(f"/v1/artworks/{start}/similar", params={"k": 100, "page": 9, "diversity": 1})
    assert allowed.status_code == 200 and allowed.json()["page"] == 9


def test_a_server_loads_its_models_before_it_says_ready(built: Settings) -> None:
    """The models load lazily; a server runs them once at start, so the first upload is not the one
    that pays 1-4 s for it (and runs past its deadline) after ``/readyz`` said ready."""
    with TestClient(create_app(built, ui=None)) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        service = client.app.state.service  # type: ignore[attr-defined]
        loaded = vars(service.models)
        assert "featurizer" in loaded and "concept" in loaded, sorted(loaded)
