"""Embedding throughput (end to end, decode included) and search latency per index type.

1. Embedding: every sample image (767 JPEGs, ~512 px originals) through the
   build's own image stage (``featurize_files``: threaded decode with JPEG
   draft + palette/composition, EfficientNet-Lite0 for labels and texture in
   batches, channels-last), then the concept documents through MiniLM and
   the historical model (knowledge graph fit + date encoding): images/s for
   all three affinities. The documents are the real ones (each record's
   title, kind, subjects, styles, description and predicted labels, as the
   build writes them; before 2026-11-30 this used the file name as the whole
   record, which made the text model look ~10x cheaper than in a build).
   Baseline in the same run: the plain torch forward pass alone on
   pre-decoded 224 px inputs, batch 1, default memory format.
   ``--sweep`` also times the backbone alone at several batch sizes.
2. Search: ``bench/search.py``'s table (flat, HNSW with tuned efSearch and a
   sweep, IVF-PQ with re-ranking) at the given sizes.

    .venv/bin/python bench/embed.py --data ../shared/data [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from asterism.embed.backbone import EfficientNetLite0, default_weights, to_input
from asterism.embed.conceptual import MiniLM, concept_document
from asterism.embed.featurize import ImageFeaturizer, read_rgb
from asterism.embed.historical import HistoricalModel
from asterism.shapes import Artwork
from asterism.sources.samples import sample_source
from asterism.stages.embed import featurize_files

from search import run as search_run
from search import table as search_table


def sample_paths(data: Path) -> list[Path]:
    items = json.loads((data / "aic-paintings/artworks.json").read_text())
    paths = [data / f"aic-paintings/images/{item['id']}.jpg" for item in items]
    return paths + sorted((data / "aic-objects/images").glob("*.jpg"))


def sample_records(data: Path) -> list[tuple[Artwork, Path]]:
    """Every sample record with a picture: its artwork (full metadata) and image file."""

    async def read(folder: Path) -> list[tuple[Artwork, Path]]:
        found = []
        source = sample_source(folder)
        async for page in source.pages(None):
            found += [(r.artwork, r.image.path) for r in page.records if r.image and r.image.path]
        await source.aclose()
        return found

    return [pair for name in ("aic-paintings", "aic-objects") for pair in asyncio.run(read(data / name))]


def batch_sweep(
    paths: list[Path], sizes: tuple[int, ...] = (1, 4, 8, 16, 32), count: int = 128
) -> dict[int, float]:
    """Images/s of the ONNX backbone alone (labels + texture) per batch size, inputs pre-decoded."""
    backbone = EfficientNetLite0(threads=2)
    inputs = [to_input(read_rgb(p)) for p in paths[:count]]
    backbone.run(inputs[:8])
    rates: dict[int, float] = {}
    for size in sizes:
        started = time.perf_counter()
        for start in range(0, len(inputs), size):
            backbone.run(inputs[start : start + size])
        rates[size] = len(inputs) / (time.perf_counter() - started)
    return rates


def plain_forward(paths: list[Path], count: int = 64) -> float:
    """Images/s of the bare torch forward pass: a fresh model, batch 1, NCHW, inputs pre-decoded."""
    import contextlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(default_weights())).eval()
    inputs = [to_input(read_rgb(p)) for p in paths[:count]]
    tensors = [
        torch.from_numpy(((x.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1).copy())[None]
        for x in inputs
    ]
    with torch.inference_mode():
        net(tensors[0].contiguous())
        started = time.perf_counter()
        for tensor in tensors:
            net(tensor.contiguous())
    return len(tensors) / (time.perf_counter() - started)


def embedding(data: Path, workers: int = 2) -> dict[str, float]:
    records = sample_records(data)
    paths = [path for _, path in records]
    backbone = EfficientNetLite0(threads=2)
    featurizer = ImageFeaturizer(backbone)
    text = MiniLM(threads=2)
    works = [work for work, _ in records]
    featurizer([read_rgb(paths[0])])  # warm-up
    text.embed_texts(["warm up"])
    baseline = plain_forward(paths)
    started = time.perf_counter()
    features = []
    for batch in featurize_files(featurizer, [(str(i), p) for i, p in enumerate(paths)], workers=workers):
        features += [f for _, f in batch.features]
    image_seconds = time.perf_counter() - started
    docs = [concept_document(w, f.labels) for w, f in zip(works, features, strict=True)]
    text_started = time.perf_counter()
    text.embed_texts(docs)
    text_seconds = time.perf_counter() - text_started
    history = HistoricalModel.fit(works, None)
    history.vectors(works)
    total = time.perf_counter() - started
    return {
        "images": len(paths),
        "plain_forward_per_s": baseline,
        "images_per_s_formal": len(paths) / image_seconds,
        "images_per_s_text": len(paths) / text_seconds,
        "images_per_s_all": len(paths) / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also time the backbone alone per batch size")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"torch {torch.__version__}")  # fmt: skip
    if args.sweep:
        rates = batch_sweep(sample_paths(args.data))
        print("backbone alone (ONNX Runtime, labels + texture), img/s by batch: "
              + ", ".join(f"{size}: {rate:.0f}" for size, rate in rates.items()))  # fmt: skip
    result = embedding(args.data)
    print(
        f"embedding {result['images']} sample images (decode included): "
        f"image stage {result['images_per_s_formal']:.0f} img/s, "
        f"text model alone {result['images_per_s_text']:.0f} docs/s, "
        f"all three affinities end to end {result['images_per_s_all']:.0f} img/s; "
        f"baseline plain torch forward (batch 1, NCHW) {result['plain_forward_per_s']:.0f} img/s "
        f"-> {result['images_per_s_all'] / result['plain_forward_per_s']:.2f}x"
    )
    if not args.no_search:
        print(search_table(search_run(args.sizes, args.dim, sweep=True, log=lambda _: None)))


if __name__ == "__main__":
    main()
