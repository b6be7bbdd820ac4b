"""The cost calculator: the blueprint's faulty sum reproduced, every line recomputed by hand, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.cost import CostInputs, blueprint_estimate, cpu_hours_per_million_works, estimate

runner = CliRunner()


def blueprint_estimate_monthly() -> float:
    """Blueprint §12.5's ``estimate_monthly()`` with its defaults, step by step as it computes them."""
    llm = 1_000 * 500 * 200 / 1_000 * 0.015  # users × interactions × tokens, per 1k
    embed = (1_000_000 / 1_000) * 0.0001  # "1M images" priced as 1M tokens
    api = 2 * 0.040 * 730  # a 730-hour month
    gpu = 2 * 12 * 30 * 2.75  # ... and a 720-hour one
    storage = 2 * 1024 * 0.023  # 2 TB, no thumbnails
    cdn = 100 * 0.09  # previews only, no API traffic
    misc = 500
    return round(sum([llm, embed, api, gpu, storage, cdn, misc]), 2)


def monthly(name: str, inputs: CostInputs | None = None) -> float:
    return next(item.monthly for item in estimate(inputs).items if item.name == name)


def test_blueprint_sum_is_4095_not_4950_and_the_corrected_total_differs_as_explained() -> None:
    faulty = blueprint_estimate_monthly()
    assert faulty == pytest.approx(4094.60)
    assert blueprint_estimate() == faulty == blueprint_estimate(CostInputs(compute="cpu"))  # GPU only
    assert abs(faulty - 4950) > 800  # what its text says it prints
    corrected = estimate()
    assert corrected.total == pytest.approx(7038.2444)
    assert corrected.total - corrected.items[-1].monthly == pytest.approx(6398.404)  # before contingency
    # The differences the module docstring names, line by line, add up to the gap.
    assert monthly("text embeddings") - 0.10 == pytest.approx(2.90)
    assert monthly("GPU workers") - 1980 == pytest.approx(27.50)
    assert monthly("object storage") - 47.104 == pytest.approx(4.60)
    assert monthly("CDN egress") - 9 == pytest.approx(1.80)
    services = sum(monthly(n) for n in ("vector store", "database", "monitoring", "ci registry", "security"))
    assert services - 500 == pytest.approx(-233)
    assert monthly("personnel") == 2500 and monthly("contingency") == pytest.approx(639.8404)
    gap = 2.90 + 27.50 + 4.604 + 1.80 - 233 + 2500 + 639.8404
    assert corrected.total - faulty == pytest.approx(gap, abs=0.01)
    assert estimate(CostInputs(personnel=0, contingency=0)).total == pytest.approx(3898.404)


def test_every_line_recomputed_by_hand_for_other_inputs() -> None:
    inputs = CostInputs(
        works=200_000, users=300, interactions_per_user=40, tokens_per_interaction=500,
        llm_price_per_1k_tokens=0.002, embed_tokens_per_work=50, embed_price_per_1k_tokens=0.00002,
        api_nodes=3, api_price_per_hour=0.05, gpu_instances=1, gpu_hours_per_day=6, gpu_price_per_hour=0.6,
        storage_gb=500, storage_price_per_gb=0.02, egress_gb=80, egress_price_per_gb=0.08,
        vector_store=30, database=60, monitoring=10, ci_registry=0, security=2, personnel=0, contingency=0.2,
    )  # fmt: skip
    expected = {
        "LLM explanations": 300 * 40 * 500 / 1000 * 0.002,  # 6M tokens: 12.00
        "text embeddings": 200_000 * 50 / 1000 * 0.00002,  # 10M tokens: 0.20
        "API nodes": 3 * 730 * 0.05,  # 109.50
        "GPU workers": 1 * 6 * (730 / 24) * 0.6,  # 182.5 h: 109.50
        "object storage": 500 * 0.02,
        "CDN egress": 80 * 0.08,
        "vector store": 30,
        "database": 60,
        "monitoring": 10,
        "ci registry": 0,
        "security": 2,
        "personnel": 0,
        "contingency": 0.2 * 349.60,
    }
    breakdown = estimate(inputs)
    assert {item.name: item.monthly for item in breakdown.items} == pytest.approx(expected)
    assert breakdown.total == pytest.approx(419.52)
    # The blueprint's function on the same inputs: tokens for 200k "images", 30-day GPU month, storage
    # and egress less the 200 GB thumbnails and 20 GB API traffic it leaves out, the $500 lump.
    by_hand = 12 + 200_000 / 1000 * 0.00002 + 109.50 + 1 * 6 * 30 * 0.6 + 300 * 0.02 + 60 * 0.08 + 500
    assert blueprint_estimate(inputs) == round(by_hand, 2) == 740.30
    assert breakdown.one_off == ()


