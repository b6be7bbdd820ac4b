"""The collection map at scale: layout time per map, placing new works, the size of ``GET /v1/map``.

    .venv/bin/python bench/map_layout.py [--works 100000] [--new 1000] [--maps formal,hybrid] [--epochs N]

Vectors are synthetic, of the real dimensions (formal 720 = palette 256 + composition 208 +
texture 256, conceptual 384, historical 78), each affinity a mixture of low-rank Gaussian
clusters (``bench/search.py``'s ``clustered``, as the other benches); the hybrid is the
composite the index stage writes: √w · v per affinity at the default weights (0.4/0.4/0.2).
For each map: the time of ``lay_out`` (UMAP, seeded: single-threaded) and how many of a
work's 10 nearest map neighbours are among its 10 nearest vector neighbours (on a sample of
works; chance is 10 / n). Then ``--new`` works placed into the ``--works`` layout of the first
map by the stage's own ``update_layout`` (old coordinates checked unchanged to the byte), and
the ``/v1/map`` answer for that map at ``--works`` (the router's own ``encode``): bytes, gzip
bytes, encoding time. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asterism.api.routers.map import encode
from asterism.index.composite import composite
from asterism.map.layout import MapLayout, lay_out, neighbour_agreement, row_hashes
from asterism.stages.layout import update_layout

from search import clustered

DIMS = {"formal": 720, "conceptual": 384, "historical": 78}


def shared(works: int, *, rank: int = 16, spread: float = 0.5, noise: float = 0.15) -> dict[str, np.ndarray]:
    """Like ``clustered``, but one cluster label per work for all three affinities.

    Independent labels per affinity (``vectors``) make every hybrid neighbourhood a mix of two
    unrelated groups, which no plane can keep; in a real collection a school's works look alike,
    show alike things and share a period, so the hybrid's neighbourhoods agree across affinities.
    """
    rng = np.random.default_rng(11)
    centres = max(50, works // 40)
    labels = rng.integers(centres, size=works)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(centres + 1))
    parts = {}
    for name, dim in DIMS.items():
        middle = rng.standard_normal((centres, dim)).astype(np.float32)
        data = middle[labels] / np.linalg.norm(middle[labels], axis=1, keepdims=True)
        for cluster in range(centres):
            rows = order[bounds[cluster] : bounds[cluster + 1]]
            basis = rng.standard_normal((rank, dim)).astype(np.float32) / np.sqrt(dim)
            data[rows] += spread * (rng.standard_normal((len(rows), rank)).astype(np.float32) @ basis)
        data += (noise / np.sqrt(dim)) * rng.standard_normal((works, dim)).astype(np.float32)
        parts[name] = data / np.linalg.norm(data, axis=1, keepdims=True)
    return {**parts, "hybrid": composite(parts, {"formal": 0.4, "conceptual": 0.4, "historical": 0.2})}


def vectors(works: int) -> dict[str, np.ndarray]:
    parts = {
        name: clustered(works, dim, centres=max(50, works // 40), seed=seed)
        for seed, (name, dim) in enumerate(DIMS.items())
    }
    return {**parts, "hybrid": composite(parts, {"formal": 0.4, "conceptual": 0.4, "historical": 0.2})}


def grow(
    name: str, ids: np.ndarray, matrix: np.ndarray, layout: np.ndarray, args: argparse.Namespace
) -> tuple[dict[str, object], dict[str, object]]:
    """``--new`` works placed into the ``--works`` layout by the stage's own code; then the answer's size."""
    old = MapLayout.of(ids[: args.works], layout, row_hashes(matrix[: args.works]))
    started, cpu = time.perf_counter(), time.process_time()
    grown, state = update_layout(old, ids, matrix)
    placing, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert grown.xy[: args.works].tobytes() == old.xy.tobytes(), "old works moved"
    incremental = {
        "map": name,
        "state": state,
        "seconds": round(placing, 2),
        "cpu s": round(cpu, 2),
        "agreement@10 after": round(neighbour_agreement(matrix, grown.xy, k=10, sample=args.sample), 3),
    }
    started = time.perf_counter()
    body = encode("hybrid", old.ids, old.xy)
    encoding = time.perf_counter() - started
    payload = {
        "works": args.works,
        "bytes": len(body),
        "gzip bytes": len(gzip.compress(body, compresslevel=6)),
        "encode s": round(encoding, 3),
    }
    return incremental, payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--maps", default="formal,conceptual,historical,hybrid")
    parser.add_argument("--epochs", type=int, default=None, help="UMAP n_epochs (default: UMAP's)")
    parser.add_argument(
        "--sample", type=int, default=1_000, help="works the neighbour agreement is measured on"
    )
    parser.add_argument("--shared", action="store_true", help="one cluster label per work for all affinities")
    args = parser.parse_args()
    names = args.maps.split(",")
    out: dict[str, object] = {
        "works": args.works,
        "new": args.new,
        "epochs": args.epochs,
        "clusters": "shared by the affinities" if args.shared else "independent per affinity",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load before": os.getloadavg(),
    }
    started = time.perf_counter()
    spaces = (shared if args.shared else vectors)(args.works + args.new)
    out["vectors s"] = round(time.perf_counter() - started, 1)
    ids = np.arange(1, args.works + args.new + 1, dtype=np.int64)
    started, cpu = time.perf_counter(), time.process_time()
    lay_out(spaces["historical"][:300])  # numba compiles UMAP once per process: not a cost of the size
    out["umap import + compile s"] = round(time.perf_counter() - started, 1)
    out["umap import + compile cpu s"] = round(time.process_time() - cpu, 1)
    for name in names:
        matrix = spaces[name][: args.works]
        started, cpu = time.perf_counter(), time.process_time()
        layout = lay_out(matrix, epochs=args.epochs)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        agreement = neighbour_agreement(matrix, layout, k=10, sample=args.sample)
        out[name] = {
            "dim": int(matrix.shape[1]),
            "layout s": round(seconds, 1),
            "layout cpu s": round(cpu, 1),
            "agreement@10": round(agreement, 3),
            "chance@10": round(10 / (args.works - 1), 5),
        }
        print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
        if name == names[0]:
            out["incremental"], out["payload"] = grow(name, ids, spaces[name], layout, args)
            print(json.dumps({"incremental": out["incremental"], "payload": out["payload"]}), file=sys.stderr)
    out["load after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
