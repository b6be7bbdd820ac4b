"""Every endpoint, and every bad input the API promises to refuse with a 4xx and a message."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from asterism.api.app import create_app
from asterism.api.uploads import blur_faces, face_boxes
from asterism.config import Settings
from asterism.recommend.service import Service

import imagegen


def first_id(client: TestClient) -> int:
    return int(client.get("/v1/search", params={"q": "monet"}).json()["results"][0]["id"])


def jpeg_of(path: Path, scale: float = 0.5) -> bytes:
    image = Image.open(path).convert("RGB")
    image = image.resize((int(image.width * scale), int(image.height * scale)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_recommend_by_id_returns_scores_reasons_links_and_credit(client: TestClient) -> None:
    start = first_id(client)
    response = client.post("/v1/recommendations", json={"artwork_id": start, "k": 5})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["start_id"] == start and len(page["results"]) == 5
    for item in page["results"]:
        for affinity in ("formal", "conceptual", "historical"):
            assert 0 <= item[affinity]["score"] <= 1 and isinstance(item[affinity]["reasons"], list)
        art = item["artwork"]
        assert art["image"]["thumb"].startswith(f"/v1/images/{art['id']}?size=thumb&v=")
        assert item["attribution"] == art["attribution"] and art["license_id"] and art["source_url"]
        assert art["source_name"] in item["attribution"]


def test_weights_and_filters_in_json(client: TestClient) -> None:
    start = first_id(client)
    formal = client.post(
        "/v1/recommendations",
        json={"artwork_id": start, "weights": {"formal": 1, "conceptual": 0, "historical": 0}, "beta": 0},
    )
    history = client.post(
        "/v1/recommendations",
        json={"artwork_id": start, "weights": {"formal": 0, "conceptual": 0, "historical": 1}, "beta": 0},
    )
    ids = lambda r: [i["artwork"]["id"] for i in r.json()["results"]]  # noqa: E731
    assert ids(formal) != ids(history)
    dated = client.post(
        "/v1/recommendations",
        json={"artwork_id": start, "k": 20, "filters": {"date_from": 1800, "date_to": 1880}},
    )
    assert dated.status_code == 200
    for item in dated.json()["results"]:
        assert item["artwork"]["date_start"] <= 1880 and item["artwork"]["date_end"] >= 1800
    second = client.post("/v1/recommendations", json={"artwork_id": start, "page": 1})
    assert second.json()["results"][0]["rank"] == 11


def not_stored(service: Service, shared_data: Path) -> Path:
    """A sample painting the test collection did not ingest: answered by image, never recognised."""
    stored = {a.source_id for a in service.catalogue.records.values()}
    return next(
        p
        for p in sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))
        if f"aic-paintings/{p.stem}" not in stored
    )


def test_recommend_by_upload(client: TestClient, service: Service, shared_data: Path) -> None:
    picture = jpeg_of(not_stored(service, shared_data))
    response = client.post(
        "/v1/recommendations",
        files={"image": ("photo.jpg", picture, "image/jpeg")},
        data={"k": "4", "weights": json.dumps({"formal": 0.7, "conceptual": 0.3})},
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["start_id"] is None and len(page["results"]) == 4
    assert page["start_kind"] == "picture" and page["recognised"] is None
    assert page["inferred_history"].endswith("(inferred)")
    assert page["weights"]["formal"] > page["weights"]["conceptual"]


def test_a_photo_of_a_stored_work_is_recognised(client: TestClient, service: Service) -> None:
    from asterism.eval.photos import photograph

    work = sorted(service.catalogue.records.values(), key=lambda a: a.id or 0)[7]
    with Image.open(service.picture(work)) as im:
        photo = photograph(np.asarray(im.convert("RGB")), "combined", 0.33, np.random.default_rng(3))
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG")
    upload = {"image": ("photo.jpg", buffer.getvalue(), "image/jpeg")}
    response = client.post("/v1/recommendations", files=upload, data={"k": "5"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["start_kind"] == "recognised" and page["start_id"] == work.id
    found = page["recognised"]
    assert found["artwork"]["id"] == work.id and found["artwork"]["title"] == work.title
    assert set(found["artwork"]) == set(page["results"][0]["artwork"])  # the same record shape as results
    assert 0.5 < found["confidence"] <= 1 and found["inliers"] >= service.settings.recognise.min_inliers
    by_id = client.post("/v1/recommendations", json={"artwork_id": work.id, "k": 5}).json()
    assert [r["artwork"]["id"] for r in page["results"]] == [r["artwork"]["id"] for r in by_id["results"]]
    off = client.post("/v1/recommendations", files=upload, data={"k": "5", "recognise": "false"}).json()
    assert off["start_kind"] == "picture" and off["recognised"] is None and off["start_id"] is None
    bad = client.post("/v1/recommendations", files=upload, data={"recognise": "maybe"})
    assert bad.status_code == 422 and "recognise" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"artwork_id": 987654321}, 404, "no artwork"),
        ({"artwork_id": "abc"}, 422, "not a work name"),
        ({"artwork_id": "aic:987654321"}, 404, "aic:987654321"),
        ({}, 422, "artwork_id"),
        ({"artwork_id": 1, "k": 0}, 422, "k"),
        ({"artwork_id": 1, "k": 1000}, 422, "k"),
        ({"artwork_id": 1, "page": -1}, 422, "page"),
        ({"artwork_id": 1, "weights": {"formal": -1}}, 422, "formal"),
        ({"artwork_id": 1, "weights": {"beauty": 1}}, 422, "beauty"),
        (
            {"artwork_id": 1, "weights": {"formal": 0, "conceptual": 0, "historical": 0}},
            400,
            "at least one weight",
        ),
        ({"artwork_id": 1, "filters": {"date_from": 1900, "date_to": 1800}}, 400, "date range is empty"),
        ({"artwork_id": 1, "filters": {"colour": "red"}}, 422, "colour"),
        ({"artwork_id": 1, "diversity": 2}, 422, "diversity"),
        ({"artwork_id": 1, "extra": True}, 422, "extra"),
    ],
)
def test_bad_json_queries_are_4xx_with_a_message(
    client: TestClient, body: dict, status: int, message: str
) -> None:
    response = client.post("/v1/recommendations", json=body)
    assert response.status_code == status, response.text
    assert response.json()["status"] == status and message in response.json()["detail"]


def test_bad_bodies(client: TestClient) -> None:
    broken = client.post(
        "/v1/recommendations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    other = client.post("/v1/recommendations", content=b"hello", headers={"content-type": "text/plain"})
    assert other.status_code == 415 and "multipart" in other.json()["detail"]
    no_file = client.post(
        "/v1/recommendations", data={"k": "3"}, files={"note": ("a.txt", b"x", "text/plain")}
    )
    assert no_file.status_code == 422 and "image" in no_file.json()["detail"]
    bad_weights = client.post(
        "/v1/recommendations",
        files={"image": ("a.jpg", imagegen.jpeg(1), "image/jpeg")},
        data={"weights": "{nope"},
    )
    assert bad_weights.status_code == 422 and "weights" in bad_weights.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        pytest.param(b"", 400, "empty", id="empty"),
        pytest.param(b"not an image at all", 415, "not an image", id="text"),
        pytest.param(imagegen.corrupt_jpeg(2), 415, "not an image", id="corrupt-jpeg"),
        pytest.param(imagegen.truncated_jpeg(3), 400, "", id="truncated-jpeg"),
        pytest.param(imagegen.animated_gif(4), 415, "unsupported image format GIF", id="gif"),
        pytest.param(imagegen.bomb_png(), 413, "decompression bomb", id="bomb"),
        pytest.param(imagegen.bomb_png(8000, 7000), 413, "50000000-pixel limit", id="56-megapixels"),
        pytest.param(
            imagegen.encode(Image.new("L", (5000, 4000), 128), "PNG"),
            413,
            "16000000-pixel limit for a PNG picture",
            id="20-megapixel-png",
        ),
    ],
)
def test_bad_uploads_are_refused_clearly(
    client: TestClient, payload: bytes, status: int, message: str
) -> None:
    response = client.post(
        "/v1/recommendations", files={"image": ("x.bin", payload, "application/octet-stream")}
    )
    if status == 400 and not message:  # a truncated JPEG may still decode: then it is a fine picture
        assert response.status_code in (200, 400)
        return
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_upload_byte_limit(built: Settings, service: Service) -> None:
    small = built.model_copy(update={"api": built.api.model_copy(update={"upload_max_bytes": 4096})})
    with TestClient(create_app(small, service=service, ui=None)) as client:
        response = client.post(
            "/v1/recommendations", files={"image": ("big.jpg", imagegen.jpeg(5, (400, 400)), "image/jpeg")}
        )
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_artworks_endpoints(client: TestClient) -> None:
    start = first_id(client)
    one = client.get(f"/v1/artworks/{start}")
    assert one.status_code == 200 and one.json()["id"] == start and "Monet" in one.json()["artist"]
    assert client.get("/v1/artworks/987654321").status_code == 404
    assert client.get("/v1/artworks/0").status_code == 404
    assert client.get("/v1/artworks/abc").status_code == 422
    # A work by its own name, source:source_id (the sample's ids hold a slash: local:aic-paintings/…).
    ref = one.json()["ref"]
    assert ref.startswith("local:aic-paintings/")
    by_name = client.get(f"/v1/artworks/{ref}")
    assert by_name.status_code == 200 and by_name.json()["id"] == start
    assert client.get(f"/v1/artworks/{ref}/similar", params={"k": 2}).json()["start_id"] == start
    assert client.post("/v1/recommendations", json={"artwork_id": ref, "k": 2}).json()["start_id"] == start
    assert client.get(f"/v1/images/{ref}").status_code == 200
    unknown = client.get("/v1/artworks/aic:404404")
    assert unknown.status_code == 404 and "aic:404404" in unknown.json()["detail"]
    similar = client.get(
        f"/v1/artworks/{start}/similar", params={"k": 3, "formal": 1, "conceptual": 0, "historical": 0}
    )
    assert similar.status_code == 200 and len(similar.json()["results"]) == 3
    batch = client.post("/v1/artworks/batch", json={"ids": [start, 987654321, ref, "aic:404404"]})
    assert [a["id"] for a in batch.json()["artworks"]] == [start, start]
    assert batch.json()["missing"] == [987654321, "aic:404404"]
    assert client.post("/v1/artworks/batch", json={"ids": []}).status_code == 422
    assert client.post("/v1/artworks/batch", json={"ids": list(range(1, 300))}).status_code == 422
    first = client.get("/v1/artworks/random", params={"seed": 7}).json()["id"]
    assert client.get("/v1/artworks/random", params={"seed": 7}).json()["id"] == first


def test_search(client: TestClient) -> None:
    found = client.get("/v1/search", params={"q": "MONET"}).json()["results"]
    assert found and all("Monet" in (hit["artist"] or "") or "monet" in hit["title"].lower() for hit in found)
    assert client.get("/v1/search", params={"q": "zzzzqqq"}).json()["results"] == []
    assert client.get("/v1/search", params={"q": ""}).status_code == 422
    assert client.get("/v1/search").status_code == 422


def test_images_are_cached_by_content(client: TestClient, service: Service) -> None:
    start = first_id(client)
    links = client.get(f"/v1/artworks/{start}").json()["image"]
    work = service.artwork(start)
    assert work.image is not None
    version = work.image.sha256[:16]
    assert links["thumb"] == f"/v1/images/{start}?size=thumb&v={version}"
    assert links["medium"].endswith(f"size=medium&v={version}") and links["full"].endswith(f"&v={version}")
    hit = client.get("/v1/search", params={"q": "monet"}).json()["results"][0]
    hit_image = service.artwork(hit["id"]).image
    assert hit_image is not None
    assert hit["thumb"] == f"/v1/images/{hit['id']}?size=thumb&v={hit_image.sha256[:16]}"
    # Only the URL naming the content is immutable: a replaced picture gets a new URL.
    named = client.get(links["thumb"])
    assert named.status_code == 200 and "immutable" in named.headers["cache-control"]
    stale = client.get(f"/v1/images/{start}", params={"size": "thumb", "v": "0123456789abcdef"})
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert client.get(f"/v1/images/{start}", params={"v": "xyz"}).status_code == 422
    thumb = client.get(f"/v1/images/{start}", params={"size": "thumb"})  # the work's picture now: revalidated
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["cache-control"] == "no-cache" and thumb.headers["etag"]
    assert thumb.content == named.content and thumb.headers["etag"] == named.headers["etag"]
    assert Image.open(io.BytesIO(thumb.content)).size[0] <= 256
    medium = client.get(f"/v1/images/{start}", params={"size": "medium"})
    assert max(Image.open(io.BytesIO(medium.content)).size) > max(Image.open(io.BytesIO(thumb.content)).size)
    assert client.get(f"/v1/images/{start}", params={"size": "full"}).status_code == 200
    again = client.get(f"/v1/images/{start}", headers={"if-none-match": thumb.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"/v1/images/{start}", params={"size": "huge"}).status_code == 422
    assert client.get("/v1/images/987654321").status_code == 404


def test_connect(client: TestClient) -> None:
    ids = [hit["id"] for hit in client.get("/v1/search", params={"q": "a", "limit": 50}).json()["results"]]
    response = client.get("/v1/connect", params={"from": ids[0], "to": ids[-1]})
    assert response.status_code == 200
    body = response.json()
    if body["found"]:
        assert body["steps"][0]["source_id"] == ids[0] and body["steps"][-1]["target_id"] == ids[-1]
        assert all(step["reason"] for step in body["steps"])
    assert client.get("/v1/connect", params={"from": ids[0], "to": 987654321}).status_code == 404
    ref = client.get(f"/v1/artworks/{ids[0]}").json()["ref"]
    named = client.get("/v1/connect", params={"from": ref, "to": ids[-1]})
    assert named.status_code == 200 and named.json()["start"] == ids[0]
    missing = client.get("/v1/connect", params={"from": "met:1", "to": ids[-1]})
    assert missing.status_code == 404 and "met:1" in missing.json()["detail"]
    assert client.get("/v1/connect", params={"from": ids[0]}).status_code == 422


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["artworks"] > 0
    assert ready["recognition"] == ready["artworks"]  # every served work can be recognised
    models = ready["models"]  # which models are active, and how to get a better one
    assert models["conceptual"] == "minilm (text)" and not models["text_to_image"]
    assert "asterism models pull openclip-vit-b-32" in models["better"]
    client.post("/v1/recommendations", json={"artwork_id": first_id(client)})
    text = client.get("/metrics").text
    assert (
        "asterism_recommendation_seconds_count" in text
        and 'asterism_index_vectors{affinity="formal"}' in text
    )
    assert 'route="/v1/recommendations"' in text


def test_not_built_yet_is_503_not_500(settings: Settings) -> None:
    with TestClient(create_app(settings, ui=None)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        response = client.post("/v1/recommendations", json={"artwork_id": 1})
        assert response.status_code == 503 and "asterism build" in response.json()["detail"]


def test_admin_needs_the_token(client: TestClient) -> None:
    assert client.post("/v1/admin/rebuild").status_code == 401
    assert client.post("/v1/admin/rebuild", headers={"authorization": "Bearer nope"}).status_code == 403
    token = {"authorization": "Bearer s3cret"}
    started = client.post("/v1/admin/rebuild", headers=token)
    assert started.status_code == 202  # built in the background: the answer does not wait for it
    deadline = time.monotonic() + 120
    while (status := client.get("/v1/admin/build", headers=token).json())["last"]["state"] == "running":
        assert time.monotonic() < deadline, "the background build did not finish"
        time.sleep(0.2)
    assert status["last"] == {"state": "done", "changed": False, "artworks": status["last"]["artworks"]}
    assert status["running"] is None and status["served"] == status["published"]


def test_faces_are_blurred_before_an_upload_is_kept(
    shared_data: Path, built: Settings, service: Service, tmp_path: Path
) -> None:
    portrait = shared_data / "aic-paintings" / "images" / "100356.jpg"
    rgb = np.asarray(Image.open(portrait).convert("RGB"))
    boxes = face_boxes(rgb)
    assert boxes
    blurred, count = blur_faces(rgb)
    assert count == len(boxes) and not face_boxes(blurred)
    x, y, w, h = boxes[0]
    assert np.abs(blurred[y : y + h, x : x + w].astype(int) - rgb[y : y + h, x : x + w]).mean() > 5
    assert np.array_equal(blurred[:5, :5], rgb[:5, :5]) or (x < 20 and y < 20)
    keeping = built.model_copy(
        update={"home": tmp_path, "api": built.api.model_copy(update={"store_uploads": True})}
    )
    with TestClient(create_app(keeping, service=service, ui=None)) as client:
        assert (
            client.post(
                "/v1/recommendations", files={"image": ("p.jpg", portrait.read_bytes(), "image/jpeg")}
            ).status_code
            == 200
        )
    kept = list((tmp_path / "uploads").glob("*.jpg"))
    assert len(kept) == 1 and not face_boxes(np.asarray(Image.open(kept[0]).convert("RGB")))


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_repeated_questions_come_from_the_cache(built: Settings, service: Service, backend: str) -> None:
    """The Redis backend runs against the real server at 127.0.0.1:6379."""
    prefix = f"test-{backend}-{os.getpid()}"
    cached = built.model_copy(update={"cache": built.cache.model_copy(update={"backend": backend})})
    service.version = prefix  # a fresh key space: earlier runs' answers must not count
    with TestClient(create_app(cached, service=service, ui=None)) as client:
        start = first_id(client)
        first = client.post("/v1/recommendations", json={"artwork_id": start, "k": 4})
        second = client.post("/v1/recommendations", json={"artwork_id": start, "k": 4})
        other = client.post(
            "/v1/recommendations", json={"artwork_id": start, "k": 4, "weights": {"formal": 1}}
        )
    assert (first.headers["x-cache"], second.headers["x-cache"], other.headers["x-cache"]) == (
        "miss",
        "hit",
        "miss",
    )
    assert first.json() == second.json() and first.json() != other.json()
    if backend == "redis":
        import redis

        keys = redis.Redis.from_url(cached.cache.url).keys(f"asterism:{prefix}:*")
        assert len(keys) == 2


def test_unreachable_redis_is_slower_not_broken(built: Settings, service: Service) -> None:
    broken = built.model_copy(
        update={"cache": built.cache.model_copy(update={"backend": "redis", "url": "redis://127.0.0.1:1/0"})}
    )
    with TestClient(create_app(broken, service=service, ui=None)) as client:
        response = client.post("/v1/recommendations", json={"artwork_id": first_id(client), "k": 2})
    assert response.status_code == 200 and response.headers["x-cache"] == "miss"