def test_cpu_compute_from_the_measured_throughputs() -> None:
    # bench/RESULTS.md, by hand: seconds per million works on the 2-core machine, OCR off.
    seconds = [1e6 / 195, 1e6 / 54, 1e6 * 21 / 761, 204 * 452.1 / 39.4, 71 * 452.1 / 39.4, 60e6 / 499e3]
    per_million = sum(seconds) / 3600
    assert cpu_hours_per_million_works(ocr=False)["total"] == pytest.approx(per_million)
    assert per_million == pytest.approx(15.14, abs=0.01)
    with_ocr = (sum(seconds) - 1e6 / 195 + 1e6 / 12) / 3600
    assert cpu_hours_per_million_works()["total"] == pytest.approx(with_ocr)
    inputs = CostInputs(
        compute="cpu", ocr=False, images_per_day=2000, uploads_per_day=500, cpu_price_per_hour=0.1
    )
    breakdown = estimate(inputs)
    names = [item.name for item in breakdown.items]
    assert "GPU workers" not in names and "CPU: new images" in names
    days = 730 / 24
    assert monthly("CPU: new images", inputs) == pytest.approx(2000 * days * per_million / 1e6 * 0.1)
    assert monthly("CPU: uploads", inputs) == pytest.approx(500 * days * (1 / 18.4 + 0.12) / 3600 * 0.1)
    (once,) = breakdown.one_off
    assert once.monthly == pytest.approx(per_million * 0.1)  # the default million works, once
    assert breakdown.total == pytest.approx(sum(i.monthly for i in breakdown.items))
    # Uploads default to one per interaction: 500k a month.
    default_uploads = monthly("CPU: uploads", CostInputs(compute="cpu"))
    assert default_uploads == pytest.approx(500_000 * (1 / 18.4 + 0.12) / 3600 * 0.04)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"works": -1}, "works must be ≥ 0"),
        ({"egress_price_per_gb": -0.1}, "egress_price_per_gb must be ≥ 0"),
        ({"gpu_hours_per_day": 25}, "≤ 24"),
        ({"compute": "tpu"}, "compute must be 'gpu' or 'cpu'"),
    ],
)
def test_bad_inputs_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CostInputs(**change)  # type: ignore[arg-type]


def test_cli_json_plain_and_no_home_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken-home"
    broken.mkdir()
    (broken / "asterism.toml").write_text("this is [ not toml\n")
    monkeypatch.setenv("ASTERISM_HOME", str(broken))  # a home whose settings cannot even load
    result = runner.invoke(app, ["cost", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 7038.24 and data["inputs"]["works"] == 1_000_000
    assert data["blueprint_estimate"] == 4094.6
    assert [row["name"] for row in data["items"]][-1] == "contingency"
    result = runner.invoke(app, ["cost", "--works", "200000", "--users", "300", "--interactions", "40",
                                 "--tokens", "500", "--llm-price", "0.002", "--embed-tokens", "50",
                                 "--embed-price", "0.00002", "--api-nodes", "3", "--api-price", "0.05",
                                 "--gpu-instances", "1", "--gpu-hours", "6", "--gpu-price", "0.6",
                                 "--storage-gb", "500", "--storage-price", "0.02", "--egress-gb", "80",
                                 "--egress-price", "0.08", "--vector-store", "30", "--database", "60",
                                 "--monitoring", "10", "--ci-registry", "0", "--security", "2",
                                 "--personnel", "0", "--contingency", "0.2", "--json"])  # fmt: skip
    assert result.exit_code == 0 and json.loads(result.stdout)["total"] == 419.52
    result = runner.invoke(app, ["cost"])
    assert result.exit_code == 0
    assert "7,038.24" in result.stdout and "GPU workers" in result.stdout and "2,007.50" in result.stdout
    assert (
        "The blueprint's §12.5 function gives $4,094.60 for these inputs; corrected: $7,038.24 "
        "(see the breakdown)\n" in result.stdout
    )
    result = runner.invoke(app, ["cost", "--compute", "cpu", "--no-ocr"])
    assert result.exit_code == 0 and "CPU: new images" in result.stdout and "once" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken-home"]  # nothing created


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--works", "-5"], "works must be ≥ 0, got -5"), (["--compute", "tpu"], "compute must be")],
)
def test_cli_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["cost", *args])
    assert result.exit_code == 2
    assert "error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output
