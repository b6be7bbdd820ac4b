"""Met Collection API source against real recorded responses (VCR cassettes), and into SQLite."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import HttpSettings, Settings
from asterism.ingest.pipeline import ingest
from asterism.shapes import Status
from asterism.sources.base import SourceError
from asterism.sources.http import PoliteClient
from asterism.sources.met import MetSource, parse_object
from asterism.store import open_database

import imagegen
from fast_http import fast
from paging import collect, ids_of
from recordings import cassette
from replay_server import Fault, Replay, Response

MET = "api-recordings/met"
NOT_PD = 999_999  # a recorded object re-served as not public domain


def recorded_objects(shared_data: Path) -> dict[int, dict[str, Any]]:
    objects = {}
    for path in (shared_data / MET).glob("*.yml"):
        for uri, status, body in cassette(path):
            if status == 200 and "/objects/" in uri and isinstance(body, dict) and "objectID" in body:
                objects[body["objectID"]] = body
    return objects


def install_met(replay: Replay, shared_data: Path) -> dict[int, dict[str, Any]]:
    """The recorded objects, a not-public-domain variant, and id 0 (a recorded 404), under one listing."""
    objects = recorded_objects(shared_data)
    objects[NOT_PD] = {**copy.deepcopy(objects[436535]), "objectID": NOT_PD, "isPublicDomain": False}
    for object_id, body in objects.items():
        text = json.dumps(body).replace("https://images.metmuseum.org", f"{replay.url}/images")
        replay.route(f"/v1/objects/{object_id}", json.loads(text))
    ids = [*sorted(objects), 0]
    replay.route("/v1/objects", {"total": len(ids), "objectIDs": ids})
    replay.route("/v1/search", {"total": len(ids), "objectIDs": ids})

    def image(_query: dict[str, str], path: str) -> Response:
        return 200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(len(path), (100, 80))

    replay.route("/images/*", image)
    return objects


def met(replay: Replay, http: HttpSettings, **options: Any) -> MetSource:
    options.setdefault("department_ids", [11])
    return MetSource(PoliteClient(http), base_url=f"{replay.url}/v1", **options)


def test_parses_the_recorded_objects(shared_data: Path) -> None:
    objects = recorded_objects(shared_data)
    artwork = parse_object(objects[436535])
    assert artwork.title == "Wheat Field with Cypresses"
    assert artwork.artist_name == "Vincent van Gogh"
    assert artwork.artist_display == "Vincent van Gogh (Dutch, Zundert 1853–1890 Auvers-sur-Oise)"
    assert (artwork.date_display, artwork.date_start, artwork.date_end) == ("1889", 1889, 1889)
    assert artwork.subjects == ["Landscapes", "Cypresses", "Summer"]
    assert artwork.culture == "Dutch"  # artistNationality when there is no culture
    assert (artwork.license, artwork.license_id) == ("Public domain (isPublicDomain)", "public-domain")
    assert artwork.source_url == "https://www.metmuseum.org/art/collection/search/436535"
    cat = parse_object(objects[570722])
    assert (cat.title, cat.date_display, cat.date_start, cat.date_end) == ("Cat", "664–30 B.C.", -664, -30)
    assert cat.place == "Egypt" and cat.styles == ["Late Period–Ptolemaic Period"]
    assert cat.classification == "Figurine, cat" and cat.credit_line == "Gift of Darius Ogden Mills, 1904"


def test_department_listing_fetches_objects_and_reports_404(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    objects = install_met(replay, shared_data)
    pages = collect(met(replay, http, page_size=2))
    assert ids_of(pages) == [str(i) for i in sorted(objects)]
    assert [problem for p in pages for problem in p.problems] == [("0", "object not found (HTTP 404)")]
    assert replay.seen("/v1/objects")[0].query == {"departmentIds": "11"}
    assert [p.cursor for p in pages] == [{"offset": 2}, None]


def test_public_domain_mode_keeps_other_objects_without_their_image(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    install_met(replay, shared_data)
    by_id = {r.artwork.source_id: r for p in collect(met(replay, http)) for r in p.records}
    other = by_id[str(NOT_PD)]
    assert (other.artwork.license, other.artwork.license_id) == (
        "Not public domain (isPublicDomain=false)",
        "unknown",
    )
    assert other.image is None and other.artwork.image_url is None
    van_gogh = by_id["436535"].image
    assert (
        van_gogh is not None and van_gogh.url is not None and "/web-large/" in van_gogh.url
    )  # primaryImageSmall
    everything = {
        r.artwork.source_id: r for p in collect(met(replay, http, public_domain=False)) for r in p.records
    }
    assert everything[str(NOT_PD)].image is not None


def test_search_asks_for_images_and_resume_skips_stored_objects(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    objects = install_met(replay, shared_data)
    pages = collect(met(replay, http, department_ids=None, query="cypress", page_size=1), {"offset": 2})
    assert replay.seen("/v1/search")[0].query == {"hasImages": "true", "q": "cypress"}
    assert ids_of(pages) == [str(i) for i in sorted(objects)[1:]]
    fetched = [s.path for s in replay.seen("/v1/objects/")]
    assert sorted(fetched) == [f"/v1/objects/{i}" for i in sorted(objects)[1:]]  # ids 0 and the first: stored


def test_an_api_outage_stops_the_run_instead_of_losing_objects(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    objects = install_met(replay, shared_data)
    for object_id in [*objects, 0]:
        replay.fail(f"/v1/objects/{object_id}", *[Fault(status=502)] * 4)
    with pytest.raises(SourceError, match=r"every object of this page failed.*HTTP 502"):
        collect(met(replay, http))


def test_nothing_matched_is_reported(replay: Replay, http: HttpSettings) -> None:
    replay.route("/v1/search", {"total": 0, "objectIDs": None})
    pages = collect(met(replay, http, department_ids=None, query="zzzz"))
    assert [(p.records, p.cursor, p.problems) for p in pages] == [
        ([], None, [("search:zzzz", "the Met returned no object ids")])
    ]


def test_needs_a_department_or_a_query(client: PoliteClient) -> None:
    with pytest.raises(SourceError, match="department ids or a search query"):
        MetSource(client)


def test_ingest_end_to_end_and_rerun(replay: Replay, shared_data: Path, settings: Settings) -> None:
    objects = install_met(replay, shared_data)
    settings = fast(settings)

    def run() -> None:
        source = MetSource(PoliteClient(settings.http), department_ids=[11], base_url=f"{replay.url}/v1")
        ingest(settings, source)

    run()
    store = open_database(settings).records
    works = {w.source_id: w for w in store.artworks(source="met")}
    assert sorted(works, key=int) == [str(i) for i in sorted(objects)]
    assert works["436535"].status == Status.ACTIVE and works["436535"].image is not None
    assert works[str(NOT_PD)].image is None and works[str(NOT_PD)].license_id == "other"
    assert works[str(NOT_PD)].status != Status.ACTIVE
    assert [p.reason for p in store.problems("met")] == ["object not found (HTTP 404)"]
    images = len(replay.seen("/images/"))
    assert images == 2
    run()
    assert store.count() == len(objects)
    assert len(store.problems("met")) == 1
    assert len(replay.seen("/images/")) == images


def test_cli_command(replay: Replay, shared_data: Path, settings: Settings) -> None:
    objects = install_met(replay, shared_data)
    home = ["--home", str(settings.home), "ingest", "met"]
    env = {"ASTERISM_HTTP__RATE": "50", "ASTERISM_OCR__MODE": "never"}
    runner = CliRunner()
    neither = runner.invoke(app, home, env=env)
    assert neither.exit_code == 2 and "department ids or a search query" in neither.output
    args = [*home, "--department-id", "11", "--department-id", "21", "--base-url", f"{replay.url}/v1"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert replay.seen("/v1/objects")[0].query == {"departmentIds": "11|21"}
    assert open_database(settings).records.count() == len(objects)
