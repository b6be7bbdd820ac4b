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
from asterism.recommend.service import Service
from asterism.recommend.start import NotFound

router = APIRouter(prefix="/v1/images", tags=["images"])
CACHE = "public, max-age=31536000, immutable"


@router.get("/{artwork_id}", response_class=FileResponse, responses={304: {"description": "unchanged"}})
def image(
    artwork_id: Annotated[int, Path(ge=1, le=2**62)],
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    size: Annotated[Literal["thumb", "medium", "full"], Query()] = "thumb",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The work's picture at ``thumb`` (256 px), ``medium`` (843 px) or ``full`` size."""
    artwork = service.recommender.catalogue.get(artwork_id)
    if artwork is None or artwork.image is None:
        raise NotFound(f"no image for artwork {artwork_id}")
    facts = artwork.image
    relative = facts.path if size == "full" else facts.thumbs.get(size) or facts.path
    path = (settings.home / relative).resolve()
    if not path.is_file() or settings.home.resolve() not in path.parents:
        raise NotFound(f"the image file of artwork {artwork_id} is missing")
    etag = f'"{facts.sha256[:32]}-{size}"'
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    media = "image/jpeg" if relative != facts.path else facts.mime
    return FileResponse(path, media_type=media, headers=headers)
