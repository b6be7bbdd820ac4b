"""``asterism build`` / ``embed`` / ``index``: the representation stages, with progress bars."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from asterism.cli.common import collection, reported
from asterism.cli.common import errors as console
from asterism.collection import Collection
from asterism.stages.runner import BuildReport

Painters = Annotated[
    Path | None,
    typer.Option(
        envvar="ASTERISM_PAINTERS_CSV",
        exists=True,
        dir_okay=False,
        help="PainterPalette.csv, to seed the knowledge graph (artists, movements, influences)",
    ),
]


def _run(opened: Collection, painters: Path | None, stages: tuple[str, ...]) -> BuildReport:
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"embed {stage}", total=total)
            progress.update(tasks[stage], completed=done, total=total)

        with reported():
            report = opened.build(painters=painters, stages=stages, progress=update)
    embed = report.embed
    if "embed" in stages:
        console.print(
            f"embed: {report.artworks} works; {embed.images} images ({embed.images_per_second:.0f}/s), "
            f"{embed.conceptual} conceptual, {embed.historical} historical vectors updated"
        )
        for sha, reason in embed.image_failures[:10]:
            console.print(f"  image {sha[:12]}: {reason}", markup=False)
    if report.index is not None:
        states = ", ".join(
            f"{name} {state} ({report.index.sizes[name]})" for name, state in report.index.built.items()
        )
        console.print(f"index: {states or 'no vectors yet'}")
    if report.graph is not None:
        states = ", ".join(f"{name} {state}" for name, state in report.graph.built.items())
        rate = f" at {report.graph.edges_per_second:,.0f} edges/s" if report.graph.edges_per_second else ""
        console.print(f"graph: {states}{rate}; knowledge graph {report.graph.knowledge}")
    if report.recognition is not None:
        done = report.recognition
        console.print(
            f"recognition: {done.works} works ({done.computed} described, {done.reused} unchanged) "
            f"in {done.seconds:.1f} s"
        )
        for artwork_id, reason in done.failures[:10]:
            console.print(f"  artwork {artwork_id}: {reason}", markup=False)
    if not report.changed:
        console.print("everything is up to date")
    return report


def register(app: typer.Typer) -> None:
    @app.command()
    def build(ctx: typer.Context, painters: Painters = None) -> None:
        """Run every stage that is out of date: embeddings, indexes, the affinity graph, recognition data."""
        _run(collection(ctx), painters, ("embed", "index", "graph", "recognition"))

    @app.command()
    def embed(ctx: typer.Context, painters: Painters = None) -> None:
        """Compute the formal, conceptual and historical vectors that are missing or stale."""
        _run(collection(ctx), painters, ("embed",))

    @app.command()
    def index(ctx: typer.Context) -> None:
        """Bring the FAISS indexes up to date with the stored vectors."""
        _run(collection(ctx), None, ("index",))
