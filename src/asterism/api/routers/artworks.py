"""Artworks: one, many, a random one, and the works similar to one."""

from __future__ import annotations

import random
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.api.routers.recommendations import to_query
from asterism.api.schemas import ArtworkOut, BatchIn, BatchOut, Options, PageOut, WeightsIn
from asterism.config import Settings
from asterism.recommend.service import Service
from asterism.recommend.start import NotFound

router = APIRouter(prefix="/v1/artworks", tags=["artworks"])
ArtworkId = Annotated[int, Path(ge=1, le=2**62, description="artwork id")]


@router.get("/random", response_model=ArtworkOut)
def random_artwork(
    service: Annotated[Service, Depends(deps.service)],
    seed: Annotated[int | None, Query(ge=0, le=2**62, description="repeatable choice")] = None,
) -> ArtworkOut:
    """A random servable work with an image ("surprise me")."""
    catalogue = service.recommender.catalogue
    with_image = [i for i in catalogue.ids.tolist() if (a := catalogue.get(i)) is not None and a.image]
    if not with_image:
        raise NotFound("the collection is empty")
    chosen = random.Random(seed).choice(with_image)
    artwork = catalogue.get(chosen)
    assert artwork is not None
    return ArtworkOut.of(artwork)


@router.post("/batch", response_model=BatchOut)
def batch(body: BatchIn, service: Annotated[Service, Depends(deps.service)]) -> BatchOut:
    """Metadata of up to 200 works at once; ids not in the collection are listed as missing."""
    catalogue = service.recommender.catalogue
    found = [catalogue.get(i) for i in body.ids]
    return BatchOut(
        artworks=[ArtworkOut.of(a) for a in found if a is not None],
        missing=[i for i, a in zip(body.ids, found, strict=True) if a is None],
    )


@router.get("/{artwork_id}", response_model=ArtworkOut)
def artwork(artwork_id: ArtworkId, service: Annotated[Service, Depends(deps.service)]) -> ArtworkOut:
    """Full metadata of one work, with its image links, source link and license."""
    found = service.recommender.catalogue.get(artwork_id)
    if found is None:
        raise NotFound(f"no artwork with id {artwork_id} in the collection")
    return ArtworkOut.of(found)


@router.get("/{artwork_id}/similar", response_model=PageOut)
async def similar(
    artwork_id: ArtworkId,
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    page: Annotated[int, Query(ge=0, le=50)] = 0,
    formal: Annotated[float | None, Query(ge=0, le=100)] = None,
    conceptual: Annotated[float | None, Query(ge=0, le=100)] = None,
    historical: Annotated[float | None, Query(ge=0, le=100)] = None,
    diversity: Annotated[float, Query(ge=0, le=1)] = 0.0,
) -> PageOut:
    """Recommendations from a stored work, with the options as query parameters."""
    weights = WeightsIn(formal=formal, conceptual=conceptual, historical=historical)
    options = Options(weights=weights, k=k, page=page, diversity=diversity)
    query = to_query(options, settings, artwork_id=artwork_id)
    return PageOut.of(await run_in_threadpool(service.recommend, query))
