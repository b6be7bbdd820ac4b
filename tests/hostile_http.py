"""Hostile HTTP requests generated from one integer seed, and a way to send them to an ASGI app.

A ``Case`` is one request exactly as it goes on the wire: method, raw target (path and query,
percent-encoded, never normalised: ``/v1/artworks/%00`` and ``/v1/%2e%2e/x`` arrive as
written), headers and body. ``request_case`` makes JSON bodies (deep nesting, huge numbers,
NaN/Infinity, wrong types, lone surrogates, duplicate keys, missing and extra fields, values
out of range), query strings, multipart forms (bad boundaries, many or huge fields, JSON
options nested thousands deep), odd content types, paths, methods and headers;
``upload_case`` wraps a ``hostile.upload`` file in an upload form. Same seed, same bytes, so
``bench/fuzz.py`` saves a failing case with its seed and replays it, and the tests send the
same cases in process through ``asgi_send``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import hostile
from hostile_json import mangle, number, obj, odd_json, options, work
from hostile_tiff import span

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Case:
    family: str
    seed: int
    method: str
    target: str  # as sent: path and query, ASCII, percent-encoded
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunked: bool = False  # sent without a Content-Length, in chunks

    def save(self, folder: Path, **facts: Any) -> Path:
        """The case (and what happened to it) as ``case.json`` + ``body.bin``, for ``load`` to replay."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in self.__dict__.items() if k != "body"} | {"facts": facts}
        (folder / "case.json").write_text(json.dumps(meta, indent=1, default=str))
        (folder / "body.bin").write_bytes(self.body)
        return folder

    @classmethod
    def load(cls, folder: Path) -> Case:
        meta = json.loads((folder / "case.json").read_text())
        headers = tuple((str(k), str(v)) for k, v in meta["headers"])
        return cls(meta["family"], meta["seed"], meta["method"], meta["target"], headers,
                   (folder / "body.bin").read_bytes(), meta["chunked"])  # fmt: skip


def enc(text: str) -> str:
    return quote(text, safe="")


# ---------------------------------------------------------------- request families


JSON = (("content-type", "application/json"),)


def json_recommend(
    rng: random.Random, ids: Sequence[int]
) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    fields = options(rng)
    if rng.random() < 0.9:
        fields.insert(rng.randrange(len(fields) + 1), ("artwork_id", work(rng, ids)))
    return "POST", "/v1/recommendations", JSON, mangle(rng, obj(fields))


def json_other(rng: random.Random, ids: Sequence[int]) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    kind = rng.randrange(5)
    if kind == 0:
        names = "[" + ",".join(work(rng, ids) for _ in range(span(rng, 1, 400))) + "]"
        return "POST", "/v1/artworks/batch", JSON, mangle(rng, obj([("ids", names)]))
    if kind == 1:
        fields = [("artwork_id", work(rng, ids)), ("k", number(rng, 1, 20))]
        return "POST", "/v1/study/pairs", JSON, mangle(rng, obj(rng.sample(fields, rng.randrange(3))))
    if kind == 2:
        fields = [
            ("pair_id", rng.choice(('"nope"', '"' + "x" * 65 + '"', odd_json(rng)))),
            ("choice", '"left"'),
        ]
        return "POST", "/v1/study/votes", JSON, mangle(rng, obj(fields))
    headers = [("authorization", rng.choice(("Bearer", "Bearer x", "Basic YTpi", "Bearer " + "a" * 5000)))]
    return rng.choice(("POST", "GET")), "/v1/admin/" + rng.choice(("rebuild", "build", "x")), headers, b""


def query_value(rng: random.Random, valid: str) -> str:
    roll = rng.random()
    if roll < 0.4:
        return valid
    return rng.choice((
        "", "-1", "0", "1e309", "nan", "NaN", "inf", "-inf", "1e2", "0x10", "1_0", "9" * span(rng, 1, 5000),
        "%00", "%ff", "%", "%zz", "%C0%AF", "+", "a" * span(rng, 1, 9000), enc("\u202e\ud7ff\U0001f600"),
        "true", "[]", valid + "&" + valid, enc(" 10 "), "%E0%A4", "1.5", "-0",
    ))  # fmt: skip


