"""``GET /v1/map?affinity=``: the collection map, every served work's place on the plane.

The maps are made at build time (``stages/layout.py``) and belong to a build
generation, so the answer changes only when a build is published or the
license policy changes: its ETag is made of both, and a browser asks again
with ``If-None-Match`` and gets a 304 (``no-cache``: always revalidated, since
the same URL names the next build's map too). The serialised answer is kept,
gzip-compressed, in the answers cache under the same key, and sent compressed
to a client that accepts it (100k works: 2.0 MB of JSON, 0.66 MB gzipped). Works the license policy withholds now,
or that are not served at all, are left out here, whatever the map file holds.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.concurrency import run_in_threadpool

from asterism.api import deps
from asterism.api.cache import Cache, cache_key
from asterism.api.schemas import MapOut
from asterism.config import Settings
from asterism.map.layout import MapLayout
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1", tags=["map"])
THUMBNAIL = "/v1/images/{id}?size=thumb"
DECIMALS = 4  # 1e-4 of the map's width: finer than a pixel on any screen, and 6 characters a number
Affinity = Literal["formal", "conceptual", "historical", "hybrid"]


class MapNotBuilt(QueryError):
    """The served generation has no map of this affinity (HTTP 409: build first)."""

    status = 409


@router.get(
    "/map",
    response_model=MapOut,
    responses={304: {"description": "unchanged since the ETag given"}, 409: {"description": "no map built"}},
)
async def collection_map(
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    cache: Annotated[Cache, Depends(deps.cache)],
    affinity: Annotated[
        Affinity, Query(description="the affinity the map is laid out by; hybrid: the default weights")
    ] = "hybrid",
    fields: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern="^(title|artist)(,(title|artist))*$",
            description="extra arrays, comma-separated: title, artist",
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Every served work's place on the map of one affinity, as parallel arrays (coordinates to 4 decimals)."""
    home = service.home or settings.paths.current()
    extra = sorted(set(fields.split(","))) if fields else []
    version = f"{home.generation}:{service.version}"
    etag = '"' + hashlib.sha256(f"{version}:{affinity}:{','.join(extra)}".encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    key = cache_key(version, "map", {"affinity": affinity, "fields": extra})
    packed = cache.get(key)  # gzip: a third of the JSON's size, compressed once per build
    if packed is None:
        path = home.layout(affinity).points
        if not path.is_file():
            raise MapNotBuilt(f"no {affinity} map in the served build: run `asterism build` to make it")
        packed = await run_in_threadpool(_answer, service, MapLayout.load(path), affinity, extra)
        cache.set(key, packed)
    if "gzip" in (accept_encoding or "").lower():
        return Response(
            packed, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(gzip.decompress(packed), media_type="application/json", headers=headers)


def _answer(service: Service, layout: MapLayout, affinity: Affinity, extra: list[str]) -> bytes:
    """The map's served works (withheld and unserved works dropped) as gzip-compressed JSON."""
    served = np.isin(layout.ids, service.catalogue.ids)
    ids = layout.ids[served]
    works = [service.catalogue.get(int(i)) for i in ids] if extra else []
    titles = [(w.title or "Untitled") if w else "" for w in works] if "title" in extra else None
    artists = [w.artist_name if w else None for w in works] if "artist" in extra else None
    return gzip.compress(encode(affinity, ids, layout.xy[served], titles, artists), compresslevel=6, mtime=0)


def encode(
    affinity: Affinity,
    ids: np.ndarray,
    xy: np.ndarray,
    titles: list[str] | None = None,
    artists: list[str | None] | None = None,
) -> bytes:
    """The answer's bytes: parallel arrays, coordinates rounded to ``DECIMALS``."""
    rounded = np.round(np.asarray(xy, dtype=np.float64), DECIMALS)
    answer = MapOut(
        affinity=affinity,
        count=len(ids),
        ids=np.asarray(ids).tolist(),
        x=rounded[:, 0].tolist(),
        y=rounded[:, 1].tolist(),
        thumbnail=THUMBNAIL,
        title=titles,
        artist=artists,
    )
    return answer.model_dump_json(exclude_none=True).encode()
