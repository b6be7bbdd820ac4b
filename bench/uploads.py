"""Does the hybrid help uploads? By-image recall@10 of each variant of the upload path, honest eval.

    .venv/bin/python bench/uploads.py --home asterism-data [--queries 200]

Each variant is the same built collection queried with other upload settings
(how many nearest works lend their graph links, the gate on β, the historical
weight scaled by the inferred history's confidence). Every query is a work's
picture re-encoded as an upload, the work and every copy of its picture held
out (``eval/holdout.py``). Printed: the hybrid's recall@10 per notion beside
the best single affinity's, and the hybrid's relative gain over it.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path
from typing import Any

import asterism

VARIANTS: dict[str, dict[str, Any]] = {
    "one anchor (before)": {"upload_links": 1, "history_by_confidence": False},
    "5 anchors": {"upload_links": 5, "history_by_confidence": False},
    "5 anchors + confidence": {"upload_links": 5, "history_by_confidence": True},
    "10 anchors + confidence": {"upload_links": 10, "history_by_confidence": True},
    "5 anchors + confidence + gate .5–.8": {
        "upload_links": 5, "history_by_confidence": True, "upload_gate": (0.5, 0.8),
    },
    "no links (β = 0)": {"beta": 0.0, "history_by_confidence": True},
}  # fmt: skip
SINGLES = ("formal", "conceptual", "historical")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASTERISM_HOME", "asterism-data")))
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores; home {args.home}; {args.queries} pictures")
    print("| variant | notion | hybrid R@10 | best single (R@10) | gain |\n|---|---|---|---|---|")
    for name, options in VARIANTS.items():
        with asterism.open(args.home, recommend=options) as collection:
            scores = collection.evaluate(by_image=args.queries, by_id=False)["scores"]["image"]
        for notion in ("artist", "style", "period", "subject"):
            methods = scores.get(notion) or {}
            if "hybrid" not in methods:
                continue
            best = max(SINGLES, key=lambda m: methods.get(m, {}).get("recall@10", 0.0))
            single, hybrid = methods[best]["recall@10"], methods["hybrid"]["recall@10"]
            gain = (hybrid / single - 1) * 100 if single else float("nan")
            print(f"| {name} | {notion} | {hybrid:.3f} | {best} {single:.3f} | {gain:+.0f}% |")


if __name__ == "__main__":
    main()
