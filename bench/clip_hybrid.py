"""What the hybrid does with CLIP: the aic-objects' OpenCLIP vectors imported as the conceptual space.

    .venv/bin/python bench/clip_hybrid.py --home OBJECTS_HOME [--data ../shared/data] [--queries 200]

The home must hold the 500 aic-objects, built (``license.allow_unknown = true``).
The script copies it, imports ``openclip_vitb32_embeddings.npy`` (rows matched to
works by image sha256) as space ``openclip`` serving the conceptual affinity,
rebuilds, and runs the honest by-image evaluation: each picture's own imported
vector stands in for its upload's conceptual embedding (the same picture through
the same model; flagged), the work and copies of its picture held out. The
"conceptual" row is then CLIP alone; the target is hybrid ≥ CLIP + 20 %.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import shutil
import tempfile
from pathlib import Path

import asterism
from asterism.eval.tune import Choice, tune

NOTIONS = ("artist", "style", "period", "subject")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--tune", action="store_true", help="also tune by image and report on test artists")
    args = parser.parse_args()
    folder = args.data / "aic-objects"
    work = Path(tempfile.mkdtemp(prefix="asterism-clip-"))
    try:
        home = work / "home"
        shutil.copytree(args.home, home)
        with (folder / "metadata.csv").open(encoding="utf-8", newline="") as handle:
            names = [row["filename"] for row in csv.DictReader(handle)]
        ids = work / "ids.txt"
        ids.write_text(
            "\n".join(hashlib.sha256((folder / "images" / n).read_bytes()).hexdigest() for n in names)
        )
        with asterism.open(home) as collection:
            report = collection.import_vectors(folder / "openclip_vitb32_embeddings.npy", "openclip", ids=ids,
                                               model="openclip-vit-b-32", serve="conceptual")  # fmt: skip
            collection.build()
            scores = collection.evaluate(by_image=args.queries, by_id=False)
            if args.tune:
                clip_alone = {"CLIP alone": Choice(0.0, 1.0, 0.0, 1.0, 0.0)}
                tuned = tune(collection.service(), compare=clip_alone)
        print(
            f"machine: {platform.machine()} {os.cpu_count()} cores; {report.works} works covered by the space"
        )
        print(f"queries by image: {scores['queries']['image']}; stand-ins: {scores['stand_ins']}")
        print(
            "| notion | CLIP alone (conceptual) | formal | historical (inferred) | hybrid | hybrid vs CLIP |"
        )
        print("|---|---|---|---|---|---|")
        for notion in NOTIONS:
            rows = scores["scores"]["image"].get(notion) or {}
            if "hybrid" not in rows:
                continue
            r = {m: rows[m]["recall@10"] for m in ("conceptual", "formal", "historical", "hybrid")}
            gain = (r["hybrid"] / r["conceptual"] - 1) * 100 if r["conceptual"] else float("nan")
            print(f"| {notion} | {r['conceptual']:.3f} | {r['formal']:.3f} | {r['historical']:.3f} | "
                  f"{r['hybrid']:.3f} | {gain:+.0f}% |")  # fmt: skip
        if args.tune:
            print(f"\ntuned by image on validation artists: {tuned['chosen']}")
            print("| test artists | " + " | ".join(NOTIONS) + " |\n|---|" + "---|" * len(NOTIONS))
            for name, row in tuned["test_by_notion"].items():
                print(f"| {name} | " + " | ".join(f"{row.get(n, float('nan')):.3f}" for n in NOTIONS) + " |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
