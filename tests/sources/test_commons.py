"""Wikimedia Commons source: real extmetadata, MediaWiki continuation, and an ingest into SQLite."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import Settings
from asterism.ingest.pipeline import ingest
from asterism.shapes import Status
from asterism.sources.base import ImageRef, SourceError
from asterism.sources.commons import CommonsSource, pages_of, parse_page
from asterism.sources.http import PoliteClient
from asterism.store import open_database

import imagegen
from fast_http import fast
from paging import collect
from paging import ids_of as titles
from recordings import har
from replay_server import Replay, Response, json_response

API = "/w/api.php"


def recorded_pages(shared_data: Path) -> list[dict[str, Any]]:
    """The distinct Commons files whose imageinfo was recorded (formatversion 1 responses)."""
    found: dict[str, dict[str, Any]] = {}
    for name in ("fileinfo.har", "attribution.har"):
        for url, body in har(shared_data / "api-recordings/commons" / name):
            if url.startswith("https://commons.wikimedia.org/") and "prop=imageinfo" in url:
                for page in pages_of(body):
                    found.setdefault(page["title"], page)
    return list(found.values())


def test_parses_real_extmetadata(shared_data: Path) -> None:
    pages = {p["title"]: p for p in recorded_pages(shared_data)}
    artwork, ref = parse_page(pages["File:Helene Fischer 2010.jpg"])
    assert artwork.source_id == "File:Helene Fischer 2010.jpg"
    assert artwork.title == "Helene Fischer 2010"
    assert artwork.license == "CC BY-SA 3.0" and artwork.license_id == "unknown"  # left to the normaliser
    assert artwork.extras["license_url"] == "https://creativecommons.org/licenses/by-sa/3.0"
    assert artwork.artist_display == "Fleyx24"  # the HTML link stripped
    assert artwork.date_display == "2010-09-23"
    assert artwork.description == "Helene Fischer auf Tournee 2010"
    assert artwork.credit_line == "Own work"
    assert artwork.subjects == ["Helene Fischer", "Self-published work"]
    assert ref is not None and ref.url is not None and "/thumb/" in ref.url and ref.sha1 is None
    lisa, _ = parse_page(pages["File:Apple Lisa2-IMG 1517.jpg"])
    assert lisa.license == "CC BY-SA 2.0 fr" and lisa.artist_display == "Rama & Musée Bolo"
    foobar, original = parse_page(pages["File:Foobar.jpg"])
    assert foobar.license == "CC0" and original is not None and "/thumb/" not in (original.url or "")


def install_category(
    replay: Replay, shared_data: Path, files: int = 5, per_page: int = 2
) -> list[dict[str, Any]]:
    """A category of ``files`` files cycling through the recorded ones, served ``per_page`` at a time."""
    recorded = recorded_pages(shared_data)
    pages = []
    for i in range(files):
        page = copy.deepcopy(recorded[i % len(recorded)])
        page.update(title=f"File:Painting {i}.jpg", pageid=1000 + i)
        info = page["imageinfo"][0]
        data = imagegen.jpeg(100 + i, (90, 60))
        info.update(url=f"{replay.url}/orig/{i}.jpg", sha1=hashlib.sha1(data).hexdigest())
        if "thumburl" in info:
            info["thumburl"] = f"{replay.url}/thumb/{i}.jpg"
        pages.append(page)

    def api(query: dict[str, str], _path: str) -> Response:
        start = int(query.get("gcmcontinue") or query.get("gsroffset") or 0)
        body: dict[str, Any] = {"batchcomplete": True, "query": {"pages": pages[start : start + per_page]}}
        if start + per_page < files:
            key = "gcmcontinue" if query["generator"] == "categorymembers" else "gsroffset"
            body["continue"] = {key: str(start + per_page), "continue": f"{key}||"}
        return json_response(body)

    def image(_query: dict[str, str], path: str) -> Response:
        return 200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(100 + int(Path(path).stem), (90, 60))

    replay.route(API, api)
    replay.route("/thumb/*", image)
    replay.route("/orig/*", image)
    return pages


def test_category_follows_continuation_and_resumes(
    replay: Replay, shared_data: Path, client: PoliteClient
) -> None:
    install_category(replay, shared_data)
    source = CommonsSource(client, category="Paintings by Somebody", base_url=f"{replay.url}{API}")
    pages = collect(source)
    assert titles(pages) == [f"File:Painting {i}.jpg" for i in range(5)]
    queries = [r.query for r in replay.seen(API)]
    assert queries[0]["generator"] == "categorymembers"
    assert queries[0]["gcmtitle"] == "Category:Paintings by Somebody"
    assert queries[0]["gcmtype"] == "file" and queries[0]["formatversion"] == "2"
    assert queries[0]["iiprop"] == "url|sha1|size|mime|extmetadata" and queries[0]["iiurlwidth"] == "843"
    assert [q.get("gcmcontinue") for q in queries] == [None, "2", "4"]
    assert queries[1]["continue"] == "gcmcontinue||"
    assert pages[0].cursor == {"continue": {"gcmcontinue": "2", "continue": "gcmcontinue||"}, "emitted": 2}
    resumed = collect(
        CommonsSource(
            PoliteClient(client._settings), category="Paintings by Somebody", base_url=f"{replay.url}{API}"
        ),
        pages[0].cursor,
    )
    assert titles(resumed) == titles(pages)[2:]


def test_search_in_the_file_namespace(replay: Replay, shared_data: Path, client: PoliteClient) -> None:
    install_category(replay, shared_data, files=3)
    pages = collect(
        CommonsSource(
            client, search="harbour painting", limit=3, thumb_width=400, base_url=f"{replay.url}{API}"
        )
    )
    assert len(titles(pages)) == 3
    first = replay.seen(API)[0].query
    assert (first["generator"], first["gsrsearch"], first["gsrnamespace"]) == (
        "search",
        "harbour painting",
        "6",
    )
    assert first["iiurlwidth"] == "400"


def test_split_imageinfo_batches_and_missing_files(
    replay: Replay, shared_data: Path, client: PoliteClient
) -> None:
    """Files without imageinfo in an incomplete batch come later; a missing file is reported once."""
    recorded = recorded_pages(shared_data)
    one, two = copy.deepcopy(recorded[0]), copy.deepcopy(recorded[1])
    bare = {k: v for k, v in two.items() if k != "imageinfo"}
    missing = {"title": "File:Gone.jpg", "ns": 6, "missing": True}
    responses = [
        {"continue": {"iicontinue": "x", "continue": "||"}, "query": {"pages": [one, bare]}},
        {
            "batchcomplete": True,
            "query": {"pages": [{k: v for k, v in one.items() if k != "imageinfo"}, two, missing]},
        },
    ]
    replay.route(API, lambda q, _p: json_response(responses[1 if q.get("iicontinue") else 0]))
    pages = collect(CommonsSource(client, category="X", base_url=f"{replay.url}{API}"))
    assert titles(pages) == [one["title"], two["title"]]
    assert [problem for p in pages for problem in p.problems] == [
        ("File:Gone.jpg", "file missing (deleted or never uploaded)")
    ]


def test_empty_category_and_api_errors_are_reported(replay: Replay, client: PoliteClient) -> None:
    replay.route(API, {"batchcomplete": True})
    pages = collect(CommonsSource(client, category="Nothing here", base_url=f"{replay.url}{API}"))
    assert pages[0].problems == [("query:Nothing here", "the category or search matched no files")]
    replay.route(API, {"error": {"code": "badvalue", "info": "Unrecognized value for parameter"}})
    with pytest.raises(SourceError, match="MediaWiki error badvalue"):
        collect(CommonsSource(PoliteClient(client._settings), search="x", base_url=f"{replay.url}{API}"))


def test_original_downloads_are_checked_against_the_published_sha1(
    replay: Replay, client: PoliteClient
) -> None:
    data = imagegen.jpeg(7)
    replay.route("/orig/*", lambda _q, _p: (200, {"Content-Type": "image/jpeg"}, data))
    source = CommonsSource(client, category="X", base_url=f"{replay.url}{API}")

    async def fetch(sha1: str) -> bytes:
        return await source.fetch_image(ImageRef(url=f"{replay.url}/orig/7.jpg", sha1=sha1))

    async def run() -> None:
        try:
            assert await fetch(hashlib.sha1(data).hexdigest().upper()) == data
            with pytest.raises(SourceError, match="does not match the SHA-1"):
                await fetch("0" * 40)
        finally:
            await source.aclose()

    asyncio.run(run())


def test_exactly_one_of_category_or_search(client: PoliteClient) -> None:
    with pytest.raises(SourceError, match="exactly one"):
        CommonsSource(client)
    with pytest.raises(SourceError, match="exactly one"):
        CommonsSource(client, category="a", search="b")


def test_ingest_end_to_end_and_rerun(replay: Replay, shared_data: Path, settings: Settings) -> None:
    install_category(replay, shared_data, files=6, per_page=4)
    settings = fast(settings)

    def run() -> None:
        source = CommonsSource(
            PoliteClient(settings.http), category="Somebody", base_url=f"{replay.url}{API}"
        )
        ingest(settings, source)

    run()
    store = open_database(settings).records
    works = {w.source_id: w for w in store.artworks(source="commons")}
    assert sorted(works) == [f"File:Painting {i}.jpg" for i in range(6)]
    licences = {w.license: w.license_id for w in works.values()}
    assert licences == {
        "CC BY-SA 3.0": "CC-BY-SA-3.0",
        "CC BY-SA 2.0 fr": "CC-BY-SA-2.0-FR",
        "CC0": "CC0-1.0",
    }
    assert all(w.status == Status.ACTIVE and w.image is not None for w in works.values())
    assert all(w.attribution for w in works.values())
    fetched = len(replay.seen("/thumb/")) + len(replay.seen("/orig/"))
    assert fetched == 6
    run()
    assert store.count() == 6
    assert len(replay.seen("/thumb/")) + len(replay.seen("/orig/")) == fetched


def test_cli_command(replay: Replay, shared_data: Path, settings: Settings) -> None:
    install_category(replay, shared_data, files=3)
    home = ["--home", str(settings.home), "ingest", "commons"]
    env = {"ASTERISM_HTTP__RATE": "50", "ASTERISM_OCR__MODE": "never"}
    runner = CliRunner()
    both = runner.invoke(app, [*home, "--category", "A", "--search", "b"], env=env)
    assert both.exit_code == 2 and "exactly one" in both.output
    args = [*home, "--category", "Somebody", "--thumb-width", "300", "--base-url", f"{replay.url}{API}"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert open_database(settings).records.count() == 3
    assert replay.seen(API)[0].query["iiurlwidth"] == "300"
