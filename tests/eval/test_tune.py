"""Tuning: chosen on the validation split only, reported on the test split, written to settings."""

from __future__ import annotations

from pathlib import Path

from asterism.config import load_settings
from asterism.eval.tune import Choice, grid, tune, write_settings
from asterism.home import Home
from asterism.recommend.service import Service


def test_grid_covers_the_simplex() -> None:
    choices = grid()
    assert all(abs(c.formal + c.conceptual + c.historical - 1) < 1e-9 for c in choices)
    assert len(choices) == 21 * 4


def test_tune_picks_on_validation_and_reports_test(service: Service, tmp_path: Path) -> None:
    candidates = [
        Choice(1.0, 0.0, 0.0, 1.0, 0.0),
        Choice(0.0, 0.0, 1.0, 1.0, 0.0),
        Choice(0.4, 0.4, 0.2, 0.7, 0.3),
    ]
    result = tune(service, choices=candidates)
    assert result["grid"] == 3 and result["queries"]["validation"] > 0 and result["queries"]["test"] > 0
    chosen = Choice(**result["chosen"])
    assert chosen in candidates
    # the choice is the best on validation among the candidates
    assert result["validation_recall@10"]["chosen"] >= result["validation_recall@10"]["default"]
    assert 0 <= result["test_recall@10"]["chosen"] <= 1

    (tmp_path / "asterism.toml").write_text('workers = 3\n\n[ocr]\nmode = "never"\n')
    write_settings(Home(tmp_path), result["chosen"])
    settings = load_settings(home=tmp_path)
    assert settings.workers == 3 and settings.ocr.mode == "never"  # the rest of the file is kept
    assert settings.weights.historical == chosen.historical and settings.recommend.beta == chosen.beta
