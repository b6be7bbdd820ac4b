"""``asterism recommend``, ``connect``, ``graph stats`` and ``graph export-neo4j``: the built collection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from asterism.cli.common import collection, console, fail, reported
from asterism.recommend.query import BROADEN_SHARE
from asterism.shapes import RecommendationPage

if TYPE_CHECKING:
    from asterism.recommend.prose import Prose

graph_app = typer.Typer(help="The affinity graph.", no_args_is_help=True)


def _print_page(page: RecommendationPage, prose: list[Prose] | None = None) -> None:
    found = page.recognised
    if found is not None:
        work = found.artwork
        made = ", ".join(x for x in (work.artist_name, work.date_display) if x)
        console.print(
            f"Recognised: {work.title or 'Untitled'}{f' ({made})' if made else ''}, #{work.id} "
            f"(confidence {found.confidence:.2f}, {found.inliers} matching points): its own recommendations",
            markup=False,
        )
    title = (
        f"start: #{page.start_id} {page.start_title or ''}" if page.start_id else "start: uploaded picture"
    )
    console.print(f"[bold]{title}[/]  (of {page.candidates} candidates; weights {page.weights})")
    if page.inferred_history:
        console.print(f"  history: {page.inferred_history}")
    for index, item in enumerate(page.results):
        console.print(
            f"\n[bold]{item.rank}. #{item.artwork.id}[/] {item.attribution}  score {item.score:.3f}"
        )
        if prose and index < len(prose):
            console.print(f"   {prose[index].text}", markup=False)
        for name, reason in (
            ("Formal", item.formal),
            ("Conceptual", item.conceptual),
            ("Historical", item.historical),
        ):
            why = "; ".join(reason.reasons) or "no shared feature to name"
            console.print(f"   {name} {reason.score:.2f} – {why}", markup=False)
        if item.source_url:
            console.print(f"   {item.source_url}", markup=False)


def _prose(ctx: typer.Context, page: RecommendationPage) -> list[Prose]:
    from asterism.recommend.prose import Narrator, explain_page

    opened = collection(ctx)
    service = opened.service()
    narrator = Narrator(opened.settings.prose)
    try:
        return explain_page(narrator, page, service.catalogue, service.knowledge)
    finally:
        narrator.close()


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")

    @app.command()
    def recommend(
        ctx: typer.Context,
        artwork: Annotated[
            str | None, typer.Option("--id", help="start from this work: an id (40) or source:source_id")
        ] = None,
        image: Annotated[
            Path | None, typer.Option("--image", exists=True, dir_okay=False, help="start from a picture")
        ] = None,
        k: Annotated[int, typer.Option("--k", min=1, max=100)] = 10,
        page: Annotated[int, typer.Option(min=0, max=50)] = 0,
        weights: Annotated[str | None, typer.Option(help="formal=0.6,conceptual=0.2,historical=0.2")] = None,
        filters: Annotated[
            list[str] | None,
            typer.Option(
                "--filter", help="date=1850..1900, source=aic, license=CC0-1.0, type=Painting, has_image=yes"
            ),
        ] = None,
        diversity: Annotated[float, typer.Option(min=0.0, max=1.0, help="MMR trade-off, 0 = off")] = 0.0,
        broaden: Annotated[
            bool, typer.Option("--broaden", help="at most half the page from one culture or one century")
        ] = False,
        max_share: Annotated[
            float | None, typer.Option(min=0.01, max=1.0, help="broaden with this share instead of a half")
        ] = None,
        alpha: Annotated[float | None, typer.Option(help="weight of the vector similarity")] = None,
        beta: Annotated[float | None, typer.Option(help="weight of the graph links")] = None,
        recognise: Annotated[
            bool, typer.Option(help="answer a photo of a stored work as that work (--no-recognise: by image)")
        ] = True,
        prose: Annotated[
            bool, typer.Option("--prose", help="a sentence or two per result (model or template)")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Related works for a stored work or a picture, with three scores, reasons and attribution."""
        if (artwork is None) == (image is None):
            raise fail("give exactly one start: --id ID (or source:source_id) or --image PATH")
        with reported():
            result = collection(ctx).recommend(
                artwork, image_path=image, weights=weights, filters=filters or [], k=k, page=page,
                diversity=diversity, alpha=alpha, beta=beta, recognise=recognise,
                max_share=max_share if max_share is not None else BROADEN_SHARE if broaden else None,
            )  # fmt: skip
        written = _prose(ctx, result) if prose else None
        if as_json and written is not None:
            data = result.model_dump(mode="json")
            for item, text in zip(data["results"], written, strict=False):
                item["prose"] = {"text": text.text, "source": text.source}
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        elif as_json:
            typer.echo(result.model_dump_json(indent=2))
        else:
            _print_page(result, written)

    @app.command()
    def search(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help="title or artist words, or a description of a picture")],
        pictures: Annotated[
            bool,
            typer.Option("--pictures", help="pictures that fit the words (needs a pulled image–text model)"),
        ] = False,
        limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Find a start: works by title or artist, or (``--pictures``) by what their picture shows."""
        opened = collection(ctx)
        with reported():
            found = (
                opened.search_pictures(text, limit)
                if pictures
                else [(work, None) for work in opened.search(text, limit)]
            )
        if as_json:
            rows = [
                {"id": w.id, "ref": w.ref, "title": w.title, "artist": w.artist_name, "score": s}
                for w, s in found
            ]
            typer.echo(json.dumps(rows, indent=2))
            return
        for work, score in found:
            shown = f"  ({score:.3f})" if score is not None else ""
            console.print(
                f"#{work.id} {work.ref}  {work.artist_name or ''} – {work.title}{shown}", markup=False
            )
        if not found:
            console.print("nothing found")

    @app.command()
    def connect(
        ctx: typer.Context,
        start: Annotated[str, typer.Argument(help="the work to start from: an id or source:source_id")],
        end: Annotated[str, typer.Argument(help="the work to reach: an id or source:source_id")],
        max_hops: Annotated[int, typer.Option(min=1, max=6)] = 6,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """The shortest chain of affinity edges and artist links from one artwork to another."""
        with reported():
            steps = collection(ctx).connect(start, end, max_hops)
        if as_json:
            found = [s.model_dump() for s in steps or []]
            typer.echo(
                json.dumps({"from": start, "to": end, "found": steps is not None, "steps": found}, indent=2)
            )
            return
        if steps is None:
            console.print(f"no chain of at most {max_hops} steps joins {start} and {end}", markup=False)
            raise typer.Exit(1)
        for number, step in enumerate(steps, start=1):
            console.print(
                f"{number}. {step.source} → {step.target}: {step.relation} – {step.reason}", markup=False
            )


@graph_app.command("stats")
def graph_stats(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Nodes and edges per type, average degree, isolated nodes, connected components."""
    opened = collection(ctx)
    with reported():
        data = opened.graph_stats()
    counts = data["counts"]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title=f"graph ({opened.settings.graph.backend})")
    table.add_column("nodes / edges")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"similarity graph: average degree {data['average_degree']:.1f}, "
        f"{data['isolated']} isolated works, {data['components']} connected components"
    )


