"""``asterism eval``: relevance metrics of every method on the built collection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from asterism.config import Settings
from asterism.eval.model_choice import compare_models
from asterism.eval.model_choice import table as models_table
from asterism.eval.reference import clip_reference as clip_reference_scores
from asterism.eval.report import markdown, write
from asterism.eval.runner import evaluate
from asterism.eval.study import PreferenceStore
from asterism.eval.tune import tune, write_settings
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service, open_service
from asterism.store.sql import SqlStore

console = Console()


def _open(settings: Settings, *, with_models: bool = True) -> Service:
    """The built collection, or a clear error and exit status 2."""
    try:
        return open_service(settings, with_models=with_models)
    except QueryError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(help="Measure relevance; tune the weights.", invoke_without_command=True)
    app.add_typer(eval_app, name="eval")

    @eval_app.command("tune")
    def tune_command(
        ctx: typer.Context,
        write: Annotated[bool, typer.Option(help="write the chosen values to <home>/asterism.toml")] = True,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Grid-search the affinity weights and alpha/beta on a validation split; report on a test split."""
        settings = ctx.obj
        service = _open(settings, with_models=False)
        try:
            result = tune(service)
        finally:
            service.close()
        if write:
            result["written_to"] = str(write_settings(settings.home, result["chosen"]))
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        chosen, test = result["chosen"], result["test_recall@10"]
        console.print(
            f"chosen on {result['queries']['validation']} validation queries ({result['grid']} settings tried): "
            f"formal {chosen['formal']}, conceptual {chosen['conceptual']}, historical {chosen['historical']}, "
            f"alpha {chosen['alpha']}, beta {chosen['beta']}\n"
            f"test split ({result['queries']['test']} queries), mean recall@10 over notions: "
            f"chosen {test['chosen']:.3f} vs default {test['default']:.3f}"
        )
        if write:
            console.print(f"written to {result['written_to']}")

    @eval_app.command("preferences")
    def preferences_command(
        ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
    ) -> None:
        """Win rates of each alternative weighting against the default in the blind study (Wilson 95%)."""
        store = SqlStore(ctx.obj.store_url)
        try:
            results = PreferenceStore(store.engine).results()
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(results, indent=2))
            return
        console.print(
            "| alternative vs default | wins | losses | ties | win rate | 95% interval |\n|---|---|---|---|---|---|"
        )
        for name, row in results.items():
            rate = "–" if row["win_rate"] is None else f"{row['win_rate']:.2f}"
            low, high = row["interval95"]
            console.print(
                f"| {name} | {row['wins']} | {row['losses']} | {row['ties']} | {rate} | {low:.2f}–{high:.2f} |"
            )

    @eval_app.command("models")
    def models_command(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """The relevance report per embedder variant (formal parts alone, conceptual, historical)."""
        service = _open(ctx.obj)
        try:
            result = compare_models(service)
        finally:
            service.close()
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        console.print(f"{result['queries']} queries by id; models: {result['models']}", markup=False)
        console.print(models_table(result), markup=False)

    @eval_app.callback()
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
        if ctx.invoked_subcommand is not None:
            return
        service = _open(ctx.obj)
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
