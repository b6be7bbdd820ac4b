"""The server start's record-dependent part at a size the full scale run cannot reach here.

    .venv/bin/python bench/start.py [--size 200000] [--keep DIR]

``bench/scale.py`` runs a whole home (indexes, graph) and so cannot reach
large sizes on this machine; the indexes and the adjacency are memory-mapped
and measured size-independent there. What grows with the works is what
``recommend/served.py`` opens: the catalogue and the historical model. Here:

1. records: ``--size`` synthetic works (``scale.synthetic_works``) bulk-loaded into
   PostgreSQL (database ``asterism_start_<size>``), as the scale run does;
2. snapshots: the same works written by the build's snapshot step
   (``stages/snapshots.write_snapshots``) with the store's fingerprint, and a
   historical model folder for their knowledge graph (node vectors random:
   node2vec is a build cost, not a start cost);
3. start, in a fresh process: ``open_served`` from the snapshots as
   ``open_service`` calls it (fingerprint, mapping, policy per class, entity
   part), its parts one by one, VmRSS before and after, then what requests do
   with it (records decoded, names, a search, filters, entities).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

import scale


def build(home: Path, size: int) -> dict[str, Any]:
    from asterism.config import load_settings
    from asterism.embed.historical import HistoricalModel
    from asterism.knowledge import node2vec
    from asterism.knowledge.graph import KnowledgeGraph
    from asterism.stages.snapshots import write_snapshots
    from asterism.store import open_database
    from asterism.store.bulk import bulk_load

    url = scale.ensure_database(f"asterism_start_{size}")
    home.mkdir(parents=True, exist_ok=True)
    (home / "asterism.toml").write_text(f'[store]\nbackend = "postgres"\nurl = "{url}"\n')
    settings = load_settings(home=home)
    figures: dict[str, Any] = {}
    with open_database(settings) as database:
        started = time.perf_counter()
        if database.records.count() == 0:
            bulk_load(database.engine, scale.synthetic_works(size))
            with database.engine.connect() as conn:
                conn.execute(sa.text("ANALYZE artworks"))
        figures["records loaded s"] = time.perf_counter() - started
        fingerprint = database.records.fingerprint()
    started = time.perf_counter()
    works = [w.model_copy(update={"id": i}) for i, w in enumerate(scale.synthetic_works(size), start=1)]
    figures["records generated s"] = time.perf_counter() - started
    started = time.perf_counter()
    graph = KnowledgeGraph.build(works, None)
    figures["knowledge graph s"] = time.perf_counter() - started
    version = HistoricalModel.version_of(graph)
    folder = settings.paths.historical_models / version
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(graph.nodes)
    vectors = np.random.default_rng(5).standard_normal((len(names), node2vec.DIM)).astype(np.float32)
    np.save(folder / "vectors.npy", vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    (folder / "nodes.json").write_text(json.dumps(names))
    model = HistoricalModel(graph, {}, version)
    fresh = settings.paths.at("g-start")
    fresh.built_root.mkdir(parents=True, exist_ok=True)
    (home / "current.json").write_text(json.dumps({"generation": "g-start"}))
    report = write_snapshots(fresh, works, fingerprint, model, None)
    figures.update({"snapshot step s": report.seconds, "entities": report.knowledge,
                    "catalogue MB": sum(p.stat().st_size for p in fresh.catalogue.iterdir()) / 2**20,
                    "entity part MB": (folder / "entities.json").stat().st_size / 2**20})  # fmt: skip
    return figures


def start(home: Path, out: Path) -> None:
    """A fresh process: the record-dependent part of ``open_service``, then what requests ask of it."""
    from asterism.config import LicenseSettings, load_settings
    from asterism.embed.historical import HistoricalModel
    from asterism.embed.registry import Models
    from asterism.recommend.catalogue import Catalogue
    from asterism.recommend.query import Filters
    from asterism.recommend.served import open_served
    from asterism.recommend.snapshot import Snapshot
    from asterism.store import open_database

    settings = load_settings(home=home)
    figures: dict[str, Any] = {"load average": os.getloadavg()[0]}
    figures.update({f"before {k}": v for k, v in scale.memory().items()})

    def clock(name: str, work: Any) -> Any:
        began = time.perf_counter()
        result = work()
        figures[f"{name} s"] = time.perf_counter() - began
        return result

    database = clock("open_database", lambda: open_database(settings))
    models = Models.of(settings)
    served = clock("open_served (from snapshots)", lambda: open_served(settings, home=settings.paths.current(),
                                                                       database=database, models=models))  # fmt: skip
    figures["origin"] = served.origin
    figures.update({f"after start {k}": v for k, v in scale.memory().items()})
    current = settings.paths.current()
    clock("alone: store fingerprint", database.records.fingerprint)
    mapped = clock("alone: snapshot mapped", lambda: Snapshot.load(current.catalogue))
    clock("alone: Catalogue.mapped, default policy", lambda: Catalogue.mapped(mapped, settings.license))
    narrowed = clock("alone: Catalogue.mapped, policy withholding every work",
                     lambda: Catalogue.mapped(mapped, LicenseSettings(allowed=["public-domain"])))  # fmt: skip
    figures["withheld by the narrowed policy"] = len(narrowed.withheld)
    meta = json.loads((current.catalogue / "catalogue.json").read_text())
    clock("alone: historical model served (entity part)",
          lambda: HistoricalModel.served(models.home.historical_models, meta["historical"], lambda work: []))  # fmt: skip
    catalogue = served.catalogue
    ids = catalogue.ids[:: max(1, len(catalogue) // 1000)][:1000].tolist()
    works = clock("1,000 records decoded", lambda: [catalogue.get(i) for i in ids])
    clock("1,000 names looked up", lambda: [catalogue.lookup(w.ref) for w in works])
    knowledge = served.knowledge
    assert knowledge is not None
    clock("1,000 works' entities", lambda: [knowledge.entities(w) for w in works])
    clock("filter admitted (source 1 %)", lambda: catalogue.admitted(Filters(sources=frozenset({"commons"}))))
    clock("first search (reads the haystack)", lambda: catalogue.search("harbour"))
    clock("second search", lambda: catalogue.search("portrait"))
    figures.update({f"end {k}": v for k, v in scale.memory().items()})
    database.close()
    out.write_text(json.dumps(figures, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--start", type=Path, help=argparse.SUPPRESS)  # internal: the fresh process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start:
        start(args.start, args.out)
        return
    root = (args.keep or Path(tempfile.mkdtemp(prefix="asterism-start-"))).resolve()
    load = os.getloadavg()
    try:
        done = root / "build.json"
        built = json.loads(done.read_text()) if done.is_file() else build(root / "home", args.size)
        done.write_text(json.dumps(built, indent=1))
        out = root / "start.json"
        subprocess.run([sys.executable, __file__, "--start", str(root / "home"), "--out", str(out)], check=True,
                       cwd=Path(__file__).parent)  # fmt: skip
        started = json.loads(out.read_text())
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            scale.drop_database(f"asterism_start_{args.size}")
    print(f"\n## Server start's record-dependent part, {args.size:,} works — bench/start.py")
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}\n")
    print("| part | measure | value |\n|---|---|---|")
    for part, figures in (("build", built), ("start", started)):
        for name, value in figures.items():
            text = f"{value:,.3f}" if isinstance(value, float) else str(value)
            print(f"| {part} | {name} | {text} |")


if __name__ == "__main__":
    main()
