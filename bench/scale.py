"""A synthetic collection of ``--size`` works end to end, through the server's own path.

    .venv/bin/python bench/scale.py [--size 1000000] [--keep DIR] [--data ../shared/data]

A real data home is generated (``asterism.toml``: property store on PostgreSQL, database
``asterism_scale_<size>``; a build generation; ``current.json``) and then opened by
``open_service`` exactly as the API server opens it. Stages, each timed:

1. records: synthetic works with realistic fields (title, artist, dates, place,
   classification, medium, subjects, styles, description, license, an image row each;
   1 % from a third source) bulk-loaded into PostgreSQL with ``COPY``
   (``asterism.store.bulk.bulk_load``);
2. indexes: clustered unit vectors of the real dimensions per affinity (formal as the
   configured layout, conceptual 384, historical 78), each index written by the index
   stage's own ``_update`` (type chosen by size: HNSW from 50k, IVF-PQ from 4M);
3. historical model: the server fits or loads it at every start from the knowledge graph
   of the served works; node2vec is not run here (a build cost, not measured): the model
   folder for that graph's version is written with random unit node vectors, so the
   server builds the graph and loads the vectors as it would;
4. graph: the graph stage itself (``build_graph``): top-20 k-NN edges per work per
   affinity (thresholds -1: all kept, the worst case, 60 per work), ``COPY`` into a fresh
   LadybugDB, the graph-state file, and the memory-mapped adjacency snapshot;
   ``current.json`` is published last;
5. snapshots: the build's snapshot step (``stages/snapshots.py``) into a new generation:
   the catalogue snapshot (columns, records as JSON, key index) and the knowledge graph's
   entity part beside the historical model;
6. server, twice, each a fresh process (so its memory is its own): first the old path
   (``open_service(snapshots=False)``: every record read, the graph rebuilt), start only,
   then from the snapshots; each ``open_service`` time with a breakdown, then the parts
   again one by one in isolation, VmRSS and VmHWM; then (snapshots) recommend by id p50/p99, recommend with filters matching
   ~1 % of works (a source; a date range), page fill (results/k), and uploads of the sample
   JPEGs (``recommend_upload``, the API's limits) p50/p99 per image.

``--keep DIR`` keeps the home and its database and reuses every stage already done there
(their figures are read back from ``DIR/scale.json``); without it both are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

ADMIN_URL = os.environ.get("ASTERISM_SCALE_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
THRESHOLDS = {"formal": -1.0, "conceptual": -1.0, "historical": -1.0}


# ----------------------------------------------------------------------------- records
FIRST = ["Anna", "Jan", "Pieter", "Maria", "Giovanni", "Claude", "Camille", "Mary", "Edgar", "Katsushika", "Utagawa", "Rosa", "Francisco", "Jean", "Élisabeth"]  # fmt: skip
LAST = ["Vermeer", "Hals", "Monet", "Cassatt", "Degas", "Hokusai", "Hiroshige", "Bonheur", "Goya", "Chardin", "Vigée", "Rubens", "Titian", "Steen", "Bruegel", "Morisot", "Corot", "Millet", "Turner", "Constable"]  # fmt: skip
PLACES = [
    "Netherlands",
    "France",
    "Italy",
    "Spain",
    "Japan",
    "England",
    "Germany",
    "Flanders",
    "China",
    "India",
    "Mexico",
    "Russia",
]
TYPES = ["Painting", "Print", "Drawing", "Photograph", "Sculpture", "Textile"]
MEDIA = [
    "Oil on canvas",
    "Oil on panel",
    "Woodblock print",
    "Etching",
    "Watercolour on paper",
    "Albumen print",
]
WORDS = ["harbour", "boats", "portrait", "landscape", "river", "winter", "still", "life", "flowers", "saint", "madonna", "horse", "city", "night", "sea", "storm", "garden", "market", "dance", "mountain", "bridge"]  # fmt: skip
STYLES = [
    "Baroque",
    "Impressionism",
    "Ukiyo-e",
    "Realism",
    "Romanticism",
    "Rococo",
    "Renaissance",
    "Symbolism",
]
SOURCES = {"aic": "Art Institute of Chicago", "met": "The Metropolitan Museum of Art",
           "commons": "Wikimedia Commons"}  # fmt: skip


def source_of(i: int) -> str:
    """1 % of works (every hundredth) from ``commons``: the source filter's share."""
    return "commons" if i % 100 == 0 else ("aic" if i % 2 else "met")


