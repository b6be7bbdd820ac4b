"""``asterism eval``: relevance metrics of every method on the built collection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from asterism.eval.reference import clip_reference as clip_reference_scores
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
        clip_reference: Annotated[
            Path | None,
            typer.Option(
                exists=True, file_okay=False, help="aic-objects folder with openclip_vitb32_embeddings.npy"
            ),
        ] = None,
    ) -> None:
        """Recall@K, MRR, nDCG, coverage, diversity and latency per relevance notion and method."""
        try:
            service = open_service(ctx.obj)
        except QueryError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        try:
            summary = evaluate(service, by_image=by_image).summary()
            if clip_reference is not None:
                reference = clip_reference_scores(service, clip_reference)
                summary["queries"]["clip reference"] = reference["matched"]
                summary["scores"]["id, CLIP-covered works"] = reference["scores"]
        finally:
            service.close()
        folder = write(summary, ctx.obj.home)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
        else:
            console.print(markdown(summary), markup=False)
        Console(stderr=True).print(f"report, JSON and plots in {folder}")
