"""``asterism export`` / ``restore`` / ``migrate``: data that outlives the machine (``asterism.portable``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asterism.cli.common import collection, console, reported
from asterism.collection import Collection
from asterism.config import load_settings


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_command(
        ctx: typer.Context,
        folder: Annotated[Path, typer.Argument(help="a new or empty folder")],
        images: Annotated[
            bool, typer.Option("--images", help="copy the pictures and thumbnails too")
        ] = False,
    ) -> None:
        """Write the collection as Parquet, vectors, graph and a manifest of checksums."""
        with reported():
            report = collection(ctx).export(folder, images=images)
        counts = report.counts
        console.print(
            f"exported {counts.get('artworks', 0)} artworks, {sum(counts.get('vectors', {}).values())} vectors, "
            f"{sum(counts.get('edges', {}).values())} edges into {report.folder}: {report.files} files, "
            f"{report.bytes / 1e6:.1f} MB in {report.seconds:.1f} s",
            markup=False,
        )
        if report.missing_images:
            console.print(f"{len(report.missing_images)} stored picture file(s) were missing, e.g. "
                          f"{report.missing_images[0]}", markup=False)  # fmt: skip

    @app.command("restore")
    def restore_command(
        ctx: typer.Context,
        folder: Annotated[Path, typer.Argument(help="a folder written by asterism export")],
        home: Annotated[
            Path | None,
            typer.Option("--home", help="the new home (new or empty; default: the global --home)"),
        ] = None,
        database: Annotated[
            str | None,
            typer.Option("--database", help="an empty PostgreSQL database (postgresql://…); default SQLite"),
        ] = None,
    ) -> None:
        """Make a new home from an export (every checksum checked first); it serves without re-embedding."""
        with reported():
            target = Collection(load_settings(home=home)) if home is not None else collection(ctx)
            try:
                report = target.restore(folder, database=database)
            finally:
                if home is not None:
                    target.close()
        console.print(
            f"restored {report.counts.get('artworks', 0)} artworks into {report.home} ({report.database}); "
            f"generation {report.generation or '(none: the export had no build)'} in {report.seconds:.1f} s",
            markup=False,
        )
        if report.differing:
            console.print(f"rebuilt from the stored vectors, which differ from the ones served at export: "
                          f"{', '.join(report.differing)}", markup=False)  # fmt: skip

    @app.command("migrate")
    def migrate_command(
        ctx: typer.Context,
        to: Annotated[
            str, typer.Option("--to", help="an empty PostgreSQL database: postgresql://user@host/db")
        ],
    ) -> None:
        """Move the home's SQLite store into PostgreSQL and point the home's settings at it."""
        with reported():
            report = collection(ctx).migrate(to)
        console.print(
            f"copied {report.counts.get('artworks', 0)} artworks ({sum(report.counts.values())} rows) into "
            f"{report.url} in {report.seconds:.1f} s; {report.settings_file} now names it. "
            f"The SQLite file {report.kept} is left as it was.",
            markup=False,
        )
