"""Ingest throughput of the local importer on the 767 sample images.

Prints records/s and images/s for the full harvest (sha256, decode, perceptual
hash, two thumbnails, EXIF/IPTC/XMP, store writes), with 1 and 2 workers, and
next to it a baseline measured in the same run: plain Pillow decode of the same
files on one thread, so the ratio shows what the pipeline adds beyond decoding.
OCR is measured separately (it is not part of the 100 images/s target).

    .venv/bin/python bench/ingest.py --data ../shared/data [--ocr]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

import asterism

SETS = ("aic-paintings", "aic-objects")


def decode_baseline(data: Path) -> tuple[int, float]:
    files = [p for s in SETS for p in sorted((data / s / "images").iterdir())]
    start = time.perf_counter()
    for path in files:
        with Image.open(io.BytesIO(path.read_bytes())) as im:
            im.load()
    return len(files), time.perf_counter() - start


def run(data: Path, workers: int, ocr: bool) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="asterism-bench-"))
    try:
        records = images = 0
        seconds = 0.0
        with asterism.open(home, workers=workers, ocr={"mode": "always" if ocr else "never"}) as collection:
            for name in SETS:
                report = collection.ingest("sample", data / name)
                records += report.seen
                images += report.images_processed
                seconds += report.seconds + report.ocr_seconds  # OCR is its own stage after the harvest
        return {"records": records, "images": images, "seconds": seconds}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--ocr", action="store_true", help="also measure with Tesseract OCR on every image")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not all((args.data / s).is_dir() for s in SETS):
        raise SystemExit(f"sample sets not found under {args.data}")

    n, base_seconds = decode_baseline(args.data)
    results: dict[str, object] = {
        "machine": f"{platform.node()} {platform.machine()} cpus={__import__('os').cpu_count()}",
        "baseline_decode_images_per_s": round(n / base_seconds, 1),
    }
    print(f"baseline: Pillow decode only, 1 thread: {n / base_seconds:.0f} images/s ({n} images)")
    runs = [(1, False), (2, False)] + ([(2, True)] if args.ocr else [])
    for workers, ocr in runs:
        r = run(args.data, workers, ocr)
        rps, ips = r["records"] / r["seconds"], r["images"] / r["seconds"]
        label = f"workers={workers}{' +ocr' if ocr else ''}"
        ratio = ips / (n / base_seconds)
        print(
            f"ingest {label}: {r['records']:.0f} records, {r['images']:.0f} images in {r['seconds']:.2f}s -> "
            f"{rps:.0f} records/s, {ips:.0f} images/s ({ratio:.2f}x decode-only baseline)"
        )
        results[label] = {
            "records_per_s": round(rps, 1),
            "images_per_s": round(ips, 1),
            "vs_baseline": round(ratio, 2),
        }
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
