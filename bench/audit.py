"""The representation audit before/after broadening, on the samples and on public-art.

    .venv/bin/python bench/audit.py [--data ../shared/data] [--homes /tmp/asterism-audit]
                                    [--collection sample|public-art] [--starts N] [--by-image N]

Ingests and builds the collection into ``<homes>/<collection>`` the first time (the sample:
the 120 AIC paintings the tests use, with PainterPalette; public-art: the 3,641 paintings of
``public-art/`` through the local source), then runs ``asterism audit`` on it with
broadening off and on, and prints the report (Markdown) and the time it took, with the
machine and its load (the machine is shared: the load says how much it was).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import asterism
from asterism.config import load_settings
from asterism.eval.audit_report import markdown


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    parser.add_argument("--homes", type=Path, default=Path("/tmp/asterism-audit"))
    parser.add_argument("--collection", choices=("sample", "public-art"), default="sample")
    parser.add_argument("--starts", type=int, default=None, help="default: every work, up to 2000")
    parser.add_argument("--by-image", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = load_settings(
        home=args.homes / args.collection, ocr={"mode": "never"}, workers=2, batch_size=32,
        painters_csv=args.data / "knowledge" / "PainterPalette.csv",
    )  # fmt: skip
    with asterism.Collection(settings) as collection:
        if not settings.paths.current().built():
            began = time.perf_counter()
            if args.collection == "sample":
                collection.ingest("sample", args.data / "aic-paintings", limit=120)
            else:
                collection.ingest("local", args.data / "public-art")
            collection.build()
            print(f"ingested and built in {time.perf_counter() - began:.0f} s")
        began = time.perf_counter()
        summary = collection.audit(starts=args.starts, seed=args.seed, by_image=args.by_image)
        seconds = time.perf_counter() - began
        folder = collection.write_audit(summary)
    print(markdown(summary))
    print(
        f"audit of {summary['starts']} starts (twice) and {args.by_image} pictures: {seconds:.0f} s; {folder}"
    )
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
