"""AIC source against a replay of real recorded AIC records, and through the CLI into SQLite."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import HttpSettings, Settings
from asterism.shapes import Status
from asterism.sources.aic import AicSource, aic_headers, parse_artwork
from asterism.sources.base import SourceError
from asterism.sources.http import PoliteClient
from asterism.store import open_database

from aic_replay import install_aic, recorded_artworks, variant
from paging import collect, ids_of
from replay_server import Fault, Replay

LISTING = "/api/v1/artworks"


def aic(replay: Replay, http: HttpSettings, **options: Any) -> AicSource:
    client = PoliteClient(http, headers=aic_headers(http))
    return AicSource(client, base_url=f"{replay.url}/api/v1", **options)


@pytest.fixture
def extra(shared_data: Path) -> list[dict[str, Any]]:
    """Two variants of a real record: one not public domain, one without an image."""
    base = recorded_artworks(shared_data)[0]
    return [
        variant(base, 900001, is_public_domain=False, copyright_notice="© 2024 Estate of Somebody"),
        variant(base, 900002, image_id=None),
    ]


def test_parses_a_real_record(shared_data: Path) -> None:
    records = {r["id"]: r for r in recorded_artworks(shared_data)}
    artwork = parse_artwork(records[11])
    assert artwork.title == "Self-Portrait"
    assert artwork.artist_name == "Walter Shirlaw"
    assert artwork.artist_display == "Walter Shirlaw\nAmerican, 1838–1909"
    assert (artwork.date_display, artwork.date_start, artwork.date_end) == ("1878", 1878, 1878)
    assert artwork.place == "United States"
    assert artwork.classification == "painting"
    assert artwork.subjects[0] == "self-portraits" and "oil paint (paint)" in artwork.subjects
    assert artwork.credit_line == "Gift of Joseph M. Rogers"
    assert (artwork.license, artwork.license_id) == ("Public domain (is_public_domain)", "public-domain")
    assert artwork.source_url == "https://www.artic.edu/artworks/11"
    described = parse_artwork(records[16])
    assert described.description is not None and "<p>" not in described.description
    assert described.description.startswith("Just as the Giants—Gaia’s offspring")


def test_listing_pages_fields_headers_and_images(
    replay: Replay, shared_data: Path, http: HttpSettings, extra: list[dict[str, Any]]
) -> None:
    records = install_aic(replay, shared_data, extra)
    pages = collect(aic(replay, http, page_size=4))
    assert [p.cursor for p in pages] == [{"page": 2, "emitted": 4}, {"page": 3, "emitted": 8}, None]
    wanted = [str(r["id"]) for r in records if r["is_public_domain"]]
    assert ids_of(pages) == wanted and "900001" not in wanted  # the listing is filtered here
    first = replay.seen(LISTING)[0]
    assert first.path == LISTING  # the listing, not the capped search window
    assert first.query["fields"].split(",")[:3] == ["id", "title", "artist_display"]
    assert {"image_id", "is_public_domain", "copyright_notice"} <= set(first.query["fields"].split(","))
    assert first.headers["AIC-User-Agent"] == f"{http.user_agent} ({http.contact})"
    assert first.headers["User-Agent"].startswith("Asterism/")
    by_id = {r.artwork.source_id: r for p in pages for r in p.records}
    assert by_id["900002"].image is None and by_id["900002"].artwork.image_url is None
    image = by_id["11"].image
    assert image is not None and image.url == (
        f"{replay.url}/iiif/2/7b7a6f39-1cd8-ea2f-9811-18b0e23edac0/full/843,/0/default.jpg"
    )
    assert by_id["11"].artwork.image_url == image.url


def test_search_filters_public_domain_on_the_server(
    replay: Replay, shared_data: Path, http: HttpSettings, extra: list[dict[str, Any]]
) -> None:
    install_aic(replay, shared_data, extra)
    pages = collect(aic(replay, http, query="rome", image_size="400,"))
    seen = replay.seen(LISTING)
    assert [s.path for s in seen] == [f"{LISTING}/search"]
    assert seen[0].query["q"] == "rome" and seen[0].query["query[term][is_public_domain]"] == "true"
    assert "900001" not in ids_of(pages)
    assert all(r.image.url.endswith("/full/400,/0/default.jpg") for p in pages for r in p.records if r.image)


def test_all_licenses_keeps_the_copyright_notice_verbatim(
    replay: Replay, shared_data: Path, http: HttpSettings, extra: list[dict[str, Any]]
) -> None:
    install_aic(replay, shared_data, extra)
    pages = collect(aic(replay, http, public_domain=False))
    by_id = {r.artwork.source_id: r for p in pages for r in p.records}
    assert len(by_id) == 12
    other = by_id["900001"].artwork
    assert (other.license, other.license_id) == ("© 2024 Estate of Somebody", "unknown")
    assert "query[term][is_public_domain]" not in replay.seen(LISTING)[0].query


def test_resume_from_a_cursor_yields_the_rest_without_repeats(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    install_aic(replay, shared_data)
    everything = ids_of(collect(aic(replay, http, page_size=4)))
    first = collect(aic(replay, http, page_size=4, limit=4))
    rest = collect(aic(replay, http, page_size=4), {"page": 2, "emitted": 4})
    assert ids_of(first) + ids_of(rest) == everything
    assert len(set(everything)) == 10
    assert [int(s.query["page"]) for s in replay.seen(LISTING)][-2:] == [2, 3]


def test_limit_stops_early(replay: Replay, shared_data: Path, http: HttpSettings) -> None:
    install_aic(replay, shared_data)
    pages = collect(aic(replay, http, page_size=4, limit=5))
    assert len(ids_of(pages)) == 5 and pages[-1].cursor is None
    assert len(replay.seen(LISTING)) == 2


def test_search_stops_at_the_10000_result_window(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    install_aic(replay, shared_data, total=50_000)
    pages = collect(aic(replay, http, query="paper", page_size=100), {"page": 99, "emitted": 0})
    assert [int(s.query["page"]) for s in replay.seen(LISTING)] == [99, 100]
    assert pages[-1].cursor is None
    assert any("10000 results" in reason for _, reason in pages[-1].problems)
    # The listing has no such window: it goes on past page 100.
    listing = collect(aic(replay, http, page_size=100, limit=250), {"page": 99, "emitted": 0})
    assert len(ids_of(listing)) == 250 and listing[-1].cursor is None


def test_rate_limited_and_failing_pages_are_retried(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    install_aic(replay, shared_data)
    replay.fail(LISTING, Fault(status=429, retry_after="1"), Fault(status=500), Fault(malformed=True))
    started = time.monotonic()
    pages = collect(aic(replay, http.model_copy(update={"max_backoff": 2.0}), page_size=5))
    assert len(ids_of(pages)) == 10
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert len(replay.seen(LISTING)) == 2 + 3


def test_persistent_failure_raises_a_clear_source_error(
    replay: Replay, shared_data: Path, http: HttpSettings
) -> None:
    install_aic(replay, shared_data)
    replay.fail(LISTING, *[Fault(status=503)] * 4)
    with pytest.raises(SourceError, match=r"HTTP 503 from http://127\.0\.0\.1.*gave up after 4 attempts"):
        collect(aic(replay, http))


def test_cli_ingests_into_sqlite_and_reruns_without_duplicates(
    replay: Replay, shared_data: Path, settings: Settings
) -> None:
    install_aic(replay, shared_data)
    args = [
        "--home",
        str(settings.home),
        "ingest",
        "aic",
        "--limit",
        "5",
        "--base-url",
        f"{replay.url}/api/v1",
    ]
    env = {"ASTERISM_HTTP__RATE": "50", "ASTERISM_HTTP__HOST_RATES": "{}", "ASTERISM_OCR__MODE": "never"}
    runner = CliRunner()
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    store = open_database(settings).records
    works = {w.source_id: w for w in store.artworks(source="aic")}
    assert sorted(works, key=int) == ["4", "9", "11", "16", "19"]
    assert works["11"].title == "Self-Portrait" and works["11"].artist_name == "Walter Shirlaw"
    assert all(w.status == Status.ACTIVE and w.image is not None for w in works.values())
    assert replay.seen(LISTING)[0].headers["AIC-User-Agent"].startswith("Asterism/")
    assert len(replay.seen("/iiif/2/")) == 5
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 0, again.output
    assert store.count() == 5
    assert len(replay.seen("/iiif/2/")) == 5  # unchanged records are not fetched again
