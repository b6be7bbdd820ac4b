"""Write/admin endpoints, behind the bearer token of ``api.admin_token``.

A rebuild goes through the library's face (``Collection.build``), as the
CLI's does, in a background thread of this worker: the request answers at
once (202), a build already running anywhere on the home is a 409 naming
its pid, and when the build publishes its generation every worker process
swaps it in by itself (``api/reload.py``). ``GET /v1/admin/build`` says
whether a build runs and which generation is served.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from asterism.api import deps
from asterism.config import Settings
from asterism.locks import holder

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(deps.admin)])
log = logging.getLogger(__name__)


def _build(settings: Settings, outcome: dict[str, Any]) -> None:
    # The one place the server writes: it builds through the library's face, imported here so
    # that the read path (every other router) never loads a build stage.
    from asterism.collection import Collection

    try:
        with Collection(settings) as collection:
            report = collection.build()
        outcome.update(state="done", changed=report.changed, artworks=report.artworks)
    except Exception as exc:  # a build elsewhere won the lock, a full disk, ...: said in GET /build
        log.exception("rebuild failed")
        outcome.update(state="failed", error=str(exc))


@router.post(
    "/rebuild",
    status_code=202,
    responses={
        401: {"description": "no token"},
        403: {"description": "wrong token"},
        409: {"description": "a build is running"},
    },
)
def rebuild(request: Request, settings: Annotated[Settings, Depends(deps.settings)]) -> dict[str, Any]:
    """Start a build of every stage that is out of date; every worker serves it once published."""
    pid = holder(settings.paths.build_lock)
    if pid is not None:
        raise HTTPException(409, f"a build is running (pid {pid}): wait for it")
    outcome: dict[str, Any] = {"state": "running"}
    request.app.state.last_build = outcome
    threading.Thread(target=_build, args=(settings, outcome), name="asterism-build", daemon=True).start()
    return {"state": "started"}


@router.get("/build")
def build_status(request: Request, settings: Annotated[Settings, Depends(deps.settings)]) -> dict[str, Any]:
    """Whether a build runs on this home (its pid), the generation served here, this worker's last build."""
    follower = request.app.state.follower
    return {
        "running": holder(settings.paths.build_lock),
        "served": follower.served_generation(),
        "published": settings.paths.current().generation,
        "last": getattr(request.app.state, "last_build", None),
    }
