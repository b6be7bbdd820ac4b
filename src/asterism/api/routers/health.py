"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from asterism.api import deps
from asterism.api.metrics import Metrics

router = APIRouter(tags=["health"])


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
            "detail": getattr(request.app.state, "service_error", None) or "loading",
        }
    return {"status": "ready", **service.readiness()}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, registry: Annotated[Metrics, Depends(deps.metrics)]) -> Response:
    """Request and recommendation latency histograms, index sizes (Prometheus text format)."""
    service = request.app.state.service
    if service is not None:
        ready = service.readiness()
        for affinity, size in ready["indexes"].items():
            registry.index_size.labels(affinity).set(size)
        registry.catalogue_size.set(ready["artworks"])
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
