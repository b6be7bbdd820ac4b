"""``GET /v1/search?q=``: find a start by title or artist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from asterism.api import deps
from asterism.api.schemas import SearchHit, SearchOut
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=SearchOut)
def search(
    service: Annotated[Service, Depends(deps.service)],
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="words of a title or an artist's name")
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Works whose title or artist contains every word (accents and case ignored)."""
    return SearchOut(
        query=q,
        results=[
            SearchHit(
                id=a.id or 0,
                title=a.title or "Untitled",
                artist=a.artist_name,
                date=a.date_display,
                thumb=f"/v1/images/{a.id}?size=thumb" if a.image else None,
            )
            for a in service.search(q, limit)
        ],
    )
