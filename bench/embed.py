"""Embedding throughput (end to end, decode included) and search latency per index type.

1. Embedding: every sample image (767 JPEGs, ~512 px originals) through the
   build's own image stage (``featurize_files``: threaded decode with JPEG
   draft + palette/composition, EfficientNet-Lite0 for labels and texture in
   batches, channels-last), then the concept documents through MiniLM and
   the historical model (knowledge graph fit + date encoding): images/s for
   all three affinities. Baseline in the same run: the plain torch forward
   pass alone on pre-decoded 224 px inputs, batch 1, default memory format.
2. Search: ``bench/search.py``'s table (flat, HNSW with tuned efSearch and a
   sweep, IVF-PQ with re-ranking) at the given sizes.

    .venv/bin/python bench/embed.py --data ../shared/data [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
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
from asterism.stages.embed import featurize_files

from search import run as search_run
from search import table as search_table


def sample_paths(data: Path) -> list[Path]:
    items = json.loads((data / "aic-paintings/artworks.json").read_text())
    paths = [data / f"aic-paintings/images/{item['id']}.jpg" for item in items]
    return paths + sorted((data / "aic-objects/images").glob("*.jpg"))


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
    paths = sample_paths(data)
    backbone = EfficientNetLite0(threads=2)
    featurizer = ImageFeaturizer(backbone)
    text = MiniLM(threads=2)
    works = [Artwork(source="local", source_id=str(i), title=p.stem) for i, p in enumerate(paths)]
    featurizer([read_rgb(paths[0])])  # warm-up
    text.embed_texts(["warm up"])
    baseline = plain_forward(paths)
    started = time.perf_counter()
    features = []
    for batch in featurize_files(featurizer, [(str(i), p) for i, p in enumerate(paths)], workers=workers):
        features += [f for _, f in batch.features]
    image_seconds = time.perf_counter() - started
    docs = [concept_document(w, f.labels) for w, f in zip(works, features, strict=True)]
    text.embed_texts(docs)
    history = HistoricalModel.fit(works, None)
    history.vectors(works)
    total = time.perf_counter() - started
    return {
        "images": len(paths),
        "plain_forward_per_s": baseline,
        "images_per_s_formal": len(paths) / image_seconds,
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
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"torch {torch.__version__}")  # fmt: skip
    result = embedding(args.data)
    print(
        f"embedding {result['images']} sample images (decode included): "
        f"image stage {result['images_per_s_formal']:.0f} img/s, "
        f"all three affinities end to end {result['images_per_s_all']:.0f} img/s; "
        f"baseline plain torch forward (batch 1, NCHW) {result['plain_forward_per_s']:.0f} img/s "
        f"-> {result['images_per_s_all'] / result['plain_forward_per_s']:.2f}x"
    )
    if not args.no_search:
        print(search_table(search_run(args.sizes, args.dim, sweep=True, log=lambda _: None)))


if __name__ == "__main__":
    main()
