"""Write/admin endpoints, behind the bearer token of ``api.admin_token``.

A rebuild goes through the library's face (``Collection.build``), as the
CLI's does; the server then opens the new build and swaps it in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.config import Settings
from asterism.recommend.service import open_service

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(deps.admin)])


def _build(settings: Settings) -> Any:
    # The one place the server writes: it builds through the library's face, imported here so
    # that the read path (every other router) never loads a build stage.
    from asterism.collection import Collection

    with Collection(settings) as collection:
        return collection.build()


@router.post("/rebuild", responses={401: {"description": "no token"}, 403: {"description": "wrong token"}})
async def rebuild(request: Request, settings: Annotated[Settings, Depends(deps.settings)]) -> dict[str, Any]:
    """Run every build stage that is out of date, then reload the collection."""
    report = await run_in_threadpool(_build, settings)
    fresh = await run_in_threadpool(open_service, settings)
    old, request.app.state.service = request.app.state.service, fresh
    if old is not None:
        old.close()
    return {"changed": report.changed, "artworks": report.artworks}
