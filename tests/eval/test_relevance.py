"""Relevance notions on hand-made records."""

from __future__ import annotations

from asterism.eval.relevance import relevant_sets
from asterism.shapes import Artwork


def work(i: int, artist: str | None, styles: list[str], subjects: list[str], year: int | None) -> Artwork:
    return Artwork(source="t", source_id=str(i), id=i, title=f"w{i}", artist_name=artist, styles=styles,
                   subjects=subjects, date_start=year, date_end=year)  # fmt: skip


def test_each_notion_by_hand() -> None:
    works = [
        work(1, "Claude Monet", ["Impressionism"], ["boats", "harbour"], 1874),
        work(2, "Monet, Claude", [], ["harbour"], 1879),
        work(3, "Paul Cézanne", ["impressionism"], [], 1906),
        work(4, "Unknown", [], ["boats"], None),
        work(5, None, [], [], 1650),
    ]
    sets = relevant_sets(works)
    assert sets["artist"] == {1: {2}, 2: {1}}  # "Monet, Claude" is Claude Monet; Unknown is no artist
    assert sets["style"] == {1: {3}, 3: {1}}  # case-insensitive
    assert sets["subject"] == {1: {2, 4}, 2: {1}, 4: {1}}
    assert sets["period"] == {1: {2}, 2: {1}}  # both 1870s; 1906 and 1650 have no peers
    assert 5 not in sets["period"]
