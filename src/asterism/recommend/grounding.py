"""Is a sentence about two works grounded in their reasons? Named things in it must be in the facts.

A generated explanation may only name what the reasons (and the two works' own
titles, artists and dates) name. ``ungrounded`` lists what it names beyond them:

* names: a capitalised word inside a sentence must be a word of the facts (or the
  demonym of one: "Spanish" for "Spain"); a capitalised first word only when it is
  a known name (an artist, place, culture, movement of the catalogue or the
  knowledge graph) — "Both" and "The" open sentences, "Rembrandt" names someone;
* dates: a year, decade ("1480s"), hundreds ("1400s") or century ("15th century",
  "fifteenth century") must overlap a date of the facts;
* colours: a colour word must be one the facts hold ("golden" counts as "gold");
* objects: a thing the image classifier knows (its label vocabulary) must be in the facts.

It checks what is named, not whether the sentence is true of the facts: "both from the
1400s" passes when one of the works is from then. That is what the reasons guarantee.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from asterism.shapes import Artwork

COLOURS = frozenset({
    "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white",
    "grey", "ochre", "olive", "gold", "silver", "crimson", "scarlet", "vermilion", "azure", "ultramarine",
    "cobalt", "umber", "sienna", "violet", "lilac", "lavender", "beige", "cream", "ivory", "turquoise",
    "indigo", "magenta", "maroon", "burgundy", "navy", "cyan", "amber", "khaki", "emerald", "cerulean",
    "ruby", "sepia", "bronze", "copper", "salmon", "peach", "mauve", "carmine", "russet", "rose",
})  # fmt: skip
COLOUR_FORMS = {
    "gray": "grey", "golden": "gold", "gilt": "gold", "gilded": "gold", "ocher": "ochre",
    "vermillion": "vermilion", "reddish": "red", "bluish": "blue", "blueish": "blue", "greenish": "green",
    "yellowish": "yellow", "brownish": "brown", "greyish": "grey", "grayish": "grey", "pinkish": "pink",
    "purplish": "purple", "blacks": "black", "whites": "white", "reds": "red", "blues": "blue",
    "greens": "green", "yellows": "yellow", "browns": "brown", "greys": "grey", "grays": "grey",
}  # fmt: skip
# Words an explanation uses for the works themselves: never an "object" it invented.
GENERIC = frozenset({
    "painting", "paintings", "picture", "pictures", "work", "works", "artwork", "artworks", "image",
    "images", "panel", "panels", "canvas", "print", "drawing", "piece", "scene", "composition",
    "palette", "texture", "brushwork", "colour", "colours", "color", "colors", "light", "dark", "pale",
})  # fmt: skip
# Words that open a sentence without naming anyone (some are also names: Jan Both was a painter).
OPENERS = frozenset({
    "a", "an", "the", "both", "they", "their", "them", "this", "these", "those", "that", "it", "its",
    "each", "like", "in", "and", "but", "with", "here", "there", "while", "where", "although",
    "though", "as", "from", "one", "two", "shared", "similar", "also", "together", "across", "beyond",
    "unlike", "by", "for", "on", "at", "of", "all", "neither", "either", "another", "such", "same",
})  # fmt: skip
DEMONYMS = {
    "france": "french", "spain": "spanish", "netherlands": "dutch", "holland": "dutch", "flanders": "flemish",
    "germany": "german", "england": "english", "britain": "british", "japan": "japanese", "china": "chinese",
    "italy": "italian", "america": "american", "united states": "american", "greece": "greek",
    "rome": "roman", "russia": "russian", "belgium": "belgian", "austria": "austrian", "mexico": "mexican",
    "india": "indian", "egypt": "egyptian", "persia": "persian", "iran": "iranian", "korea": "korean",
    "switzerland": "swiss", "sweden": "swedish", "norway": "norwegian", "denmark": "danish",
    "portugal": "portuguese", "scotland": "scottish", "ireland": "irish", "venice": "venetian",
    "florence": "florentine", "poland": "polish", "hungary": "hungarian", "turkey": "turkish",
    "peru": "peruvian", "canada": "canadian", "paris": "parisian", "europe": "european",
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "twenty-first": 21,
}  # fmt: skip
NAME_NOISE = frozenset({
    "the", "and", "of", "de", "la", "le", "van", "von", "der", "den", "del", "da", "di", "du", "unknown",
    "artist", "after", "attributed", "workshop", "school", "circle", "follower", "style", "manner",
})  # fmt: skip

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]+centur", re.IGNORECASE)
_ORDINAL_CENTURY = re.compile(r"\b([a-z]+(?:-[a-z]+)?)[\s-]+centur", re.IGNORECASE)
_DECADE = re.compile(r"\b(\d{3,4})[’']?s\b")
_YEAR = re.compile(r"(?<![\d.#~])\b(\d{3,4})\b(?!\d|\.\d|[’']?s\b)")
_POSSESSIVE = re.compile(r"[’']s$")
_OPENING = re.compile(r"(^|[.!?:;—–]\s*)[\"“‘'(\[]*$")


@lru_cache(maxsize=1)
def object_vocabulary() -> frozenset[str]:
    """The image classifier's label phrases (ImageNet's 1,000), lower case, generic words left out."""
    from asterism.embed.backbone import imagenet_labels

    return frozenset(label.lower() for label in imagenet_labels() if label.lower() not in GENERIC)


@dataclass(frozen=True)
class Vocabulary:
    """What can be named: known names (lower-case words), and the label vocabulary's object phrases."""

    names: frozenset[str] = frozenset()
    objects: frozenset[str] = field(default_factory=object_vocabulary)

    @classmethod
    def of(cls, artworks: Iterable[Artwork], extra_names: Iterable[str] = ()) -> Vocabulary:
        """From a catalogue's artists, places, cultures and styles, and names such as the graph's labels."""
        found: set[str] = set()
        for work in artworks:
            for text in (work.artist_name, work.artist_display, work.place, work.culture, *work.styles):
                found |= name_words(text)
        for text in extra_names:
            found |= name_words(text)
        return cls(names=frozenset(found))


