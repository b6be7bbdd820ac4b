"""The hybrid recommender: from a start (artwork id or picture) to a ranked, explained page.

score = α · Σ_a w_a · cos_a(start, candidate) + β · link(start, candidate)

where the cosines come from the per-affinity vectors (weights per query) and
``link`` is the mean weight of the typed graph edges joining the two over one
and two hops (``graph.adjacency``). Candidates are the union of each
affinity index's top-N and the start's graph neighbours; for an uploaded
picture, the neighbours of its nearest artwork. Filters, near-duplicate
removal and optional MMR diversity run before paging. Everything is
deterministic: ties break by artwork id.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from asterism.config import Settings
from asterism.embed.base import AFFINITIES, Affinity, Vectors
from asterism.embed.formal import FormalLayout
from asterism.graph.adjacency import Adjacency
from asterism.index.search import MultiSearcher
from asterism.recommend import explain
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.query import Query, QueryError
from asterism.recommend.start import NotFound, Start
from asterism.shapes import Reason, Recommendation, RecommendationPage
from asterism.store.features import FeatureStore, ImageFeatures

FACT_CACHE = 20_000  # image feature rows kept in memory for explanations


@dataclass
class Scored:
    id: int
    total: float
    similarity: float
    link: float
    cosines: dict[Affinity, float]


class Recommender:
    """Ranks works for a start; holds the read side of every store it needs, opened once."""

    def __init__(
        self,
        settings: Settings,
        *,
        searcher: MultiSearcher,
        adjacency: Adjacency,
        catalogue: Catalogue,
        features: FeatureStore | None,
        knowledge: explain.KnowledgeView | None,
        layout: FormalLayout,
    ) -> None:
        self.settings = settings
        self.searcher = searcher
        self.adjacency = adjacency
        self.catalogue = catalogue
        self.features = features
        self.knowledge = knowledge
        self.layout = layout
        self._facts: dict[str, ImageFeatures] = {}

    # ------------------------------------------------------------------ ranking
    def rank(self, start: Start, query: Query, limit: int | None = None) -> tuple[list[Scored], int]:
        """The best ``limit`` admissible candidates (all if None), scored and ordered; and how many were scored."""
        # OpenMP's thread count is per calling thread: set it in each request thread, or every
        # single-query FAISS search in the server's thread pool spins up a team (stalls of ~1 s).
        faiss.omp_set_num_threads(1)
        alpha = self.settings.recommend.alpha if query.alpha is None else query.alpha
        beta = self.settings.recommend.beta if query.beta is None else query.beta
        n = max(self.settings.recommend.candidates, 5 * (query.page + 1) * query.k)
        exclude = [start.artwork_id] if start.artwork_id is not None else []
        pooled = self.searcher.candidates(start.vectors, n, exclude=exclude)
        if start.anchor is not None:
            around = [nb.id for nb in self.adjacency.neighbours(start.anchor)]
            pooled = np.union1d(pooled, np.asarray([*around, start.anchor], dtype=np.int64))
        pooled = pooled[~np.isin(pooled, exclude)]
        pooled = pooled[self.catalogue.allowed(pooled, query.filters)]
        weights = {a: query.weights.get(a, 0.0) for a in AFFINITIES}
        scores = self.searcher.score_arrays(pooled, start.vectors, weights)
        if len(pooled) and not len(scores.ids):
            raise QueryError("every affinity with a weight above 0 is unknown for this start")
        link = (
            self.adjacency.link_strength(start.anchor, scores.ids)
            if start.anchor is not None
            else np.zeros(len(scores.ids))
        )
        totals = alpha * scores.totals + beta * link
        order = np.lexsort((scores.ids, -totals))
        window = order[:limit] if limit is not None else order
        scored = [
            Scored(
                int(scores.ids[i]),
                float(totals[i]),
                float(scores.totals[i]),
                float(link[i]),
                {a: float(c[i]) for a, c in scores.cosines.items() if scores.found[a][i]},
            )
            for i in window
        ]
        return scored, len(scores.ids)

    def image_facts(self, shas: list[str]) -> dict[str, ImageFeatures]:
        """Labels and palettes of these images, from a bounded in-memory cache before the store."""
        missing = [sha for sha in shas if sha not in self._facts]
        if missing and self.features is not None:
            loaded = self.features.image_features(missing)
            if len(self._facts) + len(loaded) > FACT_CACHE:
                self._facts.clear()
            self._facts.update(loaded)
        return {sha: self._facts[sha] for sha in shas if sha in self._facts}

    def _formal(self, ids: list[int]) -> tuple[np.ndarray, Vectors]:
        store = self.searcher.vectors.get(Affinity.FORMAL)
        if store is None:
            return np.zeros(len(ids), bool), np.zeros((len(ids), 1), np.float32)
        return store.get(ids)

    def _without_duplicates(self, start: Start, ranked: list[Scored], wanted: int) -> list[Scored]:
        """Drop copies of the start picture and of each other (formal cosine ≥ the near-duplicate bar)."""
        bar = self.settings.recommend.near_duplicate
        kept: list[Scored] = []
        kept_vectors: list[Vectors] = []
        window = ranked[: max(wanted * 4, wanted + 20)]
        found, rows = self._formal([s.id for s in window])
        start_formal = start.vectors.get(Affinity.FORMAL)
        for item, ok, row in zip(window, found, rows, strict=True):
            if ok and start_formal is not None and float(row @ start_formal) >= bar:
                continue
            if ok and any(float(row @ other) >= bar for other in kept_vectors):
                continue
            kept.append(item)
            if ok:
                kept_vectors.append(row)
            if len(kept) >= wanted:
                break
        return kept

    def _mmr(
        self, start: Start, ranked: list[Scored], wanted: int, diversity: float, query: Query
    ) -> list[Scored]:
        """Maximal marginal relevance: trade score against similarity to what is already chosen."""
        pool = ranked[: max(wanted * 5, wanted)]
        if diversity <= 0 or len(pool) <= 1:
            return pool[:wanted]
        blocks = []
        for affinity in AFFINITIES:
            store = self.searcher.vectors.get(affinity)
            share = query.weights.get(affinity, 0.0)
            if store is None or share <= 0:
                continue
            _, rows = store.get([s.id for s in pool])
            blocks.append(np.sqrt(share) * rows)
        if not blocks:
            return pool[:wanted]
        matrix = np.concatenate(blocks, axis=1)
        similarity = matrix @ matrix.T
        chosen: list[int] = []
        remaining = list(range(len(pool)))
        while remaining and len(chosen) < wanted:

            def value(i: int) -> tuple[float, int]:
                redundancy = max((float(similarity[i, j]) for j in chosen), default=0.0)
                return ((1 - diversity) * pool[i].total - diversity * redundancy, -pool[i].id)

            best = max(remaining, key=value)
            chosen.append(best)
            remaining.remove(best)
        return [pool[i] for i in chosen]

    # ------------------------------------------------------------------ the page
    def recommend(self, start: Start, query: Query) -> RecommendationPage:
        wanted = (query.page + 1) * query.k
        ranked, scored = self.rank(start, query, limit=max(wanted * 5, wanted + 50))
        unique = self._without_duplicates(start, ranked, wanted * (3 if query.diversity else 1))
        ordered = self._mmr(start, unique, wanted, query.diversity, query)
        page = ordered[query.page * query.k : wanted]
        return RecommendationPage(
            start_id=start.artwork_id,
            start_title=start.side.artwork.title if start.side.artwork else None,
            inferred_history=start.side.inferred.describe() if start.side.inferred else None,
            weights={str(a): float(w) for a, w in query.weights.items()},
            alpha=self.settings.recommend.alpha if query.alpha is None else query.alpha,
            beta=self.settings.recommend.beta if query.beta is None else query.beta,
            page=query.page,
            k=query.k,
            results=self._explain(start, page, query.page * query.k),
            candidates=scored,
        )

    def _explain(self, start: Start, page: list[Scored], offset: int) -> list[Recommendation]:
        artworks = self.catalogue.many([s.id for s in page])
        by_id = {a.id: a for a in artworks}
        facts = self.image_facts([a.image.sha256 for a in artworks if a.image])
        found, formal = self._formal([s.id for s in page])
        results = []
        for rank, (item, ok, vector) in enumerate(zip(page, found, formal, strict=True), start=offset + 1):
            artwork = by_id.get(item.id)
            if artwork is None:
                continue
            fact = facts.get(artwork.image.sha256) if artwork.image else None
            other = explain.Side(
                artwork,
                labels=list(fact.labels) if fact else [],
                palette=list(fact.palette) if fact else [],
                ocr_text=artwork.image.ocr_text if artwork.image else "",
                formal=vector if ok else None,
            )
            cos = item.cosines
            inferred = start.side.inferred is not None
            results.append(
                Recommendation(
                    artwork=artwork,
                    rank=rank,
                    score=round(item.total, 6),
                    similarity=round(item.similarity, 6),
                    link=round(item.link, 6),
                    formal=Reason(
                        score=explain.clip01(cos.get(Affinity.FORMAL, 0.0)),
                        reasons=explain.formal_reasons(start.side, other, self.layout),
                    ),
                    conceptual=Reason(
                        score=explain.clip01(cos.get(Affinity.CONCEPTUAL, 0.0)),
                        reasons=explain.conceptual_reasons(start.side, other),
                    ),
                    historical=Reason(
                        score=explain.clip01(cos.get(Affinity.HISTORICAL, 0.0)),
                        reasons=explain.historical_reasons(start.side, other, self.knowledge),
                        inferred=inferred,
                    ),
                    attribution=explain.attribution(artwork),
                    source_url=artwork.source_url,
                )
            )
        return results


__all__ = ["NotFound", "Recommender", "Scored"]
