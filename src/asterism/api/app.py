"""The FastAPI application: one router per resource, the collection opened once at start-up.

``create_app`` takes the settings (and, for tests, an already opened
service). The collection loads in the lifespan; a server started before
the first build answers ``/healthz`` and returns 503 with a message on
everything that needs the collection until it is built and reloaded.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from asterism import __version__
from asterism.api import errors, security
from asterism.api.bodies import BodyLimit
from asterism.api.cache import open_cache
from asterism.api.limits import Limits
from asterism.api.metrics import Metrics
from asterism.api.reload import Follower
from asterism.api.routers import admin, artworks, connect, health, images, map, recommendations, search, study
from asterism.config import Settings
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service, open_service

log = logging.getLogger(__name__)
UI_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"


def create_app(settings: Settings, *, service: Service | None = None, ui: Path | None = UI_DIST) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened_here = False
        if app.state.service is None:
            try:
                app.state.service = open_service(settings)
                opened_here = True
                await anyio.to_thread.run_sync(app.state.service.warm_up)  # before /readyz says ready
            except QueryError as exc:
                app.state.service_error = str(exc)
                log.warning("collection not loaded: %s", exc)
        # The loaded collection is millions of long-lived objects; a full GC pass over them
        # stalled requests for up to a second (measured). Freeze them out of the collector's scans.
        gc.collect()
        gc.freeze()
        # A few request threads, not forty: CPU-bound requests time-slicing the GIL all finish
        # late together; a short queue answers most of them at once (measured p99 by id: see
        # bench/RESULTS.md). The event loop keeps accepting connections meanwhile.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        app.state.follower.start()  # an idle server follows new builds too, not only at a request
        yield
        app.state.follower.stop()
        if opened_here and app.state.service is not None:
            app.state.service.close()

    app = FastAPI(
        title="Asterism",
        version=__version__,
        description="Related artworks from open-access collections, ranked by formal, conceptual "
        "and historical affinity, each with its reasons, attribution and license.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.service_error = None
    app.state.follower = Follower(settings, app.state)
    app.state.metrics = Metrics()
    app.state.cache = open_cache(settings.cache)
    app.state.limits = Limits(settings.api)
    errors.install(app)
    security.install(app, settings.api)
    for module in (recommendations, artworks, search, images, connect, study, health, admin, map):
        app.include_router(module.router)
    # Innermost (added first): bodies are capped as they stream, and the middleware added after
    # it sees the 413s (api/bodies.py).
    app.add_middleware(BodyLimit, api=settings.api, upload_paths=recommendations.UPLOAD_PATHS)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        app.state.follower.check()  # a build published since? (one stat a second; loads in a thread)
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        app.state.metrics.requests.labels(request.method, template, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    if ui is not None and (ui / "index.html").is_file():
        app.mount("/assets", StaticFiles(directory=ui / "assets"), name="assets")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(ui / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory`` (several worker processes): settings from env and TOML."""
    from asterism.config import load_settings

    return create_app(load_settings())
