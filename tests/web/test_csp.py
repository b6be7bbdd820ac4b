"""The built UI and the API docs run under their real Content-Security-Policy in Chromium.

A policy too strict for the UI breaks it silently in production (a blocked
script, image or fetch is only a console line), so the browser reports every
violation here: ``securitypolicyviolation`` events are collected from before
the first script runs, and console lines are searched for CSP refusals. Each
test also makes one deliberate violation at the end, to show the listener
hears them (a listener that never fires would pass any page).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asterism.api.app import UI_DIST, create_app
from asterism.config import Settings
from asterism.recommend.service import Service
from serving import serving

CHROMIUM = Path("/usr/bin/chromium")

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""

INJECT_INLINE = """() => {
  const s = document.createElement("script");
  s.textContent = "window.__inlineRan = true";
  document.body.appendChild(s);
}"""


@pytest.fixture(scope="module")
def server(built: Settings, service: Service) -> Iterator[str]:
    """The real app, with the default (strictest) security settings, on a free loopback port."""
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


def watched(browser: Any) -> tuple[Any, list[str]]:
    """A page that records CSP violations (events and console refusals) from its first script on."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None
        ),
    )
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    return page, console


def assert_listener_hears_a_violation(page: Any) -> None:
    page.evaluate(INJECT_INLINE)
    page.wait_for_function("() => window.__csp.length > 0", timeout=5_000)
    assert "script-src" in page.evaluate("window.__csp")[0]
    assert page.evaluate("window.__inlineRan") is None  # and the inline script did not run


def until(page: Any, condition: str, arg: object = None, timeout: float = 15_000) -> None:
    """Wait for ``condition``; on a timeout, fail with the violations seen (usually why it never came)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        pytest.fail(f"timed out waiting for {condition}; CSP violations: {page.evaluate('window.__csp')}")


def loaded(page: Any, selector: str) -> None:
    """The image matched by ``selector`` was fetched and decoded (not blocked by img-src)."""
    until(
        page,
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        selector,
    )


def test_the_ui_search_and_upload_pass_the_csp(
    server: str, browser: Any, service: Service, shared_data: Path
) -> None:
    page, console = watched(browser)
    response = page.goto(server)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert page.title() == "Asterism"

    # Search, pick a hit, get results with thumbnails (fetch and img-src 'self').
    page.fill("[data-testid=search-input]", "monet")
    page.keyboard.press("Enter")
    page.locator("[data-testid=search-result]").first.click()
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    assert page.locator("[data-testid=result-card]").count() >= 1
    loaded(page, "[data-testid=result-card] img")

    # Upload a picture: the preview is a blob: URL (img-src blob:), the results come back by POST.
    stored = {a.source_id for a in service.catalogue.records.values()}
    pictures = sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))
    picture = next(p for p in pictures if f"aic-paintings/{p.stem}" not in stored)
    page.set_input_files("[data-testid=file-input]", str(picture))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=start-title]')?.innerText === 'Your picture'",
        timeout=30_000,
    )
    page.wait_for_selector("[data-testid=result-card]", timeout=30_000)
    assert page.get_by_alt_text("Your picture").get_attribute("src").startswith("blob:")
    loaded(page, "img[alt='Your picture']")

    # Open a detail (the medium-size image) and close it.
    page.locator("[data-testid=result-card]").first.locator("[data-testid=details-button]").click()
    page.locator("[data-testid=detail-panel]").wait_for()
    loaded(page, "[data-testid=detail-panel] img")
    page.keyboard.press("Escape")

    assert page.evaluate("window.__csp") == [] and console == [], (page.evaluate("window.__csp"), console)
    assert_listener_hears_a_violation(page)
    page.close()


SWAGGER_STAND_IN = """
window.SwaggerUIBundle = function (config) {
  fetch(config.url).then((r) => r.json()).then((spec) => {
    document.querySelector(config.dom_id).textContent = spec.info.title;
  });
  return {};
};
SwaggerUIBundle.presets = { apis: {} };
SwaggerUIBundle.SwaggerUIStandalonePreset = {};
"""


def test_the_docs_page_runs_under_its_own_policy(server: str, browser: Any) -> None:
    """FastAPI's /docs: the CDN script and the hashed inline start-up script run, the spec is fetched.

    The test machine has no internet, so the CDN's files are answered by the
    browser itself (a stand-in SwaggerUIBundle that shows the spec's title);
    the policy is checked before any request leaves, so a CDN the policy does
    not allow, or an inline script whose hash is missing, is still reported.
    """
    page, console = watched(browser)

    def cdn(route: Any) -> None:
        if route.request.url.endswith(".js"):
            route.fulfill(status=200, content_type="text/javascript", body=SWAGGER_STAND_IN)
        else:
            route.fulfill(status=200, content_type="text/css", body="")

    page.route("https://cdn.jsdelivr.net/**", cdn)
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=204))
    page.goto(f"{server}/docs")
    until(page, "() => document.querySelector('#swagger-ui')?.textContent === 'Asterism'")
    assert page.evaluate("window.__csp") == [] and console == [], json.dumps(
        [page.evaluate("window.__csp"), console]
    )
    assert_listener_hears_a_violation(page)
    page.close()
