"""``asterism audit``: what the collection holds against what the recommender shows (``eval.audit``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from asterism.cli.common import collection, console, errors, reported
from asterism.eval.audit import FACETS


def _table(summary: dict[str, Any], facet: str, shown: int = 12) -> Table:
    table = Table(title=f"{facet}: share of the collection vs share of exposures (k = {summary['k']})")
    for name in ("group", "works", "collection", "shown, off", "ratio, off", "shown, on", "ratio, on"):
        table.add_column(name, justify="left" if name == "group" else "right")
    on = {row["group"]: row for row in summary["runs"]["broaden"]["groups"][facet]}
    rows = summary["runs"]["default"]["groups"][facet]
    for row in rows[:shown]:
        other = on[row["group"]]
        table.add_row(
            row["group"], str(row["works"]), f"{row['collection_share']:.3f}", f"{row['exposure_share']:.3f}",
            f"{row['ratio']:.2f}", f"{other['exposure_share']:.3f}", f"{other['ratio']:.2f}",
        )  # fmt: skip
    if len(rows) > shown:
        table.add_row(f"… {len(rows) - shown} more (in the report)", "", "", "", "", "", "")
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="print the full report as JSON")] = False,
        starts: Annotated[
            int | None, typer.Option(min=1, help="start from N works (a seeded sample; default: all, ≤ 2000)")
        ] = None,
        seed: Annotated[int, typer.Option(help="which works are sampled, and which pictures")] = 0,
        by_image: Annotated[
            int, typer.Option(min=0, max=5000, help="pictures for broadening's cost in relevance (0: none)")
        ] = 100,
        out: Annotated[
            Path | None, typer.Option(file_okay=False, help="write the report here (default: <home>/eval/…)")
        ] = None,
    ) -> None:
        """Representation: each culture, century, artist gender, source and licence in the collection vs shown."""
        opened = collection(ctx)
        with reported():
            summary = opened.audit(starts=starts, seed=seed, by_image=by_image)
        folder = opened.write_audit(summary, out)
        if as_json:
            typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        else:
            runs = summary["runs"]
            for name, run in (("broaden off", runs["default"]), ("broaden on", runs["broaden"])):
                c = run["concentration"]
                console.print(
                    f"{name}: {run['exposures']} exposures from {run['lists']} starts, Gini {c['gini']:.3f}, "
                    f"never shown {c['never_shown']:.1%}, top 1 % of works {c['top1%_share']:.1%} of exposures, "
                    f"{run['over_cap_lists']} lists over the cap",
                    markup=False,
                )
            for facet in FACETS:
                console.print(_table(summary, facet))
        errors.print(f"report, JSON and plots in {folder}", markup=False)
