"""``asterism eval``: relevance metrics of every method on the built collection."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from asterism.eval.report import markdown, write
from asterism.eval.runner import evaluate
from asterism.recommend.query import QueryError
from asterism.recommend.service import open_service

console = Console()


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        ctx: typer.Context,
        by_image: Annotated[
            int, typer.Option(min=0, max=2000, help="queries by re-encoded image (0: none)")
        ] = 40,
        as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    ) -> None:
        """Recall@K, MRR, nDCG, coverage, diversity and latency per relevance notion and method."""
        try:
            service = open_service(ctx.obj)
        except QueryError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        try:
            summary = evaluate(service, by_image=by_image).summary()
        finally:
            service.close()
        folder = write(summary, ctx.obj.home)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
        else:
            console.print(markdown(summary), markup=False)
        Console(stderr=True).print(f"report, JSON and plots in {folder}")
