"""Load test of the HTTP API on loopback: requests/s, p50/p99 and errors, by id and by upload.

    .venv/bin/python bench/api.py [--home asterism-data] [--clients 50] [--seconds 60]

Starts ``asterism serve --workers N`` (the embedded default stores) on a free
port against a built home, waits for ``/readyz``, then runs clients for a
fixed time per scenario: recommend by id (random stored works) and by upload
(sample JPEGs, ~100 KB each). Each client sends its next request when the
last one answered, after ``--think`` seconds (a person reading the results;
0 = back to back, the server's capacity). ``--cache none`` makes every
request compute; ``memory``/``redis`` answer repeated questions from the
cache. Every non-200 answer or transport error counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scenario(
    base: str, name: str, clients: int, seconds: float, make_request, think: float
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    reasons: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=base, connector=connector, timeout=timeout) as client:

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            if think:  # people arrive at different moments, not all in the same millisecond
                await asyncio.sleep(rng.random() * think)
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    status, text = await make_request(client, rng)
                    ok = status == 200
                    reason = f"HTTP {status}: {text[:120]}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok, reason = False, f"{type(exc).__name__}: {exc}"[:160]
                if not ok:
                    reasons[reason] = reasons.get(reason, 0) + 1
                latencies.append(time.perf_counter() - started)
                errors += not ok
                if think:
                    await asyncio.sleep(think * (0.5 + rng.random()))

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - began
    values = np.asarray(latencies) * 1000
    return {
        "scenario": name, "requests": len(latencies), "rps": len(latencies) / elapsed,
        "p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)), "errors": errors,
        "reasons": reasons,
    }  # fmt: skip


async def run(
    base: str, ids: list[int], pictures: list[bytes], clients: int, seconds: float, think: float
) -> list[dict[str, float]]:
    async def by_id(client: aiohttp.ClientSession, rng: random.Random) -> tuple[int, str]:
        async with client.post(
            "/v1/recommendations", json={"artwork_id": rng.choice(ids), "k": 10}
        ) as response:
            return response.status, await response.text()

    async def by_upload(client: aiohttp.ClientSession, rng: random.Random) -> tuple[int, str]:
        form = aiohttp.FormData()
        form.add_field("image", rng.choice(pictures), filename="photo.jpg", content_type="image/jpeg")
        form.add_field("k", "10")
        async with client.post("/v1/recommendations", data=form) as response:
            return response.status, await response.text()

    rows = [await scenario(base, "recommend by id", clients, seconds, by_id, think)]
    rows.append(await scenario(base, "recommend by upload", clients, seconds, by_upload, think))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASTERISM_HOME", "asterism-data")))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a client's requests (s)")
    parser.add_argument("--cache", choices=["none", "memory", "redis"], default="none")
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "ASTERISM_HOME": str(args.home.resolve()), "ASTERISM_CACHE__BACKEND": args.cache}
    env["ASTERISM_API__UPLOAD_RATE"] = "0"  # every client is 127.0.0.1: measure capacity, not the rate limit
    command = [
        sys.executable,
        "-m",
        "asterism.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
    ]
    log = open(os.environ.get("ASTERISM_BENCH_SERVER_LOG", os.devnull), "w")  # noqa: SIM115
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit(
                    f"server exited: {server.stderr.read().decode()[-2000:] if server.stderr else ''}"
                )
            time.sleep(0.5)
        ids = [
            hit["id"]
            for hit in httpx.get(f"{base}/v1/search", params={"q": "a", "limit": 100}).json()["results"]
        ]
        pictures = [
            p.read_bytes() for p in sorted((args.data / "aic-paintings" / "images").glob("*.jpg"))[:20]
        ]
        httpx.post(
            f"{base}/v1/recommendations", files={"image": ("w.jpg", pictures[0], "image/jpeg")}, timeout=60
        )
        print(f"machine: {platform.machine()} {os.cpu_count()} cores; {args.clients} clients, think {args.think} s, "
              f"{args.seconds:.0f} s per scenario, {args.workers} uvicorn workers, cache {args.cache}")  # fmt: skip
        for _ in range(4 * args.workers):  # every worker loads its models before the clock starts
            httpx.post(
                f"{base}/v1/recommendations",
                files={"image": ("w.jpg", pictures[1], "image/jpeg")},
                timeout=60,
            )
        rows = asyncio.run(run(base, ids, pictures, args.clients, args.seconds, args.think))
        print("| scenario | requests | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['scenario']} | {row['requests']:.0f} | {row['rps']:.1f} | {row['p50']:.0f} | "
                  f"{row['p99']:.0f} | {row['errors']:.0f} |")  # fmt: skip
        for row in rows:
            for reason, count in row["reasons"].items():
                print(f"  {row['scenario']}: {count} x {reason}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
