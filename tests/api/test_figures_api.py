"""The API's JSON carries the reasons' figures (swatches, layouts, dates), consistent with the phrases."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from test_api import first_id, jpeg_of, not_stored

from asterism.recommend.service import Service

PAIR = re.compile(r"(#[0-9a-f]{6})~(#[0-9a-f]{6})")


def check(results: list[dict[str, Any]]) -> dict[str, int]:
    """Each result's figures against its own phrases; how many of each were checked."""
    seen = {"colours": 0, "layouts": 0, "gaps": 0, "dates": 0}
    for item in results:
        formal, conceptual, historical = item["formal"], item["conceptual"], item["historical"]
        for absent in ("colours", "layouts", "dates"):  # not applicable: present in the JSON, null
            assert absent in conceptual and conceptual[absent] is None
        assert formal["dates"] is None and historical["colours"] is None and historical["layouts"] is None
        phrase = next((r for r in formal["reasons"] if r.startswith("shared colours")), None)
        if phrase is None:
            assert formal["colours"] is None
        else:
            pairs = [(c["start_hex"], c["result_hex"]) for c in formal["colours"]]
            assert pairs == PAIR.findall(phrase)  # the swatches are the phrase's hexes, in order
            assert all(c["name"] in phrase for c in formal["colours"])
            seen["colours"] += 1
        layouts = formal["layouts"]
        assert layouts is not None and len(layouts["start"]) == 12 and len(layouts["result"][0]) == 12
        seen["layouts"] += 1
        for reason in historical["reasons"]:
            if m := re.match(r"dated (\d+) years apart", reason):
                assert historical["dates"]["gap"] == int(m.group(1))
                seen["gaps"] += 1
        if historical["dates"] is not None:
            seen["dates"] += 1
            result = historical["dates"]["result"]
            art = item["artwork"]
            if result is not None:
                assert result["start"] == min(
                    y for y in (art["date_start"], art["date_end"]) if y is not None
                )
    return seen


def test_figures_by_id_in_json(client: TestClient) -> None:
    start = first_id(client)
    response = client.post("/v1/recommendations", json={"artwork_id": start, "k": 20})
    assert response.status_code == 200, response.text
    record = client.get(f"/v1/artworks/{start}").json()
    results = response.json()["results"]
    seen = check(results)
    assert seen["colours"] > 0 and seen["layouts"] == len(results) and seen["gaps"] > 0
    for item in results:
        dates = item["historical"]["dates"]
        assert dates["start"]["inferred"] is False
        assert (dates["start"]["start"], dates["start"]["end"]) == (record["date_start"], record["date_end"])


def test_figures_by_upload_in_json(client: TestClient, service: Service, shared_data: Path) -> None:
    picture = jpeg_of(not_stored(service, shared_data))
    for _ in range(3):  # a loaded test machine may pass the 2 s deadline (503, "try again shortly")
        response = client.post(
            "/v1/recommendations",
            files={"image": ("photo.jpg", picture, "image/jpeg")},
            data={"k": "8", "weights": json.dumps({"formal": 0.7, "conceptual": 0.3})},
        )
        if response.status_code != 503:
            break
    assert response.status_code == 200, response.text
    page = response.json()
    seen = check(page["results"])
    assert seen["layouts"] == len(page["results"]) and seen["dates"] == len(page["results"])
    period = re.search(r"(-?\d+)–(-?\d+) \(inferred\)", page["inferred_history"])
    assert period is not None
    for item in page["results"]:
        start = item["historical"]["dates"]["start"]  # an upload's date: only the inferred period
        assert start == {"start": int(period.group(1)), "end": int(period.group(2)), "inferred": True}
    starts = {json.dumps(item["formal"]["layouts"]["start"]) for item in page["results"]}
    assert len(starts) == 1  # one picture, one layout on the start's side
