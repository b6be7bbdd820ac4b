"""``GET /v1/search?q=``: find a start by title or artist."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from asterism.api import deps
from asterism.api.schemas import SearchHit, SearchOut, image_url
from asterism.recommend.service import Service
from asterism.recommend.start import NeedsModel
from asterism.shapes import Artwork

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=SearchOut)
def search(
    service: Annotated[Service, Depends(deps.service)],
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="words of a title or an artist's name")
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    by: Annotated[
        Literal["title", "picture", "auto"],
        Query(description="title/artist words, the picture (text→image, needs a pulled model), or both"),
    ] = "auto",
) -> SearchOut:
    """Works whose title or artist contains every word; with an image–text model, pictures that fit the words."""
    hits = [_hit(a, "title") for a in service.search(q, limit)] if by != "picture" else []
    if by != "title":
        try:
            pictures = service.search_pictures(q, limit)
        except NeedsModel:
            if by == "picture":
                raise
            pictures = []
        seen = {hit.id for hit in hits}
        hits += [_hit(a, "picture", score) for a, score in pictures if a.id not in seen]
    return SearchOut(query=q, results=hits[:limit])


def _hit(artwork: Artwork, match: str, score: float | None = None) -> SearchHit:
    return SearchHit(
        id=artwork.id or 0,
        title=artwork.title or "Untitled",
        artist=artwork.artist_name,
        date=artwork.date_display,
        thumb=image_url(artwork.id or 0, artwork.image.sha256, "thumb") if artwork.image else None,
        match=match,
        score=round(score, 6) if score is not None else None,
    )