def synthetic_works(size: int, seed: int = 0) -> Iterator[Any]:
    """``size`` works with the fields a museum record fills; artists drawn from size/50 names."""
    from asterism.shapes import Artwork, ImageFacts, Status

    rng = np.random.default_rng(seed)
    artists = max(100, size // 50)
    for i in range(1, size + 1):
        r = rng.integers(0, 1 << 30, 12)
        artist = f"{FIRST[r[0] % len(FIRST)]} {LAST[r[1] % len(LAST)]} {r[2] % artists}"
        born = 1280 + int(r[3] % 640)
        start = born + 20 + int(r[4] % 40)
        end = start + int(r[5] % 6)
        place = PLACES[r[6] % len(PLACES)]
        subjects = [WORDS[(r[7] + j * 7) % len(WORDS)] for j in range(2 + int(r[8] % 3))]
        sha = hashlib.sha256(i.to_bytes(8, "little")).hexdigest()
        source = source_of(i)
        image = ImageFacts(
            sha256=sha, phash=f"{int(r[9]) * int(r[10]):016x}"[:16], phash_fine=sha[::-1],
            width=1200 + int(r[11] % 1600), height=900 + int(r[10] % 1600), mime="image/jpeg",
            path=f"images/{sha[:2]}/{sha[2:4]}/{sha}.jpg", bytes=200_000 + int(r[9] % 2_000_000),
            metadata={"exif:Make": "Phase One"} if r[9] % 3 == 0 else {},
            thumbs={"thumb": f"thumbs/thumb/{sha[:2]}/{sha[2:4]}/{sha}.jpg"},
        )  # fmt: skip
        yield Artwork(
            source=source, source_id=str(i), collection=SOURCES[source],
            title=f"{subjects[0].capitalize()} with {subjects[1]} {i}",
            artist_name=artist, artist_display=f"{artist} ({place}, {born}–{born + 60})",
            date_display=f"c. {start}" if start == end else f"{start}–{end}", date_start=start, date_end=end,
            culture=place, place=place, classification=TYPES[r[1] % len(TYPES)], medium=MEDIA[r[2] % len(MEDIA)],
            subjects=subjects, styles=[STYLES[r[3] % len(STYLES)]] if r[3] % 2 else [],
            description=f"A {TYPES[r[1] % len(TYPES)].lower()} of {' and '.join(subjects)} made in {place} about {start}.",
            credit_line="Gift of a collector", license="CC0 1.0 Universal", license_id="CC0-1.0",
            attribution=f"{artist}, via {SOURCES[source]} (CC0)", source_url=f"https://example.org/{source}/{i}",
            image_url=f"https://example.org/{source}/{i}.jpg", image=image, status=Status.ACTIVE,
            extras={"license_url": "https://creativecommons.org/publicdomain/zero/1.0/", "department": place},
        )  # fmt: skip


# ----------------------------------------------------------------------------- plumbing
class Stages:
    """Stage figures kept in ``<root>/scale.json`` so ``--keep`` skips what is done."""

    def __init__(self, root: Path) -> None:
        self.path = root / "scale.json"
        self.done: dict[str, dict[str, Any]] = (
            json.loads(self.path.read_text()) if self.path.is_file() else {}
        )

    def run(self, name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if name in self.done:
            print(f"[{name}] reused from an earlier run", flush=True)
            return self.done[name]
        print(f"[{name}] ...", flush=True)
        started = time.perf_counter()
        figures = work()
        figures["stage s"] = time.perf_counter() - started
        self.done[name] = figures
        self.path.write_text(json.dumps(self.done, indent=1))
        print(f"[{name}] {figures}", flush=True)
        return figures


def memory(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) in MB from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[f"{key} MB"] = int(value.split()[0]) / 1024
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50 ms": 1000 * float(np.percentile(samples, 50)), "p99 ms": 1000 * float(np.percentile(samples, 99)),
            "n": len(samples)}  # fmt: skip


def timed(function: Callable[..., Any], sink: dict[str, float], name: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink[name] = sink.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def ensure_database(name: str) -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ----------------------------------------------------------------------------- build stages
def load_records(settings: Any, size: int) -> dict[str, Any]:
    from asterism.store import open_database
    from asterism.store.bulk import bulk_load

    with open_database(settings) as database:  # migrates the fresh database
        assert database.records.count() == 0, "the scale database already holds works: use a fresh one"
        spent: dict[str, float] = {}
        report = bulk_load(database.engine, _metered(synthetic_works(size), spent))
        with database.engine.connect() as conn:
            low, high, count = conn.execute(sa.text("SELECT min(id), max(id), count(*) FROM artworks")).one()
            conn.execute(sa.text("ANALYZE artworks"))
        size_mb = _relation_mb(database.engine, "artworks") + _relation_mb(database.engine, "images")
    assert (low, high, count) == (1, size, size), (low, high, count)  # ids follow the order given
    loading = report.seconds - spent["generating"]  # the generator runs inside bulk_load's loop
    return {"works": report.artworks, "images": report.images, "records generated s": spent["generating"],
            "COPY load s (generation excluded)": loading, "works/s (with their image rows)": report.artworks / loading,
            "tables MB": size_mb}  # fmt: skip


def _metered(items: Iterator[Any], spent: dict[str, float]) -> Iterator[Any]:
    """``items``, adding the time spent producing them to ``spent["generating"]``."""
    spent["generating"] = 0.0
    while True:
        started = time.perf_counter()
        item = next(items, None)
        spent["generating"] += time.perf_counter() - started
        if item is None:
            return
        yield item


def _relation_mb(engine: sa.Engine, table: str) -> float:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT pg_total_relation_size('{table}')")).scalar() or 0) / 2**20


def build_indexes(fresh: Any, size: int, dims: dict[str, int], ef_construction: int | None) -> dict[str, Any]:
    import faiss

    from asterism.index.faiss_index import IndexConfig, VectorIndex
    from asterism.stages.index import IndexReport, _update

    from search import clustered

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    fresh.indexes.mkdir(parents=True, exist_ok=True)
    ids = np.arange(1, size + 1, dtype=np.int64)
    figures: dict[str, Any] = {}
    for seed, (name, dim) in enumerate(dims.items()):
        started = time.perf_counter()
        matrix = clustered(size, dim, centres=max(50, size // 40), seed=seed)
        figures[f"{name} vectors s"] = time.perf_counter() - started
        report = IndexReport()
        started = time.perf_counter()
        config = IndexConfig() if ef_construction is None else IndexConfig(ef_construction=ef_construction)
        _update(fresh, name, ids, matrix, "auto", report, config)
        figures[f"{name} index s"] = time.perf_counter() - started
        index = VectorIndex.load(fresh.index(name).faiss)
        figures[f"{name} kind"] = (
            f"{report.built[name]}, efConstruction {config.ef_construction}, efSearch {index.ef_search}"
        )
        figures[f"{name} MB"] = fresh.index(name).faiss.stat().st_size / 2**20
        del matrix
    return figures


def write_historical(settings: Any) -> dict[str, Any]:
    """The model folder the server's ``fit_or_load`` looks for, with synthetic node vectors."""
    from asterism.embed import historical
    from asterism.knowledge import node2vec
    from asterism.knowledge.graph import KnowledgeGraph
    from asterism.store import open_database

    started = time.perf_counter()
    with open_database(settings) as database:
        artworks = [a for a in database.records.artworks() if a.embeddable]
    read = time.perf_counter() - started
    started = time.perf_counter()
    graph = KnowledgeGraph.build(artworks, None)
    built = time.perf_counter() - started
    folder = settings.paths.historical_models / historical.HistoricalModel.version_of(graph)
    names = sorted(graph.nodes)
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((len(names), node2vec.DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", vectors)
    (folder / "nodes.json").write_text(json.dumps(names))
    return {"works read s": read, "knowledge graph s": built, "nodes": len(names), "edges": len(graph.edges)}


def build_graph(settings: Any, fresh: Any) -> dict[str, Any]:
    from asterism.graph import open_graph
    from asterism.graph.adjacency import Adjacency
    from asterism.index.files import open_searcher
    from asterism.stages import graph as stage
    from asterism.store import open_database

    with open_database(settings) as database:
        artworks = [a for a in database.records.artworks() if a.embeddable]
    spent: dict[str, float] = {}
    originals = (stage.knn_edges, Adjacency.from_store, Adjacency.save)
    stage.knn_edges = timed(stage.knn_edges, spent, "k-NN edges s")
    Adjacency.from_store = classmethod(timed(originals[1].__func__, spent, "snapshot: edges read back s"))  # type: ignore[assignment,attr-defined]
    Adjacency.save = timed(originals[2], spent, "snapshot: written s")  # type: ignore[method-assign]
    store = open_graph(settings, home=fresh)
    try:
        searcher = open_searcher(fresh)
        report = stage.build_graph(settings, fresh, store, searcher, None, artworks)
    finally:
        store.close()
        stage.knn_edges, Adjacency.from_store, Adjacency.save = originals  # type: ignore[method-assign]
    edges = sum(int(v.split()[-1]) for v in report.built.values())
    recall = {type_: round(value, 4) for type_, value in report.recall.items()}
    return {"edges": edges, f"k-NN efSearch (for edge recall {settings.graph.edge_recall})": report.ef,
            "edge recall@K (200 works, exact)": recall,
            "LadybugDB load edges/s": report.edges_per_second,
            "LadybugDB load s": edges / report.edges_per_second, **spent, "graph stage s": report.seconds,
            "LadybugDB MB": _folder_mb(fresh.ladybug), "snapshot MB": _folder_mb(fresh.adjacency("ladybug"))}  # fmt: skip


def _folder_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# ----------------------------------------------------------------------------- the server
def write_snapshots(settings: Any) -> dict[str, Any]:
    """The build's snapshot step into a new generation (as ``asterism build`` runs it), published."""
    from asterism.embed.registry import Models
    from asterism.stages import generations
    from asterism.stages.snapshots import write_snapshots as step
    from asterism.store import open_database

    started = time.perf_counter()
    with open_database(settings) as database:
        fingerprint = database.records.fingerprint()
        artworks = [a for a in database.records.artworks() if a.embeddable]
    figures: dict[str, Any] = {"works read s": time.perf_counter() - started}
    models = Models.of(settings)
    started = time.perf_counter()
    model = models.historical(artworks)
    figures["historical model (graph rebuilt) s"] = time.perf_counter() - started
    fresh = generations.begin(settings.paths)
    report = step(fresh, artworks, fingerprint, model, models.painters_csv)
    generations.publish(settings.paths, fresh)
    entities = settings.paths.historical_models / model.info.version / "entities.json"
    return {**figures, "snapshot step s": report.seconds, "catalogue": report.catalogue,
            "knowledge": report.knowledge, "catalogue MB": _folder_mb(fresh.catalogue),
            "entity part MB": entities.stat().st_size / 2**20}  # fmt: skip


def isolated(settings: Any, snapshots: bool) -> dict[str, float]:
    """Each part of the start alone, after the start (the machine is shared: a second reading)."""
    from asterism.embed.historical import HistoricalModel
    from asterism.embed.registry import Models
    from asterism.knowledge.entities import WorkEntities
    from asterism.recommend.catalogue import Catalogue
    from asterism.recommend.snapshot import Snapshot, manifest
    from asterism.store import open_database

    home, out = settings.paths.current(), {}
    models = Models.of(settings)

    def clock(name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = work()
        out[f"alone: {name} s"] = time.perf_counter() - started
        return result

    with open_database(settings) as database:
        clock("store fingerprint", database.records.fingerprint)
        if snapshots:
            meta = clock("manifest", lambda: manifest(home.catalogue))
            mapped = clock("snapshot mapped", lambda: Snapshot.load(home.catalogue))
            catalogue = clock(
                "Catalogue.mapped (policy per class)", lambda: Catalogue.mapped(mapped, settings.license)
            )
            entities = WorkEntities(models.painters_csv)
            clock("historical model served (entity part)",
                  lambda: HistoricalModel.served(models.home.historical_models, meta["historical"], entities))  # fmt: skip
            ids = catalogue.ids[:: max(1, len(catalogue) // 1000)][:1000].tolist()
            clock("1,000 records decoded (cold)", lambda: [catalogue.get(i) for i in ids])
        else:
            works = clock("works read", lambda: [a for a in database.records.artworks() if a.embeddable])
            clock("Catalogue (records)", lambda: Catalogue(works, settings.license))
            clock("historical model (graph rebuilt)", lambda: models.historical(works))
    return out


CAPPED_EF = 128


def index_recall(searcher: Any, efs: list[int], n: int = 100) -> dict[str, float]:
    """recall@10 of each HNSW index at each efSearch, for ``n`` stored works against brute force."""
    from asterism.graph.edges import exact_neighbours

    recall: dict[str, float] = {}
    for affinity, index in searcher.indexes.items():
        vectors = searcher.vectors[affinity]
        picked = np.sort(np.random.default_rng(11).choice(vectors.ids, n, replace=False))
        truth = exact_neighbours(vectors, picked, k=10, threshold=-np.inf)
        queries = vectors.get(picked)[1]
        for ef in efs:
            found = index.search_padded(queries, 11, ef=ef)[1]
            others = [[int(i) for i in row if i != w][:10] for row, w in zip(found, picked, strict=True)]
            held = [len(t & set(row)) for t, row in zip(truth, others, strict=True)]
            recall[f"{affinity} ef {ef}"] = round(sum(held) / (10 * n), 3)
    return recall


def serve(home: Path, data: Path, queries: int, out: Path, snapshots: bool = True) -> None:
    """In a fresh process: open the service as the server does, then ask it questions."""
    began = time.perf_counter()
    import faiss

    from asterism.config import load_settings
    from asterism.embed.historical import HistoricalModel
    from asterism.embed.registry import Models
    from asterism.recommend import service as module
    from asterism.recommend.catalogue import Catalogue
    from asterism.recommend.query import DeadlineExceeded, Filters, Query
    from asterism.recommend.snapshot import Snapshot
    from asterism.store.sql import SqlStore

    imports = time.perf_counter() - began
    settings = load_settings(home=home)
    parts: dict[str, float] = {}
    for name in ("open_database", "open_searcher", "open_adjacency"):
        setattr(module, name, timed(getattr(module, name), parts, f"{name} s"))
    Catalogue.__init__ = timed(Catalogue.__init__, parts, "Catalogue (records) s")  # type: ignore[method-assign]
    Catalogue.mapped = classmethod(timed(Catalogue.mapped.__func__, parts, "Catalogue.mapped s"))  # type: ignore[method-assign,assignment,attr-defined]
    Snapshot.load = classmethod(timed(Snapshot.load.__func__, parts, "snapshot mapped s"))  # type: ignore[method-assign,assignment,attr-defined]
    HistoricalModel.served = classmethod(
        timed(HistoricalModel.served.__func__, parts, "historical model served s")
    )  # type: ignore[method-assign,assignment,attr-defined]
    SqlStore.fingerprint = timed(SqlStore.fingerprint, parts, "store fingerprint s")  # type: ignore[method-assign]
    Models.historical = timed(Models.historical, parts, "historical model (graph rebuilt) s")  # type: ignore[method-assign]
    started = time.perf_counter()
    service = module.open_service(settings, snapshots=snapshots)
    figures: dict[str, Any] = {"imports s": imports, "open_service s": time.perf_counter() - started}
    figures.update(parts)
    rest = "works read (rest) s" if not snapshots else "rest s"
    figures[rest] = figures["open_service s"] - sum(parts.values())
    figures.update({f"after start {k}": v for k, v in memory().items()})
    figures["records mapped"] = type(service.catalogue.records).__name__
    figures["load average after start"] = os.getloadavg()[0]
    figures.update(isolated(settings, snapshots))
    if not queries:
        service.close()
        out.write_text(json.dumps(figures, indent=1))
        return
    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    try:  # cold: the indexes and vectors are memory-mapped, and nothing has touched them yet
        service.recommend(Query(artwork_id=int(service.catalogue.ids[len(service.catalogue) // 2])))
        figures["first by-id after start s"] = time.perf_counter() - started
    except DeadlineExceeded:
        figures["first by-id after start s"] = (
            f"deadline exceeded after {time.perf_counter() - started:.2f} s"
        )
    ids = service.catalogue.ids
    rng = np.random.default_rng(0)

    # The explainer reads each shown work's image labels and palette from the property store
    # (a bounded cache in front): how much of a request that is, on PostgreSQL.
    lookups: dict[str, float] = {}
    explainer = service.explainer
    explainer.image_facts = timed(explainer.image_facts, lookups, "s")  # type: ignore[method-assign]

    late: dict[str, int] = {}

    def ask(name: str, filters: Filters, n: int) -> None:
        timings, fill = [], []
        late["n"] = 0
        lookups["s"] = 0.0
        for artwork_id in rng.choice(ids, n, replace=False):
            query = Query(artwork_id=int(artwork_id), filters=filters)
            started = time.perf_counter()
            try:
                page = service.recommend(query)
                fill.append(len(page.results) / query.k)
            except DeadlineExceeded:  # counted, with the time it took to give up
                late["n"] += 1
            timings.append(time.perf_counter() - started)
        figures[name] = {**percentiles(timings), "page fill": float(np.mean(fill)) if fill else 0.0,
                         "image-facts lookups mean ms": 1000 * lookups["s"] / n,
                         "deadline exceeded": late.pop("n")}  # fmt: skip

    ask("by id", Filters(), queries)
    tuned = {a: i.ef_search for a, i in service.searcher.indexes.items() if i.ef_search}
    if tuned and max(tuned.values()) > CAPPED_EF:  # what the efSearch the tuning chose costs
        figures["queries' efSearch (tuned for recall@10 0.95)"] = {str(a): ef for a, ef in tuned.items()}
        figures["recall@10 (100 works, exact)"] = index_recall(
            service.searcher, sorted({*tuned.values(), CAPPED_EF})
        )
        for affinity, ef in tuned.items():
            service.searcher.indexes[affinity].ef_search = min(ef, CAPPED_EF)
        ask(f"by id, queries' efSearch capped at {CAPPED_EF}", Filters(), queries)
        for affinity, ef in tuned.items():
            service.searcher.indexes[affinity].ef_search = ef
    share = service.catalogue.allowed(ids, Filters(sources=frozenset({"commons"}))).mean()
    ask(f"by id, source filter ({100 * share:.2f} % of works)", Filters(sources=frozenset({"commons"})), 100)
    width = 1
    while (
        share := service.catalogue.allowed(ids, Filters(date_from=1600, date_to=1600 + width)).mean()
    ) < 0.01:
        width += 1
    ask(f"by id, date filter 1600..{1600 + width} ({100 * share:.2f} % of works)",
        Filters(date_from=1600, date_to=1600 + width), 100)  # fmt: skip
    figures.update({f"after by-id {k}": v for k, v in memory().items()})
    started = time.perf_counter()
    service.warm_up()
    figures["models warm-up s"] = time.perf_counter() - started
    pictures = sorted((data / "aic-paintings" / "images").glob("*.jpg"))[:40]
    timings = []
    for path in pictures:
        payload = path.read_bytes()
        started = time.perf_counter()
        try:
            service.recommend_upload(Query(image=payload), settings.api)
        except DeadlineExceeded:
            late["n"] = late.get("n", 0) + 1
        timings.append(time.perf_counter() - started)
    figures["upload (sample JPEG, per image)"] = {
        **percentiles(timings),
        "deadline exceeded": late.get("n", 0),
    }
    figures.update({f"end {k}": v for k, v in memory().items()})
    service.close()
    out.write_text(json.dumps(figures, indent=1))


# ----------------------------------------------------------------------------- the run
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="the data home to generate (or reuse) and keep")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--ef-construction", type=int, default=None,
        help="HNSW efConstruction of the three indexes (default: the product's, 100); the 1M run on "
        "2 cores uses 40 to fit a session: ~79 min of HNSW builds at 100",
    )  # fmt: skip
    parser.add_argument(
        "--old-path", action=argparse.BooleanOptionalAction, default=None,
        help="also start the server the old way (every record read); default: up to 200k works, "
        "since it holds ~17 kB a work (~17 GB at 1M) and would not fit beside PostgreSQL here",
    )  # fmt: skip
    parser.add_argument(
        "--edge-recall", type=float, default=None,
        help="graph.edge_recall of the home (default: the product's, 0.9); the 1M run on 2 cores uses "
        "0.8 to fit a session: the graph's k-NN at 0.9 searched at efSearch 384, ~54 min for formal alone",
    )  # fmt: skip
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: the server process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--old-start", action="store_true", help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data, 0 if args.old_start else args.queries, args.out, not args.old_start)
        return
    root = (args.keep or Path(tempfile.mkdtemp(prefix="asterism-scale-"))).resolve()
    database = f"asterism_scale_{args.size}"
    load_before = os.getloadavg()
    try:
        figures = run(root, database, args)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            drop_database(database)
    report(args.size, figures, load_before)


def run(root: Path, database: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from asterism.config import load_settings
    from asterism.embed.dates import DIM as DATE_DIM
    from asterism.embed.registry import TEXT_INFO, Models
    from asterism.knowledge import node2vec
    from asterism.stages import generations

    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    url = ensure_database(database)
    thresholds = "\n".join(f"{k} = {v}" for k, v in THRESHOLDS.items())
    edge_recall = "" if args.edge_recall is None else f"edge_recall = {args.edge_recall}\n"
    (home / "asterism.toml").write_text(
        f'[store]\nbackend = "postgres"\nurl = "{url}"\n\n[graph]\n{edge_recall}\n[graph.thresholds]\n{thresholds}\n'
    )
    settings = load_settings(home=home)
    stages = Stages(root)
    dims = {"formal": Models.of(settings).formal_layout.dim, "conceptual": TEXT_INFO.dim,
            "historical": node2vec.DIM + DATE_DIM}  # fmt: skip
    stages.run("records", lambda: load_records(settings, args.size))
    if "graph" not in stages.done:
        generation = stages.done.get("indexes", {}).get("generation")
        fresh = settings.paths.at(generation) if generation else generations.begin(settings.paths)
        figures = stages.run("indexes", lambda: {"generation": fresh.generation,
                                                 **build_indexes(fresh, args.size, dims, args.ef_construction)})  # fmt: skip
        stages.run("historical", lambda: write_historical(settings))
        stages.run("graph", lambda: build_graph(settings, fresh))
        started = time.perf_counter()
        generations.publish(settings.paths, fresh)
        stages.done["graph"]["publish s"] = time.perf_counter() - started
        stages.path.write_text(json.dumps(stages.done, indent=1))
        assert figures["generation"] == fresh.generation
    stages.run("snapshots", lambda: write_snapshots(settings))
    old_path = args.old_path if args.old_path is not None else args.size <= 200_000
    servers = [("server (old path)", ["--old-start"])] if old_path else []
    if not old_path:
        stages.done["server (old path)"] = {"skipped": "--no-old-path (default above 200k works)"}
    for name, extra in (*servers, ("server", [])):
        out = root / "serve.json"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home), "--out", str(out), "--data", str(args.data),
             "--queries", str(args.queries), *extra],
            env={**os.environ, "ASTERISM_HOME": str(home)}, cwd=Path(__file__).parent,
        )  # fmt: skip
        process.wait()
        if process.returncode != 0:
            raise SystemExit(f"the server process failed ({process.returncode})")
        served = json.loads(out.read_text())
        served["process wall s"] = time.perf_counter() - started
        stages.done[name] = served
        stages.path.write_text(json.dumps(stages.done, indent=1))
    return stages.done


def report(size: int, done: dict[str, dict[str, Any]], load_before: tuple[float, float, float]) -> None:
    model = ""
    with contextlib.suppress(OSError):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))  # fmt: skip
    memory_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    print(f"\n## Scale, {size:,} works — `bench/scale.py` ({date.today()})\n")
    print(f"machine: {model or platform.machine()}, {os.cpu_count()} cores, {memory_gb:.0f} GB; "
          f"load average at start {load_before[0]:.2f}, at end {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print("| stage | measure | value |\n|---|---|---|")
    for stage, figures in done.items():
        for name, value in figures.items():
            if isinstance(value, dict):
                text = ", ".join(
                    f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()
                )
            elif isinstance(value, float):
                text = f"{value:,.2f}"
            else:
                text = f"{value:,}" if isinstance(value, int) else str(value)
            print(f"| {stage} | {name} | {text} |")


if __name__ == "__main__":
    main()
