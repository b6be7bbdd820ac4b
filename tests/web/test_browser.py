"""The web UI in a real browser: Playwright driving Debian's Chromium against a live server.

The server is the real app (uvicorn on a free loopback port) over the built
sample collection, serving the built UI (``make web``). Screenshots go to
``test-artifacts/`` (or ``$ASTERISM_ARTIFACTS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from asterism.api.app import UI_DIST, create_app
from asterism.config import Settings
from asterism.recommend.service import Service
from serving import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ASTERISM_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture(scope="module")
def server(built: Settings, service: Service) -> Iterator[str]:
    assert (UI_DIST / "index.html").is_file(), "the web UI is not built: run `make web`"
    with serving(create_app(built, service=service)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM.exists(), (
        "Debian's chromium is needed for the browser tests: `make system-deps` installs it"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def card_ids(page: object) -> list[str]:
    return page.locator("[data-testid=result-card]").evaluate_all(  # type: ignore[attr-defined]
        "cards => cards.map(c => c.dataset.artworkId)"
    )


def not_in_collection(service: Service, shared_data: Path) -> Path:
    """A sample painting the test collection did not ingest: a picture only readable by image."""
    stored = {a.source_id for a in service.catalogue.records.values()}
    pictures = sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))
    return next(p for p in pictures if f"aic-paintings/{p.stem}" not in stored)


def test_explore_from_an_upload(server: str, browser: object, shared_data: Path, service: Service) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    assert page.title() == "Asterism"

    # 1. Upload a picture of a work not in the collection: results by image, three bars and reasons each.
    picture = not_in_collection(service, shared_data)
    page.set_input_files("[data-testid=file-input]", str(picture))
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    cards = page.locator("[data-testid=result-card]")
    assert cards.count() >= 6
    first = cards.first
    for name in ("formal", "conceptual", "historical"):
        assert first.locator(f"[data-testid=bar-{name}]").count() == 1
    assert first.locator(".reasons li").count() >= 1
    assert "(inferred)" in page.locator("[data-testid=inferred]").inner_text()
    alt = first.locator("img").get_attribute("alt")
    assert alt and alt == first.locator(".card-title").inner_text().split(". ", 1)[1]
    page.screenshot(path=str(ARTIFACTS / "1-upload-results.png"), full_page=True)

    # 2. Move the sliders: the order changes (instantly on the client, then from the server).
    before = card_ids(page)
    page.locator("[data-testid=slider-formal]").fill("0")
    page.locator("[data-testid=slider-conceptual]").fill("0")
    page.locator("[data-testid=slider-historical]").fill("1")
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll('[data-testid=result-card]')]"
        ".map(c => c.dataset.artworkId)) !== before",
        arg=str(before).replace("'", '"'),
        timeout=15_000,
    )
    assert card_ids(page) != before
    page.screenshot(path=str(ARTIFACTS / "2-weights-moved.png"), full_page=True)

    # 3. Open a detail: full metadata and the source link.
    first = page.locator("[data-testid=result-card]").first
    title = first.locator(".card-title").inner_text().split(". ", 1)[1]
    first.locator("[data-testid=details-button]").click()
    panel = page.locator("[data-testid=detail-panel]")
    panel.wait_for()
    assert title in panel.inner_text() and panel.locator("a", has_text="View at the source").count() == 1
    page.screenshot(path=str(ARTIFACTS / "3-detail.png"))
    page.keyboard.press("Escape")
    panel.wait_for(state="detached")

    # 4. Follow a result as the new start; the trail keeps the step and goes back.
    first.get_by_role("button", name="Explore from here").click()
    page.wait_for_function(
        "title => document.querySelector('[data-testid=start-title]')?.innerText === title", arg=title
    )
    page.wait_for_selector("[data-testid=result-card]")
    assert "step 2 of 2" in page.locator(".trail").inner_text()
    page.screenshot(path=str(ARTIFACTS / "4-new-start.png"), full_page=True)

    # 5. Connect the start to a result: a path of steps with reasons.
    page.locator("[data-testid=result-card]").nth(3).locator("[data-testid=connect-button]").click()
    steps = page.locator("[data-testid=connect-step]")
    steps.first.wait_for(timeout=15_000)
    assert steps.count() >= 1 and all(step.strip() for step in steps.all_inner_texts())
    page.screenshot(path=str(ARTIFACTS / "5-connect.png"), full_page=True)

    page.get_by_role("button", name="Back").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=start-title]')?.innerText === 'Your picture'"
    )
    assert not errors, errors
    page.close()


def test_search_start_and_phone_layout(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page.goto(server)
    page.fill("[data-testid=search-input]", "monet")
    page.keyboard.press("Enter")
    page.locator("[data-testid=search-result]").first.click()
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing overflows a phone screen
    page.keyboard.press("Tab")  # keyboard reachable: the first control takes focus
    assert page.evaluate("document.activeElement.tagName") in ("BUTTON", "INPUT", "A")
    page.screenshot(path=str(ARTIFACTS / "6-phone.png"), full_page=True)

    # The blind preference study: two lists side by side, one vote.
    page.locator("[data-testid=compare]").click()
    study = page.locator("[data-testid=study]")
    study.wait_for(timeout=15_000)
    assert study.locator(".study-column li").count() >= 2
    study.get_by_role("button", name="Left is better").click()
    page.locator("[data-testid=study-done]").wait_for()
    assert "recorded" in page.locator("[data-testid=study-done]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "7-study.png"), full_page=True)
    page.close()


def test_a_photo_of_a_stored_work_is_recognised(
    server: str, browser: object, service: Service, tmp_path: Path
) -> None:
    """A phone photo (frame, wall, perspective) of a stored work: the UI names it and explores from it."""
    import numpy as np
    from PIL import Image

    from asterism.eval.photos import photograph

    work = sorted(service.catalogue.records.values(), key=lambda a: a.id or 0)[3]
    with Image.open(service.picture(work)) as im:
        source = np.asarray(im.convert("RGB"))
    photo = tmp_path / "photo.jpg"
    Image.fromarray(photograph(source, "combined", 0.33, np.random.default_rng(5))).save(photo)
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server)
    page.set_input_files("[data-testid=file-input]", str(photo))
    banner = page.wait_for_selector("[data-testid=recognised]", timeout=30_000)
    assert work.title in banner.inner_text()
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    assert str(work.id) not in card_ids(page)  # its own recommendations: the work itself is the start
    page.screenshot(path=str(ARTIFACTS / "7-recognised.png"), full_page=True)
    page.click("[data-testid=explore-recognised]")
    page.wait_for_function(
        "title => document.querySelector('[data-testid=start-title]')?.innerText === title",
        arg=work.title,
        timeout=15_000,
    )


def test_prose_in_words_under_each_result(server: str, browser: object, service: Service) -> None:
    """ "Say it in words" asks for prose; each card shows exactly the text the API gives for that result."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server)
    page.fill("[data-testid=search-input]", "monet")
    page.keyboard.press("Enter")
    page.locator("[data-testid=search-result]").first.click()
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    assert page.locator("[data-testid=prose]").count() == 0  # not asked for: none written
    page.locator("[data-testid=prose-toggle]").check()
    page.wait_for_selector("[data-testid=prose]", timeout=30_000)
    start = page.locator("[data-testid=start-title]").inner_text()
    work = next(a for a in service.catalogue.search(start, 20) if a.title == start)
    answer = page.request.post(  # type: ignore[attr-defined]
        f"{server}/v1/recommendations",
        data={"artwork_id": work.id, "k": 12, "prose": True,
              "weights": {"formal": 0.4, "conceptual": 0.4, "historical": 0.2}},  # the UI's defaults
    ).json()  # fmt: skip
    written = {str(r["artwork"]["id"]): r["prose"]["text"] for r in answer["results"] if r.get("prose")}
    assert written, "the API wrote no prose"
    shown = page.locator("[data-testid=result-card]")
    seen = 0
    for n in range(shown.count()):
        card = shown.nth(n)
        if card.locator("[data-testid=prose]").count():
            text = card.locator("[data-testid=prose]").inner_text()
            assert text == written[card.get_attribute("data-artwork-id")]
            seen += 1
    assert seen == len(written)
    page.screenshot(path=str(ARTIFACTS / "6-prose.png"), full_page=True)
    page.close()
