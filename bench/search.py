"""Vector search benchmark: build time, index bytes, per-query latency and recall@10 per index type.

    .venv/bin/python bench/search.py [--sizes 100000 1000000] [--dims 128 384] [--queries 1000]

Data: synthetic clustered unit vectors, a Gaussian mixture around a few
thousand random centres where each cluster spreads along its own random
low-rank subspace (rank 16) plus a little isotropic noise, then normalised.
Real embeddings have a low local intrinsic dimension; uniform random (or
isotropic-cluster) high-dimensional data has none and makes approximate
search unrealistically hard. Queries are new draws from the same mixture
(not indexed points). ``--rank`` raises the local dimension to probe that.

Method: indexes are built through ``asterism.index.faiss_index.VectorIndex``
(the HNSW efSearch is the value the index tuned for itself at build time, on
a leave-self-out sample); build uses all cores, searches use one thread
(``faiss.omp_set_num_threads(1)``) and are single-query calls through the
wrapper, i.e. what one request pays. Recall@10 is measured against the exact
flat index on the same queries. "index bytes" is the size of the saved index
file (vectors or codes, graph and id map). The "ivfpq + re-rank" row re-scores
the top 100 IVF-PQ candidates exactly from the vectors, as the MultiSearcher
does. ``run()`` returns the rows for ``bench/embed.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from asterism.index.faiss_index import IndexConfig, VectorIndex

KINDS = ("flat", "hnsw", "ivfpq")
EF_SWEEP = (16, 32, 64, 96, 128, 192, 256, 384)
NPROBE_SWEEP = (32, 128, 512)
RERANK = 200  # candidates re-scored exactly, as MultiSearcher's default n_candidates
Row = dict[str, Any]


def clustered(
    n: int,
    dim: int,
    *,
    centres: int = 3000,
    rank: int = 16,
    spread: float = 0.5,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """``n`` unit vectors from a mixture of ``centres`` low-rank Gaussian clusters (see module docstring)."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dim)).astype(np.float32)
    middle /= np.linalg.norm(middle, axis=1, keepdims=True)
    labels = rng.integers(centres, size=n)
    data = middle[labels]
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(centres + 1))
    for cluster in range(centres):
        rows = order[bounds[cluster] : bounds[cluster + 1]]
        basis = rng.standard_normal((rank, dim)).astype(np.float32) / np.sqrt(dim)
        data[rows] += spread * (rng.standard_normal((len(rows), rank)).astype(np.float32) @ basis)
    data += (noise / np.sqrt(dim)) * rng.standard_normal((n, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data


def latencies(
    index: VectorIndex, queries: np.ndarray, k: int = 10, rerank: np.ndarray | None = None
) -> tuple:
    """Single-query calls: (p50 ms, p99 ms, found ids per query); ``rerank`` = exact vectors by row."""
    for query in queries[:20]:  # warm-up
        index.search_padded(query, k)
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        if rerank is None:
            ids = index.search_padded(query, k)[1][0]
        else:
            candidates = index.search_padded(query, RERANK)[1][0]
            candidates = candidates[candidates >= 0]
            exact = rerank[candidates] @ query
            ids = candidates[np.lexsort((candidates, -exact))][:k]
        times.append(time.perf_counter() - started)
        found.append(ids)
    return 1000 * float(np.percentile(times, 50)), 1000 * float(np.percentile(times, 99)), found


def recall(found: Sequence[np.ndarray], truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def run(
    sizes: Iterable[int] = (100_000, 1_000_000),
    dim: int = 128,
    queries: int = 1000,
    kinds: Iterable[str] = KINDS,
    *,
    rank: int = 16,
    spread: float = 0.5,
    centres: int = 3000,
    sweep: bool = True,
    log: Any = print,
) -> list[Row]:
    """Benchmark each index type at each size; returns one dict per table row."""
    rows: list[Row] = []
    threads = os.cpu_count() or 1
    for size in sizes:
        everything = clustered(size + queries, dim, rank=rank, spread=spread, centres=centres)
        data, probe = everything[:size], everything[size:]
        ids = np.arange(size, dtype=np.int64)
        faiss.omp_set_num_threads(threads)
        truth = VectorIndex.build(ids, data, kind="flat").search_padded(probe, 10)[1]
        for kind in kinds:
            faiss.omp_set_num_threads(threads)
            log(f"  {size:>9} x {dim}: building {kind}")
            started = time.perf_counter()
            index = VectorIndex.build(ids, data, kind=kind, config=IndexConfig())  # type: ignore[arg-type]
            build = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as folder:
                index.save(Path(folder) / "index.faiss")
                size_bytes = (Path(folder) / "index.faiss").stat().st_size
            faiss.omp_set_num_threads(1)
            params = {"flat": "exact", "hnsw": f"M=32 efC=100 ef={index.ef_search}", "ivfpq": ""}[kind]
            if kind == "ivfpq":
                inner = index.inner
                params = f"nlist={inner.nlist} m={inner.pq.M} nprobe={index.nprobe}"
            p50, p99, found = latencies(index, probe)
            base = {"size": size, "dim": dim, "build_s": build, "bytes": size_bytes}
            rows.append({**base, "index": kind, "params": params, "p50_ms": p50, "p99_ms": p99,
                         "recall@10": recall(found, truth)})  # fmt: skip
            if kind == "ivfpq":
                for nprobe in NPROBE_SWEEP:
                    index.nprobe = nprobe
                    p50, p99, found = latencies(index, probe, rerank=data)
                    rows.append({**base, "index": "ivfpq + re-rank", "params": f"nprobe={nprobe}, top {RERANK} exact",
                                 "p50_ms": p50, "p99_ms": p99, "recall@10": recall(found, truth)})  # fmt: skip
            if kind == "hnsw" and sweep:
                tuned = index.ef_search
                for ef in EF_SWEEP:
                    index.ef_search = ef
                    p50, p99, found = latencies(index, probe[: min(len(probe), 500)])
                    rows.append({"size": size, "dim": dim, "index": "hnsw sweep", "params": f"ef={ef}",
                                 "build_s": None, "bytes": None, "p50_ms": p50, "p99_ms": p99,
                                 "recall@10": recall(found, truth[: len(found)])})  # fmt: skip
                index.ef_search = int(tuned or 64)
            del index
    faiss.omp_set_num_threads(threads)
    return rows


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| size | dim | index | params | build s | index MB | p50 ms | p99 ms | recall@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        build = "–" if row["build_s"] is None else f"{row['build_s']:.1f}"
        mb = "–" if row["bytes"] is None else f"{row['bytes'] / 2**20:.0f}"
        lines.append(f"| {row['size']:,} | {row['dim']} | {row['index']} | {row['params']} | {build} | {mb} "
                     f"| {row['p50_ms']:.3f} | {row['p99_ms']:.3f} | {row['recall@10']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[128])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--rank", type=int, default=16, help="local intrinsic dimension of each cluster")
    parser.add_argument("--spread", type=float, default=0.5, help="cluster spread along its subspace")
    parser.add_argument("--centres", type=int, default=3000, help="clusters (fewer works each: harder)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the HNSW efSearch sweep")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"faiss {faiss.__version__}; build on {os.cpu_count()} threads, search single-query on 1 thread")  # fmt: skip
    rows: list[Row] = []
    for dim in args.dims:
        rows += run(
            args.sizes,
            dim,
            args.queries,
            args.kinds,
            rank=args.rank,
            spread=args.spread,
            centres=args.centres,
            sweep=not args.no_sweep,
        )
    print(table(rows))


if __name__ == "__main__":
    main()
