"""``GET /v1/connect?from=&to=``: a chain of affinity edges and artist links between two works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.api.schemas import ConnectOut
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1", tags=["connect"])


@router.get("/connect", response_model=ConnectOut)
async def connect(
    service: Annotated[Service, Depends(deps.service)],
    start: Annotated[
        str, Query(alias="from", min_length=1, max_length=300, description="id or source:source_id")
    ],
    end: Annotated[
        str, Query(alias="to", min_length=1, max_length=300, description="id or source:source_id")
    ],
    max_hops: Annotated[int, Query(ge=1, le=6)] = 6,
) -> ConnectOut:
    """The shortest path (≤ 6 steps), each step with its affinity or relation and its reason."""
    first, last = service.resolve(start), service.resolve(end)
    steps = await run_in_threadpool(service.connect, first, last, max_hops)
    return ConnectOut(start=first, end=last, found=steps is not None, steps=steps or [])
