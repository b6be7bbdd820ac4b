"""`asterism build` end to end on a small generated collection: vectors, indexes, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asterism.collection import Collection
from asterism.config import Settings
from asterism.graph import open_graph
from asterism.index.files import open_searcher
from asterism.stages.runner import BuildReport
from asterism.store import open_database
from asterism.store.features import FeatureStore

import checkpointgen
import imagegen


def write(folder: Path, count: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(start, start + count):
        (folder / f"{i}.jpg").write_bytes(imagegen.jpeg(i, (160, 120)))
        artist = ["Claude Monet (French, 1840–1926)", "Rembrandt van Rijn (Dutch, 1606–1669)"][i % 2]
        date = ["1874", "1650"][i % 2]
        lines.append(json.dumps({"id": f"w{i}", "image": f"{i}.jpg", "title": f"Harbour {i}", "artist": artist,
                                 "date": date, "license": "CC0", "subjects": ["boats", "harbour"]}))  # fmt: skip
    with (folder / "records.jsonl").open("a") as handle:
        handle.write("\n".join(lines) + "\n")


def ingest(settings: Settings, folder: Path) -> None:
    with Collection(settings) as collection:
        collection.ingest("local", folder)


def run_build(settings: Settings) -> BuildReport:
    with Collection(settings) as collection:
        return collection.build()


def features(settings: Settings) -> FeatureStore:
    """The stored vectors (the store's engine stays open for the test's life: a few connections)."""
    return open_database(settings).features


def test_build_embeds_indexes_and_reruns_as_a_no_op(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write(folder, 12)
    ingest(settings, folder)
    first = run_build(settings)
    assert first.embed.images == 12 and first.embed.conceptual == 12 and first.embed.historical == 12
    assert first.index is not None and set(first.index.built) == {
        "formal",
        "conceptual",
        "historical",
        "composite",
    }
    assert first.graph is not None and set(first.graph.built) == {
        "FORMAL_SIM",
        "CONCEPT_SIM",
        "HISTORICAL_SIM",
    }
    assert all(state.startswith("rebuilt") for state in first.graph.built.values())
    # small collections have flat (exact) indexes: no efSearch to tune, every sampled edge exact
    assert first.graph.recall == dict.fromkeys(first.graph.built, 1.0) and first.graph.ef == {}
    assert first.graph.knowledge != "unchanged"
    again = run_build(settings)
    assert not again.changed

    searcher = open_searcher(settings.paths)
    stored = features(settings)
    ids, formal = stored.load("formal")
    hits = searcher.search({"formal": formal[0]}, {"formal": 1.0}, k=3)
    assert hits[0].id == ids[0] and abs(hits[0].score - 1.0) < 1e-4  # a work is its own nearest neighbour

    # Two works by the same artist are historically closer than works two centuries apart.
    _, historical = stored.load("historical")
    assert float(historical[0] @ historical[2]) > float(historical[0] @ historical[1])

    # New works are embedded and added to the existing indexes; nothing else is recomputed.
    write(folder, 3, start=12)
    ingest(settings, folder)
    third = run_build(settings)
    assert third.embed.images == 3 and third.embed.conceptual == 3
    assert third.index is not None and third.index.built["formal"] == "added 3"
    assert open_searcher(settings.paths).indexes["formal"].ntotal == 15
    assert third.graph is not None and third.graph.built["FORMAL_SIM"].startswith("added")
    graph = open_graph(settings)
    try:
        counts = graph.counts()
        assert counts["Artwork"] == 15 and counts["CREATED_BY"] == 15
        formal_edges = graph.edges("FORMAL_SIM")
        assert set(formal_edges.src.tolist()) | set(formal_edges.dst.tolist()) <= set(ids.tolist()) | {
            int(i) for i in open_searcher(settings.paths).vectors["formal"].ids
        }
    finally:
        graph.close()

    # A new recall target for the graph's k-NN rebuilds the edges (and nothing before them).
    stricter = settings.model_copy(update={"graph": settings.graph.model_copy(update={"edge_recall": 1.0})})
    fourth = run_build(stricter)
    assert fourth.index is not None and set(fourth.index.built.values()) == {"unchanged"}
    assert fourth.graph is not None and all(s.startswith("rebuilt") for s in fourth.graph.built.values())
    assert not run_build(stricter).changed


def test_query_time_weights_change_the_order_without_a_rebuild(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write(folder, 10)
    ingest(settings, folder)
    run_build(settings)
    searcher = open_searcher(settings.paths)
    stored = features(settings)
    ids, formal = stored.load("formal")
    _, historical = stored.load("historical")
    query = {"formal": formal[0], "historical": historical[0]}
    by_form = searcher.search(query, {"formal": 1.0, "historical": 0.0}, k=10, exclude=[ids[0]])
    by_history = searcher.search(query, {"formal": 0.0, "historical": 1.0}, k=10, exclude=[ids[0]])
    assert [h.id for h in by_form] != [h.id for h in by_history]
    same_artist = {int(i) for n, i in enumerate(ids) if n % 2 == 0}
    assert by_history[0].id in same_artist
    assert all(np.isfinite(h.score) for h in by_form)


def test_changing_the_conceptual_model_re_embeds_only_that_affinity(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    write(folder, 6)
    ingest(settings, folder)
    run_build(settings)
    clip = checkpointgen.tiny_clip(tmp_path / "tiny-clip")
    with_clip = settings.model_copy(
        update={"models": settings.models.model_copy(update={"clip_path": clip, "conceptual": "text+clip"})}
    )
    switched = run_build(with_clip)
    assert switched.embed.images == 0 and switched.embed.historical == 0
    assert switched.embed.conceptual == 6
    assert switched.index is not None and switched.index.built["formal"] == "unchanged"
    assert switched.index.built["conceptual"].startswith("rebuilt")
    _, conceptual = features(settings).load("conceptual")
    assert conceptual.shape == (6, 384 + 16)
    assert not run_build(with_clip).changed
