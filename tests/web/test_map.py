"""The collection map in a real browser: Playwright driving Debian's Chromium against a live server.

The server is the real app over the built sample collection, serving the built UI (``make
web``) under its real Content-Security-Policy. ``/v1/map`` is answered through ``page.route``
with a generated layout of the collection's own works (so clicking a point explores a real
work, and the real thumbnails are drawn), or of 100k generated works with generated thumbnails
for the scale test. What is asserted is read back from the page: pixels of the canvas at a work's
projected position, and the map's test hook ``window.__asterismMap`` (documented in
``web/src/components/MapView.jsx``). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from asterism.api.app import UI_DIST, create_app
from asterism.config import Settings
from asterism.recommend.service import Service
from serving import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ASTERISM_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CANVAS = "[data-testid=map-canvas]"
PAPER, POINT, START, RESULT = (250, 248, 244), (107, 101, 93), (138, 59, 18), (47, 111, 143)

PIXEL = """([x, y]) => {
  const canvas = document.querySelector("[data-testid=map-canvas]");
  const dpr = canvas.width / canvas.getBoundingClientRect().width;
  return [...canvas.getContext("2d").getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data].slice(0, 3);
}"""


@pytest.fixture(scope="module")
def server(built: Settings, service: Service) -> Iterator[str]:
    assert (UI_DIST / "index.html").is_file(), "the web UI is not built: run `make web`"
    with serving(create_app(built, service=service)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), "Debian's chromium is needed for the browser tests: `make system-deps`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def layout(ids: list[int], seed: int) -> dict[str, Any]:
    """The map body the API sends: the works at seeded random places in [0.04, 0.96]²."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.04, 0.96, size=(len(ids), 2))
    return {
        "affinity": "hybrid", "count": len(ids), "ids": ids,
        "x": xy[:, 0].round(5).tolist(), "y": xy[:, 1].round(5).tolist(),
        "thumbnail": "/v1/images/{id}?size=thumb",
    }  # fmt: skip


def open_map(page: Any, count: int) -> None:
    page.click("[data-testid=view-map]")
    page.wait_for_function(
        "n => window.__asterismMap?.count === n && window.__asterismMap.drawn.frames > 0", arg=count
    )


