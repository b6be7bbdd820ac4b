"""``GET /v1/map``: the shape the map view is built against, its errors, its caching, and no withheld work.

The sample collection (``client``) answers the shape and caching; a small
collection of eight works under two licences answers the rest: built first
without the layout stage (409, "run asterism build"), then with it, then
served under a narrowed license policy with no new build, where the CC BY-SA
works must be gone from the map as from every other answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import asterism
from asterism.api.app import create_app
from asterism.config import LicenseSettings, Settings, load_settings
from asterism.stages.layout import MAPS

import imagegen

WORKS = 8  # even: CC BY-SA 4.0, odd: CC0


def test_map_shape_for_every_affinity(client: TestClient) -> None:
    served = set(client.app.state.service.catalogue.records)
    for affinity in MAPS:
        response = client.get("/v1/map", params={"affinity": affinity})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"affinity", "count", "ids", "x", "y", "thumbnail"}
        assert body["affinity"] == affinity and body["thumbnail"] == "/v1/images/{id}?size=thumb"
        assert body["count"] == len(body["ids"]) == len(body["x"]) == len(body["y"]) > 100
        assert body["ids"] == sorted(body["ids"]) and set(body["ids"]) <= served
        for value in body["x"] + body["y"]:
            assert 0 <= value <= 1 and round(value, 4) == value
    assert client.get("/v1/map").json()["affinity"] == "hybrid"  # the default
    thumb = client.get(body["thumbnail"].replace("{id}", str(body["ids"][0])))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_titles_and_artists_on_request(client: TestClient) -> None:
    body = client.get("/v1/map", params={"affinity": "formal", "fields": "title,artist"}).json()
    service = client.app.state.service
    assert len(body["title"]) == len(body["artist"]) == body["count"]
    first = service.catalogue.get(body["ids"][0])
    assert body["title"][0] == first.title and body["artist"][0] == first.artist_name
    assert "artist" not in client.get("/v1/map", params={"fields": "title"}).json()


def test_bad_parameters_are_422_with_a_message(client: TestClient) -> None:
    wrong = client.get("/v1/map", params={"affinity": "colour"})
    assert wrong.status_code == 422 and "affinity" in wrong.json()["detail"]
    assert "hybrid" in wrong.json()["detail"]  # says what is allowed
    fields = client.get("/v1/map", params={"fields": "title,price"})
    assert fields.status_code == 422 and "fields" in fields.json()["detail"]


def test_fetched_once_per_build(client: TestClient) -> None:
    first = client.get("/v1/map", params={"affinity": "historical"})
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/v1/map", params={"affinity": "historical"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    other = client.get("/v1/map", params={"affinity": "formal"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_compressed_for_clients_that_accept_it(client: TestClient) -> None:
    packed = client.get("/v1/map", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/v1/map", headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.json() == plain.json() and packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < 0.6 * int(plain.headers["content-length"])


# ------------------------------------------------------------------ withheld works, no map yet


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Eight works under two licences, ingested and built without the layout stage."""
    root = tmp_path_factory.mktemp("map")
    folder = root / "mixed"
    (folder / "images").mkdir(parents=True)
    lines = []
    for i in range(WORKS):
        (folder / "images" / f"w{i}.jpg").write_bytes(imagegen.jpeg(200 + i, (96, 64)))
        record = {"id": f"w{i}", "image": f"images/w{i}.jpg", "title": f"Garden {i}", "date": "c. 1880",
                  "artist": "Berthe Morisot (French, 1841–1895)", "license": "CC BY-SA 4.0" if i % 2 == 0 else "CC0"}  # fmt: skip
        lines.append(json.dumps(record))
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(home=root / "home", ocr={"mode": "never"}, workers=2, batch_size=8)
    with asterism.Collection(settings) as collection:
        collection.ingest("local", folder)
        collection.build(stages=("embed", "index", "graph"))
    return settings


@pytest.fixture(scope="module")
def licences(mixed: Settings) -> Iterator[dict[str, list[int]]]:
    """The works' ids by license id, after a map-less server said 409 and the map was built."""
    with TestClient(create_app(mixed, ui=None)) as client:
        missing = client.get("/v1/map")
        assert missing.status_code == 409 and "asterism build" in missing.json()["detail"]
    with asterism.Collection(mixed) as collection:
        report = collection.build()
        assert report.layout is not None and set(report.layout.built) == set(MAPS)
        groups: dict[str, list[int]] = {}
        for work in collection.service().records.artworks():
            assert work.id is not None
            groups.setdefault(work.license_id, []).append(work.id)
    yield groups


def test_no_map_yet_is_409_then_built(mixed: Settings, licences: dict[str, list[int]]) -> None:
    with TestClient(create_app(mixed, ui=None)) as client:
        for affinity in MAPS:
            body = client.get("/v1/map", params={"affinity": affinity}).json()
            assert sorted(body["ids"]) == sorted(licences["CC0-1.0"] + licences["CC-BY-SA-4.0"])
        etag = client.get("/v1/map").headers["etag"]
    with asterism.Collection(mixed) as collection:  # a new build, even of the same map: a new ETag
        assert collection.build(stages=("layout",), relayout=True).changed
    with TestClient(create_app(mixed, ui=None)) as client:
        again = client.get("/v1/map", headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["etag"] != etag
        assert again.json()["x"] == body["x"]  # laid out anew from the same vectors: the same map


def test_withheld_works_are_never_on_the_map(mixed: Settings, licences: dict[str, list[int]]) -> None:
    narrowed = mixed.model_copy(update={"license": LicenseSettings(allowed=["public-domain", "CC0"])})
    with (
        TestClient(create_app(mixed, ui=None)) as before,
        TestClient(create_app(narrowed, ui=None)) as client,
    ):
        wide = before.get("/v1/map")
        for affinity in MAPS:
            body = client.get("/v1/map", params={"affinity": affinity, "fields": "title"}).json()
            assert body["ids"] == sorted(licences["CC0-1.0"]) and body["count"] == WORKS // 2
            assert not set(body["ids"]) & set(licences["CC-BY-SA-4.0"])
        # The policy is part of the ETag: a browser holding the wider map gets the narrowed one.
        after = client.get("/v1/map", headers={"If-None-Match": wide.headers["etag"]})
        assert after.status_code == 200 and after.json()["count"] == WORKS // 2
