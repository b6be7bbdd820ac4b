"""Prose on ``POST /v1/recommendations`` over the built sample, against a local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.prose_writers import Facts, TemplateWriter, Work
from asterism.recommend.service import Service
from chatserver import ChatServer

SHOWN = 3  # prose.max_results here


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    with ChatServer() as running:
        yield running


@pytest.fixture(scope="module")
def prose_client(built: Settings, service: Service, chat: ChatServer) -> Iterator[TestClient]:
    prose = {"endpoint": chat.url, "model": "tiny", "max_results": SHOWN, "budget": 10.0, "timeout": 10.0}
    settings = built.model_copy(update={"prose": built.prose.model_validate(prose)})
    with TestClient(create_app(settings, service=service, ui=None)) as test_client:
        yield test_client


def starts(client: TestClient) -> list[int]:
    return [int(hit["id"]) for hit in client.get("/v1/search", params={"q": "monet"}).json()["results"]]


def template_of(page: dict[str, Any], service: Service, item: dict[str, Any]) -> str:
    start = service.catalogue.get(page["start_id"])
    assert start is not None
    art = item["artwork"]
    facts = Facts(
        Work.of(start),
        Work(
            art["id"],
            art["title"],
            art["artist"] or art["artist_display"],
            art["date"],
            art["date_start"],
            art["date_end"],
        ),
        *(tuple(item[name]["reasons"]) for name in ("formal", "conceptual", "historical")),
    )
    return TemplateWriter().write(facts)


def test_no_prose_unless_asked(prose_client: TestClient, chat: ChatServer) -> None:
    before = chat.count
    page = prose_client.post(
        "/v1/recommendations", json={"artwork_id": starts(prose_client)[0], "k": 4}
    ).json()
    assert all("prose" not in item for item in page["results"]) and chat.count == before


def test_model_prose_on_the_first_results_then_cached(prose_client: TestClient, chat: ChatServer) -> None:
    chat.mode, before = "echo", chat.count
    question = {"artwork_id": starts(prose_client)[0], "k": 5, "prose": True}
    response = prose_client.post("/v1/recommendations", json=question)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    for item in results[:SHOWN]:
        assert item["prose"]["source"] == "model"
        assert item["prose"]["text"].startswith("They share this: ")
    assert all("prose" not in item for item in results[SHOWN:])
    assert chat.count - before == SHOWN
    again = prose_client.post("/v1/recommendations", json=question)
    assert again.headers["X-Cache"] == "hit" and again.json() == response.json()
    assert chat.count - before == SHOWN  # prose from its cache: the server is not asked again
    by_query = prose_client.post("/v1/recommendations?prose=true", json={**question, "prose": False})
    assert by_query.json() == response.json() and chat.count - before == SHOWN


def test_nonsense_and_errors_fall_back_to_the_template(
    prose_client: TestClient, chat: ChatServer, service: Service
) -> None:
    for mode, start in (("nonsense", starts(prose_client)[1]), ("error", starts(prose_client)[2])):
        chat.mode = mode
        page = prose_client.post(
            "/v1/recommendations", json={"artwork_id": start, "k": 2, "prose": True}
        ).json()
        for item in page["results"]:
            assert item["prose"] == {"text": template_of(page, service, item), "source": "template"}, mode
    chat.mode = "echo"


def test_template_without_an_endpoint(client: TestClient, service: Service) -> None:
    page = client.post(
        "/v1/recommendations", json={"artwork_id": starts(client)[0], "k": 6, "prose": True}
    ).json()
    shown = [item for item in page["results"] if "prose" in item]
    assert len(shown) == 5  # prose.max_results by default
    for item in shown:
        assert item["prose"] == {"text": template_of(page, service, item), "source": "template"}
