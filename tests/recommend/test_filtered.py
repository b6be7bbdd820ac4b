"""Selective filters go inside the search: full pages, every result admitted, the exact best admitted works.

A synthetic collection of 20k works (vectors correlated across affinities, as real ones are, random
dates, a few random graph links each), read through the real ``Recommender`` wired as the Service
wires it. A date filter admitting ~1 % of the works used to leave a page of one or two results:
the pool of per-affinity top-N was searched first and filtered after.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from asterism.config import ImageSettings, OcrSettings, RecommendSettings, Weights
from asterism.embed.base import AFFINITIES, Affinity, l2_normalise
from asterism.embed.formal import layout_for
from asterism.graph.adjacency import Adjacency
from asterism.graph.edges import EDGE_TYPE, EdgeSet
from asterism.index.faiss_index import VectorIndex
from asterism.index.search import MultiSearcher
from asterism.index.vectors import VectorSet
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.engine import SELECTIVE, Recommender
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import Filters, Query, parse_weights
from asterism.recommend.start import Start, StartResolver
from asterism.shapes import Artwork, RecommendationPage, Status

SIZE, TEXTURE = 20_000, 16
LAYOUT = layout_for(TEXTURE)
DIMS = {Affinity.FORMAL: LAYOUT.dim, Affinity.CONCEPTUAL: 32, Affinity.HISTORICAL: 16}
ONE_PERCENT = Filters(date_from=1600, date_to=1600)  # works dated 1595-1605 overlap it: 6 of 550 years
WEIGHTS = parse_weights("formal=0.5,conceptual=0.3,historical=0.2")


@dataclasses.dataclass
class Synthetic:
    recommender: Recommender
    starts: StartResolver
    ids: np.ndarray
    matrices: dict[Affinity, np.ndarray]
    admitted: np.ndarray


@pytest.fixture(scope="module")
def synthetic() -> Synthetic:
    rng = np.random.default_rng(7)
    ids = np.arange(1, SIZE + 1, dtype=np.int64) * 3  # not 0..n-1: ids are not row numbers
    centres = rng.standard_normal((200, 24))
    latent = centres[rng.integers(200, size=SIZE)] + 0.6 * rng.standard_normal((SIZE, 24))
    matrices, indexes, sets = {}, {}, {}
    for affinity, dim in DIMS.items():
        projected = latent @ rng.standard_normal((24, dim)) + 2.0 * rng.standard_normal((SIZE, dim))
        matrices[affinity] = l2_normalise(projected.astype(np.float32))
        sets[affinity] = VectorSet.from_arrays(ids, matrices[affinity])
        indexes[affinity] = VectorIndex.build(ids, matrices[affinity])
    searcher = MultiSearcher(indexes, sets)
    years = rng.integers(1400, 1950, SIZE)
    works = [
        Artwork(source="synthetic", source_id=str(i), title=f"Work {i}", id=int(i), status=Status.ACTIVE,
                date_start=int(y), date_end=int(y) + 5, license_id="CC0-1.0")
        for i, y in zip(ids, years, strict=True)
    ]  # fmt: skip
    catalogue = Catalogue(works)
    links = [  # five random links a work and type: a graph term that knows nothing of the filter
        EdgeSet(EDGE_TYPE[a], np.repeat(ids, 5), rng.choice(ids, 5 * SIZE), rng.random(5 * SIZE, np.float32))
        for a in AFFINITIES
    ]
    explainer = Explainer(catalogue, searcher, None, None, LAYOUT)
    recommender = Recommender(
        RecommendSettings(), weights=Weights(), searcher=searcher, adjacency=Adjacency(links, ids),
        catalogue=catalogue, explainer=explainer,
    )  # fmt: skip
    starts = StartResolver(ImageSettings(), OcrSettings(), searcher, catalogue, explainer, None, None)
    admitted = catalogue.admitted(ONE_PERCENT)
    assert admitted is not None
    return Synthetic(recommender, starts, ids, matrices, admitted)


def exact(synthetic: Synthetic, start: Start, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: the weighted cosine of every work in ``among`` but the start's exclusions, best first."""
    among = among[~np.isin(among, list(start.exclude))]
    rows = np.searchsorted(synthetic.ids, among)
    totals = np.zeros(len(among))
    for affinity, weight in WEIGHTS.items():
        query = np.asarray(start.vectors[affinity], np.float64)
        totals += weight * (
            synthetic.matrices[affinity][rows].astype(np.float64) @ (query / np.linalg.norm(query))
        )
    order = np.lexsort((among, -totals))
    return among[order], totals[order]


def ask(synthetic: Synthetic, start: Start, **options: object) -> RecommendationPage:
    query = Query(artwork_id=start.artwork_id, weights=WEIGHTS, **options)  # type: ignore[arg-type]
    return synthetic.recommender.recommend(start, query)


def passes(item_date: tuple[int | None, int | None], filters: Filters) -> bool:
    low, high = item_date
    assert (
        low is not None and high is not None and filters.date_from is not None and filters.date_to is not None
    )
    return high >= filters.date_from and low <= filters.date_to


def starts_of(synthetic: Synthetic) -> list[Start]:
    chosen = np.random.default_rng(1).choice(synthetic.ids, 4, replace=False)
    return [synthetic.starts.from_id(int(i)) for i in chosen]


