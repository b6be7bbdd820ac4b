"""``asterism ingest aic|met|met-csv|commons|iiif``: the network sources (and the Met's bulk CSV).

Each command opens its source by name (``sources.registry.open_source``,
which builds the polite client from ``settings``) and hands it to the shared
runner under the source's own checkpoint key, so the same command resumes and
a different query starts its own walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asterism.cli.ingest import Limit, Ocr, Refresh, ingest_app, open_named, run_ingest

PublicDomain = Annotated[
    bool,
    typer.Option(
        "--public-domain/--all-licenses", help="only public-domain works (never fetch images of others)"
    ),
]
BaseUrl = Annotated[str | None, typer.Option(hidden=True, help="API base URL (tests point it at a replay)")]


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
    source = open_named(
        ctx,
        "aic",
        query=query,
        public_domain=public_domain,
        image_size=image_size,
        limit=limit,
        base_url=base_url,
    )
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)


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
    source = open_named(
        ctx,
        "met",
        department_ids=department_id,
        query=query,
        public_domain=public_domain,
        limit=limit,
        base_url=base_url,
    )
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)


@ingest_app.command("met-csv")
def ingest_met_csv(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="MetObjects.csv from github.com/metmuseum/openaccess")],
    public_domain: PublicDomain = True,
    limit: Limit = None,
    refresh: Refresh = False,
) -> None:
    """The Met's Open Access CSV: metadata only (no images), streamed."""
    source = open_named(ctx, "met-csv", path, public_domain=public_domain, limit=limit)
    run_ingest(ctx, source, refresh=refresh)


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
    source = open_named(
        ctx,
        "commons",
        category=category,
        search=search,
        thumb_width=thumb_width,
        limit=limit,
        base_url=base_url,
    )
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)


@ingest_app.command("iiif")
def ingest_iiif(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="a IIIF manifest or collection: URL or JSON file")],
    language: Annotated[str | None, typer.Option(help="label language (default: iiif.language)")] = None,
    canvases: Annotated[
        str | None, typer.Option(help="'work': a manifest is one artwork; 'each': every canvas is one")
    ] = None,
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
) -> None:
    """IIIF Presentation 2/3 manifests and collections (followed recursively, page by page)."""
    source = open_named(ctx, "iiif", target, language=language, canvases=canvases, limit=limit)
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)
