"""The hybrid recommender: from a start (artwork id or picture) to a ranked, explained page.

score = α · Σ_a w_a · cos_a(start, candidate) + β · link(start, candidate)

where the cosines come from the per-affinity vectors (weights per query) and
``link`` is the mean weight of the typed graph edges joining the two over one
and two hops (``graph.adjacency``). Candidates are the union of each
affinity index's top-N and the start's graph neighbours; for an uploaded
picture, the neighbours of its nearest artwork. Filters, near-duplicate
removal (``diversify``), optional MMR diversity and optional broadening run before paging; the
page is explained by the ``Explainer``. Everything is deterministic: ties
break by artwork id.

Filters are resolved to the admitted ids first (``Catalogue.admitted``, on
NumPy columns). A selective one (under ``SELECTIVE`` of the works) goes
inside the search (``MultiSearcher.candidates(within=...)``): filtering a
pool afterwards keeps only the filter's share of it, and a 1 % filter left
pages nearly empty. A broad one filters the pool as before, and if the start's
neighbourhood happens to lie outside it (dates and styles go together), the
search is repeated inside the admitted set, so a page is short only when too
few works pass the filter.

What one request may cost is bounded twice: ``Query.check`` refuses pages
deeper than the settings' caps before any work, and a ``Deadline`` passed
down with the request is checked before each stage (search, scoring, graph,
ranking, duplicates, diversity, explanation).
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from asterism.config import RecommendSettings, Weights
from asterism.embed.base import AFFINITIES, Affinity, Vectors
from asterism.graph.adjacency import Adjacency
from asterism.index.search import MultiSearcher
from asterism.recommend import diversify, groups
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import CANDIDATES_PER_RESULT, Deadline, Query, QueryError
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
class Picked:
    """One page's works in the order shown, with the ranking they were picked from."""

    ranking: Ranking
    page: list[Scored]


@dataclass
class Ranking:
    """The admissible candidates, best first, with the α and β they were scored with."""

    scored: list[Scored]
    candidates: int  # how many were scored before the window was cut
    alpha: float
    beta: float
    weights: dict[Affinity, float]


REFERENCE = 512  # works whose similarity to a start sets that start's scale for displayed scores
# Below this share of admitted works a filter is applied inside the search. The pool of three
# per-affinity top-N overlaps to ~1.5-2.5 N, so a filter passing under half the works is
# expected to leave less than one N of it (and falls back to searching inside anyway, see rank);
# above it, filtering afterwards usually leaves enough and costs no selector.
SELECTIVE = 0.5


