"""Artist display strings to a name, a qualifier, a nationality, life dates and aliases.

Museums write one line for a person: "Berthe Morisot (French, 1841–1895)",
"Attributed to Anthony van Dyck (Flemish, 1599–1641)", or on two lines
"Claude Monet\\nFrench, 1840-1926". The historical affinity and the knowledge
graph need the plain name to match the same person across sources and the
PainterPalette list ("Monet, Claude", "Claude Monet", accents or not), so
``artist_key`` gives one comparable key per spelling.

Parentheses do not always hold a biography: "Jacometto (Jacometto Veneziano)",
"El Greco (Doménikos Theotokópoulos; Greek, active in Spain, 1541–1614)" and
"August (Ágost) Canzi" carry other names of the person, "Hans van Coninxloo (I)"
a generation. A parenthetical (or each ";" part of one) is read as a biography
only when it starts with a known nationality or has the "Nationality, dates"
shape; a name-like one is an alias; anything else is kept as a note.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

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
    "after a design by",
    "adapted from designs by",
    "copy after",
    "imitator of",
    "possibly",
    "probably",
)
# Longest first, so "after a design by" wins over "after".
_QUALIFIER = re.compile(
    r"^(?P<q>" + "|".join(re.escape(q) for q in sorted(QUALIFIERS, key=len, reverse=True)) + r")\b\s*", re.I
)

NATIONALITIES: frozenset[str] = frozenset(
    {
        # Europe
        "French", "Dutch", "Flemish", "Netherlandish", "Belgian", "Italian", "Spanish", "Portuguese",
        "Catalan", "German", "Austrian", "Swiss", "English", "British", "Scottish", "Irish", "Welsh",
        "Danish", "Swedish", "Norwegian", "Finnish", "Icelandic", "Russian", "Ukrainian", "Polish",
        "Czech", "Bohemian", "Slovak", "Hungarian", "Romanian", "Bulgarian", "Serbian", "Croatian",
        "Slovenian", "Estonian", "Latvian", "Lithuanian", "Greek", "Roman", "Etruscan", "Byzantine",
        # regional schools museums write instead of a country
        "Bavarian", "Franconian", "Swabian", "Rhenish", "Westphalian", "Saxon", "Tyrolean", "Venetian",
        "Florentine", "Sienese", "Bolognese", "Lombard", "Genoese", "Neapolitan", "Umbrian",
        "Ferrarese", "Milanese", "Sicilian", "Castilian", "Aragonese", "Valencian", "Andalusian",
        # the Americas
        "American", "Canadian", "Mexican", "Peruvian", "Brazilian", "Argentine", "Argentinian",
        "Chilean", "Colombian", "Cuban", "Venezuelan", "Guatemalan", "Pre-Columbian", "Aztec", "Maya",
        "Mayan", "Inca", "Olmec", "Moche", "Nazca", "Chimú",
        # Asia, Africa, Oceania
        "Japanese", "Chinese", "Korean", "Indian", "Persian", "Iranian", "Turkish", "Ottoman",
        "Egyptian", "Coptic", "Islamic", "Mughal", "Armenian", "Georgian", "Syrian", "Lebanese",
        "Israeli", "Jewish", "Thai", "Vietnamese", "Indonesian", "Filipino", "Tibetan", "Nepalese",
        "Mongolian", "Afghan", "Pakistani", "African", "Nigerian", "Ghanaian", "Ethiopian",
        "Australian", "New Zealander",
    }
)  # fmt: skip
"""Demonyms and culture names that open an artist's biography in museum text.

