"""The HTTP surfaces a hostile or merely curious client sees: headers, CORS, /readyz, /metrics.

Each test builds the real app over the built sample collection (or over an
unbuilt home) with the settings under test; nothing of ours is replaced.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from asterism.api.app import create_app
from asterism.config import ApiSettings, Settings, load_settings
from asterism.recommend.service import Service


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@contextmanager
def app_with(settings: Settings, service: Service | None, **api: object) -> Iterator[TestClient]:
    changed = settings.model_copy(update={"api": settings.api.model_copy(update=api)})
    with TestClient(create_app(changed, service=service, ui=None), raise_server_exceptions=False) as client:
        yield client


def assert_stamped(response: object) -> dict[str, list[str]]:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    return directives(headers["content-security-policy"])


def test_every_response_carries_the_headers_even_errors_and_crashes(
    built: Settings, service: Service
) -> None:
    """JSON, 404, 422 and an unhandled 500 (written by Starlette's outermost error middleware) alike."""
    app = create_app(built, service=service, ui=None)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        responses = [
            client.get("/healthz"),
            client.get("/v1/artworks/987654321"),
            client.get("/v1/connect", params={"from": 1}),
            client.get("/no/such/route"),
            client.get("/boom"),
        ]
    assert [r.status_code for r in responses] == [200, 404, 422, 404, 500]
    for response in responses:
        csp = assert_stamped(response)
        assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_the_ui_and_its_static_files_carry_the_ui_policy(
    built: Settings, service: Service, tmp_path: Path
) -> None:
    """The index page and streamed /assets files (a pure ASGI middleware stamps file responses too)."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Asterism</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    with TestClient(create_app(built, service=service, ui=tmp_path)) as client:
        index, script = client.get("/"), client.get("/assets/app.js")
    assert index.status_code == script.status_code == 200
    for response in (index, script):
        csp = assert_stamped(response)
        assert csp["img-src"] == ["'self'", "blob:"] and csp["connect-src"] == ["'self'"]


def test_frame_ancestors_is_configurable_and_stays_one_directive(built: Settings, service: Service) -> None:
    with app_with(built, service, frame_ancestors="'self' https://museum.example") as client:
        csp = assert_stamped(client.get("/healthz"))
    assert csp["frame-ancestors"] == ["'self'", "https://museum.example"]
    with pytest.raises(ValidationError, match="frame_ancestors"):
        ApiSettings(frame_ancestors="'none'; script-src *")


def test_docs_get_their_own_policy_with_the_inline_script_hashed(client: TestClient) -> None:
    """Swagger UI from the CDN and FastAPI's inline start-up script (by its hash, not 'unsafe-inline')."""
    for path in ("/docs", "/docs/oauth2-redirect"):
        page = client.get(path)
        assert page.status_code == 200
        csp = assert_stamped(page)
        inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
        assert inline, "FastAPI's docs page has an inline script"
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp["script-src"]
        assert "https://cdn.jsdelivr.net" in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    # The docs' relaxations stay on the docs: the OpenAPI document itself gets the UI policy.
    assert "https://cdn.jsdelivr.net" not in client.get("/openapi.json").headers["content-security-policy"]


def test_cors_is_off_by_default(client: TestClient) -> None:
    """No configured origins: no Access-Control-* header, a cross-origin preflight is refused."""
    simple = client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert simple.status_code == 200
    assert not [name for name in simple.headers if name.startswith("access-control-")]
    preflight = client.options(
        "/v1/recommendations",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_exactly_the_configured_origins(built: Settings, service: Service) -> None:
    allowed, other = "https://museum.example", "https://elsewhere.example"
    with app_with(built, service, cors_origins=(allowed,)) as client:
        yes = client.get("/healthz", headers={"Origin": allowed})
        no = client.get("/healthz", headers={"Origin": other})
        preflight = {
            origin: client.options(
                "/v1/recommendations",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            for origin in (allowed, other)
        }
    assert yes.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-origin" not in no.headers
    assert preflight[allowed].status_code == 200
    assert preflight[allowed].headers["access-control-allow-origin"] == allowed
    assert "POST" in preflight[allowed].headers["access-control-allow-methods"]
    assert preflight[other].status_code == 400
    assert "access-control-allow-origin" not in preflight[other].headers
    assert_stamped(preflight[allowed])  # answered by CORSMiddleware, still stamped
    for bad in ("https://museum.example/", "museum.example", "https://museum.example/path"):
        with pytest.raises(ValidationError, match="cors_origins"):
            ApiSettings(cors_origins=(bad,))


def test_metrics_behind_a_bearer_token_when_one_is_set(built: Settings, service: Service) -> None:
    with app_with(built, service, metrics_token="m3trics") as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = client.get("/metrics", headers={"Authorization": "Bearer m3trics"})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 403
    assert right.status_code == 200 and "asterism_index_vectors" in right.text


def test_metrics_open_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_readyz_names_no_path_when_ready(built: Settings, service: Service) -> None:
    """A CLIP checkpoint inside the home (a real layout): its folder name is said, never its path."""
    clip = built.home / "models" / "clip vit (b-32)"
    models = built.models.model_copy(update={"conceptual": "clip", "clip_path": clip})
    with_clip = dataclasses.replace(service, settings=built.model_copy(update={"models": models}))
    with app_with(built, with_clip) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["artworks"] > 0 and body["indexes"]["formal"] > 0
    assert body["models"]["conceptual"] == "clip (clip vit (b-32))"
    assert str(built.home) not in ready.text and str(built.home.parent) not in ready.text


def test_readyz_names_no_path_when_not_built(tmp_path: Path) -> None:
    """The "not built" message quotes the home's folders; a home with spaces and brackets included."""
    home = tmp_path / "My Art (2024)" / "home"
    settings = load_settings(home=home, ocr={"mode": "never"})
    with app_with(settings, None) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "asterism build" in ready.json()["detail"]
    assert str(tmp_path) not in ready.text and "My Art" not in ready.text
