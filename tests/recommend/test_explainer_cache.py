"""The explainer asks the store for a picture's facts once: found or not, a shown work costs no round trip.

A page by id costs one query in all: the start's labels and palette are read with the page's.

Counted on the built samples' real SQLite store by SQLAlchemy's own statement event: a picture
without a feature row (never analysed, or a collection loaded without them)
used to be queried again every time it was shown — at 50k works on PostgreSQL
that was most of a by-id request.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from asterism.config import Settings
from asterism.embed.formal import layout_for
from asterism.index.search import MultiSearcher
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explainer import FACT_CACHE, Explainer
from asterism.recommend.query import Query
from asterism.recommend.service import Service
from asterism.store import Database, open_database


@pytest.fixture
def database(built: Settings) -> Iterator[Database]:
    """The built sample collection's own store (read only here)."""
    with open_database(built) as db:
        yield db


def a_stored_sha(database: Database) -> str:
    with database.engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT sha256 FROM image_features LIMIT 1")).scalar_one())


def selects(database: Database) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", record)
    return seen


def explainer(database: Database) -> Explainer:
    return Explainer(Catalogue([]), MultiSearcher({}, {}), database.features, None, layout_for(16))


def test_found_and_missing_pictures_are_asked_for_once(database: Database) -> None:
    facts = explainer(database)
    found, missing = a_stored_sha(database), "b" * 64
    seen = selects(database)
    first = facts.image_facts([found, missing, missing])
    assert list(first) == [found] and first[found].palette
    assert len(seen) == 1  # one query for the page, duplicates asked once
    again = facts.image_facts([missing, found])
    assert list(again) == [found]
    assert len(seen) == 1, "a picture known to have no facts was asked for again"


def test_the_cache_stays_bounded(database: Database) -> None:
    facts = explainer(database)
    seen = selects(database)
    facts.image_facts([f"{n:064x}" for n in range(FACT_CACHE - 1)])
    asked = len(seen)
    facts.image_facts(["c" * 64, "d" * 64])  # over the bound: the cache starts again
    assert len(facts._facts) <= FACT_CACHE
    facts.image_facts(["c" * 64])
    assert len(seen) == asked + 1  # the newest misses were kept


def test_a_page_by_id_asks_the_store_once(service: Service) -> None:
    """Start and shown works in one ``image_features`` query (it was one for the start, one for the page)."""
    start = int(service.catalogue.pictured()[0])
    service.explainer._facts.clear()  # nothing cached: as for most starts of a large collection
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append(statement)

    sa.event.listen(service.database.engine, "before_cursor_execute", record)
    try:
        page = service.recommend(Query(artwork_id=start, k=10))
        assert len(page.results) == 10
        assert len(seen) == 1 and "image_features" in seen[0], seen
        start_sha = service.catalogue.get(start).image.sha256  # type: ignore[union-attr]
        assert start_sha in service.explainer._facts  # the start's facts came in that query
        assert service.recommend(Query(artwork_id=start, k=10)) == page
        assert len(seen) == 1, "a page whose pictures are all cached asked the store again"
    finally:
        sa.event.remove(service.database.engine, "before_cursor_execute", record)
