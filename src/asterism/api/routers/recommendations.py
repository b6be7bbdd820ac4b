"""``POST /v1/recommendations``: from an artwork id (JSON) or an uploaded picture (multipart form)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from asterism.api import deps
from asterism.api.bodies import check_length, read_form
from asterism.api.cache import Cache, cache_key
from asterism.api.errors import describe
from asterism.api.limits import Limits
from asterism.api.metrics import Metrics
from asterism.api.prose import with_prose
from asterism.api.schemas import Options, PageOut, RecommendIn
from asterism.api.uploads import keep_upload
from asterism.config import Settings
from asterism.recommend.query import Filters, parse_weights
from asterism.recommend.query import Query as Question
from asterism.recommend.service import Service

router = APIRouter(prefix="/v1", tags=["recommendations"])
UPLOAD_PATHS = ("/v1/recommendations",)  # where a multipart body may be as large as an upload form

UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or TIFF, ≤ 20 MB"},
        "weights": {"type": "string", "description": 'JSON, e.g. {"formal": 0.6, "conceptual": 0.2}'},
        "filters": {"type": "string", "description": "JSON: date_from, date_to, sources, licenses, ..."},
        "k": {"type": "integer", "minimum": 1, "maximum": 100},
        "page": {"type": "integer", "minimum": 0, "maximum": 50},
        "diversity": {"type": "number", "minimum": 0, "maximum": 1},
        "max_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "broaden"},
        "recognise": {
            "type": "boolean",
            "description": "answer a photo of a stored work as that work (default true)",
        },
        "prose": {"type": "boolean", "description": "add a sentence or two per result (default false)"},
    },
}
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/RecommendIn"}},
            "multipart/form-data": {"schema": UPLOAD_FORM},
        },
    }
}


def to_query(
    options: Options,
    settings: Settings,
    *,
    artwork_id: int | None = None,
    image: bytes | None = None,
    recognise: bool = True,
) -> Question:
    """Validated request options as a recommender ``Query`` (a QueryError is a 400)."""
    weights = options.weights.model_dump(exclude_none=True) if options.weights else None
    f = options.filters
    return Question(
        artwork_id=artwork_id,
        image=image,
        weights=parse_weights(weights, settings.recommend.upload_weights if image else settings.weights)
        if weights
        else None,
        k=options.k,
        page=options.page,
        alpha=options.alpha,
        beta=options.beta,
        diversity=options.diversity,
        max_share=options.max_share,
        filters=Filters(
            date_from=f.date_from if f else None,
            date_to=f.date_to if f else None,
            sources=frozenset(f.sources) if f and f.sources is not None else None,
            licenses=frozenset(f.licenses) if f and f.licenses is not None else None,
            classifications=frozenset(f.classifications) if f and f.classifications is not None else None,
            has_image=f.has_image if f else None,
        ),
        recognise=recognise,
    )


def _form_options(form: dict[str, str]) -> Options:
    raw: dict[str, Any] = {}
    for name in ("weights", "filters"):
        text = form.get(name)
        if text:
            try:
                raw[name] = json.loads(str(text))
            except json.JSONDecodeError:
                raise HTTPException(422, f"{name}: not valid JSON") from None
            except (RecursionError, ValueError):  # nested too deep, or an integer of thousands of digits
                raise HTTPException(422, f"{name}: JSON nested too deep or with a number too long") from None
    for name in ("k", "page", "diversity", "max_share"):
        if form.get(name) not in (None, ""):
            raw[name] = form.get(name)
    try:
        return Options.model_validate(raw)
    except ValidationError as exc:
        raise HTTPException(422, describe(list(exc.errors()), limit=1)) from None


def _flag(value: Any, name: str, *, default: bool) -> bool:
    if value in (None, ""):
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise HTTPException(422, f"{name}: expected true or false, got {text[:20]!r}")


async def _by_upload(
    request: Request, service: Service, settings: Settings, cache: Cache
) -> tuple[bytes, str, bool]:
    """The answer to an upload form, whether the cache had it, and if it asked for prose."""
    form = await read_form(request, settings.api)
    data = form.files.get("image")
    if data is None:
        raise HTTPException(422, "image: a file field named 'image' is required")
    if not data:
        raise HTTPException(400, "bad image: empty file (0 bytes)")
    options = _form_options(form.fields)
    recognise = _flag(form.fields.get("recognise"), "recognise", default=True)
    query = to_query(options, settings, image=data, recognise=recognise)
    key = cache_key(service.version, "image", {**options.model_dump(), "recognise": recognise}, data)
    if not settings.api.store_uploads and (answer := cache.get(key)) is not None:
        return answer, "hit", _flag(form.fields.get("prose"), "prose", default=False)
    page = await run_in_threadpool(service.recommend_upload, query, settings.api)
    if settings.api.store_uploads:
        await run_in_threadpool(keep_upload, settings, data)
    answer = PageOut.of(page).model_dump_json().encode()
    cache.set(key, answer)
    return answer, "miss", _flag(form.fields.get("prose"), "prose", default=False)


@router.post("/recommendations", response_model=PageOut, openapi_extra=REQUEST_BODY)
async def recommend(
    request: Request,
    service: Annotated[Service, Depends(deps.service)],
    settings: Annotated[Settings, Depends(deps.settings)],
    metrics: Annotated[Metrics, Depends(deps.metrics)],
    cache: Annotated[Cache, Depends(deps.cache)],
    limits: Annotated[Limits, Depends(deps.limits)],
    prose: Annotated[
        bool, Query(description="add a sentence or two per result (also a JSON field or a form field)")
    ] = False,
) -> Response:
    """Related works with three scores, their reasons, thumbnails, attribution and license.

    Send JSON ``{"artwork_id": 123, ...options}`` to start from a stored work, or a
    multipart form with an ``image`` file (and options as form fields) to start from a picture.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    started = time.perf_counter()
    if kind == "multipart/form-data":
        # Cheapest refusals first, all before a byte of the body is read: a declared size over
        # the cap (413), the client's upload rate (429), then a slot among the uploads being
        # read and decoded at once (503 after api.upload_wait): see api/limits.py.
        check_length(request)
        limits.check(limits.uploads, request, "uploads")
        async with limits.upload_slot():
            answer, hit, asked = await _by_upload(request, service, settings, cache)
        label, prose = "image", prose or asked
    elif kind == "application/json":
        try:
            body = RecommendIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(422, describe(list(exc.errors()), limit=1)) from None
        query = to_query(body, settings, artwork_id=service.resolve(body.artwork_id))
        key = cache_key(service.version, "id", body.model_dump(exclude={"prose"}))
        label, prose = "id", prose or body.prose
        if (cached := cache.get(key)) is None:
            page = await run_in_threadpool(service.recommend, query)
            answer = PageOut.of(page).model_dump_json().encode()
            cache.set(key, answer)
            hit = "miss"
        else:
            answer, hit = cached, "hit"
    else:
        raise HTTPException(
            415, "send application/json with an artwork_id, or multipart/form-data with an image"
        )
    if prose:  # on the page, cached or not: prose has its own cache and time budget
        answer = await with_prose(answer, request.app.state, service, settings)
    metrics.recommendations.labels(label).observe(time.perf_counter() - started)
    return Response(answer, media_type="application/json", headers={"X-Cache": hit})
