"""Recognising a photographed work at scale: upload → recognised (+ its by-id page) at 100k works.

    .venv/bin/python bench/recognition.py --home HOME [--size 100000] [--photos 40]

HOME is a built collection (``make demo`` or the samples ingested and
built: its ``recognition/`` set is read). The recognition set is grown to
``--size`` works by copying the real works' rows with noise — pooled
descriptors perturbed (so the projection and the index see a realistic
spread, not 130 copies of each vector) and local features with a fifth of
each descriptor's bits flipped (so copies do not match their originals) —
and written through the product's own ``write_set``, so the index type is
the one a 100k build would choose (HNSW above 50k). Then simulated phone
photos (``combined``, moderate: frame, wall, perspective, rotation, glare,
colour, occlusion, blur, low resolution, JPEG) of real works are sent as
JPEG bytes through the upload decoder and the recogniser; each timing
covers decode + locate + shortlist + verification. The by-id page that
follows a recognition is timed on the collection itself (at 100k it is
``bench/recommend.py``'s synthetic figure: 7.4 ms p50). Printed: p50/p95,
the stages' medians, the set's size on disk, and top-1.
"""

from __future__ import annotations

import argparse
import io
import platform
import shutil
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import asterism
from asterism.eval.photos import STRENGTHS, photograph
from asterism.recognise.local import LocalFeatures
from asterism.recognise.recogniser import Recogniser
from asterism.recognise.store import Row, open_set, write_set
from asterism.recommend.query import Query


def grow(rows: list[Row], size: int, rng: np.random.Generator) -> list[Row]:
    """``size`` rows: the real ones, then noisy copies with new ids (soft views perturbed alike)."""
    out = list(rows)
    next_id = max(r.artwork_id for r in rows) + 1
    scale = float(np.std([r.raw for r in rows]))
    while len(out) < size:
        base = rows[len(out) % len(rows)]
        raw = np.abs(base.raw + rng.normal(0, scale, base.raw.shape).astype(np.float32))
        descriptors = base.local.descriptors
        flips = np.packbits(rng.random((len(descriptors), descriptors.shape[1] * 8)) < 0.2, axis=1)
        local = LocalFeatures(base.local.points, descriptors ^ flips, base.local.size)
        soft = np.abs(base.soft + rng.normal(0, scale, base.soft.shape).astype(np.float32))
        out.append(Row(next_id, f"synthetic-{next_id}", raw, local, soft))
        next_id += 1
    return out


def measure(service: Any, recogniser: Recogniser, chosen: list[Any], transform: str, label: str = "") -> None:
    """Photos of ``chosen`` works under ``transform`` (moderate): latency per step, and how many were right."""
    timings: list[float] = []
    stages: dict[str, list[float]] = {"decode": [], "locate": [], "shortlist": [], "verify": []}
    pages: list[float] = []
    right = 0
    for n, work in enumerate(chosen):
        with Image.open(service.picture(work)) as im:
            source = np.asarray(im.convert("RGB"))
        salt = zlib.crc32(f"bench:{work.id}:{transform}".encode())
        photo = photograph(source, transform, STRENGTHS["moderate"], np.random.default_rng(salt))
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, "JPEG", quality=90)
        begun = time.perf_counter()
        rgb = np.asarray(service.starts.decode(buffer.getvalue()), dtype=np.uint8)
        decoded = time.perf_counter()
        seen = recogniser.examine(rgb)
        found = recogniser.verdict(seen)
        done = time.perf_counter()
        if found is not None:
            paged = time.perf_counter()
            service.recommend(Query(artwork_id=found.artwork_id, k=10))
            pages.append(time.perf_counter() - paged)
        if n:  # the first call loads the models
            timings.append(done - begun)
            stages["decode"].append(decoded - begun)
            for name, value in seen.seconds.items():
                stages[name].append(value)
        right += found is not None and found.artwork_id == work.id
    ms = lambda xs, q=50: 1000 * float(np.percentile(xs, q)) if xs else float("nan")  # noqa: E731
    print(f"\n{len(chosen)} photos ({transform}, moderate{label}): recognised right {right}/{len(chosen)}")
    print("| step | p50 ms | p95 ms |\n|---|---|---|")
    print(
        f"| upload → recognised (decode + locate + shortlist + verify) | {ms(timings):.1f} | {ms(timings, 95):.1f} |"
    )
    for name, values in stages.items():
        print(f"| {name} | {ms(values):.1f} | {ms(values, 95):.1f} |")
    print(f"| its by-id page ({len(service.catalogue)} works here) | {ms(pages):.1f} | {ms(pages, 95):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument(
        "--transforms", default="wall,combined", help="photo simulations, at moderate strength"
    )
    parser.add_argument(
        "--compare-views",
        action="store_true",
        help="each transform also without the soft views' indexes, in turns, in this run",
    )
    parser.add_argument(
        "--set", type=Path, help="keep the grown set in this folder, and reuse it when it is there already"
    )
    args = parser.parse_args()
    collection = asterism.open(args.home)
    service = collection.service()
    real = open_set(collection.home.recognition)
    assert real is not None and service.recogniser is not None, "build the collection first"
    rows = [real.stored_row(i) for i in range(len(real))]
    rng = np.random.default_rng(0)
    folder = args.set or Path(tempfile.mkdtemp(prefix="asterism-recognition-"))
    try:
        started = time.perf_counter()
        large = open_set(folder) if args.set else None
        if large is None or len(large) != args.size:
            write_set(folder, grow(rows, args.size, rng), real.model)
            large = open_set(folder)
        written = time.perf_counter() - started
        assert large is not None
        disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        recogniser = Recogniser(large, service.recogniser.backbone_of, service.settings.recognise)
        works = sorted((a for a in service.catalogue.records.values() if a.image), key=lambda a: a.id or 0)
        pick = np.random.default_rng(1)  # apart from the set's noise: a kept set shows the same photos
        chosen = [works[i] for i in pick.choice(len(works), min(args.photos, len(works)), replace=False)]
        print(f"# Recognition at {len(large):,} works ({platform.node()}, {platform.processor() or 'cpu'})")
        print(
            f"set written or opened in {written:.1f} s, {disk / 2**20:.0f} MiB on disk; index {large.index.kind}"
        )
        views = large.soft
        for transform in args.transforms.split(","):
            for soft in [[], views] if args.compare_views else [views]:
                large.soft = soft
                label = (", soft views" if soft else ", sharp only") if args.compare_views else ""
                measure(service, recogniser, chosen, transform, label)
    finally:
        if not args.set:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