def name_words(text: str | None) -> set[str]:
    """Lower-case words of a name that name something (particles, "Unknown" and short words dropped)."""
    if not text:
        return set()
    return {w for w in (m.lower() for m in _WORD.findall(text)) if len(w) >= 3 and w not in NAME_NOISE}


@dataclass(frozen=True)
class Allowed:
    """What the facts name: their words, years and date ranges, centuries named outright."""

    words: frozenset[str]
    years: tuple[tuple[int, int], ...]
    centuries: frozenset[int]

    @classmethod
    def of(cls, texts: Iterable[str], ranges: Iterable[tuple[int | None, int | None]] = ()) -> Allowed:
        text = " ".join(texts).lower()
        words = {w.strip("'’-") for w in _WORD.findall(text)}
        words |= {DEMONYMS[w] for w in words if w in DEMONYMS}
        words |= {DEMONYMS[p] for p in DEMONYMS if " " in p and p in text}
        words |= {COLOUR_FORMS[w] for w in words if w in COLOUR_FORMS}
        spans = [(y, y) for y in _years(text)]
        for first, last in ranges:
            if first is not None or last is not None:
                a = first if first is not None else last
                b = last if last is not None else first
                assert a is not None and b is not None
                spans.append((min(a, b), max(a, b)))
        centuries = {int(n) for n in _CENTURY.findall(text)}
        centuries |= {ORDINALS[w.lower()] for w in _ORDINAL_CENTURY.findall(text) if w.lower() in ORDINALS}
        return cls(frozenset(words), tuple(spans), frozenset(centuries))

    def has_word(self, word: str) -> bool:
        """The word, its singular, or (for a name of 7+ letters) a word of the same stem, is in the facts."""
        word = word.lower().strip("'’-").removesuffix("’s").removesuffix("'s")
        if word in self.words or word.rstrip("s") in self.words or word.removesuffix("es") in self.words:
            return True
        if len(word) >= 7:  # Impressionist ~ Impressionism, Italian ~ Italy: a shared stem
            stem = word[: max(5, len(word) - 4)]
            return any(w.startswith(stem) for w in self.words)
        return False

    def overlaps(self, first: int, last: int) -> bool:
        return any(a <= last and b >= first for a, b in self.years)


def _years(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text) if 100 <= int(y) <= 2100]


def _century_span(number: int) -> tuple[int, int]:
    return (number - 1) * 100 + 1, number * 100


def ungrounded(text: str, allowed: Allowed, vocabulary: Vocabulary) -> list[str]:
    """What ``text`` names that the facts do not ("artist or place 'Goya'", "colour 'blue'", ...)."""
    problems: list[str] = []
    lower = text.lower()
    for match in _WORD.finditer(text):
        word = match.group().strip("'’-")
        if not word or not word[0].isupper() or word.lower() in ("i",):
            continue
        opening = bool(_OPENING.search(text[: match.start()]))
        if opening and (word.lower() in OPENERS or word.lower() not in vocabulary.names):
            continue
        if not allowed.has_word(word):
            problems.append("name " + repr(_POSSESSIVE.sub("", word)))
    for number in _CENTURY.findall(text):
        if not _century_ok(int(number), allowed):
            problems.append(f"date {number!r} century")
    for ordinal in _ORDINAL_CENTURY.findall(lower):
        if ordinal in ORDINALS and not _century_ok(ORDINALS[ordinal], allowed):
            problems.append(f"date {ordinal!r} century")
    for digits in _DECADE.findall(text):
        value = int(digits)
        span = (value, value + 99) if value % 100 == 0 else (value, value + 9)
        if not allowed.overlaps(*span):
            problems.append(f"date '{digits}s'")
    for year in _years(text):
        if not allowed.overlaps(year, year):
            problems.append(f"date '{year}'")
    for word in _WORD.findall(lower):
        colour = COLOUR_FORMS.get(word, word)
        if colour in COLOURS and colour not in allowed.words:
            problems.append(f"colour {word!r}")
    tokens = re.findall(r"[a-z]+", lower)
    for size in (1, 2, 3):
        for i in range(len(tokens) - size + 1):
            phrase = " ".join(tokens[i : i + size])
            forms = [phrase]
            if phrase.endswith("s") and not phrase.endswith("ss"):
                forms.append(phrase[:-1])
            if phrase.endswith(("ches", "shes", "xes", "sses", "zes")):
                forms.append(phrase[:-2])
            label = next((f for f in forms if f in vocabulary.objects), None)
            if label is not None and label not in COLOURS and not _phrase_in(label, allowed):
                problems.append(f"object {label!r}")
    return list(dict.fromkeys(problems))


def _century_ok(number: int, allowed: Allowed) -> bool:
    return number in allowed.centuries or allowed.overlaps(*_century_span(number))


def _phrase_in(phrase: str, allowed: Allowed) -> bool:
    return all(allowed.has_word(word) for word in phrase.split())
