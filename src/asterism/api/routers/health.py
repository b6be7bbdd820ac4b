"""Liveness, readiness and Prometheus metrics.

``/readyz`` is unauthenticated and often public (load balancers, status
pages), so it reports counts and states only: no file path of the data home
or of a model reaches its body. ``/metrics`` can be put behind a bearer token
(``api.metrics_token``) for the same reason.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from asterism.api import deps
from asterism.api.metrics import Metrics
from asterism.config import Settings

router = APIRouter(tags=["health"])

READY_KEYS = ("artworks", "indexes", "recognition", "version", "models")

# A token with a / or \ in it (an absolute or relative path, as a message or model name may quote one).
PATHLIKE = re.compile(r"[^\s()'\"`,;]*[/\\][^\s()'\"`,;]*")


def without_paths(value: Any, known: Iterable[Path] = ()) -> Any:
    """The strings of ``value`` with every path cut to its last part: `/srv/home/indexes:` -> `indexes:`.

    The configured paths go first, whole (a home may hold spaces or brackets,
    which end a path-like token early); any other path-like token after.
    """
    if isinstance(value, str):
        for path in sorted(known, key=lambda p: len(str(p)), reverse=True):
            value = value.replace(str(path), path.name)
        return PATHLIKE.sub(lambda m: next((p for p in reversed(re.split(r"[/\\]", m[0])) if p), ""), value)
    if isinstance(value, dict):
        return {key: without_paths(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_paths(item, known) for item in value]
    return value


def configured_paths(settings: Settings) -> list[Path]:
    models = settings.models
    paths = (settings.home, settings.painters_csv, models.text_path, models.clip_path, models.dinov2_path)
    return [path for path in paths if path is not None and str(path) not in ("", ".")]


def metrics_access(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Open when no ``api.metrics_token`` is set; otherwise 401 without a bearer token, 403 with a wrong one."""
    token = deps.settings(request).api.metrics_token
    if not token:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(403, "wrong token")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "collection not loaded"}})
def readyz(request: Request, response: Response) -> dict[str, Any]:
    """Ready when the collection (indexes, graph snapshot, catalogue) is loaded."""
    service = request.app.state.service
    if service is None:
        response.status_code = 503
        return {
            "status": "not ready",
            "detail": without_paths(
                getattr(request.app.state, "service_error", None) or "loading",
                configured_paths(deps.settings(request)),
            ),
        }
    ready = service.readiness()
    state = {key: ready[key] for key in READY_KEYS if key in ready}  # counts and states, named
    return {"status": "ready", **without_paths(state, configured_paths(service.settings))}


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
    responses={401: {"description": "api.metrics_token is set and no bearer token was given"}},
)
def metrics(request: Request, registry: Annotated[Metrics, Depends(deps.metrics)]) -> Response:
    """Request and recommendation latency histograms, index sizes (Prometheus text format)."""
    service = request.app.state.service
    if service is not None:
        ready = service.readiness()
        for affinity, size in ready["indexes"].items():
            registry.index_size.labels(affinity).set(size)
        registry.catalogue_size.set(ready["artworks"])
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
