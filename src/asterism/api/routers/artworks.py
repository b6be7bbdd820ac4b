"""Artworks: one, many, a random one, and the works similar to one.

A work is named by its store id or by its own name ``source:source_id``;
the path takes the rest of the URL, since source ids may hold a slash
(``local:met-local/459027``), so ``/similar`` is matched first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.api.routers.recommendations import to_query
from asterism.api.schemas import ArtworkOut, BatchIn, BatchOut, Options, PageOut, WeightsIn
from asterism.config import Settings
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1/artworks", tags=["artworks"])
Name = Annotated[str, Path(min_length=1, max_length=300, description="an id (40) or source:source_id")]


@router.get("/random", response_model=ArtworkOut)
def random_artwork(
    service: Annotated[Service, Depends(deps.service)],
    seed: Annotated[int | None, Query(ge=0, le=2**62, description="repeatable choice")] = None,
) -> ArtworkOut:
    """A random servable work with an image ("surprise me")."""
    return ArtworkOut.of(service.surprise(seed))


@router.post("/batch", response_model=BatchOut)
def batch(body: BatchIn, service: Annotated[Service, Depends(deps.service)]) -> BatchOut:
    """Metadata of up to 200 works at once; names not in the collection are listed as missing."""
    found, missing = service.artworks(body.ids)
    return BatchOut(artworks=[ArtworkOut.of(a) for a in found], missing=missing)


@router.get("/{artwork:path}/similar", response_model=PageOut)
async def similar(
    artwork: Name,
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    page: Annotated[int, Query(ge=0, le=50)] = 0,
    formal: Annotated[float | None, Query(ge=0, le=100)] = None,
    conceptual: Annotated[float | None, Query(ge=0, le=100)] = None,
    historical: Annotated[float | None, Query(ge=0, le=100)] = None,
    diversity: Annotated[float, Query(ge=0, le=1)] = 0.0,
    max_share: Annotated[float | None, Query(gt=0, le=1, description="broaden (off if absent)")] = None,
) -> PageOut:
    """Recommendations from a stored work, with the options as query parameters."""
    weights = WeightsIn(formal=formal, conceptual=conceptual, historical=historical)
    options = Options(weights=weights, k=k, page=page, diversity=diversity, max_share=max_share)
    query = to_query(options, settings, artwork_id=service.resolve(artwork))
    return PageOut.of(await run_in_threadpool(service.recommend, query))


@router.get("/{artwork:path}", response_model=ArtworkOut)
def artwork(artwork: Name, service: Annotated[Service, Depends(deps.service)]) -> ArtworkOut:
    """Full metadata of one work, with its image links, source link and license."""
    return ArtworkOut.of(service.artwork(artwork))
