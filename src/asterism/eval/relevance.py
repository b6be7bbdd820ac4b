"""What counts as a relevant answer, from curator data only (never from our own vectors).

Four notions, each reported on its own:
- artist: the same artist (normalised name key);
- style: a shared style or movement (the record's styles, and the artist's movements in the
  knowledge graph);
- subject: a shared subject term (curators' terms); works without terms have no relevant set;
- period: the same decade (of the date range's midpoint).

A query with no relevant work under a notion is left out of that notion's metrics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from asterism.normalize.artists import artist_key
from asterism.normalize.dates import date_midpoint, decade_of
from asterism.recommend.explain import KnowledgeView
from asterism.shapes import Artwork

NOTIONS = ("artist", "style", "subject", "period")
UNKNOWN_ARTISTS = frozenset({"", "unknown", "anonymous", "unknown artist"})


def labels(artwork: Artwork, knowledge: KnowledgeView | None = None) -> dict[str, set[str]]:
    """The curator facts of one work under each notion."""
    artist = artist_key(artwork.artist_name or "") or ""
    styles = {s.strip().lower() for s in artwork.styles if s.strip()}
    if knowledge is not None:
        styles |= {knowledge.label(m).lower() for m in knowledge.entities(artwork).get("movement", set())}
    middle = date_midpoint(artwork.date_start, artwork.date_end)
    return {
        "artist": {artist} if artist not in UNKNOWN_ARTISTS else set(),
        "style": styles,
        "subject": {s.strip().lower() for s in artwork.subjects if s.strip()},
        "period": {str(decade_of(middle))} if middle is not None else set(),
    }


def relevant_sets(
    artworks: Iterable[Artwork], knowledge: KnowledgeView | None = None
) -> dict[str, dict[int, set[int]]]:
    """notion -> artwork id -> ids of the other works sharing at least one label."""
    by_label: dict[str, defaultdict[str, set[int]]] = {notion: defaultdict(set) for notion in NOTIONS}
    facts: dict[int, dict[str, set[str]]] = {}
    for artwork in artworks:
        if artwork.id is None:
            continue
        facts[artwork.id] = labels(artwork, knowledge)
        for notion, values in facts[artwork.id].items():
            for value in values:
                by_label[notion][value].add(artwork.id)
    result: dict[str, dict[int, set[int]]] = {notion: {} for notion in NOTIONS}
    for artwork_id, notions in facts.items():
        for notion, values in notions.items():
            related: set[int] = set()
            for value in values:
                related |= by_label[notion][value]
            related.discard(artwork_id)
            if related:
                result[notion][artwork_id] = related
    return result
