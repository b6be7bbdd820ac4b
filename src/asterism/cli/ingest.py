"""``asterism ingest SOURCE ...``: one sub-command per source, one shared runner."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from asterism.config import Settings
from asterism.images.store import ContentStore
from asterism.ingest.harvest import HarvestOptions
from asterism.ingest.pipeline import IngestLocked, Ingestor
from asterism.shapes import IngestReport
from asterism.sources.base import Source, SourceError
from asterism.sources.local import LocalSource
from asterism.sources.samples import sample_source
from asterism.store import open_store

ingest_app = typer.Typer(help="Import artworks from a source into the property store.", no_args_is_help=True)
console = Console(stderr=True)

Refresh = Annotated[bool, typer.Option("--refresh", help="ignore checkpoints and re-check every record")]
Limit = Annotated[int | None, typer.Option(help="stop after this many records")]
Ocr = Annotated[
    bool | None, typer.Option("--ocr/--no-ocr", help="run Tesseract (default: settings.ocr.mode)")
]


def run_ingest(
    settings: Settings, source: Source, checkpoint_key: str, *, refresh: bool = False, ocr: bool | None = None
) -> IngestReport:
    """Run one source into the store with a progress bar; prints a summary."""
    store = open_store(settings)
    content = ContentStore(settings.home, settings.images.thumb_sizes, settings.images.jpeg_quality)
    ingestor = Ingestor(
        settings, store, content, HarvestOptions.from_settings(settings, ocr), refresh=refresh
    )
    total = getattr(source, "total", None)
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns += [TextColumn("{task.fields[detail]}"), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"ingest {source.name}", total=total, detail="")

            def update(report: IngestReport) -> None:
                detail = (
                    f"stored {report.stored} · images {report.images_processed} · skipped {report.skipped}"
                    f" · failed {report.failed} · {report.images_per_second:.0f} img/s"
                )
                progress.update(task, completed=report.seen, detail=detail)

            async def go() -> IngestReport:
                try:
                    return await ingestor.run(source, checkpoint_key, update)
                finally:
                    await source.aclose()

            report = asyncio.run(go())
    except IngestLocked as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except SourceError as exc:
        console.print(f"[red]error:[/] {exc}\nRe-run the same command to resume from the last stored page.")
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(
        f"{report.source}: {report.seen} seen, {report.stored} stored, {report.skipped} unchanged, "
        f"{report.images_processed} new images, {report.excluded} excluded, {report.failed} failed, "
        f"{report.duplicates} duplicates, {report.near_duplicates} near-duplicates "
        f"in {report.seconds:.1f}s ({report.records_per_second:.0f} records/s)"
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
    settings: Settings = ctx.obj
    try:
        source = LocalSource(folder, collection=collection, page_size=settings.batch_size, limit=limit)
    except SourceError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    run_ingest(settings, source, f"local:{source.collection}", refresh=refresh, ocr=ocr)


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
    settings: Settings = ctx.obj
    try:
        source = sample_source(folder, page_size=settings.batch_size, limit=limit)
    except SourceError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    run_ingest(settings, source, f"local:{source.collection}", refresh=refresh, ocr=ocr)
