"""Reasons for a result, per affinity, read off the data: never a template filled with guesses.

Each function returns short phrases a person can check against the two
records: which formal part dominates and which colours both palettes hold;
which subjects, predicted labels, OCR words or title words both works share;
which artist, movement, place, period or influence/teacher link the
knowledge graph holds for both, or how far apart their dates are.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from asterism.embed.conceptual import LABEL_FLOOR
from asterism.embed.formal import FormalLayout, part_similarities
from asterism.embed.historical import InferredHistory
from asterism.knowledge.graph import KnowledgeGraph, artwork_node
from asterism.normalize.dates import date_midpoint
from asterism.recommend.colours import colour_name, shared_colours
from asterism.shapes import Artwork

PART_WORDS = {"palette": "palette", "composition": "composition", "texture": "texture / brushwork"}
STRONG_PART = 0.75
# Words of four letters or more (shorter ones never count) that say nothing shared about content.
STOPWORDS = frozenset({
    "this", "that", "these", "those", "their", "your", "with", "from", "were", "untitled", "study",
    "sketch", "view", "portrait", "picture", "painting", "drawing", "print", "after", "about",
})  # fmt: skip


@dataclass
class Side:
    """What one side of a comparison knows: record (None for an upload), labels, palette, OCR."""

    artwork: Artwork | None
    labels: list[tuple[str, float]] = field(default_factory=list)
    palette: list[tuple[str, float]] = field(default_factory=list)
    ocr_text: str = ""
    formal: np.ndarray | None = None
    inferred: InferredHistory | None = None
    # False: labels and palette not read yet; ``Explainer.results`` reads them in the page's one query
    facts_read: bool = True


def formal_reasons(start: Side, other: Side, layout: FormalLayout) -> list[str]:
    reasons: list[str] = []
    if start.formal is not None and other.formal is not None:
        parts = part_similarities(start.formal, other.formal, layout)
        ranked = sorted(parts.items(), key=lambda item: (-item[1], item[0]))
        best, value = ranked[0]
        reasons.append(f"similar {PART_WORDS[best]} ({value:.2f})")
        reasons += [
            f"also similar {PART_WORDS[name]} ({v:.2f})" for name, v in ranked[1:] if v >= STRONG_PART
        ]
    pairs = shared_colours(start.palette, other.palette)
    if pairs:
        names = list(dict.fromkeys(colour_name(a) for a, _ in pairs))
        codes = ", ".join(f"{a}~{b}" for a, b in pairs)
        reasons.append(f"shared colours: {', '.join(names)} ({codes})")
    return reasons


def words(text: str | None) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]{4,}", (text or "").lower()) if w not in STOPWORDS}


def _labels(side: Side) -> set[str]:
    return {label for label, p in side.labels if p >= LABEL_FLOOR}


def conceptual_reasons(start: Side, other: Side) -> list[str]:
    reasons: list[str] = []
    a, b = start.artwork, other.artwork
    if a is not None and b is not None:
        subjects = _shared((s.lower() for s in a.subjects), (s.lower() for s in b.subjects))
        if subjects:
            reasons.append("both about " + ", ".join(subjects[:4]))
        if a.classification and b.classification and a.classification.lower() == b.classification.lower():
            reasons.append(f"both classed as {a.classification.lower()}")
        if a.medium and b.medium and a.medium.lower() == b.medium.lower():
            reasons.append(f"both {a.medium.lower()}")
        title = sorted(words(a.title) & words(b.title))
        if title:
            reasons.append("titles share " + ", ".join(f"“{w}”" for w in title[:4]))
    seen = sorted(_labels(start) & _labels(other))
    if seen:
        reasons.append("both show " + ", ".join(seen[:4]) + " (recognised in the images)")
    text = sorted(words(start.ocr_text) & words(other.ocr_text))
    if text:
        reasons.append("text in both images: " + ", ".join(text[:4]))
    return reasons


def _shared(a: Iterable[str], b: Iterable[str]) -> list[str]:
    right = set(b)
    return [x for x in dict.fromkeys(a) if x in right]


class KnowledgeView:
    """Lookups over the knowledge graph for explanations: entities of a work, relations of an artist."""

    def __init__(
        self, graph: KnowledgeGraph, entities_of: Callable[[Artwork], list[str]] | None = None
    ) -> None:
        """``entities_of``: a work's entities when ``graph`` holds only the entity part (a server's)."""
        self.graph = graph
        self.entities_of = entities_of
        self._out: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        for edge in graph.edges:
            self._out[edge.src].add((edge.type, edge.dst))

    def entities(self, artwork: Artwork) -> dict[str, set[str]]:
        """Entity ids of a work by kind, its artist's movements and places included."""
        node = artwork_node(artwork)
        found = self.graph.entities.get(node)
        if found is None and self.entities_of is not None:
            found = self.entities_of(artwork)
        if found is None:
            found = self.graph._artwork_entities(artwork, None, {})
        kinds: defaultdict[str, set[str]] = defaultdict(set)
        for entity in found:
            kind = entity.split(":", 1)[0]
            kinds[kind].add(entity)
            if kind == "artist":
                for type_, dst in self._out.get(entity, ()):
                    if type_ in ("MEMBER_OF_MOVEMENT", "FROM_PLACE"):
                        kinds[dst.split(":", 1)[0]].add(dst)
        return kinds

    def label(self, node: str) -> str:
        found = self.graph.nodes.get(node)
        return found.label if found else node.split(":", 1)[-1]

    def artist_link(self, a: str, b: str) -> str | None:
        """ "X was influenced by Y", "X taught Y", or a shared teacher/influence, from the graph."""
        relations = {(t, d) for t, d in self._out.get(a, ()) if t in ("INFLUENCED_BY", "TEACHER_OF")}
        back = {(t, d) for t, d in self._out.get(b, ()) if t in ("INFLUENCED_BY", "TEACHER_OF")}
        la, lb = self.label(a), self.label(b)
        if ("INFLUENCED_BY", b) in relations:
            return f"{la} was influenced by {lb}"
        if ("INFLUENCED_BY", a) in back:
            return f"{lb} was influenced by {la}"
        if ("TEACHER_OF", b) in relations:
            return f"{la} taught {lb}"
        if ("TEACHER_OF", a) in back:
            return f"{lb} taught {la}"
        common = {d for t, d in relations if t == "INFLUENCED_BY"} & {
            d for t, d in back if t == "INFLUENCED_BY"
        }
        if common:
            return f"both influenced by {self.label(sorted(common)[0])}"
        return None


