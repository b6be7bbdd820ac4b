"""The Met's Open Access CSV: streamed rows, a resumable cursor, and metadata-only records in SQLite."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import Settings
from asterism.ingest.pipeline import ingest
from asterism.shapes import Status
from asterism.sources.base import Page, SourceError
from asterism.sources.met_csv import MetCsvSource
from asterism.store import open_database

from paging import collect, ids_of

# The header of MetObjects.csv as published in github.com/metmuseum/openaccess.
HEADER = [
    "Object Number",
    "Is Highlight",
    "Is Timeline Work",
    "Is Public Domain",
    "Object ID",
    "Gallery Number",
    "Department",
    "AccessionYear",
    "Object Name",
    "Title",
    "Culture",
    "Period",
    "Dynasty",
    "Reign",
    "Portfolio",
    "Constituent ID",
    "Artist Role",
    "Artist Prefix",
    "Artist Display Name",
    "Artist Display Bio",
    "Artist Suffix",
    "Artist Alpha Sort",
    "Artist Nationality",
    "Artist Begin Date",
    "Artist End Date",
    "Artist Gender",
    "Artist ULAN URL",
    "Artist Wikidata URL",
    "Object Date",
    "Object Begin Date",
    "Object End Date",
    "Medium",
    "Dimensions",
    "Credit Line",
    "Geography Type",
    "City",
    "State",
    "County",
    "Country",
    "Region",
    "Subregion",
    "Locale",
    "Locus",
    "Excavation",
    "River",
    "Classification",
    "Rights and Reproduction",
    "Link Resource",
    "Object Wikidata URL",
    "Metadata Date",
    "Repository",
    "Tags",
    "Tags AAT URL",
    "Tags Wikidata URL",
]


def row(object_id: int, public: bool = True, **values: str) -> dict[str, str]:
    base = {
        "Object Number": f"24.109.{object_id}",
        "Is Public Domain": "True" if public else "False",
        "Object ID": str(object_id),
        "Department": "The American Wing",
        "Object Name": "Cup",
        "Title": f"Cup {object_id}",
        "Artist Display Name": "Paul Revere Jr.|Somebody Else",
        "Artist Display Bio": "American, Boston, Massachusetts 1734–1818 Boston, Massachusetts|",
        "Artist Nationality": "American|American",
        "Artist Wikidata URL": "https://www.wikidata.org/wiki/Q327262|",
        "Object Date": "ca. 1795",
        "Object Begin Date": "1790",
        "Object End Date": "1800",
        "Medium": "Silver",
        "Credit Line": "Bequest of A. T. Clearwater, 1933",
        "City": "Boston",
        "Country": "United States",
        "Classification": "Metal",
        "Link Resource": f"http://www.metmuseum.org/art/collection/search/{object_id}",
        "Tags": "Cups|Silver",
    }
    return base | values


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # the real file starts with a BOM
        writer = csv.DictWriter(handle, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def met_csv(tmp_path: Path) -> Path:
    rows = [row(i, public=i != 4) for i in range(1, 8)]
    rows.append(row(0, **{"Object ID": "x", "Title": "bad row"}))
    return write_csv(tmp_path / "MetObjects.csv", rows)


def test_rows_become_image_less_records(met_csv: Path) -> None:
    pages = collect(MetCsvSource(met_csv, page_size=3))
    assert ids_of(pages) == ["1", "2", "3", "5", "6", "7"]  # 4 is not public domain
    record = pages[0].records[0]
    assert record.image is None
    artwork = record.artwork
    assert (artwork.source, artwork.title, artwork.artist_name) == ("met-csv", "Cup 1", "Paul Revere Jr.")
    assert (
        artwork.artist_display
        == "Paul Revere Jr. (American, Boston, Massachusetts 1734–1818 Boston, Massachusetts)"
    )
    assert (artwork.date_display, artwork.date_start, artwork.date_end) == ("ca. 1795", 1790, 1800)
    assert artwork.subjects == ["Cups", "Silver"] and artwork.place == "Boston, United States"
    assert artwork.culture == "American" and artwork.classification == "Metal"
    assert (artwork.license, artwork.license_id) == ("Public domain (isPublicDomain)", "public-domain")
    assert artwork.extras["Department"] == "The American Wing"
    assert [problem[0] for p in pages for problem in p.problems] == ["x"]


def test_cursor_resumes_after_the_last_stored_row(met_csv: Path) -> None:
    pages = collect(MetCsvSource(met_csv, page_size=3))
    assert [p.cursor for p in pages] == [{"offset": 3, "kept": 3}, {"offset": 6, "kept": 5}, None]
    rest = collect(MetCsvSource(met_csv, page_size=3), pages[0].cursor)
    assert ids_of(pages[:1]) + ids_of(rest) == ids_of(pages)


def test_limit_and_all_licenses(met_csv: Path) -> None:
    assert ids_of(collect(MetCsvSource(met_csv, limit=2, page_size=3))) == ["1", "2"]
    everything = collect(MetCsvSource(met_csv, public_domain=False))
    by_id = {r.artwork.source_id: r.artwork for p in everything for r in p.records}
    assert len(by_id) == 7
    assert (by_id["4"].license, by_id["4"].license_id) == (
        "Not public domain (isPublicDomain=false)",
        "unknown",
    )


def test_the_file_is_streamed_not_loaded(tmp_path: Path) -> None:
    """A broken row at the end fails only when reached, after the pages before it."""
    rows = [row(i) for i in range(1, 11)]
    rows.append(row(11, Title="x" * 200_000))  # over the csv module's field limit
    path = write_csv(tmp_path / "MetObjects.csv", rows)

    async def run() -> tuple[list[Page], str]:
        pages: list[Page] = []
        try:
            async for page in MetCsvSource(path, page_size=4).pages(None):
                pages.append(page)
        except SourceError as exc:
            return pages, str(exc)
        return pages, ""

    pages, error = asyncio.run(run())
    assert ids_of(pages) == [str(i) for i in range(1, 9)]
    assert "unreadable after data row 8" in error


def test_wrong_or_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"download MetObjects\.csv"):
        MetCsvSource(tmp_path / "absent.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match=r"is not MetObjects\.csv"):
        collect(MetCsvSource(other))


def test_ingest_end_to_end_and_rerun(met_csv: Path, settings: Settings) -> None:
    def run() -> None:
        source = MetCsvSource(met_csv, page_size=3)
        ingest(settings, source)

    run()
    store = open_database(settings).records
    works = list(store.artworks(source="met-csv"))
    assert sorted(w.source_id for w in works) == ["1", "2", "3", "5", "6", "7"]
    assert all(w.status == Status.NO_IMAGE and w.image is None for w in works)
    assert [p.source_id for p in store.problems("met-csv")] == ["x"]
    run()
    assert store.count() == 6


def test_cli_command(met_csv: Path, settings: Settings) -> None:
    args = ["--home", str(settings.home), "ingest", "met-csv", str(met_csv), "--all-licenses", "--limit", "5"]
    result = CliRunner().invoke(app, args, env={"ASTERISM_OCR__MODE": "never"})
    assert result.exit_code == 0, result.output
    assert "met-csv: 5 seen, 5 stored" in result.output
    assert open_database(settings).records.count() == 5
    missing = CliRunner().invoke(app, ["--home", str(settings.home), "ingest", "met-csv", "nowhere.csv"])
    assert missing.exit_code == 2 and "download MetObjects.csv" in missing.output
