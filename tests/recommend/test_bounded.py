"""What one recommendation may cost: pages deeper than the caps are refused, and a deadline stops the rest.

On the built sample collection, through the real ``Service`` and ``Recommender``. The recommender
is rebuilt over the same opened stores where a test needs other caps (as ``open_service`` builds it).
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Callable

import pytest
from PIL import Image

from asterism.recommend.engine import Recommender
from asterism.recommend.query import Deadline, DeadlineExceeded, Query, QueryError, TooMuchWork
from asterism.recommend.service import Service

STAGES = ["search", "scoring", "graph", "ranking", "duplicates", "diversity", "explanation"]


def capped(service: Service, **limits: float) -> Service:
    """The same opened collection answering under other ``recommend`` settings."""
    old = service.recommender
    settings = old.settings.model_copy(update=limits)
    recommender = Recommender(
        settings, weights=old.weights, searcher=old.searcher, adjacency=old.adjacency,
        catalogue=old.catalogue, explainer=old.explainer,
    )  # fmt: skip
    return dataclasses.replace(service, recommender=recommender)


def ticks() -> Callable[[], float]:
    """A clock that moves one "second" each time it is read: the n-th check of a deadline of n fails."""
    counter = itertools.count()
    return lambda: float(next(counter))


def first_work(service: Service) -> int:
    return int(service.catalogue.ids[0])


def test_the_worst_page_the_schema_allows_is_refused_before_any_work(service: Service) -> None:
    worst = Query(artwork_id=987654321, k=100, page=50, diversity=1.0)  # not even a known work
    with pytest.raises(TooMuchWork, match=r"100·51 = 5100 results .* recommend\.max_depth") as refused:
        service.recommend(worst)
    assert refused.value.status == 400
    deepest = service.settings.recommend.max_depth // 100 - 1
    page = service.recommend(Query(artwork_id=first_work(service), k=100, page=deepest, diversity=1.0))
    assert page.page == deepest  # the deepest page the caps allow is answered


def test_the_caps_are_settings(service: Service) -> None:
    small = capped(service, max_depth=20, max_candidates=10_000)
    start = first_work(service)
    assert len(small.recommend(Query(artwork_id=start, k=10, page=1)).results) == 10
    with pytest.raises(TooMuchWork, match=r"30 results is deeper than this server reads \(20"):
        small.recommend(Query(artwork_id=start, k=10, page=2))
    few = capped(service, max_candidates=50)
    assert few.recommend(Query(artwork_id=start, k=10)).results
    with pytest.raises(TooMuchWork, match=r"needs 55 candidates, more than this server ranks \(50"):
        few.recommend(Query(artwork_id=start, k=11))
    with pytest.raises(TooMuchWork):  # the recommender checks too, for callers under the service
        few.recommender.rank(service.starts.from_id(start), Query(artwork_id=start, k=11))


def test_the_deadline_is_checked_before_every_stage(service: Service) -> None:
    query = Query(artwork_id=first_work(service), k=5, diversity=0.5)
    unlimited = Deadline(1e9, clock=ticks())
    service.recommend(query, unlimited)
    assert [stage for stage, _ in unlimited.marks] == STAGES
    for n, stage in enumerate(STAGES, start=1):
        deadline = Deadline(n, clock=ticks())
        with pytest.raises(DeadlineExceeded, match=f"before {stage} ") as stopped:
            service.recommend(query, deadline)
        assert [s for s, _ in deadline.marks] == STAGES[:n]  # nothing ran past the stage that was due
        assert stopped.value.status == 503 and stopped.value.retry_after == n
        assert isinstance(stopped.value, QueryError)  # the API's handler for refusals catches it


def test_a_real_request_past_its_deadline_stops_with_503(service: Service) -> None:
    start = first_work(service)
    with pytest.raises(DeadlineExceeded, match="before search") as stopped:
        service.recommend(Query(artwork_id=start), Deadline(1e-9))
    assert stopped.value.status == 503 and stopped.value.retry_after == 1
    hurried = capped(service, deadline=1e-9)  # the setting: no deadline passed, the recommender makes one
    with pytest.raises(DeadlineExceeded, match=r"it allows 1e-09 s"):
        hurried.recommend(Query(artwork_id=start, k=3))
    assert service.recommend(Query(artwork_id=start, k=3)).results  # the default 2 s is plenty here


def test_a_picture_s_own_stages_count_when_a_deadline_is_given(service: Service) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (180, 40, 30)).save(buffer, "JPEG")
    deadline = Deadline(1e9, clock=ticks())
    service.recommend(Query(image=buffer.getvalue(), k=3), deadline)
    assert [s for s, _ in deadline.marks] == ["recognition", "embedding", *STAGES]
    with pytest.raises(DeadlineExceeded, match="before recognition"):
        service.recommend(Query(image=buffer.getvalue(), k=3), Deadline(1e-9))
