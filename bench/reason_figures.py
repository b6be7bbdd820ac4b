"""What the reasons' figures (swatches, layouts, dates) cost a recommendation page: time and bytes.

    .venv/bin/python bench/reason_figures.py --data ../shared/data [--starts 30] [--k 12]
    .venv/bin/python bench/reason_figures.py --home asterism-data      # an already built home

Per start (by id), in process: the page from ``service.recommend`` (figures included), then
``figures()`` alone for the same page's sides (what they add to the explainer), and the page's
JSON with and without the figure fields (what they add to a response). Prints medians and p90.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import asterism
from asterism.config import Settings, load_settings
from asterism.embed.base import Affinity
from asterism.recommend.figures import figures
from asterism.recommend.query import Query

AFFINITIES = (Affinity.FORMAL, Affinity.CONCEPTUAL, Affinity.HISTORICAL)


def built_home(data: Path, root: Path) -> Settings:
    settings = load_settings(home=root / "home", ocr={"mode": "never"}, workers=2, batch_size=32,
                             painters_csv=data / "knowledge" / "PainterPalette.csv")  # fmt: skip
    with asterism.Collection(settings) as collection:
        collection.ingest("sample", data / "aic-paintings", limit=120)
        collection.build()
    return settings


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {statistics.median(ordered):8.2f}   p90 {ordered[int(0.9 * (len(ordered) - 1))]:8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--k", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        if args.home is not None:
            settings = load_settings(home=args.home)
        else:
            assert args.data is not None, "give --home or --data"
            settings = built_home(args.data, Path(root))
        with asterism.Collection(settings) as collection:
            service = collection.service()
            explainer = service.explainer
            rows: dict[str, list[float]] = {
                "page ms": [],
                "figures ms": [],
                "JSON KB": [],
                "JSON KB, no figures": [],
            }
            for start_id in sorted(service.catalogue.records)[: args.starts]:
                service.recommend(Query(artwork_id=start_id, k=args.k))  # warm: caches and image facts
                began = time.perf_counter()
                page = service.recommend(Query(artwork_id=start_id, k=args.k))
                rows["page ms"].append((time.perf_counter() - began) * 1000)
                start = explainer.side(service.catalogue.get(start_id))
                sides = [explainer.side(item.artwork) for item in page.results]
                began = time.perf_counter()
                for other in sides:
                    for affinity in AFFINITIES:
                        figures(affinity, start, other, explainer.layout)
                rows["figures ms"].append((time.perf_counter() - began) * 1000)
                rows["JSON KB"].append(len(page.model_dump_json()) / 1024)
                bare = page.model_copy(deep=True)
                for item in bare.results:
                    for reason in (item.formal, item.conceptual, item.historical):
                        reason.colours = reason.layouts = reason.dates = None
                rows["JSON KB, no figures"].append(len(bare.model_dump_json()) / 1024)
            print(f"{len(rows['page ms'])} starts by id, k={args.k}, {len(service.catalogue.records)} works")
            for name, values in rows.items():
                print(f"{name:22s} {summary(values)}")


if __name__ == "__main__":
    main()
