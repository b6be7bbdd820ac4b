"""PainterPalette: 10,361 painters' nationality, movements, places, years and influences.

The list (compiled from WikiArt, Art500k and Wikidata) seeds the historical
knowledge graph. Museum strings name people differently ("Attributed to
Anthony van Dyck (Flemish, 1599–1641)", "Monet, Claude", "Jean-Francois" vs
"Jean-François"), so matching goes through ``artist_key`` and then a
conservative fallback (same surname and first initial, life dates not in
conflict). Culture labels such as "Ancient Greek" never match a person.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from asterism.normalize.artists import artist_key, parse_artist

NOT_PEOPLE = re.compile(
    r"\b(ancient|unknown|anonymous|school|workshop|culture|dynasty|period|group|painter of|master of)\b", re.I
)


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _year(value: str | None) -> int | None:
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


@dataclass
class Painter:
    name: str
    key: str
    nationalities: list[str] = field(default_factory=list)
    movements: list[str] = field(default_factory=list)
    birth_place: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    influenced_by: list[str] = field(default_factory=list)  # artist keys
    teachers: list[str] = field(default_factory=list)  # artist keys
    gender: str | None = None  # as PainterPalette states it ("male", "female"); None when it does not


def _gender(value: str | None) -> str | None:
    """The stated gender, lower case; None when absent or a Wikidata blank node (an "unknown value")."""
    text = (value or "").strip().lower()
    return text if text and not text.startswith("http") else None


def _movements(row: dict[str, str]) -> list[str]:
    found = _names(row.get("movement")) + _names(row.get("styles"))
    return [m for m in dict.fromkeys(found) if m.lower() not in ("unknown", "")]


class PainterIndex:
    """Painters by normalised name, with a conservative fuzzy fallback."""

    def __init__(self, painters: list[Painter]) -> None:
        self.painters = {p.key: p for p in painters if p.key}
        self._by_surname: dict[str, list[Painter]] = {}
        for painter in self.painters.values():
            parts = painter.key.split()
            if len(parts) >= 2:
                self._by_surname.setdefault(parts[-1], []).append(painter)

    @classmethod
    def load(cls, path: Path) -> PainterIndex:
        painters = []
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                name = re.sub(r"\s+", " ", row.get("artist") or "").strip()
                if not name:
                    continue
                painters.append(
                    Painter(
                        name=name,
                        key=artist_key(name),
                        nationalities=_names(row.get("Nationality")),
                        movements=_movements(row),
                        birth_place=(row.get("birth_place") or None),
                        birth_year=_year(row.get("birth_year")),
                        death_year=_year(row.get("death_year")),
                        influenced_by=[artist_key(n) for n in _names(row.get("Influencedby"))],
                        teachers=[artist_key(n) for n in _names(row.get("Teachers"))],
                        gender=_gender(row.get("gender")),
                    )
                )
        return cls(painters)

    def get(self, key: str) -> Painter | None:
        return self.painters.get(key)

    def match(self, display: str | None) -> Painter | None:
        """The painter a museum artist string names, or None when unsure."""
        if not display or NOT_PEOPLE.search(display):
            return None
        info = parse_artist(display)
        key = artist_key(info.name)
        if not key or (len(key.split()) < 2 and key not in self.painters):
            return None
        exact = self.painters.get(key)
        if exact is not None:
            return exact
        parts = key.split()
        candidates = [
            p
            for p in self._by_surname.get(parts[-1], [])
            if p.key.split()[0][:1] == parts[0][:1] and _dates_agree(p, info.birth_year, info.death_year)
        ]
        if len(candidates) == 1 and (info.birth_year or len(parts[0]) > 1):
            return candidates[0]
        return None


def _dates_agree(painter: Painter, birth: int | None, death: int | None) -> bool:
    if birth and painter.birth_year and abs(birth - painter.birth_year) > 2:
        return False
    return not (death and painter.death_year and abs(death - painter.death_year) > 2)