def test_the_filter_admits_about_one_percent(synthetic: Synthetic) -> None:
    assert 0.008 * SIZE < len(synthetic.admitted) < 0.015 * SIZE
    works = synthetic.recommender.catalogue.many(synthetic.admitted.tolist())
    assert all(passes((w.date_start, w.date_end), ONE_PERCENT) for w in works)
    everyone = synthetic.recommender.catalogue.allowed(synthetic.ids, ONE_PERCENT)
    assert synthetic.ids[everyone].tolist() == synthetic.admitted.tolist()  # the same rule, both ways


@pytest.mark.parametrize("page", [0, 1])
def test_a_one_percent_filter_fills_the_page_with_the_exact_best_admitted_works(
    synthetic: Synthetic, page: int
) -> None:
    for start in starts_of(synthetic):
        got = ask(synthetic, start, k=10, page=page, alpha=1.0, beta=0.0, filters=ONE_PERCENT)
        assert len(got.results) == 10
        for item in got.results:
            assert passes((item.artwork.date_start, item.artwork.date_end), ONE_PERCENT)
        best, totals = exact(synthetic, start, synthetic.admitted)
        assert [item.artwork.id for item in got.results] == best[10 * page : 10 * (page + 1)].tolist()
        np.testing.assert_allclose(
            [item.score for item in got.results],
            totals[10 * page : 10 * (page + 1)],
            atol=1e-6,  # shown rounded
        )


def test_before_filters_went_inside_the_same_question_came_back_short(synthetic: Synthetic) -> None:
    synthetic.recommender.selective = None  # the old path: the pool searched first, filtered after
    try:
        short = [len(ask(synthetic, s, k=10, filters=ONE_PERCENT).results) for s in starts_of(synthetic)]
    finally:
        synthetic.recommender.selective = SELECTIVE
    assert max(short) < 10


def test_with_the_graph_term_every_result_passes_and_the_deepest_pages_fill(synthetic: Synthetic) -> None:
    for start in starts_of(synthetic):  # default alpha and beta: random links pull in unfiltered works
        for page in (0, 3):
            got = ask(synthetic, start, k=20, page=page, filters=ONE_PERCENT)
            assert len(got.results) == 20
            assert all(passes((i.artwork.date_start, i.artwork.date_end), ONE_PERCENT) for i in got.results)
            scores = [item.score for item in got.results]
            assert scores == sorted(scores, reverse=True)


def test_a_page_is_as_full_as_the_admitted_works_allow(synthetic: Synthetic) -> None:
    start = starts_of(synthetic)[0]
    few = Filters(date_from=1954)  # only works dated 1949-1954: ~36 of 20k
    admitted = synthetic.recommender.catalogue.admitted(few)
    assert admitted is not None
    expected = len(admitted[admitted != start.artwork_id])
    pages = [ask(synthetic, start, k=10, page=p, alpha=1.0, beta=0.0, filters=few) for p in range(6)]
    assert 10 < expected < 60 and sum(len(page.results) for page in pages) == expected
    assert [len(page.results) for page in pages][: expected // 10] == [10] * (expected // 10)


def test_exclusions_hold_inside_the_filtered_search(synthetic: Synthetic) -> None:
    start = starts_of(synthetic)[1]
    best, _ = exact(synthetic, start, synthetic.admitted)
    held = dataclasses.replace(start, exclude=start.exclude | {int(i) for i in best[:5]})
    got = ask(synthetic, held, k=10, alpha=1.0, beta=0.0, filters=ONE_PERCENT)
    assert [item.artwork.id for item in got.results] == best[5:15].tolist()


def test_broad_filters_go_inside_the_indexes_and_stay_exact(synthetic: Synthetic) -> None:
    """A filter admitting ~37 %: too many works to score them all, so the indexes search inside it."""
    broad = Filters(date_from=1700, date_to=1900)
    admitted = synthetic.recommender.catalogue.admitted(broad)
    assert admitted is not None and 4096 < len(admitted) < SELECTIVE * SIZE
    for start in starts_of(synthetic):
        got = ask(synthetic, start, k=10, alpha=1.0, beta=0.0, filters=broad)
        best, _ = exact(synthetic, start, admitted)
        assert [item.artwork.id for item in got.results] == best[:10].tolist()


def test_unfiltered_answers_are_unchanged(synthetic: Synthetic) -> None:
    everything = Filters(date_from=0, date_to=3000)  # a filter every work passes: the post-filter path
    for start in starts_of(synthetic):
        plain = ask(synthetic, start, k=10, page=1)
        assert [i.artwork.id for i in ask(synthetic, start, k=10, page=1, filters=everything).results] == [
            i.artwork.id for i in plain.results
        ]
        synthetic.recommender.selective = None
        try:
            before = ask(synthetic, start, k=10, page=1)
        finally:
            synthetic.recommender.selective = SELECTIVE
        assert [i.artwork.id for i in before.results] == [i.artwork.id for i in plain.results]
        cosine_only = ask(synthetic, start, k=10, alpha=1.0, beta=0.0)
        best, _ = exact(synthetic, start, synthetic.ids)
        assert [i.artwork.id for i in cosine_only.results] == best[:10].tolist()
