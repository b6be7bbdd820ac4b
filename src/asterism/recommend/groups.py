"""Which culture and which century a work belongs to: what ``broaden`` caps and the audit counts.

Defined once so that the bound a person can ask for (``Query.max_share``) and the audit that
shows whether it holds read the same groups. The culture is the record's own (a source's
culture or nationality, or the nationality an ingest read from the artist's display string),
else its place of origin; the century is that of the date range's midpoint. Either may be
unknown (None): an unknown group is never capped, and the audit counts it as "unknown".
"""

from __future__ import annotations

from asterism.normalize.dates import century_label, date_midpoint
from asterism.shapes import Artwork

UNKNOWN = "unknown"


def culture_of(artwork: Artwork) -> str | None:
    """The work's culture, else its place (whitespace tidied, as the source spells it); None if neither."""
    for value in (artwork.culture, artwork.place):
        text = " ".join((value or "").split())
        if text and text.lower() != UNKNOWN:
            return text
    return None


def century_of(artwork: Artwork) -> str | None:
    """The century of the midpoint of the work's date range ("19th century", "5th century BCE"); None if undated."""
    return century_label(date_midpoint(artwork.date_start, artwork.date_end))


def capped(artwork: Artwork | None) -> tuple[str | None, str | None]:
    """The groups ``broaden`` bounds in one list: (culture, century), None where unknown."""
    if artwork is None:
        return (None, None)
    return (culture_of(artwork), century_of(artwork))