class Recommender:
    """Ranks works for a start and pages them; holds the read side of every store it needs, opened once."""

    def __init__(
        self,
        settings: RecommendSettings,
        *,
        weights: Weights | None = None,
        searcher: MultiSearcher,
        adjacency: Adjacency,
        catalogue: Catalogue,
        explainer: Explainer,
    ) -> None:
        self.settings = settings
        self.weights = weights or Weights()  # defaults for a stored start (an upload's are in settings)
        self.searcher = searcher
        self.adjacency = adjacency
        self.catalogue = catalogue
        self.explainer = explainer
        # The admitted share under which filters go inside the search; None: only after it, as
        # before they could (pages come back short), kept for bench/recommend.py to compare.
        self.selective: float | None = SELECTIVE
        ids = catalogue.ids
        chosen = np.random.default_rng(0).choice(len(ids), min(REFERENCE, len(ids)), replace=False)
        reference = ids[np.sort(chosen)] if len(ids) else ids
        self._reference: dict[Affinity, Vectors] = {}
        for affinity, store in searcher.vectors.items():
            found, rows = store.get(reference)
            self._reference[affinity] = np.asarray(rows[found], dtype=np.float32)

    def calibration(self, start: Start) -> dict[Affinity, tuple[float, float]]:
        """Per affinity, the mean and spread of this start's similarity to a fixed sample of works.

        Raw cosines mean different things for different starts (a dark tonal
        picture is close to many works, a bright abstract one to few); scores
        shown to people are read against the start's own distribution.
        """
        out = {}
        for affinity, vector in start.vectors.items():
            matrix = self._reference.get(affinity)
            if matrix is None or len(matrix) < 2 or matrix.shape[1] != len(vector):
                continue
            query = np.asarray(vector, dtype=np.float32)
            norm = float(np.linalg.norm(query))
            if norm == 0:
                continue
            sims = matrix @ (query / norm)  # unit length, as the searcher scores it
            out[affinity] = (float(sims.mean()), float(max(sims.std(), 1e-6)))
        return out

    def rank(
        self, start: Start, query: Query, limit: int | None = None, deadline: Deadline | None = None
    ) -> Ranking:
        """The best ``limit`` admissible candidates (all if None), scored and ordered.

        ``deadline`` (None: no limit, as for offline evaluation) is checked before each stage.
        """
        query.check(self.settings)
        check = deadline.check if deadline is not None else _unlimited
        # OpenMP's thread count is per calling thread: set it in each request thread, or every
        # single-query FAISS search in the server's thread pool spins up a team (stalls of ~1 s).
        faiss.omp_set_num_threads(1)
        mix = query.resolve(self.settings, self.weights, upload=start.artwork_id is None)
        alpha, beta = mix.alpha, mix.beta
        n = max(self.settings.candidates, CANDIDATES_PER_RESULT * query.depth) * query.widen
        exclude = sorted(start.exclude)
        check("search")
        admitted = self.catalogue.admitted(query.filters)  # None: no filter
        share = len(admitted) / max(len(self.catalogue), 1) if admitted is not None else 1.0
        refine = admitted is not None and self.selective is not None  # else: after the search only
        inside = refine and share < (self.selective or 0.0)
        pooled = self.searcher.candidates(
            start.vectors, n, exclude=exclude, within=admitted if inside else None
        )
        anchors = self._anchors(start)
        for anchor, _ in anchors:
            around = [nb.id for nb in self.adjacency.neighbours(anchor)]
            pooled = np.union1d(pooled, np.asarray([*around, anchor], dtype=np.int64))
        pooled = pooled[~np.isin(pooled, exclude)]
        pooled = pooled[self.catalogue.allowed(pooled, query.filters)]
        if refine and not inside and len(pooled) < min(n, share * len(self.catalogue)):
            # A broad filter, but this start's neighbourhood lies mostly outside it: search inside.
            again = self.searcher.candidates(start.vectors, n, exclude=exclude, within=admitted)
            pooled = np.union1d(pooled, again)
        weights = {a: mix.weights.get(a, 0.0) for a in AFFINITIES}
        inferred = start.side.inferred
        if inferred is not None and self.settings.history_by_confidence:
            scaled = {**weights, Affinity.HISTORICAL: weights[Affinity.HISTORICAL] * inferred.confidence}
            if any(scaled[a] > 0 for a in start.vectors):  # a guess counts as much as it is sure,
                weights = scaled  # unless it is all the question asked about
        check("scoring")
        scores = self.searcher.score_arrays(pooled, start.vectors, weights)
        if len(pooled) and not len(scores.ids):
            raise QueryError("every affinity with a weight above 0 is unknown for this start")
        check("graph")
        avoid = np.asarray(exclude, dtype=np.int64)  # a held-out work carries no two-hop link either
        link = (
            self.adjacency.mixed_link_strength(anchors, scores.ids, avoid)
            if anchors
            else np.zeros(len(scores.ids))
        )
        beta *= self._gate(start)
        check("ranking")
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
        return Ranking(scored, len(scores.ids), alpha, beta, mix.weights)

    def _anchors(self, start: Start) -> list[tuple[int, float]]:
        """Whose graph links count: the stored start itself, or an upload's nearest works by closeness."""
        if start.artwork_id is not None:
            return [(start.artwork_id, 1.0)]
        if not start.neighbours:
            return [(start.anchor, 1.0)] if start.anchor is not None else []
        count = self.settings.upload_links
        return list(zip(start.neighbours[:count], start.closeness[:count], strict=True))

    def _gate(self, start: Start) -> float:
        """For an upload, how much its borrowed links may count: nothing when no stored work is close."""
        low, high = self.settings.upload_gate
        if start.artwork_id is not None or high <= low or not start.closeness:
            return 1.0
        return float(np.clip((start.closeness[0] - low) / (high - low), 0.0, 1.0))

    def pick(self, start: Start, query: Query, deadline: Deadline | None = None) -> Picked:
        """The works of the page asked for, in order, before they are explained: what a person is shown.

        Ranked, copies of the start and of each other removed, diversified, broadened when
        ``query.max_share`` is set. The audit counts exactly these lists. ``deadline`` None: no
        limit (offline work such as the audit and evaluation).
        """
        check = deadline.check if deadline is not None else _unlimited
        wanted = query.depth
        window = max(CANDIDATES_PER_RESULT * wanted, wanted + 50) * query.widen
        ranking = self.rank(start, query, window, deadline)
        check("duplicates")
        broad = query.max_share is not None
        unique = diversify.without_duplicates(
            ranking.scored,
            self.explainer.formal,
            start.side.formal,  # the picture's own formal vector: copies are judged on every part
            self.settings.near_duplicate,
            window if broad else wanted * (3 if query.diversity else 1),  # broaden: the whole window
        )
        lookups = {a: store.get for a, store in self.searcher.vectors.items()}
        check("diversity")
        ordered = diversify.mmr(
            unique, lookups, ranking.weights, len(unique) if broad else wanted, query.diversity
        )
        if query.max_share is not None:
            cap = diversify.share_cap(query.max_share, query.k)
            ordered = diversify.broaden(ordered, self._groups, query.k, wanted, cap)
        return Picked(ranking, ordered[query.page * query.k : wanted])

    def _groups(self, artwork_id: int) -> tuple[str | None, str | None]:
        return groups.capped(self.catalogue.get(artwork_id))

    def recommend(self, start: Start, query: Query, deadline: Deadline | None = None) -> RecommendationPage:
        """One page: picked (``pick``), then explained.

        ``deadline``: the request's (None: one of ``settings.deadline`` seconds from now, after the
        start was read: one-time costs such as loading the models for a first picture are not counted).
        """
        deadline = deadline if deadline is not None else Deadline(self.settings.deadline)
        picked = self.pick(start, query, deadline)
        ranking, page = picked.ranking, picked.page
        deadline.check("explanation")
        return RecommendationPage(
            start_id=start.artwork_id,
            start_title=start.side.artwork.title if start.side.artwork else None,
            inferred_history=start.side.inferred.describe() if start.side.inferred else None,
            weights={str(a): float(w) for a, w in ranking.weights.items()},
            alpha=ranking.alpha,
            beta=ranking.beta,
            page=query.page,
            k=query.k,
            results=self.explainer.results(start.side, page, query.page * query.k, self.calibration(start)),
            candidates=ranking.candidates,
        )


def _unlimited(_stage: str) -> None:
    """The check of a ranking without a deadline (offline evaluation): never stops it."""


__all__ = ["SELECTIVE", "Picked", "Ranking", "Recommender", "Scored"]
