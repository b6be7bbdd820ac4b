"""``asterism audit`` and ``asterism recommend --broaden`` as a person types them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

import asterism
from asterism.cli.main import app
from asterism.config import Settings
from asterism.eval.audit import FACETS
from asterism.recommend import groups

runner = CliRunner()


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_audit_prints_json_and_writes_the_report(built: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, text, err = run(built.home, "audit", "--json", "--starts", "10", "--seed", "2", "--by-image", "2",
                          "--out", str(out))  # fmt: skip
    assert code == 0, err
    summary = json.loads(text)
    assert summary["starts"] == 10 and summary["sampled"] and summary["seed"] == 2 and summary["k"] == 12
    assert set(summary["runs"]) == {"default", "broaden"}
    assert set(summary["runs"]["default"]["groups"]) == set(FACETS)
    assert summary["relevance"]["pictures"] == 2
    assert {p.name for p in out.iterdir()} >= {"audit.json", "audit.md", *(f"audit-{f}.png" for f in FACETS)}
    assert f"report, JSON and plots in {out}" in " ".join(err.split())


def test_audit_prints_tables_and_refuses_bad_options(built: Settings) -> None:
    code, text, err = run(built.home, "audit", "--starts", "5", "--by-image", "0")
    assert code == 0, err
    assert "broaden off:" in text and "Gini" in text and "gender" in text and "unknown" in text
    code, _, err = run(built.home, "audit", "--starts", "0")
    assert code == 2 and "--starts" in err


def test_recommend_broaden(built: Settings) -> None:
    with asterism.open(built.home) as opened:
        catalogue = opened.service().catalogue
        start = int(catalogue.ids[0])
        code, text, err = run(built.home, "recommend", "--id", str(start), "--k", "12", "--broaden", "--json")
        assert code == 0, err
        ids = [r["artwork"]["id"] for r in json.loads(text)["results"]]
        assert len(ids) == 12
        for dimension in (0, 1):
            counts = Counter(groups.capped(catalogue.get(i))[dimension] for i in ids)
            counts.pop(None, None)
            assert max(counts.values()) <= 6
        code, text, err = run(built.home, "recommend", "--id", str(start), "--k", "12", "--max-share", "0.25",
                              "--json")  # fmt: skip
        assert code == 0, err
    code, _, err = run(built.home, "recommend", "--id", str(start), "--max-share", "1.5")
    assert code == 2 and "max-share" in err
