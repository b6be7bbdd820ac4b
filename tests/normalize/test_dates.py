"""Date parsing on the forms museums really write, and on the real sample catalogues."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from asterism.normalize.dates import century_label, date_midpoint, decade_of, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1871", (1871, 1871)),
        ("c. 1505", (1500, 1510)),
        ("ca. 1525–1504 B.C.", (-1530, -1499)),
        ("1870/80", (1870, 1880)),
        ("1868–70", (1868, 1870)),
        ("1873-75", (1873, 1875)),
        ("1605/10", (1605, 1610)),
        ("1375/1400", (1375, 1400)),
        ("c. 1610/25", (1605, 1630)),
        ("1855, reworked 1857–59", (1855, 1859)),
        ("16th century", (1501, 1600)),
        ("early 17th century", (1601, 1633)),
        ("mid-19th century", (1833, 1867)),
        ("late 19th century", (1867, 1900)),
        ("Second half of the 18th century", (1751, 1800)),
        ("5th century BCE", (-500, -401)),
        ("3rd–2nd century B.C.", (-300, -101)),
        ("1st century A.D.", (1, 100)),
        ("2nd millennium BC", (-2000, -1001)),
        ("450–440 BC", (-450, -440)),
        ("1890s", (1890, 1899)),
        ("about 1900", (1895, 1905)),
        ("Edo period (1615–1868)", (1615, 1868)),
        ("Ptolemaic Period (332–30 BC)", (-332, -30)),
        ("1653.0", (1653, 1653)),
        ("-100", (-100, -100)),
        ("16th c.", (1501, 1600)),
    ],
)
def test_parses_catalogue_dates(text: str, expected: tuple[int, int]) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "Date unknown", "n.d.", "undated", None, "various"])
def test_unreadable_dates_give_nothing_rather_than_a_guess(text: str | None) -> None:
    assert parse_date(text) == (None, None)


def test_at_least_95_percent_of_real_sample_dates_parse(shared_data: Path) -> None:
    texts = [item["date"] for item in json.loads((shared_data / "aic-paintings/artworks.json").read_text())]
    with (shared_data / "aic-objects/metadata.csv").open(encoding="utf-8") as handle:
        texts += [row["year"] for row in csv.DictReader(handle)]
    dated = [t for t in texts if t and t.strip().lower() != "date unknown"]
    parsed = [parse_date(t) for t in dated]
    assert sum(start is not None for start, _ in parsed) / len(dated) >= 0.95
    assert all(s is None or e is None or s <= e for s, e in parsed)


def test_helpers() -> None:
    assert date_midpoint(1870, 1880) == 1875
    assert date_midpoint(None, None) is None
    assert decade_of(1874) == 1870 and decade_of(-455) == -460
    assert century_label(1874) == "19th century"
    assert century_label(1900) == "19th century"
    assert century_label(-455) == "5th century BCE"
    assert century_label(2001) == "21st century"
