"""``asterism ingest aic|met|met-csv|commons``: the network sources (and the Met's bulk CSV).

Each command builds a polite client from ``settings.http`` and hands the
source to the shared runner; the checkpoint key names the query, so the same
command resumes and a different query starts its own walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asterism.cli.ingest import Limit, Ocr, Refresh, console, ingest_app, run_ingest
from asterism.config import Settings
from asterism.sources.aic import API as AIC_API
from asterism.sources.aic import AicSource, aic_headers
from asterism.sources.base import SourceError
from asterism.sources.commons import API as COMMONS_API
from asterism.sources.commons import CommonsSource
from asterism.sources.http import PoliteClient
from asterism.sources.met import API as MET_API
from asterism.sources.met import MetSource
from asterism.sources.met_csv import MetCsvSource

PublicDomain = Annotated[
    bool,
    typer.Option(
        "--public-domain/--all-licenses", help="only public-domain works (never fetch images of others)"
    ),
]
BaseUrl = Annotated[str | None, typer.Option(hidden=True, help="API base URL (tests point it at a replay)")]


def _fail(exc: SourceError) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(2)


@ingest_app.command("aic")
def ingest_aic(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Option(help="full-text search, e.g. 'impressionism'")] = None,
    public_domain: PublicDomain = True,
    image_size: Annotated[str, typer.Option(help="IIIF size, e.g. '843,' or '400,'")] = "843,",
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
    base_url: BaseUrl = None,
) -> None:
    """Art Institute of Chicago API (+ IIIF images), politely: 1 request/s by default."""
    settings: Settings = ctx.obj
    source = AicSource(
        PoliteClient(settings.http, headers=aic_headers(settings.http)),
        query=query,
        public_domain=public_domain,
        limit=limit,
        image_size=image_size,
        base_url=base_url or AIC_API,
    )
    key = f"aic:{query or 'all'}:{'pd' if public_domain else 'all'}"
    run_ingest(settings, source, key, refresh=refresh, ocr=ocr)


@ingest_app.command("met")
def ingest_met(
    ctx: typer.Context,
    department_id: Annotated[list[int] | None, typer.Option(help="Met department id (repeatable)")] = None,
    query: Annotated[str | None, typer.Option(help="search (objects with images only)")] = None,
    public_domain: PublicDomain = True,
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
    base_url: BaseUrl = None,
) -> None:
    """The Met Collection API: a department or a search."""
    settings: Settings = ctx.obj
    try:
        source = MetSource(
            PoliteClient(settings.http),
            department_ids=department_id,
            query=query,
            public_domain=public_domain,
            limit=limit,
            base_url=base_url or MET_API,
        )
    except SourceError as exc:
        raise _fail(exc) from None
    scope = query or "+".join(str(d) for d in department_id or [])
    run_ingest(settings, source, f"met:{scope}:{'pd' if public_domain else 'all'}", refresh=refresh, ocr=ocr)


@ingest_app.command("met-csv")
def ingest_met_csv(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="MetObjects.csv from github.com/metmuseum/openaccess")],
    public_domain: PublicDomain = True,
    limit: Limit = None,
    refresh: Refresh = False,
) -> None:
    """The Met's Open Access CSV: metadata only (no images), streamed."""
    settings: Settings = ctx.obj
    try:
        source = MetCsvSource(path, public_domain=public_domain, limit=limit)
    except SourceError as exc:
        raise _fail(exc) from None
    run_ingest(settings, source, f"met-csv:{path.name}:{'pd' if public_domain else 'all'}", refresh=refresh)


@ingest_app.command("commons")
def ingest_commons(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="a category, e.g. 'Paintings by Claude Monet'")] = None,
    search: Annotated[str | None, typer.Option(help="a full-text search in the File namespace")] = None,
    thumb_width: Annotated[int, typer.Option(help="thumbnail width to download")] = 843,
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
    base_url: BaseUrl = None,
) -> None:
    """Wikimedia Commons: the files of one category or one search (never all of Commons)."""
    settings: Settings = ctx.obj
    try:
        source = CommonsSource(
            PoliteClient(settings.http),
            category=category,
            search=search,
            limit=limit,
            thumb_width=thumb_width,
            base_url=base_url or COMMONS_API,
        )
    except SourceError as exc:
        raise _fail(exc) from None
    run_ingest(settings, source, f"commons:{category or search}", refresh=refresh, ocr=ocr)
