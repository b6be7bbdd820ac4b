"""``GET /v1/images/{id}?size=&v=``: pictures from the content-addressed store.

The URLs the API hands out (``schemas.image_url``) carry ``v``, a prefix of
the image's sha256. Only such a URL is cached as ``immutable``: its bytes can
never change, since a replaced image gets a new ``v`` and so a new URL. A URL
without ``v``, or with a stale one, names "the work's picture now": it is
answered ``no-cache`` with an ETag, so every use revalidates and a replaced
or withdrawn picture is never served from a cache under it. Shared caches
keep even the immutable form one day only (``s-maxage``), so a takedown
reaches a CDN within a day; a withdrawn work's picture answers 410 Gone
(withheld by the license policy, with the reason) or 404 (no such work).
The UI asks for ``thumb`` first and ``medium`` when a work is opened.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import FileResponse

from asterism.api import deps
from asterism.config import Settings
from asterism.home import OutsideHome
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service, Withheld
from asterism.recommend.start import NotFound

router = APIRouter(prefix="/v1/images", tags=["images"])
CACHE = "public, max-age=31536000, s-maxage=86400, immutable"  # a URL whose v matches the content
REVALIDATE = "no-cache"  # any other URL: the current picture, checked on every use


class Gone(QueryError):
    """The work's picture was withdrawn (HTTP 410): caches that revalidate drop it."""

    status = 410


@router.get("/{artwork:path}", response_class=FileResponse, responses={304: {"description": "unchanged"}})
def image(
    artwork: Annotated[str, Path(min_length=1, max_length=300, description="an id or source:source_id")],
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    size: Annotated[Literal["thumb", "medium", "full"], Query()] = "thumb",
    v: Annotated[
        str | None,
        Query(
            min_length=8, max_length=64, pattern="^[0-9a-f]+$", description="the sha256 prefix of the picture"
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The work's picture at ``thumb`` (256 px), ``medium`` (843 px) or ``full`` size."""
    try:
        work = service.artwork(artwork)
    except Withheld as exc:
        raise Gone(str(exc)) from None
    if work.image is None:
        raise NotFound(f"artwork {artwork!r} has no image")
    facts = work.image
    relative = facts.path if size == "full" else facts.thumbs.get(size) or facts.path
    try:
        path = settings.paths.file(relative)
    except OutsideHome:
        path = None
    if path is None or not path.is_file():
        raise NotFound(f"the image file of artwork {artwork!r} is missing")
    etag = f'"{facts.sha256[:32]}-{size}"'
    current = v is not None and facts.sha256.startswith(v)
    headers = {"ETag": etag, "Cache-Control": CACHE if current else REVALIDATE}
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    media = "image/jpeg" if relative != facts.path else facts.mime
    return FileResponse(path, media_type=media, headers=headers)
