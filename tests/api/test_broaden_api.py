"""Broadening through the HTTP API: ``max_share`` in JSON, a form field, a query parameter; bad values 422."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from asterism.recommend import groups
from asterism.recommend.service import Service


def _worst(service: Service, ids: list[int]) -> int:
    """The most works of one known culture or century in the list."""
    most = 0
    for dimension in (0, 1):
        counts = Counter(groups.capped(service.catalogue.get(i))[dimension] for i in ids)
        counts.pop(None, None)
        most = max(most, *counts.values())
    return most


def test_max_share_bounds_the_page(client: TestClient, service: Service) -> None:
    start = int(service.catalogue.ids[0])
    plain = client.post("/v1/recommendations", json={"artwork_id": start, "k": 12})
    broad = client.post("/v1/recommendations", json={"artwork_id": start, "k": 12, "max_share": 0.25})
    assert plain.status_code == broad.status_code == 200
    ids = [r["artwork"]["id"] for r in broad.json()["results"]]
    assert len(ids) == 12 and _worst(service, ids) <= 3
    plain_ids = [r["artwork"]["id"] for r in plain.json()["results"]]
    assert _worst(service, plain_ids) > 3  # the bound did something (cached answers keyed apart)
    similar = client.get(f"/v1/artworks/{start}/similar", params={"k": 12, "max_share": 0.25})
    assert similar.status_code == 200 and [r["artwork"]["id"] for r in similar.json()["results"]] == ids


@pytest.mark.parametrize("share", [0, -1, 1.5, "a lot"])
def test_a_bad_share_is_a_422_with_a_message(client: TestClient, service: Service, share: object) -> None:
    start = int(service.catalogue.ids[0])
    answer = client.post("/v1/recommendations", json={"artwork_id": start, "max_share": share})
    assert answer.status_code == 422 and "max_share" in answer.text
    answer = client.get(f"/v1/artworks/{start}/similar", params={"max_share": share})
    assert answer.status_code == 422 and "max_share" in answer.text


def test_max_share_as_a_form_field(client: TestClient, service: Service) -> None:
    artwork = service.catalogue.get(int(service.catalogue.ids[0]))
    assert artwork is not None
    picture = service.picture(artwork).read_bytes()
    files = {"image": ("p.jpg", picture, "image/jpeg")}
    answer = client.post("/v1/recommendations", files=files, data={"k": "12", "max_share": "0.25"})
    assert answer.status_code == 200, answer.text
    assert _worst(service, [r["artwork"]["id"] for r in answer.json()["results"]]) <= 3
    bad = client.post("/v1/recommendations", files=files, data={"max_share": "2"})
    assert bad.status_code == 422 and "max_share" in bad.text
