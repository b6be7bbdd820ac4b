"""The server's knowledge without rebuilding the graph: the saved entity part and entities read on demand.

On the built samples (with PainterPalette): every served work's entities
read from its record equal the full graph's; the saved entity part is the full
graph's non-artwork part; historical vectors and upload inference are the
same; and by-id pages opened either way carry identical reasons.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from asterism.config import Settings
from asterism.embed.historical import HistoricalModel
from asterism.embed.registry import Models
from asterism.knowledge.entities import WorkEntities, entity_part, load_entities
from asterism.knowledge.graph import artwork_node
from asterism.recommend.query import Query
from asterism.recommend.service import Service, open_service
from asterism.recommend.snapshot import MappedRecords
from asterism.shapes import Artwork
from asterism.store import open_database

STARTS = 30


@pytest.fixture(scope="module")
def works(built: Settings) -> list[Artwork]:
    with open_database(built) as database:
        return [a for a in database.records.artworks() if a.embeddable]


@pytest.fixture(scope="module")
def fitted(built: Settings, works: list[Artwork]) -> HistoricalModel:
    """The model as the build (and the old server start) fits or loads it: the whole graph rebuilt."""
    model: HistoricalModel = Models.of(built).historical(works)
    return model


@pytest.fixture(scope="module")
def old(built: Settings) -> Iterator[Service]:
    """The service opened by reading every record and rebuilding the graph (the fallback path)."""
    opened = open_service(built, snapshots=False)
    yield opened
    opened.close()


def test_entities_read_on_demand_equal_the_full_graphs(
    built: Settings, works: list[Artwork], fitted: HistoricalModel, service: Service
) -> None:
    entities = WorkEntities(Models.of(built).painters_csv)
    assert entities.painters() is not None  # the samples are built with PainterPalette
    matched = 0
    for work in works:
        expected = fitted.graph.entities[artwork_node(work)]
        assert entities(work) == expected
        matched += entities.painters().match(work.artist_display or work.artist_name) is not None  # type: ignore[union-attr]
    assert matched > 0  # painter matching took part, not only the record's own fields
    served = service.starts.historical
    assert served is not None and served.info == fitted.info
    assert served.graph.entities == {}  # the served graph holds no work: entities come on demand
    for work in service.catalogue.records.values():
        assert service.knowledge is not None
        assert service.knowledge.entities(work) == _view_entities(fitted, work)


def _view_entities(fitted: HistoricalModel, work: Artwork) -> dict[str, set[str]]:
    from asterism.recommend.explain import KnowledgeView

    return dict(KnowledgeView(fitted.graph).entities(work))


def test_the_saved_entity_part_is_the_full_graphs_without_works(
    built: Settings, fitted: HistoricalModel
) -> None:
    saved = load_entities(built.paths.historical_models / fitted.info.version)
    assert saved is not None
    part = entity_part(fitted.graph)
    assert saved.nodes == part.nodes and saved.edges == part.edges
    assert not any(n.type == "Artwork" for n in saved.nodes.values()) and saved.edges
    assert len(saved.nodes) < len(fitted.graph.nodes)


def test_historical_vectors_and_inference_are_unchanged(
    works: list[Artwork], fitted: HistoricalModel, service: Service
) -> None:
    served = service.starts.historical
    assert served is not None
    for work in works[:40]:
        assert np.array_equal(served.vector(work), fitted.vector(work))
        assert np.array_equal(
            served.vector(work, frozenset({"artist"})), fitted.vector(work, frozenset({"artist"}))
        )
    neighbours, similarities = works[:8], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    a, b = served.infer(neighbours, similarities), fitted.infer(neighbours, similarities)
    assert (
        np.array_equal(a.vector, b.vector) and a.describe() == b.describe() and a.confidence == b.confidence
    )


def test_by_id_pages_give_the_same_reasons_either_way(service: Service, old: Service) -> None:
    assert isinstance(service.catalogue.records, MappedRecords)
    assert not isinstance(old.catalogue.records, MappedRecords)
    assert old.home is not None and service.home is not None
    assert (
        old.home.generation == service.home.generation
    )  # the same build (``version`` is set by cache tests)
    starts = service.catalogue.ids[:: max(1, len(service.catalogue) // STARTS)][:STARTS].tolist()
    assert len(starts) == STARTS
    historical = 0
    for start in starts:
        new_page, old_page = (
            service.recommend(Query(artwork_id=start)),
            old.recommend(Query(artwork_id=start)),
        )
        assert [r.artwork.id for r in new_page.results] == [r.artwork.id for r in old_page.results]
        for a, b in zip(new_page.results, old_page.results, strict=True):
            for affinity in ("formal", "conceptual", "historical"):
                assert getattr(a, affinity).reasons == getattr(b, affinity).reasons
            assert a.model_dump() == b.model_dump()
            historical += bool(a.historical.reasons)
    assert historical > 0
