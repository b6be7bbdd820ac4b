"""The license policy is applied when the collection is opened, not only at ingest.

A small collection is ingested and built under the default policy (CC0 and
CC BY-SA both served); then ``license.allowed`` is narrowed to public domain
and CC0 and the server started again, with no re-ingest and no build. The
CC BY-SA works must be gone from every answer: results, search, random, a
start by id (403, with the reason), batch lookups and their pictures (410).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import asterism
from asterism.api.app import create_app
from asterism.config import LicenseSettings, Settings, load_settings
from asterism.shapes import Status

import imagegen

WORKS = 8  # even: CC BY-SA 4.0, odd: CC0


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Eight works under two licences, ingested and built under the default policy."""
    root = tmp_path_factory.mktemp("policy")
    folder = root / "mixed"
    (folder / "images").mkdir(parents=True)
    lines = []
    for i in range(WORKS):
        (folder / "images" / f"w{i}.jpg").write_bytes(imagegen.jpeg(100 + i, (96, 64)))
        record = {"id": f"w{i}", "image": f"images/w{i}.jpg", "title": f"Harbour {i}", "date": "c. 1875",
                  "artist": "Berthe Morisot (French, 1841–1895)", "license": "CC BY-SA 4.0" if i % 2 == 0 else "CC0"}  # fmt: skip
        lines.append(json.dumps(record))
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(home=root / "home", ocr={"mode": "never"}, workers=2, batch_size=8)
    with asterism.Collection(settings) as collection:
        collection.ingest("local", folder)
        collection.build()
    return settings


def ids_by_license(settings: Settings) -> dict[str, list[int]]:
    with asterism.Collection(settings) as collection:
        works = list(collection.service().records.artworks())
    assert all(w.status == Status.ACTIVE for w in works)  # the store is untouched by the narrowing
    out: dict[str, list[int]] = {}
    for work in works:
        assert work.id is not None
        out.setdefault(work.license_id, []).append(work.id)
    return out


@pytest.fixture(scope="module")
def narrowed(mixed: Settings) -> Iterator[TestClient]:
    """The server started on the same data home, with CC BY-SA no longer allowed."""
    settings = mixed.model_copy(update={"license": LicenseSettings(allowed=["public-domain", "CC0"])})
    with TestClient(create_app(settings, ui=None)) as client:
        yield client


def test_served_under_the_policy_it_was_built_with(mixed: Settings, narrowed: TestClient) -> None:
    groups = ids_by_license(mixed)
    assert sorted(groups) == ["CC-BY-SA-4.0", "CC0-1.0"] and len(groups["CC-BY-SA-4.0"]) == WORKS // 2
    with TestClient(create_app(mixed, ui=None)) as client:
        # Cached answers are keyed by this version: none from before the narrowing may be reused.
        assert client.app.state.service.version != narrowed.app.state.service.version
        shown = client.get("/v1/search", params={"q": "harbour", "limit": 50}).json()["results"]
        assert len(shown) == WORKS
        work = groups["CC-BY-SA-4.0"][0]
        assert client.get(f"/v1/artworks/{work}").status_code == 200
        assert client.get(f"/v1/images/{work}").status_code == 200


def test_narrowed_policy_withdraws_works_without_reingest(mixed: Settings, narrowed: TestClient) -> None:
    groups = ids_by_license(mixed)
    withdrawn, kept = set(groups["CC-BY-SA-4.0"]), set(groups["CC0-1.0"])
    client = narrowed

    found = {
        hit["id"] for hit in client.get("/v1/search", params={"q": "harbour", "limit": 50}).json()["results"]
    }
    assert found == kept
    for start in kept:
        page = client.post("/v1/recommendations", json={"artwork_id": start, "k": WORKS})
        assert page.status_code == 200, page.text
        results = {item["artwork"]["id"] for item in page.json()["results"]}
        assert results and not results & withdrawn
        assert all(item["artwork"]["license_id"] == "CC0-1.0" for item in page.json()["results"])
    for seed in range(20):
        assert client.get("/v1/artworks/random", params={"seed": seed}).json()["id"] in kept

    for work in withdrawn:
        for response in (
            client.get(f"/v1/artworks/{work}"),
            client.get(f"/v1/artworks/{work}/similar"),
            client.post("/v1/recommendations", json={"artwork_id": work}),
        ):
            assert response.status_code == 403, response.text
            assert "CC-BY-SA-4.0 is not allowed" in response.json()["detail"]
        picture = client.get(f"/v1/images/{work}", params={"size": "thumb"})
        assert picture.status_code == 410 and "not served" in picture.json()["detail"]
    batch = client.post("/v1/artworks/batch", json={"ids": sorted(withdrawn | kept)}).json()
    assert {a["id"] for a in batch["artworks"]} == kept and set(batch["missing"]) == withdrawn
    kept_one, withdrawn_one = min(kept), min(withdrawn)
    connect = client.get("/v1/connect", params={"from": kept_one, "to": withdrawn_one})
    assert connect.status_code == 403
    assert client.get("/v1/artworks/987654321").status_code == 404  # never stored: still not found
