"""The blind preference study: two result lists from two weightings, and a person's vote."""

from __future__ import annotations

import random
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from asterism.api import deps
from asterism.api.schemas import ResultOut, WorkName
from asterism.eval.study import DEFAULT, VARIANTS
from asterism.recommend.query import Query
from asterism.recommend.service import Service
from asterism.store.study import AlreadyVoted, UnknownPair

router = APIRouter(prefix="/v1/study", tags=["study"])


class PairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    artwork_id: WorkName = Field(description="an id (40) or source:source_id")
    k: int = Field(default=6, ge=1, le=20)


class PairOut(BaseModel):
    pair_id: str
    start_id: int
    left: list[ResultOut]
    right: list[ResultOut]


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pair_id: str = Field(min_length=1, max_length=64)
    choice: Literal["left", "right", "tie"]


def _page(service: Service, artwork_id: int, variant: str, k: int) -> list[ResultOut]:
    weights = VARIANTS.get(variant)
    query = (
        Query(artwork_id=artwork_id, k=k, weights=weights) if weights else Query(artwork_id=artwork_id, k=k)
    )
    return [ResultOut.of(item) for item in service.recommend(query).results]


@router.post("/pairs", response_model=PairOut)
async def new_pair(body: PairIn, service: Annotated[Service, Depends(deps.service)]) -> PairOut:
    """Two lists for one start, default weighting against an alternative, sides drawn at random."""
    start, pair_id, left, right = await run_in_threadpool(
        service.new_study_pair, body.artwork_id, random.Random()
    )
    left_items = await run_in_threadpool(_page, service, start, left, body.k)
    right_items = await run_in_threadpool(_page, service, start, right, body.k)
    return PairOut(pair_id=pair_id, start_id=start, left=left_items, right=right_items)


@router.post("/votes", dependencies=[Depends(deps.vote_quota)])
async def vote(body: VoteIn, service: Annotated[Service, Depends(deps.service)]) -> dict[str, str]:
    """Record which list the person preferred; each pair takes one vote (votes are rate-limited per client)."""
    try:
        await run_in_threadpool(service.vote, body.pair_id, body.choice)
    except UnknownPair as exc:
        raise HTTPException(404, str(exc)) from None
    except AlreadyVoted as exc:
        raise HTTPException(409, str(exc)) from None
    return {"status": "recorded", "default": DEFAULT}