def historical_reasons(start: Side, other: Side, knowledge: KnowledgeView | None) -> list[str]:
    b = other.artwork
    if b is None:
        return []
    if start.artwork is None:
        return _inferred_reasons(start.inferred, b)
    a = start.artwork
    reasons: list[str] = []
    if knowledge is not None:
        ka, kb = knowledge.entities(a), knowledge.entities(b)
        same_artist = ka["artist"] & kb["artist"]
        if same_artist:
            reasons.append(f"same artist: {knowledge.label(sorted(same_artist)[0])}")
        else:
            for x in sorted(ka["artist"]):
                for y in sorted(kb["artist"]):
                    link = knowledge.artist_link(x, y)
                    if link:
                        reasons.append(link)
                        break
        for kind, phrase in (("movement", "both {}"), ("place", "both {}")):
            shared = sorted(ka[kind] & kb[kind])
            if shared:
                reasons.append(phrase.format(", ".join(knowledge.label(s) for s in shared[:2])))
        period = sorted(ka["period"] & kb["period"])
        century = sorted(ka["century"] & kb["century"])
        if period:
            reasons.append(f"both from the {knowledge.label(period[0])}")
        elif century:
            reasons.append(f"both {knowledge.label(century[0])}")
    gap = _date_gap(a, b)
    if gap is not None and not any(r.startswith("both from the") for r in reasons):
        reasons.append("same year" if gap == 0 else f"dated {gap} years apart")
    return reasons


def _date_gap(a: Artwork, b: Artwork) -> int | None:
    ma, mb = date_midpoint(a.date_start, a.date_end), date_midpoint(b.date_start, b.date_end)
    if ma is None or mb is None:
        return None
    return round(abs(ma - mb))


def _inferred_reasons(inferred: InferredHistory | None, b: Artwork) -> list[str]:
    if inferred is None or inferred.confidence <= 0:
        return []
    reasons: list[str] = []
    culture = inferred.culture
    if culture and b.culture and culture.lower() == b.culture.lower():
        reasons.append(f"{culture}, as the picture looks (inferred)")
    middle = date_midpoint(b.date_start, b.date_end)
    start, end = inferred.date_start, inferred.date_end
    if start is not None and end is not None and middle is not None and start <= middle <= end:
        reasons.append(
            f"dated within {inferred.date_start}–{inferred.date_end}, the picture's inferred period"
        )
    return reasons


def attribution(artwork: Artwork) -> str:
    """ "Artist – Title (date) – Source – License"."""
    artist = artwork.artist_name or artwork.artist_display or "Unknown artist"
    title = artwork.title or "Untitled"
    date = f" ({artwork.date_display})" if artwork.date_display else ""
    license_text = (
        artwork.license_id if artwork.license_id != "unknown" else (artwork.license or "license unknown")
    )
    return f"{artist} – {title}{date} – {artwork.source_name} – {license_text}"


def clip01(value: float) -> float:
    return float(min(1.0, max(0.0, value)))
