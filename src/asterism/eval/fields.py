"""Which methods read the field that defines a notion, and how they score with that field held out.

By id, a method that reads the record's artist is partly reading the answer
key of the "same artist" notion: the historical vector holds the artist
entity, the artist's movements and the dates; the conceptual document holds
the styles and subject terms. Such rows are flagged in the report, and the
historical affinity is scored again with the defining field removed from
every work (the field-held-out variant). By image nothing is read from the
query's record: that is why by image is the headline.
"""

from __future__ import annotations

from typing import Any

from asterism.embed.base import Affinity
from asterism.eval.methods import Ask, Universe, affinity_ranker
from asterism.recommend.service import Service

ALL = frozenset({"artist", "style", "subject", "period"})
# method -> the notions whose defining field it reads, when the query is a stored record
READS: dict[str, frozenset[str]] = {
    "historical": frozenset({"artist", "style", "period"}),
    "conceptual": frozenset({"style", "subject"}),
    "composite": ALL,
    "hybrid": ALL,
}
# notion -> the historical evidence that defines it ("artwork": the work's own node, placed next to them)
HELD_OUT: dict[str, frozenset[str]] = {
    "artist": frozenset({"artwork", "artist"}),
    "style": frozenset({"artwork", "movement"}),
    "period": frozenset({"artwork", "period", "century", "date"}),
}
VARIANT = "historical, field held out"


def flag(method: str, notion: str) -> bool:
    """Whether ``method`` reads the field that defines ``notion`` (by id)."""
    return notion in READS.get(method, frozenset())


def held_out_lists(
    service: Service,
    universe: Universe,
    queries: dict[str, list[int]],
    held: dict[int, frozenset[int]],
    k: int,
) -> dict[str, dict[int, list[int]]]:
    """notion -> query -> ranked ids by the historical affinity recomputed without that notion's field."""
    model = service.starts.historical
    if model is None:
        return {}
    works = [service.catalogue.records[int(i)] for i in universe.ids]
    out: dict[str, dict[int, list[int]]] = {}
    for notion, kinds in HELD_OUT.items():
        matrix = model.vectors(works, leave_out=kinds)
        rank = affinity_ranker(Universe(universe.ids, {Affinity.HISTORICAL: matrix}), Affinity.HISTORICAL)
        lists: dict[int, list[int]] = {}
        for query in queries.get(notion, []):
            row = universe.row(query)
            if row is not None:
                lists[query] = rank(Ask({Affinity.HISTORICAL: matrix[row]}, query, held[query]), k)
        out[notion] = lists
    return out


def notes() -> list[str]:
    """The report's explanation of the flags."""
    readers: list[Any] = [f"{m} ({', '.join(sorted(n))})" for m, n in READS.items()]
    return [
        "⚑ by id: the method reads the field that defines the notion (" + "; ".join(readers) + "); "
        f"'{VARIANT}' is the historical affinity with that field removed from every work.",
    ]
