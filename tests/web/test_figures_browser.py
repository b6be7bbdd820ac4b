"""The reasons' pictures in a real browser: swatches painted in the JSON's hexes, layouts, a timeline.

Reuses the live server and Debian's Chromium of ``test_browser``; screenshots go to
``test-artifacts/`` as the other browser tests' do.
"""

from __future__ import annotations

import math
from typing import Any

from test_browser import ARTIFACTS, browser, server  # noqa: F401  (fixtures shared with the UI tests)


def rgb(code: str) -> str:
    """ "#1a2b3c" as the browser's computed colour, "rgb(26, 43, 60)"."""
    value = code.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[i : i + 2], 16) for i in (0, 2, 4)))


def test_swatches_layouts_and_timeline_on_the_result_cards(server: str, browser: Any) -> None:  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    page.fill("[data-testid=search-input]", "monet")
    page.keyboard.press("Enter")
    with page.expect_response(lambda r: r.url.endswith("/v1/recommendations") and r.ok) as answer:
        page.locator("[data-testid=search-result]").first.click()
    results = answer.value.json()["results"]
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)

    with_colours = [r for r in results if r["formal"]["colours"]]
    assert with_colours, "no result of this start shares a colour: the swatch check would not run"
    item = with_colours[0]
    card = page.locator(f"[data-testid=result-card][data-artwork-id='{item['artwork']['id']}']")
    card.scroll_into_view_if_needed()
    pairs = card.locator("[data-testid=bar-formal] [data-testid=colour-pair]")
    assert pairs.count() == len(item["formal"]["colours"])
    for pair, colour in zip(pairs.all(), item["formal"]["colours"], strict=True):
        for side, code in (("start", colour["start_hex"]), ("result", colour["result_hex"])):
            chip = pair.locator(f"[data-testid=chip-{side}]")
            painted = chip.evaluate("el => getComputedStyle(el).backgroundColor")
            assert painted == rgb(code), (side, code, painted)  # the swatch is the JSON's colour
            box = chip.bounding_box()
            assert box is not None and box["width"] >= 10 and box["height"] >= 10  # visible, not a dot
        tooltip = pair.get_attribute("title") or ""
        assert (
            colour["name"] in tooltip and colour["start_hex"] in tooltip and colour["result_hex"] in tooltip
        )
        assert pair.get_attribute("aria-label") == tooltip

    layouts = card.locator("[data-testid=layouts]")
    assert layouts.count() == 1
    grids = layouts.locator("svg[role=img]")
    assert grids.count() == 2 and "light and dark" in (grids.first.get_attribute("aria-label") or "")
    assert grids.first.locator("rect").count() == 144
    cells = grids.first.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('fill'))")
    expected = [
        f"rgb({g},{g},{g})"
        for g in (math.floor(25 + v * 215 + 0.5) for row in item["formal"]["layouts"]["start"] for v in row)
    ]
    assert cells == expected  # the drawn start layout is the JSON's grid, cell for cell
    assert f"{item['formal']['layouts']['similarity']:.2f}" in layouts.inner_text()

    dated = next(
        r for r in results if r["historical"]["dates"] and r["historical"]["dates"]["gap"] is not None
    )
    dated_card = page.locator(f"[data-testid=result-card][data-artwork-id='{dated['artwork']['id']}']")
    timeline = dated_card.locator("[data-testid=timeline]")
    assert timeline.count() == 1
    gap = dated["historical"]["dates"]["gap"]
    written = timeline.locator("[data-testid=timeline-gap]").inner_text()
    assert written.startswith("same year" if gap == 0 else f"{gap} year")
    label = timeline.locator("svg").get_attribute("aria-label") or ""
    start, result = dated["historical"]["dates"]["start"], dated["historical"]["dates"]["result"]
    assert str(start["start"]) in label and str(result["start"]) in label
    assert timeline.locator("text").count() == 2 and str(result["start"]) in (
        timeline.locator("text").nth(1).text_content() or ""
    )

    undated = [r for r in results if (r["historical"]["dates"] or {}).get("gap") is None]
    for other in undated:  # not both dates known: no timeline drawn
        there = page.locator(f"[data-testid=result-card][data-artwork-id='{other['artwork']['id']}']")
        assert there.locator("[data-testid=timeline]").count() == 0

    card.screenshot(path=str(ARTIFACTS / "reason-figures-card.png"))
    page.screenshot(path=str(ARTIFACTS / "reason-figures.png"), full_page=True)
    assert not errors, errors
    page.close()
