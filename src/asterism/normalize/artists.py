"""Artist display strings to a name, a qualifier, a nationality and life dates.

Museums write one line for a person: "Berthe Morisot (French, 1841–1895)",
"Attributed to Anthony van Dyck (Flemish, 1599–1641)", or on two lines
"Claude Monet\\nFrench, 1840-1926". The historical affinity and the knowledge
graph need the plain name to match the same person across sources and the
PainterPalette list ("Monet, Claude", "Claude Monet", accents or not), so
``artist_key`` gives one comparable key per spelling.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from asterism.normalize.dates import DASHES

QUALIFIERS = (
    "attributed to",
    "workshop of",
    "studio of",
    "circle of",
    "follower of",
    "school of",
    "style of",
    "manner of",
    "after",
    "copy after",
    "imitator of",
    "possibly",
    "probably",
)
_QUALIFIER = re.compile(r"^(?P<q>" + "|".join(re.escape(q) for q in QUALIFIERS) + r")\b\s*", re.I)
_BIO = re.compile(
    rf"^(?:(?P<nat>[^,\d]+?),\s*)?(?:(?:born|active|died|c\.|ca\.)\s*)?"
    rf"(?P<birth>\d{{3,4}})?\s*(?:[{DASHES}]\s*(?:(?:c\.|ca\.)\s*)?(?P<death>\d{{3,4}})?)?\s*$",
    re.I,
)


@dataclass(frozen=True)
class ArtistInfo:
    name: str
    display: str
    qualifier: str | None = None
    nationality: str | None = None
    birth_year: int | None = None
    death_year: int | None = None


def parse_bio(bio: str | None) -> tuple[str | None, int | None, int | None]:
    """ "French, 1841–1895" -> ("French", 1841, 1895); unknown parts are None."""
    if not bio:
        return None, None, None
    text = re.sub(r"\s+", " ", bio.strip().strip("()")).strip()
    match = _BIO.match(text)
    if not match:
        first = text.split(",")[0].strip()
        return (first if first and not re.search(r"\d", first) else None), None, None
    nationality: str | None = (match["nat"] or "").strip() or None
    if re.search(r"\bactive\b|\bfl\.", text, re.I):
        return nationality, None, None  # working years, not life dates
    birth = int(match["birth"]) if match["birth"] else None
    death = int(match["death"]) if match["death"] else None
    return nationality, birth, death


def parse_artist(display: str | None) -> ArtistInfo:
    """Split a display string into its parts; the name is never empty if the display isn't."""
    text = (display or "").strip()
    if not text:
        return ArtistInfo(name="", display="")
    first, _, rest = text.partition("\n")
    first = first.strip()
    bio: str | None = rest.strip() or None
    paren = re.search(r"\(([^()]*)\)\s*$", first)
    if paren and (re.search(r"\d", paren.group(1)) or "," in paren.group(1) or bio is None):
        bio = paren.group(1) if bio is None else bio
        first = first[: paren.start()].strip()
    qualifier = None
    match = _QUALIFIER.match(first)
    if match:
        qualifier = match["q"].lower()
        first = first[match.end() :].strip()
    nationality, birth, death = parse_bio(bio)
    name = first.strip(" ,;") or text
    return ArtistInfo(name, text, qualifier, nationality, birth, death)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def artist_key(name: str | None) -> str:
    """One comparable key per person: "Monet, Claude" and "Claude Monet" -> "claude monet".

    Accents, case, punctuation and attribution qualifiers are dropped; "Last, First" is
    turned around (but not "Rembrandt van Rijn, Dutch" style trailing qualifiers).
    """
    if not name:
        return ""
    text = parse_artist(name).name if "(" in name or "\n" in name else name.strip()
    match = _QUALIFIER.match(text)
    if match:
        text = text[match.end() :]
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and parts[1] and len(parts[1].split()) <= 3 and not re.search(r"\d", parts[1]):
        text = f"{parts[1]} {parts[0]}"
    text = strip_accents(text).lower()
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()
