"""Met Collection API source and the Open Access CSV, against real recorded responses."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from asterism.config import Settings
from asterism.images.store import ContentStore
from asterism.ingest.harvest import HarvestOptions
from asterism.ingest.pipeline import Ingestor
from asterism.sources.base import Page
from asterism.sources.http import PoliteClient
from asterism.sources.met import MetSource, parse_object
from asterism.sources.met_csv import MetCsvSource
from asterism.store.sql import SqlStore

import imagegen
from fast_http import fast
from recordings import cassette
from replay_server import Replay

MET = "api-recordings/met"


def recorded_objects(shared_data: Path) -> dict[int, dict]:
    objects = {}
    for path in (shared_data / MET).glob("*.yml"):
        for uri, status, body in cassette(path):
            if status == 200 and "/objects/" in uri and isinstance(body, dict) and "objectID" in body:
                objects[body["objectID"]] = body
    return objects


def install_met(replay: Replay, shared_data: Path) -> dict[int, dict]:
    objects = recorded_objects(shared_data)
    for object_id, body in objects.items():
        text = json.dumps(body).replace("https://images.metmuseum.org", f"{replay.url}/images")
        replay.route(f"/v1/objects/{object_id}", json.loads(text))
    ids = [*sorted(objects), 0]  # 0 is unknown to the API (a recorded 404)
    replay.route("/v1/objects", {"total": len(ids), "objectIDs": ids})
    replay.route("/v1/search", {"total": len(ids), "objectIDs": ids})
    replay.route("/images/*", lambda _q: (200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(3, (100, 80))))
    return objects


def collect(source: MetSource | MetCsvSource) -> list[Page]:
    async def run() -> list[Page]:
        try:
            return [page async for page in source.pages(None)]
        finally:
            await source.aclose()

    return asyncio.run(run())


def test_parses_the_recorded_van_gogh(shared_data: Path) -> None:
    artwork = parse_object(recorded_objects(shared_data)[436535])
    assert artwork.title == "Wheat Field with Cypresses"
    assert artwork.artist_name == "Vincent van Gogh"
    assert artwork.artist_display == "Vincent van Gogh (Dutch, Zundert 1853–1890 Auvers-sur-Oise)"
    assert (artwork.date_start, artwork.date_end) == (1889, 1889)
    assert artwork.subjects == ["Landscapes", "Cypresses", "Summer"]
    assert artwork.license_id == "public-domain"
    assert artwork.culture == "Dutch"


def test_department_listing_fetches_objects_and_reports_404(
    replay: Replay, shared_data: Path, client: PoliteClient
) -> None:
    objects = install_met(replay, shared_data)
    pages = collect(MetSource(client, department_ids=[11], page_size=2, base_url=f"{replay.url}/v1"))
    ids = [r.artwork.source_id for p in pages for r in p.records]
    assert ids == [str(i) for i in sorted(objects)]
    problems = [problem for p in pages for problem in p.problems]
    assert problems == [("0", "object not found (HTTP 404)")]
    assert replay.seen("/v1/objects")[0].query == {"departmentIds": "11"}
    assert pages[-1].cursor is None and pages[0].cursor == {"offset": 2}


def test_search_asks_for_images(replay: Replay, shared_data: Path, client: PoliteClient) -> None:
    install_met(replay, shared_data)
    collect(MetSource(client, query="cypress", limit=1, base_url=f"{replay.url}/v1"))
    assert replay.seen("/v1/search")[0].query == {"hasImages": "true", "q": "cypress"}


def test_ingest_end_to_end_and_rerun(replay: Replay, shared_data: Path, settings: Settings) -> None:
    objects = install_met(replay, shared_data)
    settings = fast(settings)

    def run() -> SqlStore:
        store = SqlStore(settings.store_url)
        content = ContentStore(settings.home, settings.images.thumb_sizes)
        source = MetSource(PoliteClient(settings.http), department_ids=[11], base_url=f"{replay.url}/v1")
        ingestor = Ingestor(settings, store, content, HarvestOptions.from_settings(settings))
        asyncio.run(ingestor.run(source, "met:11:pd"))
        return store

    store = run()
    works = list(store.artworks(source="met"))
    assert len(works) == len(objects)
    assert all(w.image is not None for w in works if w.license_id == "public-domain")
    assert [p.reason for p in store.problems("met")] == ["object not found (HTTP 404)"]
    store = run()
    assert store.count() == len(objects)
    assert len(store.problems("met")) == 1


def test_open_access_csv_streams_rows_with_a_resumable_cursor(tmp_path: Path) -> None:
    path = tmp_path / "MetObjects.csv"
    header = ["Object Number", "Is Public Domain", "Object ID", "Object Name", "Title", "Culture", "Period",
              "Dynasty", "Artist Display Name", "Artist Display Bio", "Artist Nationality", "Object Date",
              "Object Begin Date", "Object End Date", "Medium", "Credit Line", "City", "State", "Country",
              "Classification", "Link Resource", "Tags", "Department", "Repository"]  # fmt: skip
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for i in range(1, 8):
            writer.writerow({
                "Object ID": str(i), "Is Public Domain": "True" if i != 4 else "False", "Title": f"Cup {i}",
                "Artist Display Name": "Paul Revere Jr.|Someone Else", "Artist Display Bio": "American, 1734–1818",
                "Object Begin Date": "1790", "Object End Date": "1800", "Object Date": "ca. 1795",
                "Tags": "Cups|Silver", "Classification": "Silver",
            })  # fmt: skip
        writer.writerow({"Object ID": "x", "Is Public Domain": "True", "Title": "bad row"})
    pages = collect(MetCsvSource(path, page_size=3))
    records = [r for p in pages for r in p.records]
    assert [r.artwork.source_id for r in records] == ["1", "2", "3", "5", "6", "7"]  # 4 is not public domain
    first = records[0].artwork
    assert first.artist_name == "Paul Revere Jr." and first.subjects == ["Cups", "Silver"]
    assert records[0].image is None
    assert [p.cursor for p in pages][:2] == [{"offset": 3, "kept": 3}, {"offset": 6, "kept": 5}]
    assert [problem[0] for p in pages for problem in p.problems] == ["x"]

    async def resume() -> list[Page]:
        source = MetCsvSource(path, page_size=3)
        return [page async for page in source.pages({"offset": 6, "kept": 5})]

    rest = [r.artwork.source_id for p in asyncio.run(resume()) for r in p.records]
    assert rest == ["7"]
