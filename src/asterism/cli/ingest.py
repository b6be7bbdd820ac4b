"""``asterism ingest SOURCE ...``: one sub-command per source, one shared runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from asterism.cli import common
from asterism.cli.common import errors as console
from asterism.cli.common import fail, reported
from asterism.shapes import IngestReport
from asterism.sources.base import Source, SourceError
from asterism.sources.registry import open_source

ingest_app = typer.Typer(help="Import artworks from a source into the property store.", no_args_is_help=True)

Refresh = Annotated[bool, typer.Option("--refresh", help="ignore checkpoints and re-check every record")]
Limit = Annotated[int | None, typer.Option(help="stop after this many records")]
Ocr = Annotated[
    bool | None,
    typer.Option(
        "--ocr/--no-ocr",
        help="read text in the new pictures now (default: as ocr.mode says; --no-ocr leaves it to the build)",
    ),
]


def open_named(ctx: typer.Context, name: str, *args: Any, **options: Any) -> Source:
    """The source by name with its arguments; a bad argument exits with status 2 and says why."""
    try:
        return open_source(name, common.collection(ctx).settings, *args, **options)
    except SourceError as exc:
        raise fail(exc) from None


def run_ingest(
    ctx: typer.Context, source: Source, *, refresh: bool = False, ocr: bool | None = None
) -> IngestReport:
    """Run one source into the collection with a progress bar; prints a summary."""
    total = getattr(source, "total", None)
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns += [TextColumn("{task.fields[detail]}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"ingest {source.name}", total=total, detail="")

        def update(report: IngestReport) -> None:
            detail = (
                f"stored {report.stored} · images {report.images_processed} · skipped {report.skipped}"
                f" · failed {report.failed} · {report.images_per_second:.0f} img/s"
            )
            progress.update(task, completed=report.seen, detail=detail)

        with reported():
            report = common.collection(ctx).ingest(source, refresh=refresh, ocr=ocr, progress=update)
    console.print(
        f"{report.source}: {report.seen} seen, {report.stored} stored, {report.skipped} unchanged, "
        f"{report.images_processed} new images, {report.excluded} excluded, {report.failed} failed, "
        f"{report.duplicates} duplicates, {report.near_duplicates} near-duplicates "
        f"in {report.seconds:.1f}s ({report.records_per_second:.0f} records/s)"
    )
    if report.ocr_read or report.ocr_skipped:
        console.print(
            f"ocr: {report.ocr_skipped} pictures without writing skipped, {report.ocr_read} read, "
            f"{report.ocr_found} with text in {report.ocr_seconds:.1f}s"
        )
    for problem in report.problems[:10]:
        console.print(f"  {problem.source_id}: {problem.reason}", markup=False)
    return report


@ingest_app.command("local")
def ingest_local(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="folder with records.jsonl/csv")
    ],
    collection: Annotated[str | None, typer.Option(help="collection name (default: folder name)")] = None,
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
) -> None:
    """A folder of images with records.jsonl or records.csv (format in the README)."""
    source = open_named(ctx, "local", folder, collection=collection, limit=limit)
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)


@ingest_app.command("sample")
def ingest_sample(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="shared/data/aic-paintings or aic-objects")
    ],
    limit: Limit = None,
    refresh: Refresh = False,
    ocr: Ocr = None,
) -> None:
    """One of the bundled sample sets (aic-paintings, aic-objects)."""
    source = open_named(ctx, "sample", folder, limit=limit)
    run_ingest(ctx, source, refresh=refresh, ocr=ocr)
