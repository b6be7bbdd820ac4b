"""The evaluation report: Markdown tables, JSON, and PNG plots under ``<home>/eval/<time>/``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from asterism.eval.fields import flag, notes
from asterism.eval.relevance import NOTIONS
from asterism.home import Home

METRICS = ("recall@5", "recall@10", "recall@20", "mrr", "ndcg@10")


def markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Asterism evaluation ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", ""]
    lines.append(
        f"Queries: {summary['queries']}; queries with a relevant set per notion: {summary['relevant_queries']}."
    )
    lines.append(
        "By image is the headline: a picture re-encoded as an upload, with the work and every copy of its "
        "picture held out of everything it touches. By id, the start's own record is read."
    )
    lines += notes()
    shown = {mode: sum(counts.values()) for mode, counts in summary.get("held_out_shown", {}).items()}
    lines.append(
        f"Held-out works shown (the work or a copy of its picture, in any list, history or anchor): {shown}."
    )
    for affinity, model in summary.get("stand_ins", {}).items():
        lines.append(
            f"⚠ by image, the {affinity} affinity is served from imported vectors of {model}: each picture's "
            "own imported vector stood in for its upload embedding (the same picture through the same model)."
        )
    modes = sorted(summary["scores"], key=lambda mode: mode != "image")
    for mode in modes:
        by_notion = summary["scores"][mode]
        for notion in NOTIONS:
            methods = by_notion.get(notion)
            if not methods:
                continue
            lines += ["", f"## {notion} — queries by {mode}", "", "| method | " + " | ".join(METRICS) + " |",
                      "|---|" + "---|" * len(METRICS)]  # fmt: skip
            for method, values in sorted(methods.items(), key=lambda item: -item[1]["recall@10"]):
                name = f"{method} ⚑" if mode == "id" and flag(method, notion) else method
                lines.append(f"| {name} | " + " | ".join(f"{values[m]:.3f}" for m in METRICS) + " |")
    lines += [
        "",
        "## Lists (by id)",
        "",
        "| method | coverage@10 | diversity@10 | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for method, coverage in summary["coverage@10"].items():
        latency = summary["latency_ms"][method]
        lines.append(f"| {method} | {coverage:.3f} | {summary['diversity@10'][method]:.3f} | "
                     f"{latency['p50']:.2f} | {latency['p95']:.2f} |")  # fmt: skip
    graph = summary["graph"]
    lines += ["", f"Graph: {graph.get('nodes', 0)} works, average degree {graph.get('average_degree', 0):.1f}, "
              f"{graph.get('isolated', 0)} isolated, {graph.get('components', 0)} components."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plots(summary: dict[str, Any], folder: Path) -> list[Path]:
    """Recall@10 per method for each notion and query mode (one bar chart each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for mode, by_notion in summary["scores"].items():
        for notion, methods in by_notion.items():
            if not methods:
                continue
            names = sorted(methods, key=lambda m: -methods[m]["recall@10"])
            figure, axis = plt.subplots(figsize=(7, 3.2))
            axis.bar(names, [methods[m]["recall@10"] for m in names], color="#8a3b12")
            axis.set_ylabel("recall@10")
            axis.set_title(f"{notion}, queries by {mode}")
            axis.set_ylim(0, 1)
            axis.tick_params(axis="x", rotation=30)
            written.append(_save(figure, folder / f"recall10-{mode}-{notion}.png"))
    for notion, methods in summary.get("pr_curves", {}).items():
        if not methods:
            continue
        figure, axis = plt.subplots(figsize=(5, 4))
        for method, points in sorted(methods.items()):
            axis.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=method)
        axis.set_xlabel("recall@k")
        axis.set_ylabel("precision@k")
        axis.set_title(f"{notion}: precision–recall, k = 1…20 (by id)")
        axis.legend(fontsize=7)
        written.append(_save(figure, folder / f"pr-{notion}.png"))
    for notion, affinities in summary.get("score_histograms", {}).items():
        figure, axes = plt.subplots(1, len(affinities), figsize=(4 * len(affinities), 3))
        for axis, (affinity, values) in zip(np.atleast_1d(axes), affinities.items(), strict=True):
            axis.hist(values["random"], bins=30, alpha=0.6, density=True, label="random pairs")
            axis.hist(values["relevant"], bins=30, alpha=0.6, density=True, label=f"same {notion}")
            axis.set_title(f"{affinity} cosine")
            axis.legend(fontsize=7)
        written.append(_save(figure, folder / f"scores-{notion}.png"))
    return written


def new_folder(home: Home, suffix: str = "") -> Path:
    """A new report folder under the home's ``eval/``, named by the time (and what it reports)."""
    name = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + (f"-{suffix}" if suffix else "")
    folder = home.eval_reports / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(summary: dict[str, Any], home: Home) -> Path:
    """The report as Markdown, JSON and plots in a new folder under the home's ``eval/``; returns it."""
    folder = new_folder(home)
    (folder / "report.json").write_text(json.dumps(summary, indent=2))
    (folder / "report.md").write_text(markdown(summary))
    plots(summary, folder)
    return folder
