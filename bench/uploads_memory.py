"""Server memory under 50 concurrent 20 MB uploads: peak RSS against idle RSS.

    .venv/bin/python bench/uploads_memory.py [--home HOME] [--data ../shared/data] [--uploads 50]
        [--kind jpeg|garbage] [--slots N] [--wait SECONDS]

Starts ``asterism serve`` (one process) on a built collection (``--home``; without
it, ``--works`` sample paintings are ingested and built in a temporary home),
sends one small upload so the models are loaded, reads the idle RSS, then fires
``--uploads`` concurrent uploads of one picture just under the 20 MB limit: a
valid JPEG of noise (``--kind jpeg``: read, decoded and answered) or 20 MB of
garbage behind a JPEG header (``--kind garbage``: read, then refused by the
decoder). The server's RSS is sampled from /proc every 10 ms; printed: idle RSS,
peak RSS, its growth, the kernel's high-water mark (VmHWM), and the answers by
status. Rate limits are off (every upload comes from 127.0.0.1); ``--slots``
and ``--wait`` set ``api.upload_slots``/``api.upload_wait`` (``--slots 50 --wait
120`` lifts the bound on concurrent uploads, for comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import aiohttp
import httpx
import numpy as np
from PIL import Image

LIMIT = 20 * 1024 * 1024  # api.upload_max_bytes' default


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def noise_jpeg(target: int) -> bytes:
    """A valid JPEG of random noise just under ``target`` bytes (noise barely compresses)."""
    rng = np.random.default_rng(7)

    def encode(side: int) -> bytes:
        buffer = io.BytesIO()
        pixels = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
        return buffer.getvalue()

    per_pixel = len(encode(400)) / 400**2
    side = int((0.97 * target / per_pixel) ** 0.5)
    while len(data := encode(side)) > target:
        side = int(side * 0.98)
    return data


def garbage_jpeg(size: int) -> bytes:
    """A JPEG header (SOI, APP0/JFIF) then random bytes: sniffed as a JPEG, refused when decoded."""
    header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return header + np.random.default_rng(3).integers(0, 256, size - len(header), dtype=np.uint8).tobytes()


def build_home(data: Path, works: int) -> Path:
    import asterism
    from asterism.config import load_settings

    home = Path(tempfile.mkdtemp(prefix="asterism-bench-")) / "home"
    settings = load_settings(
        home=home, ocr={"mode": "never"}, painters_csv=data / "knowledge" / "PainterPalette.csv"
    )
    with asterism.Collection(settings) as collection:
        collection.ingest("sample", data / "aic-paintings", limit=works)
        collection.build()
    return home


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.01)


async def fire(base: str, picture: bytes, uploads: int) -> tuple[Counter[str], float]:
    async def one(session: aiohttp.ClientSession) -> str:
        form = aiohttp.FormData()
        form.add_field("image", picture, filename="big.jpg", content_type="image/jpeg")
        try:
            async with session.post(f"{base}/v1/recommendations", data=form) as response:
                body = await response.json(content_type=None)
                detail = "" if response.status == 200 else f" {str(body.get('detail', ''))[:60]}"
                return f"{response.status}{detail}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    timeout = aiohttp.ClientTimeout(total=600)
    started = time.perf_counter()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=uploads), timeout=timeout
    ) as session:
        answers = await asyncio.gather(*(one(session) for _ in range(uploads)))
    return Counter(answers), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--works", type=int, default=40)
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--kind", choices=["jpeg", "garbage"], default="jpeg")
    parser.add_argument("--slots", type=int, default=None, help="api.upload_slots (default: api.threads)")
    parser.add_argument("--wait", type=float, default=None, help="api.upload_wait (default 5 s)")
    args = parser.parse_args()
    home = args.home or build_home(args.data.resolve(), args.works)
    picture = noise_jpeg(LIMIT - 64 * 1024) if args.kind == "jpeg" else garbage_jpeg(LIMIT - 64 * 1024)
    env = {**os.environ, "ASTERISM_HOME": str(home.resolve()), "ASTERISM_API__UPLOAD_RATE": "0"}
    if args.slots:
        env["ASTERISM_API__UPLOAD_SLOTS"] = str(args.slots)
    if args.wait is not None:
        env["ASTERISM_API__UPLOAD_WAIT"] = str(args.wait)
    port = free_port()
    command = [sys.executable, "-m", "asterism.cli.main", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit("the server exited while starting")
            time.sleep(0.5)
        warm = noise_jpeg(200_000)
        httpx.post(f"{base}/v1/recommendations", files={"image": ("w.jpg", warm, "image/jpeg")}, timeout=120)
        time.sleep(1.0)
        idle = rss_kb(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        answers, seconds = asyncio.run(fire(base, picture, args.uploads))
        sampler.running = False
        sampler.join()
        peak, hwm = sampler.peak, rss_kb(server.pid, "VmHWM")
        print(
            f"machine: {platform.machine()} {os.cpu_count()} cores; {args.uploads} concurrent uploads of "
            f"{len(picture) / 1e6:.1f} MB ({args.kind}); slots {args.slots or 'default'}, "
            f"wait {args.wait if args.wait is not None else 'default'}; {seconds:.1f} s"
        )
        print(f"idle RSS {idle / 1024:.0f} MB; peak RSS {peak / 1024:.0f} MB (+{(peak - idle) / 1024:.0f} MB); "
              f"VmHWM {hwm / 1024:.0f} MB")  # fmt: skip
        for answer, count in sorted(answers.items()):
            print(f"  {count} x {answer}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
