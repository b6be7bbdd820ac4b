"""The representation audit: its arithmetic, its groups, and a run on the built samples.

The concentration measures are checked on exposures whose answer is known by definition;
the run on the samples checks that every count adds up (exposures = starts × k minus what
short pages lacked, group shares summing to one), that unknown values are a group of their
own, that gender comes from PainterPalette for a painter it knows, that broadening holds its
cap, and that the relevance cost was measured without showing any held-out work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asterism.eval.audit import FACETS, audit, concentration, facets, gini
from asterism.eval.audit_report import markdown, write
from asterism.knowledge.painters import PainterIndex
from asterism.recommend.service import Service
from asterism.shapes import Artwork


def test_gini_of_even_exposure_is_zero_and_of_one_work_nearly_one() -> None:
    assert gini([5] * 100) == pytest.approx(0.0, abs=1e-12)
    assert gini([0] * 999 + [40]) == pytest.approx(999 / 1000)
    assert gini([0, 0, 0]) == 0.0 and gini([]) == 0.0
    assert 0 < gini([1, 2, 3, 10]) < 1


def test_concentration_counts_never_shown_and_the_top_percent() -> None:
    works = list(range(200))  # top 1 %: 2 works
    exposure = {0: 50, 1: 30, 2: 10, 3: 10}
    figures = concentration(exposure, works)
    assert figures["never_shown_works"] == 196 and figures["never_shown"] == pytest.approx(0.98)
    assert figures["top1%_works"] == 2 and figures["top1%_share"] == pytest.approx(0.8)


def test_facets_say_unknown_rather_than_dropping_a_work(shared_data: Path) -> None:
    painters = PainterIndex.load(shared_data / "knowledge" / "PainterPalette.csv")
    works = [
        Artwork(source="x", source_id="1", id=1, artist_display="Berthe Morisot (French, 1841–1895)",
                culture="French", date_start=1870, date_end=1880, license_id="CC0-1.0"),
        Artwork(source="x", source_id="2", id=2, artist_display="Unknown", collection="  Some   Museum "),
        Artwork(source="x", source_id="3", id=3, place="Tuscany", date_start=1300, date_end=1300),
    ]  # fmt: skip
    labels = facets(works, painters)
    assert labels[1] == {"culture": "French", "century": "19th century", "gender": "female",
                         "source": "x", "collection": "unknown", "license": "CC0-1.0"}  # fmt: skip
    assert labels[2]["culture"] == labels[2]["century"] == labels[2]["gender"] == "unknown"
    assert labels[2]["collection"] == "Some Museum" and labels[2]["license"] == "unknown"
    assert labels[3]["culture"] == "Tuscany" and labels[3]["century"] == "13th century"
    assert facets(works, None)[1]["gender"] == "unknown"  # no PainterPalette: unknown, not dropped


@pytest.fixture(scope="module")
def report(service: Service) -> dict[str, object]:
    return audit(service, by_image=6)


def test_audit_counts_add_up(service: Service, report: dict) -> None:
    works = len(service.catalogue)
    assert report["works"] == works and report["starts"] == works and not report["sampled"]
    for run in report["runs"].values():
        assert run["lists"] == works
        assert run["exposures"] == works * report["k"] - run["missing_results"]
        assert run["missing_results"] >= run["short_pages"] >= 0
        c = run["concentration"]
        assert 0 <= c["gini"] < 1 and 0 <= c["never_shown"] <= 1 and 0 < c["top1%_share"] <= 1
        for facet in FACETS:
            rows = run["groups"][facet]
            assert sum(r["works"] for r in rows) == works
            assert sum(r["exposures"] for r in rows) == run["exposures"]
            assert sum(r["collection_share"] for r in rows) == pytest.approx(1.0)
            assert sum(r["exposure_share"] for r in rows) == pytest.approx(1.0)
            for r in rows:
                assert r["ratio"] == pytest.approx(r["exposure_share"] / r["collection_share"])


def test_audit_groups_include_unknown_and_gender_from_painterpalette(service: Service, report: dict) -> None:
    groups = report["runs"]["default"]["groups"]
    for facet in ("culture", "century", "gender"):  # samples without a culture, a date, a matched painter
        assert "unknown" in {r["group"] for r in groups[facet]}
    female = next(r for r in groups["gender"] if r["group"] == "female")
    morisot = [a for a in service.catalogue.records.values() if "Berthe Morisot" in (a.artist_display or "")]
    assert morisot and female["works"] >= len(morisot)  # a known painter's gender, read from PainterPalette
    assert report["gender_known"] > len(service.catalogue) // 2
    assert report["painters"] and report["painters"].endswith("PainterPalette.csv")


def test_broaden_holds_its_cap_and_costs_are_measured_honestly(report: dict) -> None:
    runs = report["runs"]
    assert report["cap"] == 6
    assert runs["default"]["over_cap_lists"] > 0 and runs["broaden"]["over_cap_lists"] == 0
    relevance = report["relevance"]
    assert relevance["pictures"] == 6
    assert relevance["held_out_shown"] == {"default": 0, "broaden": 0}
    for notion in ("artist", "period"):
        for name in ("default", "broaden"):
            assert set(relevance["scores"][notion][name]) == {"recall@10", "ndcg@10", "mrr"}


def test_a_sample_of_starts_is_seeded(service: Service) -> None:
    first = audit(service, starts=15, seed=3, by_image=0)
    again = audit(service, starts=15, seed=3, by_image=0)
    first.pop("seconds"), again.pop("seconds")
    assert first == again and first["sampled"] and first["starts"] == 15 and "relevance" not in first
    assert first["runs"]["default"]["exposures"] == 15 * 12 - first["runs"]["default"]["missing_results"]


def test_the_report_is_json_markdown_and_plots(report: dict, service: Service, tmp_path: Path) -> None:
    assert service.home is not None
    folder = write(report, service.home, tmp_path / "audit")
    assert json.loads((folder / "audit.json").read_text()) == json.loads(json.dumps(report))
    text = (folder / "audit.md").read_text()
    assert text.split("\n", 1)[1] == markdown(report).split("\n", 1)[1]  # all but the dated title
    assert "## culture" in text and "## gender" in text and "Cost in relevance, by image" in text
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(f"audit-{f}.png" for f in FACETS)