@graph_app.command("export-neo4j")
def graph_export_neo4j(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="folder for the CSV files (new or empty)")],
    gzip: Annotated[
        bool, typer.Option("--gzip/--no-gzip", help="write .csv.gz (neo4j-admin reads them)")
    ] = True,
    database: Annotated[
        str, typer.Option(help="the Neo4j database the written command imports into")
    ] = "neo4j",
    force: Annotated[bool, typer.Option("--force", help="write into a folder that is not empty")] = False,
) -> None:
    """The graph as CSV for `neo4j-admin database import full`; the exact command goes in DIR/README.md."""
    with reported():
        done = collection(ctx).export_neo4j(directory, compress=gzip, database=database, overwrite=force)
    nodes = ", ".join(f"{count:,} {name}" for name, count in done.nodes.items())
    edges = sum(done.relationships.values())
    console.print(
        f"{nodes} nodes, {edges:,} relationships in {done.seconds:.1f} s under {done.directory}",
        markup=False,
        soft_wrap=True,
    )
    console.print("import with (also in import.sh, notes in README.md):", markup=False)
    console.print(done.command, markup=False, highlight=False, soft_wrap=True)  # copied as printed


def register_serve(app: typer.Typer) -> None:
    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
        workers: Annotated[
            int, typer.Option(min=1, max=32, help="server processes (each loads the collection)")
        ] = 1,
    ) -> None:
        """The HTTP API and the web UI (open http://HOST:PORT/, API docs at /docs)."""
        import os

        import uvicorn

        from asterism.api.app import create_app

        settings = collection(ctx).settings
        console.print(f"Asterism at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
            return
        os.environ["ASTERISM_HOME"] = str(
            settings.home
        )  # the workers read their settings from the environment
        uvicorn.run(
            "asterism.api.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
            log_level="info",
        )  # fmt: skip
