"""``asterism``: the command line, a thin face over the library (``asterism.Collection``).

Each command parses its options, calls one method of the collection the
global ``--home`` opened, and prints; no logic lives here that a Python user
could not reach with ``asterism.open(home)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from asterism.cli import audit as audit_commands
from asterism.cli import build as build_commands
from asterism.cli import cost as cost_commands
from asterism.cli import evaluate as eval_commands
from asterism.cli import explore as explore_commands
from asterism.cli import ingest_network  # noqa: F401  (registers the network sources)
from asterism.cli import models as models_commands
from asterism.cli import portable as portable_commands
from asterism.cli import vectors as vectors_commands
from asterism.cli.common import collection, console, reported
from asterism.cli.ingest import ingest_app
from asterism.collection import Collection
from asterism.config import load_settings

app = typer.Typer(
    help="Asterism: explore open-access art collections from a picture.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(ingest_app, name="ingest")
build_commands.register(app)
explore_commands.register(app)
explore_commands.register_serve(app)
eval_commands.register(app)
vectors_commands.register(app)
models_commands.register(app)
portable_commands.register(app)
cost_commands.register(app)
audit_commands.register(app)


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="ASTERISM_HOME", help="data home (default ./asterism-data)"),
    ] = None,
) -> None:
    """Global options shared by every command."""
    if ctx.invoked_subcommand == "cost":  # a price list, no collection: not even its settings file
        return
    with reported():
        opened = Collection(load_settings(home=home))
    ctx.obj = opened
    ctx.call_on_close(opened.close)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print machine-readable JSON")] = False,
) -> None:
    """Counts of artworks by source, license and status."""
    with reported():
        data = collection(ctx).stats()
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    console.print(
        f"[bold]{data['artworks']}[/] artworks, {data['images']} images, "
        f"{data['near_duplicates']} linked duplicates, {data['problems']} problems"
    )
    for key, title in (("by_source_status", "source/status"), ("by_license", "license")):
        table = Table(title=title)
        table.add_column(title)
        table.add_column("count", justify="right")
        for name, count in data[key].items():
            table.add_row(name, str(count))
        console.print(table)


@app.command()
def problems(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bad items reported by ingests, one line each with its reason."""
    with reported():
        items = collection(ctx).problems(source)
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in items], indent=2))
        return
    for p in items:
        console.print(f"{p.source}:{p.source_id} [{p.stage}] {p.reason}", markup=False)
    console.print(f"{len(items)} problem(s)")


if __name__ == "__main__":  # pragma: no cover
    app()
