"""The hybrid recommender: from a start (artwork id or picture) to a ranked, explained page.

score = α · Σ_a w_a · cos_a(start, candidate) + β · link(start, candidate)

where the cosines come from the per-affinity vectors (weights per query) and
``link`` is the mean weight of the typed graph edges joining the two over one
and two hops (``graph.adjacency``). Candidates are the union of each
affinity index's top-N and the start's graph neighbours; for an uploaded
picture, the neighbours of its nearest artwork. Filters, near-duplicate
removal (``diversify``) and optional MMR diversity run before paging; the
page is explained by the ``Explainer``. Everything is deterministic: ties
break by artwork id.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from asterism.config import RecommendSettings
from asterism.embed.base import AFFINITIES, Affinity
from asterism.graph.adjacency import Adjacency
from asterism.index.search import MultiSearcher
from asterism.recommend import diversify
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import Query, QueryError
from asterism.recommend.start import Start
from asterism.shapes import RecommendationPage


@dataclass
class Scored:
    id: int
    total: float
    similarity: float
    link: float
    cosines: dict[Affinity, float]


@dataclass
class Ranking:
    """The admissible candidates, best first, with the α and β they were scored with."""

    scored: list[Scored]
    candidates: int  # how many were scored before the window was cut
    alpha: float
    beta: float


class Recommender:
    """Ranks works for a start and pages them; holds the read side of every store it needs, opened once."""

    def __init__(
        self,
        settings: RecommendSettings,
        *,
        searcher: MultiSearcher,
        adjacency: Adjacency,
        catalogue: Catalogue,
        explainer: Explainer,
    ) -> None:
        self.settings = settings
        self.searcher = searcher
        self.adjacency = adjacency
        self.catalogue = catalogue
        self.explainer = explainer

    def rank(self, start: Start, query: Query, limit: int | None = None) -> Ranking:
        """The best ``limit`` admissible candidates (all if None), scored and ordered."""
        # OpenMP's thread count is per calling thread: set it in each request thread, or every
        # single-query FAISS search in the server's thread pool spins up a team (stalls of ~1 s).
        faiss.omp_set_num_threads(1)
        alpha, beta = query.mix(self.settings)
        n = max(self.settings.candidates, 5 * (query.page + 1) * query.k)
        exclude = sorted(start.exclude)
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
        return Ranking(scored, len(scores.ids), alpha, beta)

    def recommend(self, start: Start, query: Query) -> RecommendationPage:
        """One page: ranked, copies of the start and of each other removed, diversified, explained."""
        wanted = (query.page + 1) * query.k
        ranking = self.rank(start, query, limit=max(wanted * 5, wanted + 50))
        unique = diversify.without_duplicates(
            ranking.scored,
            self.explainer.formal,
            start.vectors.get(Affinity.FORMAL),
            self.settings.near_duplicate,
            wanted * (3 if query.diversity else 1),
        )
        lookups = {a: store.get for a, store in self.searcher.vectors.items()}
        ordered = diversify.mmr(unique, lookups, query.weights, wanted, query.diversity)
        page = ordered[query.page * query.k : wanted]
        return RecommendationPage(
            start_id=start.artwork_id,
            start_title=start.side.artwork.title if start.side.artwork else None,
            inferred_history=start.side.inferred.describe() if start.side.inferred else None,
            weights={str(a): float(w) for a, w in query.weights.items()},
            alpha=ranking.alpha,
            beta=ranking.beta,
            page=query.page,
            k=query.k,
            results=self.explainer.results(start.side, page, query.page * query.k),
            candidates=ranking.candidates,
        )


__all__ = ["Ranking", "Recommender", "Scored"]
