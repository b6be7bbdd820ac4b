"""Security headers on every response, and CORS only for the origins the settings name.

Every response carries ``X-Content-Type-Options: nosniff`` (an upload echoed
back, or a JSON error, is never sniffed into HTML), ``Referrer-Policy:
strict-origin-when-cross-origin`` (a query in the address never leaves for the
sources a detail links to) and a ``Content-Security-Policy``.

Two policies:

* the UI's, on everything but the API docs: scripts, styles, fetches and
  images from this server only, plus ``blob:`` images (the preview of a picture
  the visitor picked is an object URL); no inline script, no plugins, no
  ``<base>`` rewriting, no framing unless ``api.frame_ancestors`` allows it.
  ``tests/web/test_csp.py`` runs the built UI under it in Chromium.
* the docs' (``/docs``, ``/redoc`` and Swagger's OAuth2 redirect page): FastAPI
  renders them with Swagger UI / ReDoc from cdn.jsdelivr.net and a small inline
  script. That CDN is allowed there, and the inline scripts are allowed by the
  SHA-256 of the page's own script text, computed from each response, so a
  ``root_path`` or a FastAPI upgrade that changes the page cannot silently
  break it and nothing else inline runs. Styles on the docs pages may be inline
  (ReDoc injects its CSS at run time); style cannot run code.

The middleware wraps the whole application, outside Starlette's error
middleware, so a 500 carries the headers too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asterism.config import ApiSettings

CDN = "https://cdn.jsdelivr.net"  # where FastAPI's docs pages load Swagger UI and ReDoc from

UI_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "blob:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
}

DOCS_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'", CDN),  # + the hashes of the page's inline scripts
    "style-src": ("'self'", CDN, "https://fonts.googleapis.com", "'unsafe-inline'"),
    "img-src": ("'self'", "data:", "https://fastapi.tiangolo.com", "https://cdn.redoc.ly"),
    "font-src": ("'self'", "https://fonts.gstatic.com"),
    "worker-src": ("'self'", "blob:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
}

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)


def policy(directives: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def script_hashes(html: bytes) -> list[str]:
    """CSP sources for each inline ``<script>`` of a page: ``'sha256-<base64>'`` of its exact text."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in INLINE_SCRIPT.findall(html)
    ]


class SecurityHeaders:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware``: streamed file responses pass through untouched)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        frame_ancestors: str = "'none'",
        docs_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        self.frame_ancestors = frame_ancestors
        self.common = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
        self.ui_policy = policy({**UI_POLICY, "frame-ancestors": (frame_ancestors,)})

    def docs_policy(self, html: bytes) -> str:
        scripts = (*DOCS_POLICY["script-src"], *script_hashes(html))
        return policy({**DOCS_POLICY, "script-src": scripts, "frame-ancestors": (self.frame_ancestors,)})

    def is_docs(self, scope: Scope) -> bool:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path in self.docs_paths

    def stamp(self, message: Message, csp: str) -> None:
        headers = MutableHeaders(scope=message)
        for name, value in self.common.items():
            headers[name] = value
        if "content-security-policy" not in headers:  # a route that sets its own keeps it
            headers["Content-Security-Policy"] = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.is_docs(scope):
            await self.app(scope, receive, self.buffered(send))
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stamp(message, self.ui_policy)
            await send(message)

        await self.app(scope, receive, stamped)

    def buffered(self, send: Send) -> Send:
        """A docs page is held until complete (a few kB) so its inline scripts can be hashed."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            encoded = "content-encoding" in MutableHeaders(scope=start)
            self.stamp(start, self.docs_policy(b"" if encoded else body))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return hold


def install(app: FastAPI, api: ApiSettings) -> None:
    """Security headers outermost (after every other middleware is added), CORS when origins are set.

    Starlette builds its middleware stack on the first request, with its error
    middleware (which writes 500 responses) outside every ``add_middleware``
    entry; wrapping the built stack is the only place a 500 can be stamped too.
    """
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(api.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
            max_age=600,
        )
    docs = [app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url if app.docs_url else None]
    build = app.build_middleware_stack

    def outermost() -> ASGIApp:
        return SecurityHeaders(
            build(), frame_ancestors=api.frame_ancestors, docs_paths=[path for path in docs if path]
        )

    app.build_middleware_stack = outermost  # type: ignore[method-assign]
