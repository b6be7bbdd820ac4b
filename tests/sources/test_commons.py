"""Wikimedia Commons source: a category walked with MediaWiki continuation, real extmetadata."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from asterism.sources.base import Page, SourceError
from asterism.sources.commons import CommonsSource, pages_of, parse_page
from asterism.sources.http import PoliteClient

import imagegen
from recordings import har
from replay_server import Replay, json_response


def recorded_page(shared_data: Path) -> dict[str, Any]:
    for url, body in har(shared_data / "api-recordings/commons/fileinfo.har"):
        if "prop=imageinfo" in url:
            return pages_of(body)[0]
    raise AssertionError("no imageinfo response recorded")


def test_parses_real_extmetadata(shared_data: Path) -> None:
    artwork, ref = parse_page(recorded_page(shared_data))
    assert artwork.source_id == "File:Helene Fischer 2010.jpg"
    assert artwork.license == "CC BY-SA 3.0"
    assert artwork.artist_display == "Fleyx24"  # HTML link stripped
    assert artwork.date_display == "2010-09-23"
    assert artwork.extras["license_url"].startswith("https://creativecommons.org/licenses/by-sa/3.0")
    assert ref is not None and ref.url is not None and "/thumb/" in ref.url


def install_category(replay: Replay, shared_data: Path, files: int = 5, per_page: int = 2) -> None:
    template = recorded_page(shared_data)
    pages = []
    for i in range(files):
        page = copy.deepcopy(template)
        page["title"] = f"File:Painting {i}.jpg"
        page["pageid"] = 1000 + i
        page["index"] = i
        page["imageinfo"][0]["thumburl"] = f"{replay.url}/thumb/{i}.jpg"
        pages.append(page)

    def api(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        start = int(query.get("gcmcontinue", "0"))
        body: dict[str, Any] = {"batchcomplete": True, "query": {"pages": pages[start : start + per_page]}}
        if start + per_page < files:
            body["continue"] = {"gcmcontinue": str(start + per_page), "continue": "gcmcontinue||"}
        return json_response(body)

    replay.route("/w/api.php", api)
    replay.route("/thumb/*", lambda _q: (200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(5, (90, 60))))


def collect(source: CommonsSource, cursor: dict | None = None) -> list[Page]:
    async def run() -> list[Page]:
        try:
            return [page async for page in source.pages(cursor)]
        finally:
            await source.aclose()

    return asyncio.run(run())


def test_category_follows_continuation(replay: Replay, shared_data: Path, client: PoliteClient) -> None:
    install_category(replay, shared_data)
    source = CommonsSource(client, category="Paintings by Somebody", base_url=f"{replay.url}/w/api.php")
    pages = collect(source)
    titles = [r.artwork.source_id for p in pages for r in p.records]
    assert titles == [f"File:Painting {i}.jpg" for i in range(5)]
    queries = [r.query for r in replay.seen("/w/api.php")]
    assert queries[0]["generator"] == "categorymembers"
    assert queries[0]["gcmtitle"] == "Category:Paintings by Somebody"
    assert queries[0]["gcmtype"] == "file"
    assert queries[0]["iiprop"] == "url|sha1|size|mime|extmetadata"
    assert [q.get("gcmcontinue") for q in queries] == [None, "2", "4"]
    resumed = collect(
        CommonsSource(
            PoliteClient(client._settings),
            category="Paintings by Somebody",
            base_url=f"{replay.url}/w/api.php",
        ),
        pages[0].cursor,
    )
    assert [r.artwork.source_id for p in resumed for r in p.records] == titles[2:]


def test_exactly_one_of_category_or_search(client: PoliteClient) -> None:
    with pytest.raises(SourceError, match="exactly one"):
        CommonsSource(client)
    with pytest.raises(SourceError, match="exactly one"):
        CommonsSource(client, category="a", search="b")
