"""``asterism cost``: the monthly bill of a deployment, a thin face over ``asterism.cost``.

It needs no data home: the global ``--home`` callback skips opening one for it.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, cast

import typer
from rich.table import Table

from asterism.cli.common import console, fail
from asterism.cost import (
    BENCH_CORES,
    Breakdown,
    CostInputs,
    blueprint_estimate,
    cpu_hours_per_million_works,
    estimate,
)


def table(breakdown: Breakdown) -> Table:
    """Rows as ``estimate`` returns them, the total in the footer, one-off rows after it."""
    out = Table(title="Monthly cost (USD)", show_footer=True)
    out.add_column("item", footer="total a month")
    out.add_column("quantity", justify="right")
    out.add_column("unit")
    out.add_column("unit price", justify="right")
    out.add_column("per month", justify="right", footer=f"{breakdown.total:,.2f}")
    for item in breakdown.items:
        out.add_row(
            item.name, f"{item.quantity:,.2f}", item.unit, f"{item.unit_price:g}", f"{item.monthly:,.2f}"
        )
    if breakdown.one_off:
        out.add_section()
    for item in breakdown.one_off:
        out.add_row(item.name, f"{item.quantity:,.2f}", item.unit, f"{item.unit_price:g}",
                    f"({item.monthly:,.2f} once)")  # fmt: skip
    return out


def register(app: typer.Typer) -> None:
    d = CostInputs()

    @app.command()
    def cost(
        works: Annotated[int, typer.Option(help="works in the collection")] = d.works,
        images_per_day: Annotated[float, typer.Option(help="new collection images a day")] = d.images_per_day,
        uploads_per_day: Annotated[
            float | None, typer.Option(help="visitor pictures a day (default: one per interaction)")
        ] = None,
        users: Annotated[int, typer.Option(help="active users")] = d.users,
        interactions: Annotated[
            float, typer.Option(help="interactions per user a month")
        ] = d.interactions_per_user,
        tokens: Annotated[float, typer.Option(help="LLM tokens per interaction")] = d.tokens_per_interaction,
        llm_price: Annotated[float, typer.Option(help="USD per 1k LLM tokens")] = d.llm_price_per_1k_tokens,
        embed_tokens: Annotated[
            float, typer.Option(help="embedding tokens per work")
        ] = d.embed_tokens_per_work,
        embed_price: Annotated[
            float, typer.Option(help="USD per 1k embedding tokens")
        ] = d.embed_price_per_1k_tokens,
        api_nodes: Annotated[int, typer.Option(help="always-on API instances")] = d.api_nodes,
        api_price: Annotated[float, typer.Option(help="USD per API instance-hour")] = d.api_price_per_hour,
        compute: Annotated[
            str, typer.Option(help="gpu (the blueprint's) or cpu (measured here)")
        ] = d.compute,
        gpu_instances: Annotated[int, typer.Option(help="GPU workers")] = d.gpu_instances,
        gpu_hours: Annotated[
            float, typer.Option(help="hours a day each GPU worker runs")
        ] = d.gpu_hours_per_day,
        gpu_price: Annotated[float, typer.Option(help="USD per GPU-hour")] = d.gpu_price_per_hour,
        cpu_price: Annotated[
            float, typer.Option(help="USD per hour of a 2-vCPU instance")
        ] = d.cpu_price_per_hour,
        ocr: Annotated[bool, typer.Option(help="OCR every new image (CPU compute)")] = d.ocr,
        storage_gb: Annotated[float, typer.Option(help="GB stored")] = d.storage_gb,
        storage_price: Annotated[float, typer.Option(help="USD per GB-month")] = d.storage_price_per_gb,
        egress_gb: Annotated[float, typer.Option(help="GB served a month")] = d.egress_gb,
        egress_price: Annotated[float, typer.Option(help="USD per GB served")] = d.egress_price_per_gb,
        vector_store: Annotated[float, typer.Option(help="USD a month")] = d.vector_store,
        database: Annotated[float, typer.Option(help="USD a month")] = d.database,
        monitoring: Annotated[float, typer.Option(help="USD a month")] = d.monitoring,
        ci_registry: Annotated[float, typer.Option(help="USD a month")] = d.ci_registry,
        security: Annotated[float, typer.Option(help="USD a month")] = d.security,
        personnel: Annotated[float, typer.Option(help="USD a month (0: machines only)")] = d.personnel,
        contingency: Annotated[float, typer.Option(help="share of the subtotal, 0.1 = 10 %")] = d.contingency,
        as_json: Annotated[bool, typer.Option("--json", help="print machine-readable JSON")] = False,
    ) -> None:
        """The corrected monthly bill (blueprint §12), line by line; --compute cpu prices measured CPU time."""
        try:
            inputs = CostInputs(
                works=works, images_per_day=images_per_day, uploads_per_day=uploads_per_day, users=users,
                interactions_per_user=interactions, tokens_per_interaction=tokens,
                llm_price_per_1k_tokens=llm_price, embed_tokens_per_work=embed_tokens,
                embed_price_per_1k_tokens=embed_price,
                api_nodes=api_nodes, api_price_per_hour=api_price, compute=cast(Literal["gpu", "cpu"], compute),
                gpu_instances=gpu_instances, gpu_hours_per_day=gpu_hours, gpu_price_per_hour=gpu_price,
                cpu_price_per_hour=cpu_price, ocr=ocr, storage_gb=storage_gb,
                storage_price_per_gb=storage_price, egress_gb=egress_gb, egress_price_per_gb=egress_price,
                vector_store=vector_store, database=database, monitoring=monitoring,
                ci_registry=ci_registry, security=security, personnel=personnel, contingency=contingency,
            )  # fmt: skip
        except ValueError as exc:
            raise fail(exc) from None
        breakdown = estimate(inputs)
        blueprint = blueprint_estimate(inputs)
        if as_json:
            typer.echo(json.dumps({**breakdown.to_dict(), "blueprint_estimate": blueprint}, indent=2))
            return
        console.print(table(breakdown))
        console.print(
            f"The blueprint's §12.5 function gives ${blueprint:,.2f} for these inputs; "
            f"corrected: ${breakdown.total:,.2f} (see the breakdown)",
            markup=False,
            soft_wrap=True,
        )
        hours = cpu_hours_per_million_works(ocr)["total"]
        console.print(
            f"Measured here (bench/RESULTS.md): 1M works take {hours:,.1f} h on {BENCH_CORES} cores "
            f"({hours * BENCH_CORES:,.1f} core-hours), {hours * cpu_price:,.2f} USD at {cpu_price:g}/h.",
            markup=False,
        )