def hook(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => window.__asterismMap.{expression}")


def next_frame(page: Any, action: Any) -> None:
    """Do `action` and wait until the map has drawn a frame after it."""
    before = hook(page, "drawn.frames")
    action()
    page.wait_for_function("n => window.__asterismMap.drawn.frames > n", arg=before)


def screen(page: Any, work: int) -> tuple[float, float]:
    at = page.evaluate("id => window.__asterismMap.project(id)", work)
    return at["x"], at["y"]


def pixel(page: Any, at: tuple[float, float]) -> tuple[int, ...]:
    return tuple(page.evaluate(PIXEL, list(at)))


def apart(at: tuple[float, float], others: list[tuple[float, float]], px: float) -> bool:
    return all(np.hypot(at[0] - o[0], at[1] - o[1]) >= px for o in others)


def canvas_box(page: Any) -> Any:
    """The canvas's box in viewport coordinates, scrolled fully into view first."""
    page.locator(CANVAS).scroll_into_view_if_needed()
    return page.locator(CANVAS).bounding_box()


def click_work(page: Any, work: int) -> None:
    box = canvas_box(page)
    x, y = screen(page, work)
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_map_explores_marks_zooms_and_shows_thumbnails(server: str, browser: Any, service: Service) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    works = sorted(service.catalogue.records.values(), key=lambda a: a.id or 0)
    ids = [int(a.id or 0) for a in works]
    titles = {int(a.id or 0): a.title for a in works}
    body = layout(ids, seed=3)
    asked: list[str] = []

    def answer(route: Any) -> None:
        asked.append(route.request.url.split("affinity=", 1)[1].split("&", 1)[0])
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps({**body, "affinity": asked[-1]})
        )

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/v1/map?*", answer)
    page.goto(server)

    # 1. The map shows every work as a point, before any start.
    open_map(page, len(ids))
    assert asked == ["hybrid"]
    assert page.locator(CANVAS).get_attribute("data-mode") == "points"
    assert int(page.locator(CANVAS).get_attribute("data-points") or 0) == len(ids)
    assert pixel(page, screen(page, ids[0])) == POINT
    page.screenshot(path=str(ARTIFACTS / "map-1-points.png"), full_page=True)

    # 2. Click a work: it becomes the start (same as picking it elsewhere); it and its results are marked.
    first = ids[len(ids) // 2]
    click_work(page, first)
    page.wait_for_function(
        "t => document.querySelector('[data-testid=start-title]')?.innerText === t", arg=titles[first]
    )
    page.click("[data-testid=view-grid]")
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    results = [
        int(i)
        for i in page.locator("[data-testid=result-card]").evaluate_all(
            "cs => cs.map(c => c.dataset.artworkId)"
        )
    ]
    assert len(results) >= 6 and first not in results
    page.click("[data-testid=view-map]")
    next_frame(
        page, lambda: page.evaluate("() => window.__asterismMap.setCamera({cx: 0.5, cy: 0.5, zoom: 1})")
    )
    start_at = screen(page, first)
    assert pixel(page, start_at) == START
    marked = [start_at] + [screen(page, r) for r in results]
    clear = [r for r in results if apart(screen(page, r), [m for m in marked if m != screen(page, r)], 14)]
    assert clear, "no result far enough from the others to read its colour"
    for r in clear:
        assert pixel(page, screen(page, r)) == RESULT, r
    plain = next(i for i in ids if i != first and i not in results and apart(screen(page, i), marked, 16))
    assert pixel(page, screen(page, plain)) == POINT
    page.screenshot(path=str(ARTIFACTS / "map-2-start-and-results.png"), full_page=True)

    # 3. Centre on them: from a corner far from them, the camera comes back to frame the start and every result.
    next_frame(
        page, lambda: page.evaluate("() => window.__asterismMap.setCamera({cx: 0.02, cy: 0.02, zoom: 12})")
    )
    view = hook(page, "view")
    outside = lambda at: not (0 <= at[0] <= view["width"] and 0 <= at[1] <= view["height"])  # noqa: E731
    assert outside(screen(page, first))
    next_frame(page, lambda: page.click("[data-testid=map-centre]"))
    for work in [first, *results]:
        x, y = screen(page, work)
        assert 0 <= x <= view["width"] and 0 <= y <= view["height"], work

    # 4. Wheel zoom toward the cursor: the work under it stays under it; past a zoom, thumbnails.
    box = canvas_box(page)
    cursor = (round(box["x"] + start_at[0]), round(box["y"] + start_at[1]))  # whole pixels, as events carry
    page.mouse.move(*cursor)
    local = (cursor[0] - box["x"], cursor[1] - box["y"])
    next_frame(
        page, lambda: page.evaluate("() => window.__asterismMap.setCamera({cx: 0.5, cy: 0.5, zoom: 1})")
    )
    while hook(page, "drawn.mode") == "points":
        zoom, before = hook(page, "camera.zoom"), screen(page, first)
        next_frame(page, lambda: page.mouse.wheel(0, -240))
        ratio = hook(page, "camera.zoom") / zoom
        assert ratio > 1
        # the point under the cursor stays put: the start (< 1 px from it) moves away by exactly the zoom ratio
        x, y = screen(page, first)
        assert abs(x - (local[0] + (before[0] - local[0]) * ratio)) < 0.05, (x, before, local, ratio)
        assert abs(y - (local[1] + (before[1] - local[1]) * ratio)) < 0.05, (y, before, local, ratio)
    page.wait_for_function(
        "() => window.__asterismMap.thumbs.loading === 0 && window.__asterismMap.drawn.thumbnails > 1"
    )
    next_frame(page, lambda: page.evaluate("() => window.__asterismMap.setCamera({})"))
    drawn = hook(page, "drawn")
    assert drawn["mode"] == "thumbnails" and drawn["thumbnails"] >= 2
    assert page.locator(CANVAS).get_attribute("data-mode") == "thumbnails"
    for work in drawn["thumbnailIds"][:5]:
        assert pixel(page, screen(page, work)) not in (PAPER, POINT)  # a picture, not a point
    page.screenshot(path=str(ARTIFACTS / "map-3-thumbnails.png"), full_page=True)

    # 5. A drag pans and is not a click; a click on a thumbnail explores from that work.
    camera = hook(page, "camera")
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 90, steps=5)
    page.mouse.up()
    moved = hook(page, "camera")
    assert moved["cx"] < camera["cx"] and moved["cy"] < camera["cy"] and moved["zoom"] == camera["zoom"]
    assert page.locator("[data-testid=start-title]").inner_text() == titles[first]
    page.wait_for_function("() => window.__asterismMap.thumbs.loading === 0")
    next_frame(page, lambda: page.evaluate("() => window.__asterismMap.setCamera({})"))
    second = next(i for i in hook(page, "drawn.thumbnailIds") if i != first)
    click_work(page, second)
    page.wait_for_function(
        "t => document.querySelector('[data-testid=start-title]')?.innerText === t", arg=titles[second]
    )
    assert "step 2 of 2" in page.locator(".trail").inner_text()

    # 6. Another affinity asks the server for that arrangement.
    page.click("[data-testid=map-affinity-formal]")
    page.wait_for_function("() => window.__asterismMap.affinity === 'formal'")
    assert asked[-1] == "formal"
    assert not errors, errors
    page.close()


