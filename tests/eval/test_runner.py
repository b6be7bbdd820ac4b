"""``asterism eval`` on the built sample collection: every method scored, reports written."""

from __future__ import annotations

import json
from pathlib import Path

from asterism.eval.report import write
from asterism.eval.runner import evaluate
from asterism.recommend.service import Service


def test_evaluation_scores_every_method_and_writes_the_report(service: Service, tmp_path: Path) -> None:
    summary = evaluate(service, by_image=6).summary()
    methods = {"formal", "conceptual", "historical", "composite", "hybrid", "random", "metadata-text"}
    artist = summary["scores"]["id"]["artist"]
    assert set(artist) == methods
    for values in artist.values():
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert values["recall@5"] <= values["recall@10"] <= values["recall@20"]
    # curator relevance is far from chance for the hybrid and the historical affinity
    assert artist["hybrid"]["recall@10"] > 3 * artist["random"]["recall@10"]
    assert artist["historical"]["mrr"] > artist["random"]["mrr"]
    assert summary["queries"]["image"] == 6 and "metadata-text" not in summary["scores"]["image"]["period"]
    assert set(summary["coverage@10"]) == methods and summary["graph"]["components"] >= 1
    folder = write(summary, tmp_path)
    assert json.loads((folder / "report.json").read_text())["queries"] == summary["queries"]
    assert "| hybrid |" in (folder / "report.md").read_text()
    assert (folder / "recall10-id-artist.png").stat().st_size > 1000
