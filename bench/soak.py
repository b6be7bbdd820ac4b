"""The soak: 50 clients for 10 minutes of mixed traffic against one server; errors, latency, RSS flat.

    .venv/bin/python bench/soak.py [--home HOME] [--data ../shared/data] [--works 40]
        [--clients 50] [--seconds 600] [--warmup 60] [--think 1.0] [--pictures 300]
        [--mix upload=1,by-id=3,image=4,search=2]

Starts ``asterism serve`` (one process; see ``campaign.Server``) on a built home and runs
``--clients`` aiohttp clients for ``--seconds``. Each client picks a kind by ``--mix``, sends it,
waits for the answer, then pauses ``--think`` × U(0.5, 1.5) s (a person reading; 0 = back to
back): *upload* posts one of ``--pictures`` JPEGs (random crops of the sample paintings, ≤ 640
px) with 16 random bytes after its end, so that every upload is new to the answer cache and is
decoded, recognised and embedded as a person's own photo would be; *by-id* asks for recommendations from
a stored work (k, page and diversity drawn), *image* fetches a thumbnail or medium picture by
the URL the API hands out, *search* looks up a word of a stored title.

The clients share one address, 127.0.0.1, so the server runs with ``api.upload_rate=0`` (the
per-client upload rate limit off; said in the output); every other limit is the default: 2
upload slots with a 5 s wait (503 + Retry-After), the 2 s recommendation deadline (503 +
Retry-After). Counted apart: **limited** = 429, or 503 with Retry-After (the limits answering
as designed); **errors** = any other 5xx, any other 4xx (every request sent is valid),
connection errors and timeouts (60 s). Pass: 0 errors, and the server's RSS (from /proc every
second) after ``--warmup`` within ±10 % of its median over that time (flat: no leak, no
unbounded cache). Latency p50/p99 per kind is over the requests after the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import platform
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
import httpx
from PIL import Image

from campaign import RssSampler, Server, build_home, machine, percentile

TIMEOUT = 60.0


def pictures(data: Path, count: int, seed: int = 5) -> list[bytes]:
    """``count`` distinct JPEGs: random crops (60-100 % a side) of the sample paintings, ≤ 640 px."""
    rng = random.Random(seed)
    sources = sorted((data / "aic-paintings" / "images").glob("*.jpg"))[:40]
    out = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
        crop = rgb.crop((x, y, x + cw, y + ch))
        crop.thumbnail((640, 640))
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


class World:
    """What the clients ask about: stored ids, their image URLs, words of their titles, pictures."""

    def __init__(self, base: str, data: Path, count: int) -> None:
        ids = httpx.get(f"{base}/v1/search", params={"q": "a", "limit": 100}, timeout=30).json()["results"]
        self.ids = [hit["id"] for hit in ids]
        works = httpx.post(f"{base}/v1/artworks/batch", json={"ids": self.ids}, timeout=30).json()["artworks"]
        self.images = [w["image"][size] for w in works if w["image"] for size in ("thumb", "medium")]
        words = {word.strip(".,;:()'\"").lower() for w in works for word in w["title"].split()}
        self.words = sorted(word for word in words if len(word) >= 4)
        self.pictures = pictures(data, count)


async def request(
    session: aiohttp.ClientSession, kind: str, world: World, rng: random.Random
) -> tuple[int, bool]:
    """One request of ``kind``: (status, whether the answer said Retry-After)."""
    if kind == "upload":
        form = aiohttp.FormData()
        # A new photo each time: 16 random bytes after the end (ignored by the decoder) miss the answer cache.
        picture = rng.choice(world.pictures) + rng.randbytes(16)
        form.add_field("image", picture, filename="photo.jpg", content_type="image/jpeg")
        form.add_field("k", "10")
        call = session.post("/v1/recommendations", data=form)
    elif kind == "by-id":
        body = {
            "artwork_id": rng.choice(world.ids),
            "k": rng.choice((6, 10, 20)),
            "page": rng.choice((0, 0, 0, 1, 2)),
        }
        body["diversity"] = rng.choice((0.0, 0.0, 0.3))
        call = session.post("/v1/recommendations", json=body)
    elif kind == "image":
        call = session.get(rng.choice(world.images))
    else:
        call = session.get("/v1/search", params={"q": rng.choice(world.words)})
    async with call as response:
        await response.read()
        return response.status, "Retry-After" in response.headers


async def soak(
    base: str, world: World, args: argparse.Namespace
) -> list[tuple[float, str, int | None, float, bool]]:
    """(seconds since start, kind, status or None, latency, Retry-After) for every request sent."""
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    kinds, weights = list(mix), list(mix.values())
    records: list[tuple[float, str, int | None, float, bool]] = []
    began = time.perf_counter()
    stop = began + args.seconds
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(base_url=base, connector=aiohttp.TCPConnector(limit=args.clients),
                                     timeout=timeout) as session:  # fmt: skip

        async def client(number: int) -> None:
            rng = random.Random(number)
            await asyncio.sleep(rng.random() * max(args.think, 0.1))  # arrivals staggered
            while time.perf_counter() < stop:
                kind = rng.choices(kinds, weights)[0]
                started = time.perf_counter()
                try:
                    status, retry = await request(session, kind, world, rng)
                except (aiohttp.ClientError, TimeoutError):
                    status, retry = None, False
                records.append((started - began, kind, status, time.perf_counter() - started, retry))
                if args.think:
                    await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))

        await asyncio.gather(*(client(i) for i in range(args.clients)))
    return records


def verdict(status: int | None, retry: bool) -> str:
    if status is not None and (status < 400 or status in (206, 304)):
        return "ok"
    if status == 429 or (status == 503 and retry):
        return "limited"
    return "error"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--works", type=int, default=40)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before latency and RSS count")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests (s)")
    parser.add_argument("--pictures", type=int, default=300)
    parser.add_argument("--mix", default="upload=1,by-id=3,image=4,search=2")
    parser.add_argument("--out", type=Path, default=Path("bench/out/soak"))
    args = parser.parse_args()
    home = args.home or build_home(args.data.resolve(), args.works)
    started = datetime.datetime.now(datetime.UTC)
    with Server(home, {"ASTERISM_API__UPLOAD_RATE": "0"}, args.out / "server.log") as server:
        server.warm()
        world = World(server.base, args.data, args.pictures)
        sampler = RssSampler(server.pid, 1.0)
        sampler.start()
        records = asyncio.run(soak(server.base, world, args))
        samples = sampler.stop()
        alive = server.process is not None and server.process.poll() is None
    finished = datetime.datetime.now(datetime.UTC)
    (args.out / "rss.csv").write_text("seconds,rss_kb\n" + "".join(f"{t:.2f},{kb}\n" for t, kb in samples))
    facts = machine()
    loads = sampler.loads
    print(f"machine: {platform.machine()} {facts['cpu']}, {facts['cores']} cores; {started:%Y-%m-%d %H:%M}–"
          f"{finished:%H:%M} UTC; 1-min load average during the run: mean "
          f"{statistics.mean(loads) if loads else float('nan'):.1f}, max {max(loads, default=float('nan')):.1f}")  # fmt: skip
    print("server: asterism serve, 1 process; api.upload_rate=0 — the per-client upload rate limit is OFF, since "
          f"all {args.clients} clients share 127.0.0.1; other limits default (upload slots = api.threads, "
          "5 s slot wait, 2 s recommendation deadline)")  # fmt: skip
    print(
        f"clients: {args.clients} × {args.seconds:.0f} s, think {args.think} s mean, mix {args.mix}, "
        f"{len(world.pictures)} distinct upload pictures; warm-up {args.warmup:.0f} s"
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: Counter[str] = Counter()
    times: dict[str, list[float]] = defaultdict(list)
    for at, kind, status, seconds, retry in records:
        counts[kind][verdict(status, retry)] += 1
        statuses[f"{kind} {status or 'no answer'}{' (Retry-After)' if retry else ''}"] += 1
        if at >= args.warmup and verdict(status, retry) == "ok":
            times[kind].append(seconds * 1000)
    print("\n| kind | requests | ok | limited (429, 503 + Retry-After) | errors | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for kind in sorted(counts):
        c = counts[kind]
        print(f"| {kind} | {sum(c.values())} | {c['ok']} | {c['limited']} | {c['error']} | "
              f"{percentile(times[kind], 50):.0f} | {percentile(times[kind], 99):.0f} |")  # fmt: skip
    print("answers: " + ", ".join(f"{k} ×{n}" for k, n in sorted(statuses.items())))
    after = [kb / 1024 for t, kb in samples if t >= args.warmup]
    middle = statistics.median(after) if after else float("nan")
    low, high = (min(after), max(after)) if after else (float("nan"), float("nan"))
    flat = bool(after) and high <= 1.10 * middle and low >= 0.90 * middle
    tenth = max(1, len(after) // 10)
    drift = (
        (statistics.median(after[-tenth:]) / statistics.median(after[:tenth]) - 1) * 100
        if after
        else float("nan")
    )
    minutes = defaultdict(list)
    for t, kb in samples:
        minutes[int(t // 60)].append(kb / 1024)
    print(
        "RSS by minute (median MB): "
        + " ".join(f"{statistics.median(v):.0f}" for _, v in sorted(minutes.items()))
    )
    errors = sum(c["error"] for c in counts.values())
    print("\n| criterion | measured | bound | pass |\n|---|---|---|---|")
    print(
        f"| errors (other 5xx, other 4xx, connection errors, timeouts) | {errors} | 0 | {'yes' if errors == 0 else 'NO'} |"
    )
    print(f"| RSS after warm-up: min–max around the median | {low:.0f}–{high:.0f} MB around {middle:.0f} MB "
          f"(first→last tenth {drift:+.1f} %) | ±10 % | {'yes' if flat else 'NO'} |")  # fmt: skip
    print(
        f"| server still running at the end | {'yes' if alive else 'no'} | yes | {'yes' if alive else 'NO'} |"
    )
    if errors or not flat or not alive:
        sys.exit(1)


if __name__ == "__main__":
    main()
