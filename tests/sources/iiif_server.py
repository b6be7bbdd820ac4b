"""The real IIIF manifests of ``shared/data/iiif`` served on 127.0.0.1, with their image servers.

The files keep their published ids (so source ids are the real ones): the
client's transport sends every request for ``https://{host}{path}`` to the
local replay server as ``/_h/{host}{path}``, which answers with the file whose
``id``/``@id`` is that URL, an extra document a test adds, or an Image API
response: ``{service}/info.json``, or ``{service}/{region}/{size}/0/{quality}.{fmt}``
as a generated JPEG of the size asked (``full``/``max``, ``w,``, ``,h``, ``w,h``,
``!w,h``, ``pct:n``), each service its own picture of a fixed full size.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

import imagegen
from replay_server import Replay, Response, json_response

FULL = (1200, 900)  # the full size of every served image (portrait for odd seeds)


def key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}{parts.path}"


class Rerouted(httpx.AsyncBaseTransport):
    """Every host onto the local server (as if DNS pointed each image server there)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii")
        request.url = httpx.URL(f"{self.base}/_h/{request.url.host}{path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def full_size(identifier: str) -> tuple[int, int]:
    return FULL if zlib.crc32(identifier.encode()) % 2 == 0 else FULL[::-1]


def scaled(size: str, full: tuple[int, int]) -> tuple[int, int] | None:
    """The pixel size an Image API size parameter asks for, or None if it is not one."""
    w, h = full
    if size in ("full", "max"):
        return full
    if size.startswith("pct:"):
        n = float(size[4:]) / 100
        return max(1, round(w * n)), max(1, round(h * n))
    fit = size.startswith("!")
    try:
        a, b = (int(x) if x else None for x in size.lstrip("!^").split(","))
    except ValueError:
        return None
    if fit and a and b:
        r = min(a / w, b / h)
        return max(1, round(w * r)), max(1, round(h * r))
    if a and b:
        return a, b
    if a:
        return a, max(1, round(h * a / w))
    if b:
        return max(1, round(w * b / h)), b
    return None


class IiifServer:
    """Documents by URL plus a generic Image API, on a replay server."""

    def __init__(self, replay: Replay, folder: Path) -> None:
        self.replay = replay
        self.docs: dict[str, bytes] = {}
        self.files: dict[str, str] = {}  # file name -> the URL it is served at
        for path in sorted(folder.glob("*.json")):
            data = path.read_bytes()
            doc = json.loads(data)
            url = doc.get("id") or doc.get("@id") or f"https://example.org/files/{path.name}"
            self.docs[key(url)] = data
            self.files[path.name] = url
        self.images: list[tuple[str, tuple[int, int]]] = []  # (request path, size served)
        replay.route("/_h/*", self.answer)

    def add(self, url: str, doc: dict[str, Any]) -> str:
        self.docs[key(url)] = json.dumps(doc).encode()
        return url

    def transport(self) -> Rerouted:
        return Rerouted(self.replay.url)

    def answer(self, _query: dict[str, str], path: str) -> Response:
        wanted = path.removeprefix("/_h/")
        if wanted in self.docs:
            return 200, {"Content-Type": "application/ld+json"}, self.docs[wanted]
        parts = wanted.split("/")
        if parts[-1] == "info.json":
            identifier = "/".join(parts[:-1])
            w, h = full_size(identifier)
            info = {"@context": "http://iiif.io/api/image/2/context.json", "@id": f"https://{identifier}"}
            info.update(width=w, height=h, profile=["http://iiif.io/api/image/2/level2.json"])
            return json_response(info)
        if len(parts) > 5 and "." in parts[-1] and parts[-2].lstrip("-").isdigit():
            identifier = "/".join(parts[:-4])
            size = scaled(parts[-3], full_size(identifier))
            if size is None:
                return json_response({"error": f"bad size {parts[-3]}"}, 400)
            self.images.append((wanted, size))
            seed = zlib.crc32(identifier.encode())
            return 200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(seed, size, quality=80)
        return json_response({"error": "not found"}, 404)
