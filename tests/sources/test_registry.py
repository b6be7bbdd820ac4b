"""Sources by name: checkpoint keys, settings wiring (page size, image cap, AIC header), clear errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from asterism.config import Settings
from asterism.sources.base import ImageRef, Source, SourceError
from asterism.sources.registry import SOURCE_NAMES, open_source

import imagegen
from fast_http import fast
from paging import collect
from replay_server import Replay, Response

# (name, path arguments under tmp_path, options, the checkpoint key the CLI has always used)
CASES: list[tuple[str, list[str], dict[str, Any], str]] = [
    ("local", ["My Prints"], {}, "local:my-prints"),
    ("local", ["My Prints"], {"collection": "Prints & Drawings", "limit": 3}, "local:prints-drawings"),
    ("sample", ["aic-paintings"], {"limit": 5}, "local:aic-paintings"),
    ("aic", [], {}, "aic:all:pd"),
    ("aic", [], {"query": "rome", "public_domain": False, "image_size": "400,"}, "aic:rome:all"),
    ("met", [], {"department_ids": [11, 21]}, "met:11+21:pd"),
    ("met", [], {"query": "cypress", "public_domain": False}, "met:cypress:all"),
    ("met-csv", ["MetObjects.csv"], {}, "met-csv:MetObjects.csv:pd"),
    ("met-csv", ["MetObjects.csv"], {"public_domain": False, "limit": 2}, "met-csv:MetObjects.csv:all"),
    ("commons", [], {"category": "Paintings by Claude Monet"}, "commons:Paintings by Claude Monet"),
    ("commons", [], {"search": "harbour", "thumb_width": 400}, "commons:harbour"),
    ("iiif", [], {"target": "https://example.org/iiif/c.json"}, "iiif:https://example.org/iiif/c.json:work"),
    ("iiif", [], {"target": "https://example.org/m", "canvases": "each"}, "iiif:https://example.org/m:each"),
]


def close(source: Source) -> None:
    asyncio.run(source.aclose())


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A local collection, a sample set and a MetObjects.csv, each as small as its source accepts."""
    prints = tmp_path / "My Prints"
    prints.mkdir()
    lines = [json.dumps({"id": str(i), "image": f"{i}.jpg", "title": f"Print {i}"}) for i in range(10)]
    (prints / "records.jsonl").write_text("\n".join(lines) + "\n")
    paintings = tmp_path / "aic-paintings"
    paintings.mkdir()
    (paintings / "artworks.json").write_text(json.dumps([{"id": 1, "title": "One"}]))
    (tmp_path / "MetObjects.csv").write_text("Object ID,Title,Is Public Domain\n1,Cup,True\n")
    return tmp_path


def test_every_name_is_covered() -> None:
    assert set(SOURCE_NAMES) == {name for name, *_ in CASES}
    assert SOURCE_NAMES == ("local", "sample", "aic", "met", "met-csv", "commons", "iiif")


@pytest.mark.parametrize(("name", "paths", "options", "key"), CASES)
def test_each_source_names_its_walk_as_the_cli_always_did(
    name: str, paths: list[str], options: dict[str, Any], key: str, files: Path, settings: Settings
) -> None:
    # Path arguments are accepted as str (local) or Path (the others).
    args = [str(files / p) if name == "local" else files / p for p in paths]
    source = open_source(name, settings, *args, **options)
    try:
        assert isinstance(source, Source)
        assert source.key == key
    finally:
        close(source)


def test_local_sources_page_by_the_batch_size(files: Path, settings: Settings) -> None:
    pages = collect(open_source("local", settings, files / "My Prints"))
    assert settings.batch_size == 8
    assert [len(p.records) for p in pages] == [8, 2] and pages[0].cursor == {"offset": 8}


def test_unknown_name_lists_the_known_ones(settings: Settings) -> None:
    with pytest.raises(SourceError, match="unknown source 'flickr'; known sources: local, sample, aic, met"):
        open_source("flickr", settings)


def test_wrong_arguments_name_the_source_and_what_it_takes(files: Path, settings: Settings) -> None:
    with pytest.raises(SourceError) as typo:
        open_source("commons", settings, categroy="Monet")
    message = str(typo.value)
    assert message.startswith("bad arguments for source 'commons': ") and "'categroy'" in message
    assert message.endswith("it takes category=None, search=None, thumb_width=843, limit=None, base_url=None")
    with pytest.raises(SourceError, match=r"bad arguments for source 'local': missing .*'folder'"):
        open_source("local", settings)
    with pytest.raises(SourceError, match=r"source 'met-csv' needs a path \(str or Path\), not NoneType"):
        open_source("met-csv", settings, None)
    # What the source itself refuses comes through unchanged.
    with pytest.raises(SourceError, match="department ids or a search query"):
        open_source("met", settings)


NETWORK = [
    ("aic", {}),
    ("met", {"department_ids": [11]}),
    ("commons", {"category": "X"}),
]


@pytest.fixture
def images(replay: Replay) -> tuple[bytes, bytes]:
    """A small and a large real JPEG served at /img/small.jpg and /img/large.jpg."""
    small, large = imagegen.jpeg(1, (16, 16)), imagegen.jpeg(2, (400, 300))

    def image(_query: dict[str, str], path: str) -> Response:
        return 200, {"Content-Type": "image/jpeg"}, small if path.endswith("small.jpg") else large

    replay.route("/img/*", image)
    return small, large


def fetch(source: Source, url: str) -> bytes:
    async def run() -> bytes:
        try:
            return await source.fetch_image(ImageRef(url=url))
        finally:
            await source.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize(("name", "options"), NETWORK)
def test_the_image_cap_comes_from_settings(
    name: str,
    options: dict[str, Any],
    replay: Replay,
    images: tuple[bytes, bytes],
    settings: Settings,
) -> None:
    small, large = images
    cap = 2 * len(small)
    assert len(large) > cap
    roomy = fast(settings)  # images.max_bytes at its default, 100 MiB
    assert (
        fetch(open_source(name, roomy, base_url=replay.url, **options), f"{replay.url}/img/large.jpg")
        == large
    )
    tight = roomy.model_copy(update={"images": roomy.images.model_copy(update={"max_bytes": cap})})
    assert (
        fetch(open_source(name, tight, base_url=replay.url, **options), f"{replay.url}/img/small.jpg")
        == small
    )
    with pytest.raises(SourceError, match=rf"large\.jpg is {len(large)} bytes, over the {cap}-byte limit"):
        fetch(open_source(name, tight, base_url=replay.url, **options), f"{replay.url}/img/large.jpg")


def test_aic_identifies_itself_as_aic_asks(
    replay: Replay, images: tuple[bytes, bytes], settings: Settings
) -> None:
    settings = fast(settings)
    fetch(open_source("aic", settings, base_url=replay.url), f"{replay.url}/img/small.jpg")
    fetch(open_source("met", settings, query="x", base_url=replay.url), f"{replay.url}/img/small.jpg")
    aic_request, met_request = replay.seen("/img/")
    expected = f"{settings.http.user_agent} ({settings.http.contact})"
    assert aic_request.headers["AIC-User-Agent"] == expected
    assert "AIC-User-Agent" not in met_request.headers
