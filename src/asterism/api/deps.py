"""Dependencies as functions: the service, the settings, the limits, the admin check."""

from __future__ import annotations

import hmac

from fastapi import Header, HTTPException, Request

from asterism.api.cache import Cache
from asterism.api.limits import Limits
from asterism.api.metrics import Metrics
from asterism.config import Settings
from asterism.recommend.service import NotBuilt, Service


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def metrics(request: Request) -> Metrics:
    value: Metrics = request.app.state.metrics
    return value


def cache(request: Request) -> Cache:
    value: Cache = request.app.state.cache
    return value


def limits(request: Request) -> Limits:
    """The app's rate limits and upload slots (``api/limits.py``), made once in ``create_app``."""
    value: Limits = request.app.state.limits
    return value


async def vote_quota(request: Request) -> None:
    """One of the client's study votes (429 with ``Retry-After`` when spent); async: on the event loop."""
    found = limits(request)
    found.check(found.votes, request, "study votes")


def service(request: Request) -> Service:
    """The opened collection; 503 until a build exists (the server may start before the first build)."""
    value: Service | None = request.app.state.service
    if value is None:
        error = getattr(request.app.state, "service_error", None)
        raise NotBuilt(error or "the collection is not loaded yet")
    return value


def admin(request: Request, authorization: str | None = Header(default=None)) -> None:
    """Bearer-token check for write/admin endpoints; off (403) when no token is configured."""
    token = settings(request).api.admin_token
    if not token:
        raise HTTPException(403, "admin endpoints are disabled: set api.admin_token to enable them")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(403, "wrong token")
