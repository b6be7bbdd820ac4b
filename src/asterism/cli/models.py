"""``asterism models``: see and pull the optional image models (CLIP, SigLIP, DINOv2).

Nothing downloads unless the user names a model here; ``--use`` (the default)
then points the settings at it in ``<home>/asterism.toml``, and the next
``asterism build`` embeds with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from asterism.cli.common import collection, console, fail
from asterism.collection import Collection
from asterism.embed.hub import HubModel, PullError, catalogue, check_local, entry, hub_cache, pull, pulled
from asterism.settings_file import update_settings_file


@contextmanager
def refused() -> Iterator[None]:
    """A model that cannot be pulled or used: ``error: ...`` and exit 2, like ``reported()``."""
    try:
        yield
    except PullError as exc:
        raise fail(exc) from None


def _same(a: Path | None, b: Path) -> bool:
    return a is not None and Path(a).expanduser().resolve() == b.resolve()


def rows(opened: Collection) -> list[dict[str, Any]]:
    """The catalogue with, for each model, whether it is pulled and whether the settings use it."""
    models = opened.settings.models
    have = pulled(opened.home)
    out = []
    for model in catalogue():
        folder = have.get(model.name)
        current = models.dinov2_path if model.kind == "dinov2" else models.clip_path
        out.append(
            {
                "name": model.name,
                "repo_id": model.repo_id,
                "revision": model.revision,
                "kind": model.kind,
                "role": model.role,
                "size_mb": model.size_mb,
                "licence": model.licence,
                "pulled": folder is not None,
                "active": folder is not None and _same(current, folder),
                "path": str(folder) if folder else None,
            }
        )
    return out


def use(opened: Collection, model: HubModel, folder: Path) -> Path:
    """Point ``[models]`` of ``<home>/asterism.toml`` at ``folder``; returns the file."""
    values: dict[str, Any] = {model.setting: str(folder)}
    if model.setting == "clip_path":
        values["conceptual"] = "text+clip"
    return update_settings_file(opened.home.config_file, "models", values)


def register(app: typer.Typer) -> None:
    models_app = typer.Typer(
        help="Optional image models (CLIP, SigLIP, DINOv2): pulled by name, never downloaded on their own.",
        no_args_is_help=True,
    )
    app.add_typer(models_app, name="models")

    @models_app.command("list")
    def list_command(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """The catalogue: which models are pulled, and which the settings use."""
        opened = collection(ctx)
        found = rows(opened)
        settings = opened.settings.models
        if as_json:
            active = {"clip_path": settings.clip_path, "dinov2_path": settings.dinov2_path}
            data = {"models": found, "active": {k: str(v) if v else None for k, v in active.items()}}
            typer.echo(json.dumps(data, indent=2))
            return
        table = Table(title=f"models (cache: {hub_cache(opened.home)})")
        for column in ("name", "kind", "role", "size", "licence", "pulled", "active"):
            table.add_column(column, justify="right" if column == "size" else "left")
        for row in found:
            table.add_row(
                row["name"], row["kind"], row["role"], f"~{row['size_mb']} MB", row["licence"],
                "yes" if row["pulled"] else "", "[green]yes[/]" if row["active"] else "",
            )  # fmt: skip
        console.print(table)
        for setting, value in (("clip_path", settings.clip_path), ("dinov2_path", settings.dinov2_path)):
            if value and not any(_same(value, Path(r["path"])) for r in found if r["path"]):
                console.print(f"models.{setting} = {value} (a local folder)", markup=False)
        if not any(r["active"] for r in found) and not (settings.clip_path or settings.dinov2_path):
            console.print("No optional model in use: try [bold]asterism models pull NAME[/]")

    @models_app.command("pull")
    def pull_command(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="a catalogue name (see `asterism models list`)")],
        path: Annotated[
            Path | None,
            typer.Option("--path", help="use this local checkpoint folder instead of downloading"),
        ] = None,
        use_it: Annotated[
            bool, typer.Option("--use/--no-use", help="point <home>/asterism.toml at the model")
        ] = True,
        endpoint: Annotated[
            str | None, typer.Option("--endpoint", envvar="HF_ENDPOINT", help="model hub URL (a mirror)")
        ] = None,
    ) -> None:
        """Download a model of the catalogue (resumable, checksummed) or check a local one, and use it."""
        opened = collection(ctx)
        with refused():
            model = entry(name)
            if path is not None:
                folder = check_local(name, path)
                console.print(f"{name}: local checkpoint {folder}", markup=False)
            else:
                console.print(
                    f"pulling {name} ({model.repo_id}, ~{model.size_mb} MB, {model.licence}) "
                    f"into {hub_cache(opened.home)}",
                    markup=False,
                )
                folder = _pull(opened, name, endpoint)
                console.print(f"{name}: verified, in {folder}", markup=False)
        if use_it:
            written = use(opened, model, folder)
            console.print(f"models.{model.setting} set in {written}: rebuild to embed with it", markup=False)


def _pull(opened: Collection, name: str, endpoint: str | None) -> Path:
    """``pull`` with a live progress line on a terminal, and plain messages elsewhere."""
    if not console.is_terminal:
        return pull(opened.home, name, endpoint=endpoint)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("downloading", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        return pull(opened.home, name, endpoint=endpoint, progress=progress)
