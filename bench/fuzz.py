"""The fuzz campaign: hostile uploads and hostile requests against a running server, from one seed.

    .venv/bin/python bench/fuzz.py [--home HOME] [--data ../shared/data] [--works 40]
        [--uploads 10000] [--requests 10000] [--seed 1] [--concurrency 2] [--out bench/out/fuzz]
    .venv/bin/python bench/fuzz.py --replay bench/out/fuzz/failures/upload-10000042 [...]

Starts ``asterism serve`` (one process, default settings but for ``api.upload_rate=0``: every
case comes from 127.0.0.1, and a 429 would stop the files from reaching the decoder) on a
built home (``--home``, or ``--works`` sample paintings ingested and built in a temporary one,
as ``uploads_memory.py`` does), then sends ``--uploads`` files from ``tests/hostile.py`` in
upload forms and ``--requests`` requests from ``tests/hostile_http.py`` (JSON, query strings,
multipart, content types, paths, headers), ``--concurrency`` at a time (default 2 = the upload
slots, so no upload waits for one), each on a new connection, exactly as generated. Case *i*
of a run has seed ``seed × 10⁷ + i`` (requests: ``+ 5 × 10⁶``), generated in a separate
process so the timing is the server's.

Pass criteria: no answer 5xx, none slower than 2 s (wall, to the last byte), every connection
answered, and the server's peak RSS (sampled from /proc every 50 ms) under a bound stated from
the upload limits: idle + slots × (2 × upload_max_bytes + 4 B × upload_max_decoded_pixels) + 150 MB
(``api/limits.py``: a body held twice and an RGBA decode per slot; the rest for the models'
working memory and the allocator). A failing case is saved under ``--out``/failures/ (the
request's bytes, its seed, the answer, the server log written meanwhile) and ``--replay``
sends it again to a fresh server. Exit status 1 when a criterion fails.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from asterism.config import ApiSettings
from campaign import Case, Outcome, RssSampler, Server, build_home, machine, percentile, rss_kb, send
from hostile_http import request_case, upload_case

SLOW = 2.0
REQUESTS_OFFSET = 5_000_000


@dataclass
class Record:
    family: str
    seed: int
    outcome: Outcome

    @property
    def failed(self) -> bool:
        status = self.outcome.status
        return status is None or status >= 500 or self.outcome.seconds > SLOW


async def run(
    name: str, seeds: range, make: Callable[[int], Case], server: Server, pool: ProcessPoolExecutor,
    concurrency: int, out: Path,
) -> list[Record]:  # fmt: skip
    """Send the cases of ``seeds`` (made in ``pool``) ``concurrency`` at a time; save the failures."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[asyncio.Future[Case] | None] = asyncio.Queue(maxsize=8 * concurrency)
    records: list[Record] = []
    unmade: list[str] = []
    began = time.monotonic()

    async def produce() -> None:
        for seed in seeds:
            await queue.put(loop.run_in_executor(pool, make, seed))
        for _ in range(concurrency):
            await queue.put(None)

    async def consume() -> None:
        while (future := await queue.get()) is not None:
            try:
                case = await future
            except Exception as exc:  # a bug in the generator, not the server: said, and not sent
                unmade.append(f"{type(exc).__name__}: {exc}")
                print(f"  the generator failed ({name}): {unmade[-1]}", flush=True)
                continue
            offset = server.log_size()
            outcome = await send("127.0.0.1", server.port, case)
            record = Record(case.family, case.seed, outcome)
            records.append(record)
            if record.failed:
                await asyncio.sleep(0.5)  # let the server finish writing its traceback
                folder = out / "failures" / f"{name}-{case.seed}"
                case.save(folder, status=outcome.status, seconds=round(outcome.seconds, 3), error=outcome.error,
                          answer=outcome.head.decode("utf-8", "replace"))  # fmt: skip
                (folder / "server.log").write_text(server.log_since(offset))
                print(f"  FAIL {name} {case.family} seed {case.seed}: {outcome.status} {outcome.seconds:.2f} s "
                      f"{outcome.error} -> {folder}", flush=True)  # fmt: skip
            if len(records) % 1000 == 0:
                print(f"  {name}: {len(records)} sent, {time.monotonic() - began:.0f} s", flush=True)

    await asyncio.gather(produce(), *(consume() for _ in range(concurrency)))
    if unmade:
        print(f"  {name}: {len(unmade)} cases the generator could not make (a bug in tests/hostile*.py)")
    return records


def make_upload(seed: int) -> Case:
    return upload_case(seed)


