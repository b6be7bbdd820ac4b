"""``GET /v1/images/{id}?size=``: pictures from the content-addressed store, cached by browsers forever.

Files are named by their content's sha256, so a URL's bytes never change:
the ETag is that hash (+ size) and responses are ``immutable``. The UI asks
for ``thumb`` first and ``medium`` when a work is opened.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import FileResponse

from asterism.api import deps
from asterism.config import Settings
from asterism.home import OutsideHome
from asterism.recommend.service import Service
from asterism.recommend.start import NotFound

router = APIRouter(prefix="/v1/images", tags=["images"])
CACHE = "public, max-age=31536000, immutable"


@router.get("/{artwork:path}", response_class=FileResponse, responses={304: {"description": "unchanged"}})
def image(
    artwork: Annotated[str, Path(min_length=1, max_length=300, description="an id or source:source_id")],
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    size: Annotated[Literal["thumb", "medium", "full"], Query()] = "thumb",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The work's picture at ``thumb`` (256 px), ``medium`` (843 px) or ``full`` size."""
    work = service.artwork(artwork)
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
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    media = "image/jpeg" if relative != facts.path else facts.mime
    return FileResponse(path, media_type=media, headers=headers)