def work_segment(rng: random.Random, ids: Sequence[int]) -> str:
    if rng.random() < 0.4 and ids:
        return str(rng.choice(ids))
    return rng.choice((
        "-1", "0", str(2**63), str(2**64), "1e3", "aic%3A27992", "aic:", "%00", "%2e%2e", "..%2f..%2fetc%2fpasswd",
        "a" * span(rng, 1, 6000), "%E2%80%AE", "%ff%fe", "1%20", "%201", "null", "NaN", "aic:1%00", "%2F",
    ))  # fmt: skip


def query(rng: random.Random, ids: Sequence[int]) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    def qs(pairs: list[tuple[str, str]]) -> str:
        kept = [p for p in pairs if rng.random() < 0.8]
        kept += [kept[0]] * span(rng, 1, 3000) if kept and rng.random() < 0.05 else []
        return "&".join(f"{k}={v}" for k, v in kept)

    w = work_segment(rng, ids)
    kind = rng.randrange(6)
    if kind == 0:
        q = [("q", query_value(rng, "monet")), ("limit", query_value(rng, "20"))]
        target = "/v1/search?" + qs([*q, ("by", query_value(rng, "auto"))])
    elif kind == 1:
        names = ("k", "page", "formal", "conceptual", "historical", "diversity")
        valid = ("10", "1", "50", "20", "30", "0.5")
        target = f"/v1/artworks/{w}/similar?" + qs(
            [(n, query_value(rng, v)) for n, v in zip(names, valid, strict=True)]
        )
    elif kind == 2:
        target = "/v1/artworks/random?" + qs([("seed", query_value(rng, "7"))])
    elif kind == 3:
        a, b = work_segment(rng, ids), work_segment(rng, ids)
        target = "/v1/connect?" + qs([("from", a), ("to", b), ("max_hops", query_value(rng, "3"))])
    elif kind == 4:
        target = f"/v1/images/{w}?" + qs(
            [("size", query_value(rng, "thumb")), ("v", query_value(rng, "0123abcd"))]
        )
    else:
        target = f"/v1/artworks/{w}"
    return "GET", target, (), b""


ODD_PATHS = (
    "/v1/artworks/%00", "/v1/images/-1?size=full", "/v1/images/-1?size=" + "x" * 3000, "//v1//search?q=a",
    "/v1/%2e%2e/%2e%2e/etc/passwd", "/v1/artworks/1/similar/similar", "/v1/images/..%2f..%2fetc%2fpasswd?size=full",
    "/assets/../../../etc/passwd", "/assets/%2e%2e/%2e%2e/pyproject.toml", "/docs", "/openapi.json", "/metrics",
    "/healthz", "/readyz", "/v1", "/v1/", "/%ff", "/v1/search%00?q=a", "/v1/artworks/", "/v1/images/",
    "/v1/artworks/..", "/v1/artworks/%2e", "/v1/./artworks/random", "/v1/artworks/random/../batch",
    "/v1/recommendations?k=10", "/v1/artworks/" + "a/" * 2000, "/?" + "a=b&" * 3000, "/v1/images/1?size=full&size=thumb",
)  # fmt: skip


def paths(rng: random.Random, ids: Sequence[int]) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    method = rng.choice(
        ("GET", "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND")
    )
    body = (
        rng.randbytes(span(rng, 1, 2000))
        if method in ("POST", "PUT", "PATCH") and rng.random() < 0.5
        else b""
    )
    return method, rng.choice(ODD_PATHS), (), body


