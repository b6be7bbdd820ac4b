"""Recommendation latency (by id, by image) and graph load rate.

    .venv/bin/python bench/recommend.py [--home asterism-data] [--data ../shared/data] [--size 100000]

1. Sample collection (a built home, e.g. after ``make demo``): p50/p99 of
   ``Service.recommend`` by artwork id and by uploaded image (the sample
   JPEG bytes: decode, CNN, concept text, inferred history, then ranking and
   reasons), with OCR off and on.
2. Synthetic collection of ``--size`` works: clustered unit vectors with the
   real dimensions of each affinity, FAISS indexes as the build makes them,
   top-20 edges per work per affinity from batched k-NN, bulk-loaded into a
   fresh LadybugDB (edges/s); the server's graph snapshot read from that store
   (as servers did at every start) against the snapshot the build now writes,
   memory-mapped; then recommend-by-id latency through the same ``Recommender``
   on the mapped snapshot (filters, near-duplicates, graph link strength, reasons).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

import asterism
from asterism.config import ImageSettings, OcrSettings, RecommendSettings, load_settings
from asterism.embed.base import AFFINITIES, Affinity
from asterism.embed.formal import layout_for
from asterism.graph.adjacency import Adjacency
from asterism.graph.edges import EDGE_TYPE, EdgeSet, knn_edges
from asterism.graph.ladybug import LadybugGraph
from asterism.home import Home
from asterism.index.faiss_index import VectorIndex
from asterism.index.search import MultiSearcher
from asterism.index.vectors import VectorSet
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.engine import SELECTIVE, Recommender
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import Filters, Query
from asterism.recommend.start import StartResolver
from asterism.shapes import Artwork, Status

from search import clustered


def percentiles(samples: list[float]) -> tuple[float, float]:
    return 1000 * float(np.percentile(samples, 50)), 1000 * float(np.percentile(samples, 99))


def sample_collection(home: Path, data: Path, queries: int = 200) -> list[tuple[str, float, float, int]]:
    collection = asterism.open(home)
    service = collection.service()
    ids = service.catalogue.ids
    rng = np.random.default_rng(0)
    rows = []
    timings = []
    for artwork_id in rng.choice(ids, min(queries, len(ids)), replace=False):
        started = time.perf_counter()
        service.recommend(Query(artwork_id=int(artwork_id)))
        timings.append(time.perf_counter() - started)
    rows.append(("sample: by id", *percentiles(timings), len(timings)))
    pictures = sorted((data / "aic-paintings" / "images").glob("*.jpg"))[:40]
    service.recommend(Query(image=pictures[0].read_bytes()))  # load the models
    for ocr in (False, True):
        timings = []
        for path in pictures:
            payload = path.read_bytes()
            started = time.perf_counter()
            start = service.starts.from_image(payload, ocr=ocr)
            service.recommender.recommend(start, Query(image=payload))  # one level under: OCR per run
            timings.append(time.perf_counter() - started)
        rows.append((f"sample: by image, OCR {'on' if ocr else 'off'}", *percentiles(timings), len(timings)))
    collection.close()
    return rows


def synthetic_stores(
    size: int, dims: dict[Affinity, int], figures: dict[str, float], copies: float = 0.0
) -> tuple[np.ndarray, MultiSearcher, list[EdgeSet]]:
    """Ids, indexes and top-20 edges of a synthetic collection (``bench/bounded_work.py`` reuses it).

    ``copies``: the share of works whose formal vector is a near copy of another's (cosine ≈ 0.995,
    as two photographs of one painting), for what duplicate removal costs.
    """
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    ids = np.arange(1, size + 1, dtype=np.int64)
    sets, indexes = {}, {}
    for seed, affinity in enumerate(AFFINITIES):
        matrix = clustered(size, dims[affinity], centres=max(50, size // 40), seed=seed)
        if copies and affinity == Affinity.FORMAL:
            rng = np.random.default_rng(99)
            copy = rng.choice(size, int(copies * size), replace=False)
            noise = rng.standard_normal((len(copy), matrix.shape[1])).astype(np.float32)
            matrix[copy] = matrix[rng.integers(size, size=len(copy))] + 0.1 * noise / np.sqrt(matrix.shape[1])
            matrix[copy] /= np.linalg.norm(matrix[copy], axis=1, keepdims=True)
        sets[affinity] = VectorSet.from_arrays(ids, matrix)
        started = time.perf_counter()
        indexes[affinity] = VectorIndex.build(ids, matrix)
        figures[f"index build {affinity} ({indexes[affinity].kind}) s"] = time.perf_counter() - started
    searcher = MultiSearcher(indexes, sets)
    edges = []
    started = time.perf_counter()
    for affinity in AFFINITIES:
        edges.append(
            knn_edges(
                EDGE_TYPE[affinity],
                indexes[affinity],
                sets[affinity],
                k=20,
                threshold=-1.0,  # all 20 kept: worst case
            )
        )
    figures["k-NN edges s"] = time.perf_counter() - started
    return ids, searcher, edges


def synthetic_recommender(
    settings: RecommendSettings,
    ids: np.ndarray,
    searcher: MultiSearcher,
    edges: list[EdgeSet] | Adjacency,
    dims: dict[Affinity, int],
    rng: np.random.Generator,
) -> tuple[Recommender, StartResolver]:
    """The read path over synthetic stores, wired by hand as the Service wires it (no data home)."""
    works = [
        Artwork(source="synthetic", source_id=str(i), title=f"Work {i}", id=int(i), status=Status.ACTIVE,
                date_start=int(y), date_end=int(y) + 5, license_id="CC0-1.0")
        for i, y in zip(ids, rng.integers(1400, 1950, len(ids)), strict=True)
    ]  # fmt: skip
    catalogue = Catalogue(works)
    adjacency = edges if isinstance(edges, Adjacency) else Adjacency(edges, ids)
    layout = layout_for(dims[Affinity.FORMAL] - 464)
    # Synthetic vectors have no data home to open, so the read path is wired by hand here (one level
    # under the library, as the Service wires it): same classes, no records on disk.
    explainer = Explainer(catalogue, searcher, None, None, layout)
    recommender = Recommender(settings, searcher=searcher, adjacency=adjacency, catalogue=catalogue,
                              explainer=explainer)  # fmt: skip
    starts = StartResolver(ImageSettings(), OcrSettings(), searcher, catalogue, explainer, None, None)
    return recommender, starts


def synthetic(
    size: int, dims: dict[Affinity, int], queries: int = 300
) -> tuple[list[tuple[str, float, float, int]], dict[str, float]]:
    settings = load_settings(home=Path(tempfile.mkdtemp()))
    figures: dict[str, float] = {}
    ids, searcher, edges = synthetic_stores(size, dims, figures)
    total = sum(len(e) for e in edges)
    with tempfile.TemporaryDirectory() as folder:
        graph = LadybugGraph(Path(folder) / "graph.lbug")
        graph.add_artworks(ids)
        started = time.perf_counter()
        for edge_set in edges:
            graph.replace_edges(edge_set)
        seconds = time.perf_counter() - started
        # Server start, the graph's part: every edge read from the store (before snapshots), or
        # the snapshot the build writes, mapped.
        started = time.perf_counter()
        read = Adjacency.from_store(graph, EDGE_TYPE.values(), ids)
        figures["server start: edges read from LadybugDB into CSR, s"] = time.perf_counter() - started
        graph.close()
        started = time.perf_counter()
        read.save(Path(folder) / "adjacency", "bench")
        figures["build: snapshot written, s"] = time.perf_counter() - started
        del read
        started = time.perf_counter()
        mapped = Adjacency.load(Path(folder) / "adjacency", "bench")
        figures["server start: snapshot mapped, s"] = time.perf_counter() - started
        assert mapped is not None
        figures["edges"] = total
        figures["LadybugDB edge load, edges/s"] = total / seconds
        rng = np.random.default_rng(0)
        recommender, starts = synthetic_recommender(settings.recommend, ids, searcher, mapped, dims, rng)
        timings = by_id(recommender, starts, ids, rng, queries)
    return [(f"synthetic {size:,}: by id (mapped snapshot)", *percentiles(timings), len(timings))], figures


def by_id(recommender: Recommender, starts: StartResolver, ids: np.ndarray, rng: np.random.Generator,
          queries: int) -> list[float]:  # fmt: skip
    faiss.omp_set_num_threads(1)
    timings = []
    for artwork_id in rng.choice(ids, queries, replace=False):
        began = time.perf_counter()
        recommender.recommend(starts.from_id(int(artwork_id)), Query(artwork_id=int(artwork_id)))
        timings.append(time.perf_counter() - began)
    return timings


def filtered(size: int, dims: dict[Affinity, int], queries: int = 100) -> list[str]:
    """By-id latency and page fill with a date filter admitting ~1 % of ``size`` synthetic works.

    "before" is the post-filter path (``Recommender.selective = None``: the pool of per-affinity
    top-N searched first, filtered after), measured in the same run on the same starts. The second
    table times the two ways of searching inside an admitted set of m works, which sets
    ``index.search.SCORE_ALL``: every admitted work scored exactly, or a selector search in each
    index (HNSW, efSearch raised by 1/share) followed by exact scoring of the pooled candidates.
    """
    settings = load_settings(home=Path(tempfile.mkdtemp()))
    figures: dict[str, float] = {}
    ids, searcher, edges = synthetic_stores(size, dims, figures)
    rng = np.random.default_rng(0)
    recommender, starts = synthetic_recommender(settings.recommend, ids, searcher, edges, dims, rng)
    faiss.omp_set_num_threads(1)
    one = Filters(date_from=1700, date_to=1700)  # dated 1695-1705 of 1400-1954: ~1 %
    admitted = recommender.catalogue.admitted(one)
    assert admitted is not None
    lines = [f"{size:,} works, {len(admitted):,} admitted by the filter ({len(admitted) / size:.2%})"]
    began = time.perf_counter()
    for _ in range(20):
        recommender.catalogue.admitted(one)
    lines.append(f"Catalogue.admitted over every column: {(time.perf_counter() - began) / 20 * 1000:.2f} ms")
    chosen = [int(i) for i in rng.choice(ids, queries, replace=False)]
    for artwork_id in chosen[:10]:  # warm-up: first calls pay for lazily built state and cold pages
        recommender.recommend(starts.from_id(artwork_id), Query(artwork_id=artwork_id))
    lines += ["| run | p50 ms | p99 ms | mean results / k | full pages |", "|---|---|---|---|---|"]
    for name, selective, filters in (
        ("unfiltered", SELECTIVE, Filters()),
        ("1 % filter, before (filtered after the search)", None, one),
        ("1 % filter, after (inside the search)", SELECTIVE, one),
    ):
        recommender.selective = selective
        timings, fill = [], []
        for artwork_id in chosen:
            start = starts.from_id(artwork_id)
            began = time.perf_counter()
            page = recommender.recommend(start, Query(artwork_id=artwork_id, filters=filters))
            timings.append(time.perf_counter() - began)
            fill.append(len(page.results) / page.k)
        p50, p99 = percentiles(timings)
        full = sum(f == 1.0 for f in fill)
        lines.append(f"| {name} | {p50:.1f} | {p99:.1f} | {np.mean(fill):.2f} | {full}/{len(fill)} |")
    recommender.selective = SELECTIVE
    lines += ["| admitted m | score all m, ms | selector search + score pool, ms |", "|---|---|---|"]
    n = settings.recommend.candidates
    for m in (m for m in (1_000, 4_096, 10_000) if m < size // 2):
        within = np.sort(rng.choice(ids, m, replace=False))
        every, inside = [], []
        for artwork_id in chosen[:30]:
            vectors = starts.from_id(artwork_id).vectors
            began = time.perf_counter()
            searcher.score_arrays(within, vectors, {a: 1.0 for a in AFFINITIES})
            every.append(time.perf_counter() - began)
            began = time.perf_counter()
            pooled = np.unique(np.concatenate([
                searcher.indexes[a].search(vectors[a], n, within=within)[1][0] for a in AFFINITIES
            ]))  # fmt: skip
            searcher.score_arrays(pooled, vectors, {a: 1.0 for a in AFFINITIES})
            inside.append(time.perf_counter() - began)
        lines.append(f"| {m:,} | {1000 * np.median(every):.1f} | {1000 * np.median(inside):.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASTERISM_HOME", "asterism-data")))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--filtered", action="store_true", help="only the 1 %% filter run (see filtered())")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.filtered:
        layout = layout_for(256)
        dims = {Affinity.FORMAL: layout.dim, Affinity.CONCEPTUAL: 384, Affinity.HISTORICAL: 78}
        print("\n".join(filtered(args.size, dims)))
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    rows = sample_collection(args.home, args.data) if Home(args.home).built() else []
    layout = layout_for(256)
    dims = {Affinity.FORMAL: layout.dim, Affinity.CONCEPTUAL: 384, Affinity.HISTORICAL: 78}
    synthetic_rows, figures = synthetic(args.size, dims)
    print("| run | p50 ms | p99 ms | queries |\n|---|---|---|---|")
    for name, p50, p99, n in rows + synthetic_rows:
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {n} |")
    for name, value in figures.items():
        print(f"{name}: {value:,.1f}")


if __name__ == "__main__":
    main()
