"""``asterism eval``: relevance metrics of every method on the built collection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from asterism.cli.common import collection, console, errors, reported
from asterism.eval.model_choice import table as models_table
from asterism.eval.report import markdown


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(help="Measure relevance; tune the weights.", invoke_without_command=True)
    app.add_typer(eval_app, name="eval")

    @eval_app.command("tune")
    def tune_command(
        ctx: typer.Context,
        write: Annotated[bool, typer.Option(help="write the chosen values to <home>/asterism.toml")] = True,
        limit: Annotated[
            int | None, typer.Option(min=2, help="at most N pictures per side (a quick look)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Choose weights and alpha/beta by image on validation artists; report on test artists (image and id)."""
        with reported():
            result = collection(ctx).tune(write=write, limit=limit)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        chosen, test, by_id = result["chosen"], result["test_recall@10"], result["test_recall@10 by id"]
        console.print(
            f"chosen on {result['queries']['validation']} pictures of {result['artists']['validation']} "
            f"validation artists ({result['grid']} settings tried): "
            f"formal {chosen['formal']}, conceptual {chosen['conceptual']}, historical {chosen['historical']}, "
            f"alpha {chosen['alpha']}, beta {chosen['beta']}\n"
            f"test artists ({result['artists']['test']}), mean recall@10 over notions — by image "
            f"({result['queries']['test']} pictures): chosen {test['chosen']:.3f} vs default {test['default']:.3f}; "
            f"by id: chosen {by_id['chosen']:.3f} vs default {by_id['default']:.3f}"
        )
        if write:
            console.print(f"written to {result['written_to']}")

    @eval_app.command("recognition")
    def recognition_command(
        ctx: typer.Context,
        works: Annotated[int, typer.Option(min=1, help="works of the collection photographed")] = 40,
        unknown: Annotated[
            int, typer.Option(min=1, help="works held out of the collection photographed")
        ] = 20,
        seed: Annotated[int, typer.Option(help="which works, and every photo's randomness")] = 0,
        write: Annotated[
            bool, typer.Option(help="write the chosen threshold and confidence curve to <home>/asterism.toml")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Simulated phone photos (frame, wall, perspective, glare, blur, …): top-1, top-5, false recognitions."""
        from asterism.eval.recognition import markdown as recognition_markdown

        with reported():
            summary, folder = collection(ctx).evaluate_recognition(
                works=works, unknown=unknown, seed=seed, write=write
            )
        if as_json:
            typer.echo(json.dumps({k: v for k, v in summary.items() if k != "shots"}, indent=2))
            return
        console.print(recognition_markdown(summary), markup=False)
        console.print(f"report: {folder}", markup=False)
        if write:
            console.print(f"written to {summary['written_to']}", markup=False)

    @eval_app.command("preferences")
    def preferences_command(
        ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
    ) -> None:
        """Win rates of each alternative weighting against the default in the blind study (Wilson 95%)."""
        with reported():
            results = collection(ctx).preferences()
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
        with reported():
            result = collection(ctx).compare_models()
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        console.print(f"{result['queries']} queries by id; models: {result['models']}", markup=False)
        console.print(models_table(result), markup=False)

    @eval_app.callback()
    def eval_command(
        ctx: typer.Context,
        by_image: Annotated[
            int, typer.Option(min=0, max=5000, help="queries by picture, the headline (0: none)")
        ] = 200,
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
        opened = collection(ctx)
        with reported():
            summary = opened.evaluate(by_image=by_image, clip_reference=clip_reference)
        folder = opened.write_report(summary)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
        else:
            console.print(markdown(summary), markup=False)
        errors.print(f"report, JSON and plots in {folder}", markup=False)
