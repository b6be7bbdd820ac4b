"""``GET /v1/connect?from=&to=``: a chain of affinity edges and artist links between two works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.api.schemas import ConnectOut, StepOut
from asterism.recommend.connect import describe_path
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1", tags=["connect"])


@router.get("/connect", response_model=ConnectOut)
async def connect(
    service: Annotated[Service, Depends(deps.service)],
    start: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    end: Annotated[int, Query(alias="to", ge=1, le=2**62)],
    max_hops: Annotated[int, Query(ge=1, le=6)] = 6,
) -> ConnectOut:
    """The shortest path (≤ 6 steps), each step with its affinity or relation and its reason."""
    path = await run_in_threadpool(service.connect, start, end, max_hops)
    steps = describe_path(path, service.recommender) if path else []
    return ConnectOut(
        start=start, end=end, found=path is not None, steps=[StepOut(**s.model_dump()) for s in steps]
    )
