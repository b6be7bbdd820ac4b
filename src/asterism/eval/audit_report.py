"""The audit as Markdown, JSON and PNG plots under ``<home>/eval/<time>-audit/``, as the eval report is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asterism.eval.audit import FACETS, RELEVANCE
from asterism.eval.report import _save, new_folder
from asterism.home import Home

SHOWN = 12  # groups per facet in the Markdown table and the plots; the JSON keeps every group
RUNS = (("default", "off"), ("broaden", "on"))


def _rows(summary: dict[str, Any], facet: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row without broadening, row with), per group, the largest groups first."""
    on = {row["group"]: row for row in summary["runs"]["broaden"]["groups"][facet]}
    return [(row, on[row["group"]]) for row in summary["runs"]["default"]["groups"][facet]]


def markdown(summary: dict[str, Any]) -> str:
    """Shares of collection and exposures per group, concentration, and broadening's cost by image."""
    runs = summary["runs"]
    lines = [f"# Asterism representation audit ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", ""]
    lines.append(
        f"{summary['works']} works; the recommender run by id from {summary['starts']} of them"
        f"{' (seeded sample, seed ' + str(summary['seed']) + ')' if summary['sampled'] else ''}, "
        f"default weights, k = {summary['k']}, page 0. Broaden: at most {summary['max_share']:g} of a list "
        f"({summary['cap']} works) from one culture or one century. Gender from PainterPalette for "
        f"{summary['gender_known']} works (the rest: unknown)."
    )
    lines += ["", "## Exposure", "", "| | broaden off | broaden on |", "|---|---|---|"]
    figures = (
        ("exposures", "exposures", "{}"),
        ("short pages", "short_pages", "{}"),
        ("lists over the cap", "over_cap_lists", "{}"),
    )
    for title, key, form in figures:
        lines.append(
            f"| {title} | {form.format(runs['default'][key])} | {form.format(runs['broaden'][key])} |"
        )
    for title, key in (("Gini of exposures", "gini"), ("works never shown", "never_shown"),
                       ("top 1 % of works' share", "top1%_share")):  # fmt: skip
        off, on = runs["default"]["concentration"][key], runs["broaden"]["concentration"][key]
        lines.append(f"| {title} | {off:.3f} | {on:.3f} |")
    for facet in FACETS:
        rows = _rows(summary, facet)
        lines += ["", f"## {facet}", "",
                  "| group | works | collection share | exposure share, off | ratio, off | exposure share, on | ratio, on |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for off, on in rows[:SHOWN]:
            lines.append(
                f"| {off['group']} | {off['works']} | {off['collection_share']:.3f} | "
                f"{off['exposure_share']:.3f} | {off['ratio']:.2f} | {on['exposure_share']:.3f} | {on['ratio']:.2f} |"
            )
        if len(rows) > SHOWN:
            rest = rows[SHOWN:]
            lines.append(
                f"| … {len(rest)} more groups | {sum(r[0]['works'] for r in rest)} | "
                f"{sum(r[0]['collection_share'] for r in rest):.3f} | "
                f"{sum(r[0]['exposure_share'] for r in rest):.3f} | | "
                f"{sum(r[1]['exposure_share'] for r in rest):.3f} | |"
            )
    relevance = summary.get("relevance")
    if relevance:
        lines += ["", f"## Cost in relevance, by image ({relevance['pictures']} pictures, k = {relevance['k']})",
                  "", "| notion | " + " | ".join(f"{m} off | {m} on" for m in RELEVANCE) + " |",
                  "|---|" + "---|---|" * len(RELEVANCE)]  # fmt: skip
        for notion, methods in relevance["scores"].items():
            if "default" not in methods or "broaden" not in methods:
                continue
            cells = " | ".join(
                f"{methods['default'][m]:.3f} | {methods['broaden'][m]:.3f}" for m in RELEVANCE
            )
            lines.append(f"| {notion} | {cells} |")
        lines.append(
            f"\nHeld-out works shown: {relevance['held_out_shown']} (0 or the figures are not honest)."
        )
    return "\n".join(lines) + "\n"


def plots(summary: dict[str, Any], folder: Path) -> list[Path]:
    """Per facet: collection share against exposure share, broadening off and on (largest groups)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    for facet in FACETS:
        rows = _rows(summary, facet)[:SHOWN]
        if not rows:
            continue
        names = [off["group"][:24] for off, _ in rows]
        x = np.arange(len(rows))
        figure, axis = plt.subplots(figsize=(max(5.0, 0.7 * len(rows) + 2), 3.4))
        axis.bar(
            x - 0.27, [off["collection_share"] for off, _ in rows], 0.27, label="collection", color="#777"
        )
        axis.bar(
            x, [off["exposure_share"] for off, _ in rows], 0.27, label="shown, broaden off", color="#8a3b12"
        )
        axis.bar(
            x + 0.27,
            [on["exposure_share"] for _, on in rows],
            0.27,
            label="shown, broaden on",
            color="#2b6a8a",
        )
        axis.set_xticks(x, names, rotation=30, ha="right", fontsize=7)
        axis.set_ylabel("share")
        axis.set_title(f"{facet}: collection vs exposures (k = {summary['k']})")
        axis.legend(fontsize=7)
        written.append(_save(figure, folder / f"audit-{facet}.png"))
    return written


def write(summary: dict[str, Any], home: Home, folder: Path | None = None) -> Path:
    """The audit as Markdown, JSON and plots in ``folder`` (None: a new one under the home's ``eval/``)."""
    if folder is None:
        folder = new_folder(home, "audit")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "audit.json").write_text(json.dumps(summary, indent=2))
    (folder / "audit.md").write_text(markdown(summary))
    plots(summary, folder)
    return folder
