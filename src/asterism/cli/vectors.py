"""``asterism vectors import``: a vector space computed elsewhere (a GPU machine, a museum's own embeddings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asterism.cli.common import collection, console, reported


def register(app: typer.Typer) -> None:
    vectors_app = typer.Typer(help="Vector spaces computed elsewhere.", no_args_is_help=True)
    app.add_typer(vectors_app, name="vectors")

    @vectors_app.command("import")
    def import_command(
        ctx: typer.Context,
        path: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, help="a .npy (with --ids) or .parquet")
        ],
        space: Annotated[str, typer.Option("--space", help="a name for this vector space, e.g. openclip")],
        ids: Annotated[
            Path | None,
            typer.Option(
                exists=True, dir_okay=False, help="for .npy: one source:source_id, id or sha256 a line"
            ),
        ] = None,
        model: Annotated[
            str | None,
            typer.Option(help="the model that computed them (uploads need it), e.g. openclip-vit-b-32"),
        ] = None,
        serve: Annotated[
            str | None,
            typer.Option(help="serve this affinity from the space (formal, conceptual, historical)"),
        ] = None,
    ) -> None:
        """Store the vectors for the works they name; optionally serve an affinity from them."""
        with reported():
            report = collection(ctx).import_vectors(path, space, ids=ids, model=model, serve=serve)
        console.print(
            f"space {report.space}: {report.rows} rows of {report.dim} dimensions, {report.works} works "
            f"covered, {len(report.unmatched)} rows naming no stored work",
            markup=False,
        )
        for key in report.unmatched[:5]:
            console.print(f"  not found: {key}", markup=False)
        if serve:
            console.print(f"the {serve} affinity is served from it: run `asterism build`", markup=False)
