"""Turning ranked ids into results people can read: records, three scores and their reasons, credit.

The ``Explainer`` owns what explanations need and nothing else: the
catalogue (records), the stored formal vectors (which formal part made two
works alike), image facts (labels and palettes, cached), the knowledge view
(shared artist, movement, influence) and the formal layout. The start of a
query and the steps of a ``connect`` path are described with the same code,
so a reason means the same wherever it is shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from asterism.embed.base import Affinity, Vectors
from asterism.embed.formal import FormalLayout
from asterism.index.search import MultiSearcher
from asterism.recommend import explain
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explain import KnowledgeView, Side
from asterism.recommend.figures import figures, start_figures
from asterism.shapes import Artwork, Reason, Recommendation
from asterism.store.features import FeatureStore, PictureFacts

FACT_CACHE = 20_000  # image feature rows kept in memory for explanations


class Scored(Protocol):
    """What a ranked candidate must carry to be explained."""

    id: int
    total: float
    similarity: float
    link: float
    cosines: dict[Affinity, float]


CALIBRATED_TOP = 4.0  # standard deviations above the start's average work that fill a bar


def shown(cosine: float, scale: tuple[float, float] | None) -> float:
    """The score a person sees: how far above the start's average work, in [0, 1] (raw cosine if unknown)."""
    if scale is None:
        return explain.clip01(cosine)
    mean, spread = scale
    return explain.clip01((cosine - mean) / spread / CALIBRATED_TOP)


class Explainer:
    def __init__(
        self,
        catalogue: Catalogue,
        searcher: MultiSearcher,
        features: FeatureStore | None,
        knowledge: KnowledgeView | None,
        layout: FormalLayout,
    ) -> None:
        self.catalogue = catalogue
        self.searcher = searcher
        self.features = features
        self.knowledge = knowledge
        self.layout = layout
        self._facts: dict[str, PictureFacts | None] = {}  # None: the store has no row (asked already)

    def image_facts(self, shas: Sequence[str]) -> dict[str, PictureFacts]:
        """Labels and palettes of these images, from a bounded in-memory cache before the store.

        Misses are remembered too: a picture without stored features (never analysed, or
        a collection loaded without them) would otherwise cost a store round trip every
        time it is shown — one per result on PostgreSQL, the largest part of a by-id
        request at 50k works (bench/RESULTS.md, "Scale").
        """
        missing = list(dict.fromkeys(sha for sha in shas if sha not in self._facts))
        if missing and self.features is not None:
            loaded = self.features.picture_facts(missing)
            if len(self._facts) + len(missing) > FACT_CACHE:
                self._facts.clear()
            self._facts.update(dict.fromkeys(missing))
            self._facts.update(loaded)
        return {sha: fact for sha in shas if (fact := self._facts.get(sha)) is not None}

    def formal(self, ids: list[int]) -> tuple[np.ndarray, Vectors]:
        """(found mask, rows) of the stored formal vectors of these works."""
        store = self.searcher.vectors.get(Affinity.FORMAL)
        if store is None:
            return np.zeros(len(ids), bool), np.zeros((len(ids), 1), np.float32)
        return store.get(ids)

    def side(self, artwork: Artwork | None, formal: Vectors | None = None, *, facts: bool = True) -> Side:
        """What a stored work brings to a comparison: record, labels, palette, OCR words, formal vector.

        ``facts`` False: labels and palette are left unread (``Side.facts_read``) for ``results`` to
        read with the page's, in the page's one store query: a by-id start needs them only there.
        """
        if formal is None and artwork is not None and artwork.id is not None:
            formal = self.searcher.vector(Affinity.FORMAL, artwork.id)
        side = Side(
            artwork,
            ocr_text=artwork.image.ocr_text if artwork and artwork.image else "",
            formal=formal,
            facts_read=False,
        )
        return self.read_facts(side) if facts else side

    def read_facts(self, side: Side) -> Side:
        """``side`` with its picture's labels and palette (itself when they were read already)."""
        if side.facts_read:
            return side
        fact, artwork = None, side.artwork
        if artwork is not None and artwork.image is not None:
            fact = self.image_facts([artwork.image.sha256]).get(artwork.image.sha256)
        return dataclasses.replace(
            side,
            labels=list(fact.labels) if fact else [],
            palette=list(fact.palette) if fact else [],
            facts_read=True,
        )

    def reasons(self, affinity: Affinity, start: Side, other: Side) -> list[str]:
        """The facts behind one affinity between two sides."""
        if affinity == Affinity.FORMAL:
            return explain.formal_reasons(start, other, self.layout)
        if affinity == Affinity.CONCEPTUAL:
            return explain.conceptual_reasons(start, other)
        return explain.historical_reasons(start, other, self.knowledge)

    def results(
        self,
        start: Side,
        page: Sequence[Scored],
        offset: int,
        calibration: Mapping[Affinity, tuple[float, float]] | None = None,
    ) -> list[Recommendation]:
        """One ``Recommendation`` per scored work, ranked from ``offset + 1``.

        ``calibration``: per affinity, the start's mean and spread of similarity (see
        ``Recommender.calibration``); displayed scores are read against it, raw cosines kept.
        """
        if not page:
            return []
        by_id = {a.id: a for a in self.catalogue.many([s.id for s in page])}
        pictured = [a for a in (start.artwork if not start.facts_read else None, *by_id.values()) if a]
        self.image_facts([a.image.sha256 for a in pictured if a.image])  # one query: the start and the page
        start = self.read_facts(start)  # from the cache just filled
        once = start_figures(start, self.layout)  # the start's grid, the same in every result
        found, formal = self.formal([s.id for s in page])
        inferred = start.inferred is not None
        out = []
        for rank, (item, ok, vector) in enumerate(zip(page, found, formal, strict=True), start=offset + 1):
            artwork = by_id.get(item.id)
            if artwork is None:
                continue
            other = self.side(artwork, vector if ok else None)
            reason = {
                affinity: Reason(
                    score=shown(item.cosines.get(affinity, 0.0), (calibration or {}).get(affinity)),
                    cosine=round(item.cosines.get(affinity, 0.0), 6),
                    reasons=self.reasons(affinity, start, other),
                    inferred=inferred and affinity == Affinity.HISTORICAL,
                    **figures(affinity, start, other, self.layout, once),
                )
                for affinity in (Affinity.FORMAL, Affinity.CONCEPTUAL, Affinity.HISTORICAL)
            }
            out.append(
                Recommendation(
                    artwork=artwork,
                    rank=rank,
                    score=round(item.total, 6),
                    similarity=round(item.similarity, 6),
                    link=round(item.link, 6),
                    formal=reason[Affinity.FORMAL],
                    conceptual=reason[Affinity.CONCEPTUAL],
                    historical=reason[Affinity.HISTORICAL],
                    attribution=explain.attribution(artwork),
                    source_url=artwork.source_url,
                )
            )
        return out
