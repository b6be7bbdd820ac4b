"""Embedding throughput and search latency.

1. End-to-end embedding of the sample images: decode of the stored 256 px thumbnail,
   palette/composition, EfficientNet-Lite0 (labels + texture), the concept document
   through MiniLM, and the historical vector: images/s for all three affinities.
2. Search latency per index type on synthetic clustered unit vectors (default 100k; add
   1000000 with --sizes): p50/p99 of single-query calls on one thread, and recall@10 of
   HNSW against exact search.

    .venv/bin/python bench/embed.py --data ../shared/data [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import faiss
import numpy as np

from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.conceptual import MiniLM, concept_document
from asterism.embed.featurize import ImageFeaturizer, read_rgb
from asterism.embed.historical import HistoricalModel
from asterism.index.faiss_index import VectorIndex
from asterism.models import Artwork


def embedding(data: Path) -> dict[str, float]:
    items = json.loads((data / "aic-paintings/artworks.json").read_text())
    paths = [data / f"aic-paintings/images/{item['id']}.jpg" for item in items]
    objects = sorted((data / "aic-objects/images").glob("*.jpg"))
    paths += objects
    featurizer = ImageFeaturizer(EfficientNetLite0(threads=2))
    text = MiniLM(threads=2)
    works = [Artwork(source="local", source_id=str(i), title=p.stem) for i, p in enumerate(paths)]
    featurizer([read_rgb(paths[0])])  # warm-up
    text.embed_texts(["warm up"])
    started = time.perf_counter()
    features = []
    for start in range(0, len(paths), 64):
        images = [read_rgb(p, 256) for p in paths[start : start + 64]]
        features += featurizer(images)
    image_seconds = time.perf_counter() - started
    docs = [concept_document(w, f.labels) for w, f in zip(works, features, strict=True)]
    text.embed_texts(docs)
    history = HistoricalModel.fit(works, None)
    history.vectors(works)
    total = time.perf_counter() - started
    return {
        "images": len(paths),
        "images_per_s_formal": len(paths) / image_seconds,
        "images_per_s_all": len(paths) / total,
    }


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(100, n // 200), dim)).astype(np.float32)
    data = centres[rng.integers(len(centres), size=n)] + 0.6 * rng.standard_normal((n, dim)).astype(
        np.float32
    )
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def search(size: int, dim: int, queries: int = 500) -> list[dict[str, float | str | int]]:
    data = clustered(size, dim)
    q = clustered(queries, dim, seed=1)
    ids = np.arange(size, dtype=np.int64)
    rows = []
    truth = None
    for kind in ("flat", "hnsw"):
        faiss.omp_set_num_threads(2)
        started = time.perf_counter()
        index = VectorIndex.build(ids, data, kind=kind)  # type: ignore[arg-type]
        build = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        latencies, found = [], []
        for vector in q:
            t = time.perf_counter()
            _, got = index.search(vector, 10)
            latencies.append(time.perf_counter() - t)
            found.append(got[0])
        if kind == "flat":
            truth = found
        recall = float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth or found, strict=True)])
        )
        rows.append({"size": size, "dim": dim, "kind": kind, "build_s": build,
                     "p50_ms": 1000 * float(np.percentile(latencies, 50)),
                     "p99_ms": 1000 * float(np.percentile(latencies, 99)), "recall@10": recall})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--dim", type=int, default=128)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    result = embedding(args.data)
    print(
        f"embedding {result['images']} sample images: formal+labels {result['images_per_s_formal']:.0f} img/s, "
        f"all three affinities end to end {result['images_per_s_all']:.0f} img/s"
    )
    print("| size | dim | index | build s | p50 ms | p99 ms | recall@10 |\n|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for row in search(size, args.dim):
            print(f"| {row['size']} | {row['dim']} | {row['kind']} | {row['build_s']:.1f} | {row['p50_ms']:.3f} "
                  f"| {row['p99_ms']:.3f} | {row['recall@10']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