def form_part(name: str, data: bytes, filename: str | None = None, ctype: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"Content-Disposition: {disposition}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + data


def form_body(boundary: str, parts: Sequence[bytes], rng: random.Random | None = None) -> bytes:
    b = boundary.encode("utf-8", "surrogateescape")
    body = b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + b + b"--\r\n"
    if rng is None or rng.random() < 0.8:
        return body
    op = rng.randrange(5)
    if op == 0:
        return body.replace(b"\r\n", b"\n")
    if op == 1:
        return body[: -len(b) - 6]  # no closing boundary
    if op == 2:
        return rng.randbytes(span(rng, 1, 3000)) + b"\r\n" + body + rng.randbytes(span(rng, 1, 3000))
    if op == 3:
        return body[: rng.randrange(len(body))]
    return body.replace(b"\r\n\r\n", b"\r\n" + b"X-A: b\r\n" * span(rng, 1, 5000) + b"\r\n", 1)


def multipart(rng: random.Random, ids: Sequence[int]) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    """Upload forms whose structure is hostile; the picture is small and real unless replaced."""
    image = hostile.base("JPEG", rng.randrange(8))
    boundary = "b" + rng.randbytes(8).hex()
    parts = [form_part("image", image, "p.jpg", "image/jpeg")]
    op = rng.randrange(9)
    if op == 0:
        parts += [form_part(f"f{i}", b"1") for i in range(span(rng, 1, 2000))]
    elif op == 1:
        parts.append(form_part(rng.choice(("k", "weights", "x")), b"9" * span(rng, 1, 100_000)))
    elif op == 2:  # options as JSON nested thousands deep, or JSON that is not an object
        depth = span(rng, 1, 4090)
        parts.append(form_part(rng.choice(("weights", "filters")), rng.choice((b"[" * depth + b"]" * depth,
                     b'{"a":' * (depth // 5) + b"1" + b"}" * (depth // 5), b"NaN", b"[1,", b"\xff"))))  # fmt: skip
    elif op == 3:
        for name, value in options(rng):
            parts.append(form_part(name, value.strip('"').encode("utf-8", "surrogatepass")))
        parts.append(form_part("recognise", rng.choice((b"true", b"no", b"2", b"", b"\xff"))))
    elif op == 4:  # two pictures, a picture as a text field, a picture under another name
        parts = rng.choice(
            ([parts[0], parts[0]], [form_part("image", image)], [form_part("photo", image, "p.jpg")])
        )
    elif op == 5:  # part headers: no name, odd names and filenames
        name = rng.choice(("", "\u202e", "a" * 5000, 'a"b', "image\x00", "ïmage"))
        parts.append(form_part(name, b"1", rng.choice((None, "", "../../x", "a" * 3000))))
        parts.append(b"Content-Type: text/plain\r\n\r\nno disposition")
    elif op == 6:  # the boundary inside the data, or nested multipart
        parts.append(form_part("k", b"--" + boundary.encode() + b"\r\n10"))
        parts.append(
            form_part(
                "x", form_body("inner", [form_part("a", b"1")]), None, "multipart/mixed; boundary=inner"
            )
        )
    elif op == 7:
        parts = []
    declared = (
        boundary
        if rng.random() < 0.75
        else rng.choice(("", f'"{boundary}"', boundary + "x", "x" * span(rng, 71, 5000), "é"))
    )
    ctype = f"multipart/form-data; boundary={declared}" if rng.random() < 0.92 else "multipart/form-data"
    path = (
        "/v1/recommendations" if rng.random() < 0.9 else rng.choice(("/v1/artworks/batch", "/v1/search?q=a"))
    )
    return "POST", path, (("content-type", ctype),), form_body(boundary, parts, rng)


def content_types(
    rng: random.Random, ids: Sequence[int]
) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    valid = json.dumps({"artwork_id": ids[0] if ids else 1, "k": 5})
    ctype = rng.choice((
        "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "Application/JSON",
        "application/json;;;", "multipart/mixed; boundary=x", "image/jpeg", "", "a" * span(rng, 1, 8000),
        "application/json, multipart/form-data", "application/json\t; x=1", "application/json; boundary=x", "*/*",
    ))  # fmt: skip
    body = rng.choice(
        (valid.encode(), valid.encode("utf-16"), b"k=10&image=abc", hostile.base("JPEG", 1), b"")
    )
    path = rng.choice(("/v1/recommendations", "/v1/artworks/batch", "/v1/study/pairs", "/v1/study/votes"))
    return "POST", path, (("content-type", ctype),) if rng.random() < 0.9 else (), body


def headers(rng: random.Random, ids: Sequence[int]) -> tuple[str, str, Sequence[tuple[str, str]], bytes]:
    """Range, conditional and forwarding headers on picture and other requests."""
    many = span(rng, 1, 2000)
    value = rng.choice((
        ("range", "bytes=0-0"), ("range", ",".join(f"{i}-{i}" for i in range(many))), ("range", "bytes=" + ",".join(
            f"{i}-{i}" for i in range(many))), ("range", "bytes=" + "0-,"  * many), ("range", "bytes=-0"),
        ("range", "bytes=5-1"), ("range", "bytes=99999999999999999999-"), ("range", "pages=1-2"),
        ("if-none-match", ",".join(['"x"'] * many)), ("if-none-match", "*"), ("if-range", "garbage"),
        ("if-modified-since", "Mon, 99 Foo 0000"), ("x-forwarded-for", ", ".join(["1.2.3.4"] * many)),
        ("accept-encoding", "gzip;q=" * many), ("cookie", "a=" + "b" * span(rng, 1, 8000)), ("expect", "100-continue"),
    ))  # fmt: skip
    target = f"/v1/images/{ids[0] if ids else 1}?size={rng.choice(('thumb', 'medium', 'full'))}"
    return "GET", rng.choice((target, target, "/v1/search?q=monet", "/readyz")), (value,), b""


FAMILIES: dict[str, Callable[[random.Random, Sequence[int]], tuple[str, str, Sequence[tuple[str, str]], bytes]]] = {
    "json-recommend": json_recommend, "json-other": json_other, "query": query, "paths": paths,
    "multipart": multipart, "content-type": content_types, "headers": headers,
}  # fmt: skip
WEIGHTS = {
    "json-recommend": 20,
    "json-other": 8,
    "query": 20,
    "paths": 10,
    "multipart": 20,
    "content-type": 8,
}
WEIGHTS["headers"] = 6


def request_case(seed: int, ids: Sequence[int]) -> Case:
    """The hostile request for ``seed``; ``ids`` are works that exist (so some requests are valid)."""
    rng = random.Random(seed)
    names = list(FAMILIES)
    family = rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
    method, target, head, body = FAMILIES[family](rng, ids)
    return Case(family, seed, method, target, tuple(head), body, chunked=bool(body) and rng.random() < 0.05)


def upload_case(seed: int, family: str | None = None) -> Case:
    """``hostile.upload(seed)`` in an upload form, with a filename, part type and options drawn too."""
    kind, data = hostile.upload(seed, family)
    rng = random.Random(f"form:{seed}")
    boundary = "hostile" + rng.randbytes(12).hex()
    filename = rng.choice(("photo.jpg", "x.png", "", "../../etc/passwd", "a" * 300, "ü.tif", "p.gif"))
    ctype = rng.choice(("image/jpeg", "image/png", "application/octet-stream", "text/html", None))
    parts = [form_part("image", data, filename, ctype)]
    parts += [
        form_part(k, v.strip('"').encode("utf-8", "surrogatepass"))
        for k, v in options(rng)
        if rng.random() < 0.3
    ]
    if rng.random() < 0.5:
        parts.append(form_part("recognise", b"false"))  # half skip recognition: more decodes per second
    head = (("content-type", f"multipart/form-data; boundary={boundary}"),)
    return Case(
        kind,
        seed,
        "POST",
        "/v1/recommendations",
        head,
        form_body(boundary, parts),
        chunked=rng.random() < 0.05,
    )


# ---------------------------------------------------------------- in process


async def asgi_send(app: Any, case: Case, client: tuple[str, int] = ("192.0.2.7", 5000)) -> tuple[int, bytes]:
    """Send ``case`` to an ASGI app as uvicorn would (raw target kept; body in 64 KB chunks): status, body."""
    path, _, query_string = case.target.partition("?")
    head = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in case.headers]
    if not case.chunked:
        head.append((b"content-length", str(len(case.body)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": case.method, "scheme": "http", "path": unquote(path), "raw_path": path.encode("latin-1"),
        "query_string": query_string.encode("latin-1"), "root_path": "", "headers": [(b"host", b"asterism"), *head],
        "client": client, "server": ("asterism", 80), "state": {},
    }  # fmt: skip
    chunks = [case.body[i : i + CHUNK] for i in range(0, len(case.body), CHUNK)] or [b""]
    done = asyncio.Event()
    status, body = 0, bytearray()

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    try:
        await app(scope, receive, send)
    except Exception as exc:  # as uvicorn does: a 500 unless an answer had started, and the error kept
        status = status or 500
        body.extend(f" [{type(exc).__name__}: {exc}]".encode())
    done.set()
    return status, bytes(body)