class MakeRequest:
    """Picklable ``request_case`` bound to the stored ids (for the generating process)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __call__(self, seed: int) -> Case:
        return request_case(seed, self.ids)


def summary(name: str, records: list[Record]) -> str:
    statuses = Counter((r.outcome.status or 0) // 100 for r in records)
    times = [r.outcome.seconds * 1000 for r in records]
    slow = sum(r.outcome.seconds > SLOW for r in records)
    return (f"| {name} | {len(records)} | {statuses[2]} | {statuses[3]} | {statuses[4]} | {statuses[5]} | "
            f"{statuses[0]} | {slow} | {percentile(times, 50):.0f} | {percentile(times, 99):.0f} | "
            f"{max(times, default=0):.0f} |")  # fmt: skip


def by_family(records: list[Record]) -> list[str]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[record.family].append(record)
    rows = []
    for family, group in sorted(groups.items()):
        statuses = Counter(r.outcome.status or "none" for r in group)
        shown = " ".join(f"{s}×{n}" for s, n in sorted(statuses.items(), key=lambda kv: str(kv[0])))
        worst = max(r.outcome.seconds for r in group) * 1000
        rows.append(f"| {family} | {len(group)} | {shown} | {worst:.0f} |")
    return rows


def replay(args: argparse.Namespace, home: Path) -> None:
    with Server(home, {"ASTERISM_API__UPLOAD_RATE": "0"}, args.out / "replay-server.log") as server:
        for folder in args.replay:
            case = Case.load(folder)
            offset = server.log_size()
            outcome = asyncio.run(send("127.0.0.1", server.port, case))
            time.sleep(0.5)
            print(f"{folder}: {case.method} {case.target[:120]} ({case.family}, seed {case.seed}, "
                  f"{len(case.body)} bytes) -> {outcome.status} in {outcome.seconds:.3f} s {outcome.error}")  # fmt: skip
            print(f"  answer: {outcome.head[:300]!r}")
            print("  server log:\n" + server.log_since(offset)[-6000:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--works", type=int, default=40)
    parser.add_argument("--uploads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/out/fuzz"))
    parser.add_argument(
        "--rss-bound-mb", type=float, default=None, help="default: stated from the upload limits"
    )
    parser.add_argument(
        "--replay", type=Path, nargs="*", default=None, help="saved failure folders to send again"
    )
    args = parser.parse_args()
    home = args.home or build_home(args.data.resolve(), args.works)
    if args.replay:
        replay(args, home)
        return
    api = ApiSettings()
    slots = api.upload_slots or api.threads
    pool = ProcessPoolExecutor(max_workers=1)  # before any thread starts: the pool forks
    started = datetime.datetime.now(datetime.UTC)
    with Server(home, {"ASTERISM_API__UPLOAD_RATE": "0"}, args.out / "server.log") as server:
        ids = server.ids()
        server.warm()
        time.sleep(1.0)
        idle = rss_kb(server.pid)
        sampler = RssSampler(server.pid, 0.05)
        sampler.start()
        base = args.seed * 10_000_000
        uploads = asyncio.run(run("upload", range(base, base + args.uploads), make_upload, server, pool,
                                  args.concurrency, args.out))  # fmt: skip
        requests = asyncio.run(run("request", range(base + REQUESTS_OFFSET, base + REQUESTS_OFFSET + args.requests),
                                   MakeRequest(ids), server, pool, args.concurrency, args.out))  # fmt: skip
        samples = sampler.stop()
        alive = server.process is not None and server.process.poll() is None
    pool.shutdown()
    finished = datetime.datetime.now(datetime.UTC)
    peak = max((kb for _, kb in samples), default=idle) / 1024
    bound = args.rss_bound_mb or (
        idle / 1024 + slots * (2 * api.upload_max_bytes + 4 * api.upload_max_decoded_pixels) / 2**20 + 150
    )
    facts = machine()
    records = uploads + requests
    fails = {
        "answers 5xx": sum((r.outcome.status or 0) >= 500 for r in records),
        f"answers slower than {SLOW:.0f} s": sum(r.outcome.seconds > SLOW for r in records),
        "connections without an answer": sum(r.outcome.status is None for r in records),
    }
    print(f"\nmachine: {platform.machine()} {facts['cpu']}, {facts['cores']} cores; {started:%Y-%m-%d %H:%M}–"
          f"{finished:%H:%M} UTC; load average during the run {load_summary(sampler)}")  # fmt: skip
    print(
        f"server: asterism serve, 1 process, api.upload_rate=0 (rate limit off: one client address), "
        f"{slots} upload slots; seed {args.seed}; {args.concurrency} cases at a time; {len(ids)} stored works asked for"
    )
    print("\n| campaign | cases | 2xx | 3xx | 4xx | 5xx | no answer | > 2 s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(summary("hostile uploads", uploads))
    print(summary("hostile requests", requests))
    print("\n| family | cases | answers | max ms |\n|---|---|---|---|")
    print("\n".join(by_family(uploads) + by_family(requests)))
    print("\n| criterion | measured | bound | pass |\n|---|---|---|---|")
    for what, count in fails.items():
        print(f"| {what} | {count} | 0 | {'yes' if count == 0 else 'NO'} |")
    print(
        f"| server peak RSS (idle {idle / 1024:.0f} MB) | {peak:.0f} MB | {bound:.0f} MB | {'yes' if peak < bound else 'NO'} |"
    )
    print(
        f"| server still running at the end | {'yes' if alive else 'no'} | yes | {'yes' if alive else 'NO'} |"
    )
    (args.out / "rss.csv").write_text("seconds,rss_kb\n" + "".join(f"{t:.2f},{kb}\n" for t, kb in samples))
    (args.out / "summary.json").write_text(json.dumps({"fails": fails, "peak_mb": peak, "bound_mb": bound,
                                                         "idle_mb": idle / 1024, "machine": facts}, indent=1))  # fmt: skip
    if any(fails.values()) or peak >= bound or not alive:
        sys.exit(1)


def load_summary(sampler: RssSampler) -> str:
    loads = sampler.loads
    if not loads:
        return "unknown"
    return f"mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f} (1-min, both cores)"


if __name__ == "__main__":
    main()
