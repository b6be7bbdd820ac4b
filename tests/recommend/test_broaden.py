"""Broadening bounds any one culture and any one century on a page, and changes nothing when off.

The greedy itself is checked on made-up lists (caps, unknown groups, filling when the pool
runs out, pages in turn); the recommender is checked from every work of the sample
collection: with broadening on, no list holds more than the cap of one known culture or
century (its deeper window held enough other works from every start there, though most
unbounded lists break the cap); off, the page is exactly the ranked list with copies removed,
as before broadening existed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import pytest

from asterism.recommend import diversify, groups
from asterism.recommend.query import BROADEN_WIDTH, Query, QueryError, TooMuchWork
from asterism.recommend.service import Service

K = 12


@dataclass
class Item:
    id: int
    total: float


def _items(n: int) -> list[Item]:
    return [Item(i, 1.0 - i / 100) for i in range(n)]


def test_share_cap_is_a_share_of_the_page_and_at_least_one() -> None:
    assert diversify.share_cap(0.5, 12) == 6
    assert diversify.share_cap(0.25, 12) == 3
    assert diversify.share_cap(1.0, 12) == 12
    assert diversify.share_cap(0.1, 3) == 1
    assert diversify.share_cap(0.3, 10) == 3  # 0.3·10 is 2.999… in floating point


def test_broaden_caps_each_dimension_and_keeps_score_order() -> None:
    # ids 0..9 culture A, then B and C alternate; centuries: first half "19", rest alternate
    culture = {i: "A" if i < 10 else ("B" if i % 2 else "C") for i in range(30)}
    century = {i: "19" if i < 15 else ("17" if i % 2 else "18") for i in range(30)}
    page = diversify.broaden(_items(30), lambda i: (culture[i], century[i]), k=6, wanted=6, cap=3)
    ids = [item.id for item in page]
    assert len(ids) == 6 and ids == sorted(ids)  # score order kept
    assert max(Counter(culture[i] for i in ids).values()) <= 3
    assert max(Counter(century[i] for i in ids).values()) <= 3
    assert ids[:3] == [0, 1, 2]  # the best works stay; later A's of the 19th are passed over


def test_unknown_groups_are_never_capped() -> None:
    page = diversify.broaden(_items(20), lambda i: (None, None), k=10, wanted=10, cap=2)
    assert [item.id for item in page] == list(range(10))


def test_a_page_is_filled_from_passed_over_works_when_the_pool_runs_out() -> None:
    # 8 works of A, 2 of B: a page of 6 with cap 3 can hold only 5 without breaking the cap
    culture = {i: "A" if i < 8 else "B" for i in range(10)}
    page = diversify.broaden(_items(10), lambda i: (culture[i],), k=6, wanted=6, cap=3)
    ids = [item.id for item in page]
    assert ids == [0, 1, 2, 3, 8, 9]  # A 0-2, B 8-9, then the best passed-over A: never a short page


def test_later_pages_draw_from_what_earlier_pages_left() -> None:
    culture = {i: "A" if i % 3 else "B" for i in range(40)}
    both = diversify.broaden(_items(40), lambda i: (culture[i],), k=6, wanted=12, cap=3)
    first = diversify.broaden(_items(40), lambda i: (culture[i],), k=6, wanted=6, cap=3)
    assert both[:6] == first  # page 0 is the same asked alone or with page 1
    assert len({item.id for item in both}) == 12
    for page in (both[:6], both[6:]):
        assert max(Counter(culture[item.id] for item in page).values()) <= 3


@pytest.mark.parametrize("share", [0.0, -0.5, 1.5, math.nan, math.inf])
def test_a_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(QueryError, match="max_share"):
        Query(artwork_id=1, max_share=share)


def test_broadening_reads_deeper_and_is_bounded_as_such(service: Service) -> None:
    settings = service.recommender.settings
    Query(artwork_id=1, k=100, page=9).check(settings)  # 1000 results, 5000 candidates: allowed
    with pytest.raises(TooMuchWork, match="broadened"):
        Query(artwork_id=1, k=100, page=9, max_share=0.5).check(settings)
    assert Query(artwork_id=1, max_share=0.5).widen == BROADEN_WIDTH


def _over(service: Service, ids: list[int], cap: int) -> list[tuple[str, int]]:
    """The known culture or century groups holding more than ``cap`` of the list."""
    keys = [groups.capped(service.catalogue.get(i)) for i in ids]
    over = []
    for dimension in (0, 1):
        counts = Counter(key[dimension] for key in keys if key[dimension] is not None)
        over += [(group, n) for group, n in counts.items() if n > cap]
    return over


def test_broaden_caps_hold_from_every_start(service: Service) -> None:
    recommender = service.recommender
    cap = diversify.share_cap(0.5, K)
    unbounded, bounded = 0, 0
    for work in (int(i) for i in service.catalogue.ids):
        start = service.starts.from_id(work)
        off = [s.id for s in recommender.pick(start, Query(artwork_id=work, k=K)).page]
        on = [s.id for s in recommender.pick(start, Query(artwork_id=work, k=K, max_share=0.5)).page]
        assert len(on) == len(off) == K  # broadening never shortens a page
        assert len(set(on)) == K and work not in on
        unbounded += bool(_over(service, off, cap))
        bounded += bool(_over(service, on, cap))
    assert unbounded > len(service.catalogue) // 2  # the samples are mostly French 19th century
    assert bounded == 0  # the window held enough other works from every start of the samples


def test_broaden_with_a_cap_that_never_binds_changes_nothing(service: Service) -> None:
    for work in [int(i) for i in service.catalogue.ids][:40]:
        start = service.starts.from_id(work)
        off = [s.id for s in service.recommender.pick(start, Query(artwork_id=work, k=K)).page]
        whole = Query(artwork_id=work, k=K, max_share=1.0)  # cap = k: every page allowed as it is
        assert [s.id for s in service.recommender.pick(start, whole).page] == off


def test_off_is_the_ranked_list_without_copies(service: Service) -> None:
    """Broadening off: the page is the ranking with copies removed, exactly as before broadening."""
    recommender = service.recommender
    for work in [int(i) for i in service.catalogue.ids][:40]:
        start = service.starts.from_id(work)
        for page in (0, 1):
            query = Query(artwork_id=work, k=K, page=page)
            ranked = recommender.rank(start, query, limit=max(5 * query.depth, query.depth + 50)).scored
            unique = diversify.without_duplicates(
                ranked, recommender.explainer.formal, start.side.formal,
                recommender.settings.near_duplicate, query.depth,
            )  # fmt: skip
            expected = [s.id for s in unique[page * K : query.depth]]
            assert [s.id for s in recommender.pick(start, query).page] == expected
            shown = service.recommend(query)
            assert [r.artwork.id for r in shown.results] == expected


def test_broadened_pages_through_the_service(service: Service) -> None:
    work = int(service.catalogue.ids[0])
    page = service.recommend(Query(artwork_id=work, k=K, max_share=0.25))
    ids = [r.artwork.id for r in page.results if r.artwork.id is not None]
    assert len(ids) == K and not _over(service, ids, diversify.share_cap(0.25, K))
