"""The embed stage with 1 and 2 Ray workers (one per node), against the single-process build.

The sample collection (aic-paintings + aic-objects) is ingested once; each run builds the
embed stage of a fresh copy of that home: single-process (``models.threads`` = 2, the
default), then ``RayDistributor`` on a two-node loopback cluster (``tests/raycluster.py``)
with 1 actor, then 2 (one per node; each node offers ``--threads`` CPUs, each actor runs
that many threads). The runs are interleaved ``--rounds`` times, so the machine's other load
falls on each alike. Figures per run: images/s of the image stage as a build sees it (Ray's
actor start-up and model loading included), images/s from the first chunk written to the
last (start-up left out), and documents/s of the text stage (start-up included).

On one 2-core machine both nodes share the same two cores: a second worker can only add
what a second core gives; more machines are what the cluster is for.

    .venv/bin/python bench/ray_build.py --data ../shared/data [--limit 300] [--threads 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the cluster helper lives there

from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.stages.distribute_ray import RayDistributor
from asterism.stages.embed import Distributor
from asterism.stages.runner import BuildReport

from raycluster import LoopbackCluster


@dataclass
class Run:
    name: str
    report: BuildReport
    ticks: list[tuple[float, int]] = field(default_factory=list)  # (time, images done) per chunk written
    where: str = ""
    load: float = 0.0  # the machine's load average when the run started

    @property
    def images_per_second(self) -> float:
        return self.report.embed.images_per_second

    @property
    def steady(self) -> float:
        """Images/s from the first chunk written to the last (start-up left out); 0 with one chunk."""
        if len(self.ticks) < 2:
            return 0.0
        (first, done_first), (last, done_last) = self.ticks[0], self.ticks[-1]
        return (done_last - done_first) / (last - first)

    @property
    def documents_per_second(self) -> float:
        seconds = self.report.embed.seconds.get("conceptual", 0.0)
        return self.report.embed.conceptual / seconds if seconds else 0.0


def settings_of(home: Path) -> Settings:
    return load_settings(home=home, ocr={"mode": "never"})


def ingest(data: Path, home: Path, limit: int | None) -> int:
    with Collection(settings_of(home)) as collection:
        count = collection.ingest("sample", data / "aic-paintings", limit=limit).stored
        if limit is None or count < limit:
            collection.ingest("sample", data / "aic-objects", limit=None if limit is None else limit - count)
        return int(collection.stats()["artworks"])


def run(name: str, template: Path, distributor: Distributor | None) -> Run:
    home = template.parent / name.replace(" ", "-")
    shutil.copytree(template, home)
    load = os.getloadavg()[0]
    ticks: list[tuple[float, int]] = []

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "images":
            ticks.append((time.perf_counter(), done))

    with Collection(settings_of(home)) as collection:
        report = collection.build(stages=("embed",), progress=progress, distributor=distributor)
    shutil.rmtree(home, ignore_errors=True)
    where = distributor.describe() if isinstance(distributor, RayDistributor) else "this process"
    return Run(name, report, ticks, where, load)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="at most this many works (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="CPUs of each node = threads of its actor")
    parser.add_argument("--rounds", type=int, default=2, help="times each run is repeated, interleaved")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="asterism-ray-bench-"))
    try:
        template = work / "ingested"
        started = time.perf_counter()
        works = ingest(args.data, template, args.limit)
        print(f"ingested {works} works in {time.perf_counter() - started:.0f} s", flush=True)
        runs: list[Run] = []
        with LoopbackCluster(cpus=args.threads) as cluster:
            cluster.add_node()
            for _ in range(args.rounds):  # interleaved, so that the machine's other load hits each alike
                runs.append(run("single process", template, None))
                for actors in (1, 2):
                    with RayDistributor(cluster.address, actors=actors, threads=args.threads) as distributor:
                        runs.append(
                            run(f"ray, {actors} worker{'s' if actors > 1 else ''}", template, distributor)
                        )
                for done in runs[-3:]:
                    print(
                        f"{done.name}: {done.images_per_second:.1f} images/s (load {done.load:.1f})",
                        flush=True,
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {works} works; two Ray nodes "
        f"of {args.threads} CPU(s) each on this machine, one actor of {args.threads} thread(s) per worker\n"
    )
    print(
        "| run | images | images/s (stage) | images/s (after 1st chunk) | documents/s | load (1 min) | where |"
    )
    print("|---|---|---|---|---|---|---|")
    for done in runs:
        print(
            f"| {done.name} | {done.report.embed.images} | {done.images_per_second:.1f} | {done.steady:.1f} | "
            f"{done.documents_per_second:.1f} | {done.load:.1f} | {done.where} |"
        )


if __name__ == "__main__":
    main()
