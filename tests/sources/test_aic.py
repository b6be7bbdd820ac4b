"""AIC source against a replay of real recorded AIC records."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import Settings
from asterism.sources.aic import AicSource, parse_artwork
from asterism.sources.base import Page
from asterism.sources.http import PoliteClient
from asterism.store.sql import SqlStore

from aic_replay import install_aic, recorded_artworks
from fast_http import fast
from replay_server import Replay


def collect(source: AicSource, cursor: dict | None = None) -> list[Page]:
    async def run() -> list[Page]:
        try:
            return [page async for page in source.pages(cursor)]
        finally:
            await source.aclose()

    return asyncio.run(run())


def test_parses_a_real_record(shared_data: Path) -> None:
    record = next(r for r in recorded_artworks(shared_data) if r["id"] == 11)
    artwork = parse_artwork(record)
    assert artwork.title == "Self-Portrait"
    assert artwork.artist_name == "Walter Shirlaw"
    assert artwork.artist_display == "Walter Shirlaw\nAmerican, 1838–1909"
    assert (artwork.date_start, artwork.date_end) == (1878, 1878)
    assert artwork.classification == "painting"
    assert "self-portraits" in artwork.subjects
    assert artwork.license_id == "public-domain"
    assert artwork.source_url == "https://www.artic.edu/artworks/11"


def test_pages_fields_headers_and_iiif_urls(replay: Replay, shared_data: Path, client: PoliteClient) -> None:
    records = install_aic(replay, shared_data)
    source = AicSource(
        PoliteClient(client._settings, headers={"AIC-User-Agent": "Asterism tests (test@example.org)"}),
        page_size=4,
        base_url=f"{replay.url}/api/v1",
    )
    pages = collect(source)
    assert [len(p.records) for p in pages] == [4, 4, 2]
    assert [p.cursor for p in pages] == [{"page": 2, "emitted": 4}, {"page": 3, "emitted": 8}, None]
    ids = [r.artwork.source_id for p in pages for r in p.records]
    assert ids == [str(r["id"]) for r in records]
    first = replay.seen("/api/v1/artworks")[0]
    assert "image_id" in first.query["fields"] and "is_public_domain" in first.query["fields"]
    assert first.query["query[term][is_public_domain]"] == "true"
    assert first.headers["AIC-User-Agent"].startswith("Asterism")
    assert first.headers["User-Agent"].startswith("Asterism/")
    with_image = next(r for p in pages for r in p.records if r.image)
    assert with_image.image is not None and with_image.image.url is not None
    assert with_image.image.url.startswith(f"{replay.url}/iiif/2/")
    assert with_image.image.url.endswith("/full/843,/0/default.jpg")


def test_resume_from_a_cursor_yields_the_rest_without_repeats(
    replay: Replay, shared_data: Path, client: PoliteClient
) -> None:
    install_aic(replay, shared_data)
    pages = collect(
        AicSource(client, page_size=4, base_url=f"{replay.url}/api/v1"), {"page": 2, "emitted": 4}
    )
    assert [len(p.records) for p in pages] == [4, 2]
    assert [int(q.query["page"]) for q in replay.seen("/api/v1/artworks")] == [2, 3]


def test_limit_stops_early(replay: Replay, shared_data: Path, client: PoliteClient) -> None:
    install_aic(replay, shared_data)
    pages = collect(AicSource(client, page_size=4, limit=5, base_url=f"{replay.url}/api/v1"))
    assert sum(len(p.records) for p in pages) == 5
    assert pages[-1].cursor is None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_cli_ingests_through_the_pipeline_and_reruns_without_duplicates(
    replay: Replay, shared_data: Path, settings: Settings, backend: str
) -> None:
    install_aic(replay, shared_data)
    home = settings.home
    args = ["--home", str(home), "ingest", "aic", "--limit", "6", "--base-url", f"{replay.url}/api/v1"]
    env = {"ASTERISM_HTTP__RATE": "50", "ASTERISM_HTTP__HOST_RATES": "{}", "ASTERISM_OCR__MODE": "never"}
    runner = CliRunner()
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    store = SqlStore(fast(settings).store_url)
    works = list(store.artworks(source="aic"))
    assert len(works) == 6
    assert all(w.license_id == "public-domain" for w in works)
    assert sum(1 for w in works if w.image is not None) == sum(1 for w in works if w.extras.get("image_id"))
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 0, again.output
    assert store.count() == 6