def test_a_hundred_thousand_points_with_bounded_thumbnails(server: str, browser: Any) -> None:
    """100k works: all drawn at zoom 1; zoomed in, thumbnail downloads stay within the limit and the cache within its capacity."""
    count = 100_000
    body = json.dumps(layout(list(range(1, count + 1)), seed=11))
    buffer = io.BytesIO()
    Image.new("RGB", (256, 200), (30, 160, 90)).save(buffer, "JPEG")
    picture = buffer.getvalue()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        "**/v1/map?*", lambda route: route.fulfill(status=200, content_type="application/json", body=body)
    )
    page.route(
        "**/v1/images/**", lambda route: route.fulfill(status=200, content_type="image/jpeg", body=picture)
    )
    page.goto(server)
    page.evaluate("() => performance.setResourceTimingBufferSize(100000)")
    open_map(page, count)
    assert int(page.locator(CANVAS).get_attribute("data-points") or 0) == count

    limits = hook(page, "thumbs")
    zoom = hook(page, "thumbZoom") * 1.5
    x = 0.1
    while hook(page, "thumbs.loaded") <= limits["capacity"] + 50:
        page.evaluate("([x, z]) => window.__asterismMap.setCamera({cx: x, cy: 0.5, zoom: z})", [x, zoom])
        page.wait_for_function(
            "() => window.__asterismMap.thumbs.loading === 0 && window.__asterismMap.drawn.mode === 'thumbnails'"
        )
        x += 0.05
        assert x < 1, "panned across the map without filling the cache"
    stats = hook(page, "thumbs")
    assert (
        stats["cached"] <= stats["capacity"] and stats["evicted"] >= stats["loaded"] - stats["capacity"] > 0
    )
    assert stats["maxLoading"] <= stats["inFlight"]
    # The browser's own record of the downloads: never more than the limit at the same time.
    spans = page.evaluate(
        """() => performance.getEntriesByType("resource").filter(e => e.name.includes("/v1/images/"))
        .map(e => [e.startTime, e.responseEnd])"""
    )
    assert len(spans) == stats["requested"]
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda t: (t[0], t[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert 1 <= peak <= stats["inFlight"], peak
    page.screenshot(path=str(ARTIFACTS / "map-4-100k-thumbnails.png"))
    assert not errors, errors
    page.close()


def test_the_map_from_the_real_endpoint(server: str, browser: Any, service: Service) -> None:
    """No routes: the built collection's own maps from ``GET /v1/map``, drawn, clicked, rearranged."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    served = sorted(int(i) for i in service.catalogue.ids)
    open_map(page, len(served))
    body = page.evaluate("() => fetch('/v1/map?affinity=hybrid').then(r => r.json())")
    assert sorted(body["ids"]) == served
    assert int(page.locator(CANVAS).get_attribute("data-points") or 0) == len(
        served
    )  # all on screen at zoom 1
    assert pixel(page, screen(page, body["ids"][0])) == POINT
    page.screenshot(path=str(ARTIFACTS / "map-5-real-endpoint.png"), full_page=True)

    work = body["ids"][len(served) // 3]
    box = canvas_box(page)
    x, y = screen(page, work)
    page.mouse.move(box["x"] + x, box["y"] + y)  # resting over a work names it
    label = page.locator("[data-testid=map-hover]")
    label.wait_for()
    named = int(label.get_attribute("data-artwork-id") or 0)  # the nearest work (a neighbour may overlap)
    record = service.artwork(named)
    expected = f"{record.title} — {record.artist_name}" if record.artist_name else record.title
    assert label.inner_text() == expected
    page.screenshot(path=str(ARTIFACTS / "map-6-hover.png"))
    page.mouse.move(box["x"] - 5, box["y"] - 5)  # off the canvas: the label goes
    label.wait_for(state="detached")
    click_work(page, work)
    title = service.artwork(work).title
    page.wait_for_function(
        "t => document.querySelector('[data-testid=start-title]')?.innerText === t", arg=title
    )
    next_frame(page, lambda: page.evaluate("() => window.__asterismMap.setCamera({})"))
    assert pixel(page, screen(page, work)) == START

    for affinity in ("formal", "conceptual", "historical"):
        page.click(f"[data-testid=map-affinity-{affinity}]")
        page.wait_for_function(
            "a => window.__asterismMap.affinity === a && window.__asterismMap.drawn.frames > 0", arg=affinity
        )
        assert hook(page, "count") == len(served)
    assert not errors, errors
    page.close()