A parenthetical after a name is either a biography ("French, 1841–1895") or
another name ("Jacometto Veneziano"); without dates only the first word tells
them apart, so it is looked up here. Matching is by word: modifiers such as
"North", "Ancient" or "South" and "and"/"or" may join known words ("Ancient
Greek", "North Netherlandish", "French and American", "Bavarian or Austrian").
"""

_NATIONALITY_WORDS = frozenset(w.lower() for n in NATIONALITIES for w in n.split())
_MODIFIERS = frozenset({
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central",
    "upper", "lower", "ancient", "early", "late", "probably", "possibly",
})  # fmt: skip
_CONNECTORS = frozenset({"and", "or", "&", "/"})
_PARTICLES = frozenset({
    "da", "de", "del", "della", "dei", "degli", "di", "do", "dos", "das", "du", "des", "van", "von",
    "der", "den", "ten", "ter", "te", "y", "e", "i", "la", "le", "lo", "il", "el", "of", "the",
})  # fmt: skip
_ALIAS_PREFIX = re.compile(
    r"^(?:(?:also|sometimes)\s+)?(?:called|known\s+as|named|dit|detto|genannt|n[ée]e?|formerly|a\.?k\.?a\.?|or)\s+",
    re.I,
)
_GENERATION = re.compile(r"(?:[IVX]+|(?i:(?:the\s+)?(?:elder|younger|senior|junior|sr\.?|jr\.?)))")
_WORKING = re.compile(r"(?:active|fl\b\.?|floruit|documented|working)\b", re.I)
_DATE_START = re.compile(
    r"^(?:(?:born|died|active|fl\b\.?|floruit|documented|working)\b|(?:(?:c\.|ca\.|circa|about)\s*)?\d)", re.I
)
_YEAR = re.compile(r"(?<![\d/])(\d{3,4})(?!\d|'?s\b)")  # not a decade: "active 1620s"
_CENTURY = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)\b.*\bcentury\b", re.I)
_BCE = r"(?:BCE|B\.\s?C\.(?:E\.)?|BC)"
_RANGE = re.compile(
    rf"(?<![\d/])(?P<a>\d{{3,4}})(?:/\d{{1,4}})?(?!\d)\s*(?P<bce_a>{_BCE})?\s*[{DASHES}]\s*"
    rf"(?:(?:c\.|ca\.|circa|about|before|after|by|died|until)\s*)*"
    rf"(?P<b>\d{{1,4}})(?:/\d{{1,4}})?(?!\d)(?:\s*(?P<bce_b>{_BCE}))?"
)
_DIED = re.compile(r"\bdied\s+(?:(?:c\.|ca\.|about|before|after|by|in)\s*)?(\d{3,4})(?!\d)", re.I)


@dataclass(frozen=True)
class ArtistInfo:
    name: str
    display: str
    qualifier: str | None = None
    nationality: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    aliases: list[str] = field(default_factory=list)  # other names: "Jacometto Veneziano"
    notes: list[str] = field(default_factory=list)  # parentheticals of no known shape: "II", "?"


def _known_word(word: str) -> bool:
    word = word.strip("?,.;").lower()
    return word in _NATIONALITY_WORDS or word.rsplit("-", 1)[-1] in _NATIONALITY_WORDS


def _nationality(part: str, *, shaped: bool) -> str | None:
    """``part`` as a nationality: known words, or any capitalised words when dates follow."""
    text = re.sub(r"\s*\?$", "", part.strip()).strip()
    if not text or re.search(r"[\d()]", text):
        return None
    words = text.split()
    known = any(_known_word(w) for w in words) and all(
        _known_word(w) or w.lower() in _MODIFIERS or w.lower() in _CONNECTORS for w in words
    )
    if known or (shaped and text[0].isupper() and len(words) <= 4):
        return text
    return None


def _has_date(text: str) -> bool:
    return bool(_YEAR.search(text) or _CENTURY.search(text))


def _is_bio(text: str) -> bool:
    """ "French, 1841–1895", "Flemish ?", "active c. 1400–c. 1450", "1836–1910": yes; "Jacometto Veneziano": no."""
    text = text.strip()
    dated = _has_date(text)
    if dated and _DATE_START.match(text):
        return True
    parts = [p.strip() for p in text.split(",")]
    return _nationality(parts[0], shaped=dated and len(parts) > 1) is not None


def _aliases(text: str) -> list[str] | None:
    """Other names in a parenthetical ("called Il Guercino" -> "Il Guercino"), or None if it is not one."""
    found: list[str] = []
    for piece in re.split(r",|\s+(?=(?:also\s+)?(?:called|known\s+as)\s)", text):
        piece = piece.strip()
        if not piece:
            continue  # ", called" splits twice
        prefix = _ALIAS_PREFIX.match(piece)
        if prefix:
            piece = piece[prefix.end() :].strip()
        if not piece or re.search(r"[\d?]", piece) or _GENERATION.fullmatch(piece):
            return None
        words = piece.split()
        if not words[0][0].isupper() or not all(
            w[0].isupper() or w.lower() in _PARTICLES or w[:2].lower() in ("d'", "l'") for w in words
        ):
            return None
        found.append(piece)
    return found or None


def _life_years(text: str) -> tuple[int | None, int | None]:
    """Birth and death years; none for working years ("active 1465–1494"), except an explicit "died"."""
    parts = [p.strip() for p in text.split(",")]
    working = bool(_WORKING.match(text)) or any(_WORKING.match(p) and re.search(r"\d", p) for p in parts)
    died = _DIED.search(text)
    death: int | None = int(died.group(1)) if died else None
    if working:
        return None, death
    span = _RANGE.search(text)
    if span:
        start, end = span["a"], span["b"]
        if len(end) < len(start):  # "1449–87"
            end = start[: len(start) - len(end)] + end
        birth, last = int(start), int(end)
        if span["bce_b"]:
            birth, last = -birth, -last
        elif span["bce_a"]:
            birth = -birth
        return birth, last
    year = _YEAR.search(text)
    if year is None:
        return None, death
    value = -int(year.group(1)) if re.match(rf"\s*{_BCE}", text[year.end() :]) else int(year.group(1))
    if re.search(r"\bdied\s*(?:(?:c\.|ca\.|about|before|after|by|in)\s*)?$", text[: year.start()], re.I):
        return None, value
    return value, death


def parse_bio(bio: str | None) -> tuple[str | None, int | None, int | None]:
    """ "French, 1841–1895" -> ("French", 1841, 1895); unknown parts are None.

    Working years ("active 1465–1494", "documented 1439–1503") are not life dates;
    approximate ones are read as written ("c. 1430", "1430/35–before 1495" -> 1430, 1495).
    """
    if not bio:
        return None, None, None
    text = re.sub(r"\s+", " ", bio.strip().strip("()")).strip()
    parts = [p.strip() for p in text.split(",")]
    dated = _has_date(text)
    nationality = _nationality(parts[0], shaped=dated and len(parts) > 1)
    if nationality is None and len(parts) > 1:
        nationality = _nationality(parts[-1], shaped=False)  # "1775–1851, British"
    birth, death = _life_years(text)
    return nationality, birth, death


def _read_parenthetical(inner: str) -> tuple[str | None, list[str], list[str]]:
    """One parenthetical's ";" parts as (biography, aliases, notes)."""
    bio: str | None = None
    aliases: list[str] = []
    notes: list[str] = []
    for segment in (s.strip() for s in inner.split(";")):
        if not segment:
            continue
        if bio is None and _is_bio(segment):
            bio = segment
            continue
        names = _aliases(segment)
        if names:
            aliases.extend(names)
        else:
            notes.append(segment)
    return bio, aliases, notes


def parse_artist(display: str | None) -> ArtistInfo:
    """Split a display string into its parts; the name is never empty if the display isn't."""
    text = (display or "").strip()
    if not text:
        return ArtistInfo(name="", display="")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0]
    bio: str | None = None
    aliases: list[str] = []
    notes: list[str] = []
    # Trailing parentheticals, right to left: "Name (alias) (French, 1800–1850)".
    while (paren := re.search(r"\(([^()]*)\)\s*$", first)) and first[: paren.start()].strip():
        first = first[: paren.start()].rstrip()
        found, names, others = _read_parenthetical(paren.group(1))
        if found is not None:
            if bio is None:
                bio = found
            else:
                others.insert(0, found)
        aliases = names + aliases
        notes = others + notes
    if bio is None and len(lines) > 1 and _is_bio(lines[1]):
        bio = lines[1]  # "Claude Monet\nFrench, 1840-1926"
    if bio is None and "(" not in first:  # "Amy Sherald, born 1973"
        parts = first.split(",")
        for i in range(1, len(parts)):
            tail = ",".join(parts[i:]).strip()
            if _has_date(tail) and _DATE_START.match(tail):
                first, bio = ",".join(parts[:i]), tail
                break
    qualifier = None
    match = _QUALIFIER.match(first)
    if match:
        qualifier = match["q"].lower()
        first = first[match.end() :].strip()
    # A one-word alternative inside the name: "August (Ágost) Canzi" -> alias "Ágost Canzi".
    while (inline := re.search(r"(\S+)\s+\(([^()\s]+)\)", first)) and _aliases(inline.group(2)):
        before, after = first[: inline.start()], first[inline.end() :]
        aliases.insert(0, re.sub(r"\s+", " ", before + inline.group(2) + after).strip(" ,;"))
        first = before + inline.group(1) + after
    nationality, birth, death = parse_bio(bio)
    name = re.sub(r"\s+", " ", first).strip(" ,;") or text
    return ArtistInfo(name, text, qualifier, nationality, birth, death, aliases, notes)


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
