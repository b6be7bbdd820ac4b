"""Every failure is a 4xx with a message a person can act on; a 500 is a bug, logged with its trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from asterism.recommend.query import DeadlineExceeded, QueryError
from asterism.recommend.start import BadImage
from asterism.store.retry import StoreUnavailable

log = logging.getLogger(__name__)


def describe(errors: list[Any], limit: int = 5) -> str:
    """Pydantic validation errors as "field: message; ..." for a person to read."""
    parts = []
    for error in errors[:limit]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(BadImage)
    async def bad_image(request: Request, exc: BadImage) -> JSONResponse:
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.rejected_uploads.labels(str(exc.status)).inc()
        return problem(exc.status, f"bad image: {exc}")

    @app.exception_handler(QueryError)
    async def bad_query(_request: Request, exc: QueryError) -> JSONResponse:
        """Every question the library refuses: 400 (also too deep a page), 404 unknown work, 422, 503."""
        return problem(exc.status, str(exc))

    @app.exception_handler(DeadlineExceeded)
    async def out_of_time(_request: Request, exc: DeadlineExceeded) -> JSONResponse:
        """A request that ran out of its time: 503, and when to ask again (the client may simply retry)."""
        return problem(exc.status, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        """The database is locked by another writer or unreachable past its stated wait: 503, ask again."""
        log.warning("database unavailable: %s", exc)
        return problem(503, exc.public, {"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, describe(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug path
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error: the server logged it")
