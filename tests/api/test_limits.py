"""Hostile HTTP input: bodies refused while they stream, per-client rates, a bound on uploads at once.

The app is driven through httpx's ASGI transport, which hands the body to the
app one chunk each time the app asks for one (Starlette's TestClient reads a
streamed body whole before the app sees it), so counting the bytes a body
generator yielded tells how much of it the server read before refusing. Every
refusal must be a 4xx/503 with a message: never a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

from asterism.api import errors
from asterism.api.app import create_app
from asterism.api.bodies import BodyLimit, form_max_bytes
from asterism.api.limits import Limits, TokenBuckets
from asterism.config import ApiSettings, Settings
from asterism.recommend.service import Service

BOUNDARY = "asterism-limits-test"
FORM = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
JSON = {"content-type": "application/json"}
CHUNK = 16 * 1024
NOT_AN_IMAGE = b"not an image at all"  # refused fast (415) once read: the limits come before it


def app_with(built: Settings, service: Service, **api: Any) -> FastAPI:
    settings = built.model_copy(update={"api": built.api.model_copy(update=api)})
    return create_app(settings, service=service, ui=None)


class Body:
    """A streamed request body that counts the bytes the app pulled, optionally pausing midway."""

    def __init__(self, chunks: Iterable[bytes], pause_after: int | None = None) -> None:
        self.chunks, self.pulled, self.pause_after = chunks, 0, pause_after
        self.paused, self.resume = asyncio.Event(), asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if self.pause_after is not None and i == self.pause_after:
                self.paused.set()
                await self.resume.wait()
            self.pulled += len(chunk)
            yield chunk


async def post(
    app: FastAPI,
    path: str,
    body: Body | bytes,
    headers: Mapping[str, str],
    client: tuple[str, int] = ("192.0.2.1", 4000),
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://asterism") as http:
        content = body.__aiter__() if isinstance(body, Body) else body
        response = await http.post(path, content=content, headers=dict(headers))
    assert response.status_code != 500, response.text
    return response


def part(name: str, data: bytes = b"", filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + END


def image_form(data: bytes = NOT_AN_IMAGE, **fields: str) -> bytes:
    return form(*(part(k, v.encode()) for k, v in fields.items()), part("image", data, "photo.jpg"))


def test_an_oversize_picture_is_refused_as_it_streams(built: Settings, service: Service) -> None:
    """A 10 MB file part against a 64 KB upload limit: 413 after ~64 KB, not after 10 MB."""
    app = app_with(built, service, upload_max_bytes=64 * 1024)
    body = Body([part("image", filename="big.jpg")[:-2], *[b"\xff" * CHUNK] * 640])
    response = asyncio.run(post(app, "/v1/recommendations", body, FORM))
    assert response.status_code == 413 and "65536-byte limit" in response.json()["detail"]
    assert body.pulled <= 64 * 1024 + 2 * CHUNK


def test_a_body_past_the_form_cap_is_refused_as_it_streams(built: Settings, service: Service) -> None:
    """Bytes the form parser ignores (after the closing boundary) still count against the body cap."""
    app = app_with(built, service, upload_max_bytes=64 * 1024)
    cap = form_max_bytes(app.state.settings.api)
    body = Body([image_form(), *[b"junk" * (CHUNK // 4)] * 640])  # 10 MB of epilogue
    response = asyncio.run(post(app, "/v1/recommendations", body, FORM))
    assert response.status_code == 413 and f"{cap}-byte limit" in response.json()["detail"]
    assert body.pulled <= cap + CHUNK


def test_a_declared_oversize_body_is_refused_before_a_byte_is_read(built: Settings, service: Service) -> None:
    app = app_with(built, service, upload_max_bytes=64 * 1024)
    declared = {**FORM, "content-length": str(50 * 1024 * 1024)}
    body = Body([b"x" * CHUNK] * 4)
    response = asyncio.run(post(app, "/v1/recommendations", body, declared))
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert body.pulled == 0
    json_body = Body([b"[" * CHUNK] * 4)
    lying = asyncio.run(post(app, "/v1/study/votes", json_body, {**JSON, "content-length": "999999"}))
    assert lying.status_code == 413 and json_body.pulled == 0


def test_form_fields_are_counted_and_bounded(built: Settings, service: Service) -> None:
    app = app_with(built, service)
    fields = {f"note{i}": "x" for i in range(20)}
    twenty = asyncio.run(post(app, "/v1/recommendations", image_form(**fields), FORM))
    assert twenty.status_code == 415, twenty.text  # within the limits: the picture is judged
    fields["note20"] = "x"
    too_many = asyncio.run(post(app, "/v1/recommendations", image_form(**fields), FORM))
    assert too_many.status_code == 422 and "more than 20 text fields" in too_many.json()["detail"]

    near = asyncio.run(post(app, "/v1/recommendations", image_form(weights="{" * 8000), FORM))
    assert near.status_code == 422 and "weights: not valid JSON" in near.json()["detail"]
    huge = Body([part("weights")[:-2], *[b"{" * CHUNK] * 640])
    over = asyncio.run(post(app, "/v1/recommendations", huge, FORM))
    assert over.status_code == 413 and "'weights' is over the 8192-byte limit" in over.json()["detail"]
    assert huge.pulled <= 8192 + 2 * CHUNK


def test_malformed_forms_are_4xx_with_a_message(built: Settings, service: Service) -> None:
    app = app_with(built, service)
    two_files = form(part("image", NOT_AN_IMAGE, "a.jpg"), part("other", NOT_AN_IMAGE, "b.jpg"))
    response = asyncio.run(post(app, "/v1/recommendations", two_files, FORM))
    assert response.status_code == 422 and "more than 1 file" in response.json()["detail"]
    cut = part("image", NOT_AN_IMAGE, "a.jpg")  # no closing boundary: the client stopped early
    response = asyncio.run(post(app, "/v1/recommendations", cut, FORM))
    assert response.status_code == 400 and "ended early" in response.json()["detail"]
    no_boundary = {"content-type": "multipart/form-data"}
    response = asyncio.run(post(app, "/v1/recommendations", image_form(), no_boundary))
    assert response.status_code == 400 and "boundary" in response.json()["detail"]
    nameless = form(f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode())
    response = asyncio.run(post(app, "/v1/recommendations", nameless, FORM))
    assert response.status_code == 422 and "name" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/v1/recommendations", "/v1/study/votes", "/v1/study/pairs", "/v1/artworks/batch"]
)
def test_json_bodies_are_capped_while_they_stream(built: Settings, service: Service, path: str) -> None:
    app = app_with(built, service)
    body = Body([b'{"ids": [' + b'"x",' * 4000, *[b'"y",' * (CHUNK // 4)] * 64])  # 1 MB, no length
    response = asyncio.run(post(app, path, body, JSON))
    assert response.status_code == 413 and "65536-byte limit" in response.json()["detail"]
    assert body.pulled <= 64 * 1024 + CHUNK


class Ids(BaseModel):
    ids: list[str]


def test_the_413_survives_middleware_that_wraps_it() -> None:
    """A BaseHTTPMiddleware inside the cap wraps the 413 in an ExceptionGroup, which FastAPI
    answers with 400 while reading a JSON body: the cap replaces that answer with its 413."""
    app = FastAPI()
    errors.install(app)

    @app.post("/ids")
    def count(body: Ids) -> dict[str, int]:
        return {"n": len(body.ids)}

    @app.middleware("http")
    async def passthrough(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        return await call_next(request)

    app.add_middleware(BodyLimit, api=ApiSettings(), upload_paths=())  # outside the passthrough
    body = Body([b'{"ids": [' + b'"x",' * 4000, *[b'"y",' * (CHUNK // 4)] * 64])
    response = asyncio.run(post(app, "/ids", body, JSON))
    assert response.status_code == 413 and "65536-byte limit" in response.json()["detail"]
    assert body.pulled <= 64 * 1024 + CHUNK
    assert asyncio.run(post(app, "/ids", b'{"ids": ["a"]}', JSON)).json() == {"n": 1}


def test_a_json_body_under_the_cap_is_judged_on_its_content(built: Settings, service: Service) -> None:
    app = app_with(built, service)
    long_id = ('{"pair_id": "' + "x" * 60_000 + '", "choice": "left"}').encode()
    response = asyncio.run(post(app, "/v1/study/votes", long_id, JSON))
    assert response.status_code == 422 and "pair_id" in response.json()["detail"]


def test_only_upload_paths_take_a_large_form(built: Settings, service: Service) -> None:
    """A multipart body sent to a JSON endpoint gets the small cap, not the upload form's."""
    app = app_with(built, service)
    body = Body([image_form(b"\xff" * 200_000)])
    response = asyncio.run(post(app, "/v1/study/votes", body, FORM))
    assert response.status_code == 413 and "65536-byte limit" in response.json()["detail"]


def test_uploads_are_rate_limited_per_client(built: Settings, service: Service) -> None:
    app = app_with(built, service, upload_rate=6, upload_burst=2)  # a token every 10 s

    async def run() -> list[httpx.Response]:
        me, other = ("192.0.2.7", 1), ("192.0.2.8", 1)
        answers = [await post(app, "/v1/recommendations", image_form(), FORM, me) for _ in range(3)]
        spoofed = {**FORM, "x-forwarded-for": "203.0.113.9"}  # ignored: trust_forwarded is off
        answers.append(await post(app, "/v1/recommendations", image_form(), spoofed, me))
        answers.append(await post(app, "/v1/recommendations", image_form(), FORM, other))
        return answers

    first, second, third, spoofed, other = asyncio.run(run())
    assert first.status_code == second.status_code == 415
    assert third.status_code == 429 and "too many uploads" in third.json()["detail"]
    assert 9 <= int(third.headers["retry-after"]) <= 10
    assert spoofed.status_code == 429
    assert other.status_code == 415


def test_a_trusted_proxy_names_the_client(built: Settings, service: Service) -> None:
    app = app_with(built, service, upload_rate=6, upload_burst=1, trust_forwarded=True)
    proxy = ("10.0.0.1", 1)

    async def run() -> list[int]:
        statuses = []
        for visitor in ("203.0.113.1", "203.0.113.1", "203.0.113.2", "not-an-address"):
            headers = {**FORM, "x-forwarded-for": f"{visitor}, 10.0.0.1"}
            statuses.append(
                (await post(app, "/v1/recommendations", image_form(), headers, proxy)).status_code
            )
        return statuses

    # The junk header falls back to the proxy's own address, which has not uploaded yet.
    assert asyncio.run(run()) == [415, 429, 415, 415]


def test_votes_are_limited_then_recover_after_the_wait(built: Settings, service: Service) -> None:
    app = app_with(built, service, vote_rate=60, vote_burst=1)  # a token a second
    vote = b'{"pair_id": "missing", "choice": "left"}'

    async def run() -> None:
        assert (await post(app, "/v1/study/votes", vote, JSON)).status_code == 404
        refused = await post(app, "/v1/study/votes", vote, JSON)
        assert refused.status_code == 429 and "study votes" in refused.json()["detail"]
        assert refused.headers["retry-after"] == "1"
        await asyncio.sleep(float(refused.headers["retry-after"]) + 0.05)
        assert (await post(app, "/v1/study/votes", vote, JSON)).status_code == 404

    asyncio.run(run())


def test_a_zero_rate_is_no_limit(built: Settings, service: Service) -> None:
    app = app_with(built, service, vote_rate=0, vote_burst=1)
    vote = b'{"pair_id": "missing", "choice": "left"}'

    async def run() -> list[int]:
        return [(await post(app, "/v1/study/votes", vote, JSON)).status_code for _ in range(5)]

    assert asyncio.run(run()) == [404] * 5


def test_the_client_table_is_bounded() -> None:
    """Many addresses cannot grow the table: the least recently seen are forgotten."""
    buckets = TokenBuckets(per_minute=1, burst=1, max_clients=16)
    for i in range(1000):
        assert buckets.take(f"client-{i}") == 0.0
    assert len(buckets) == 16
    assert buckets.take("client-999") > 0  # recent: still limited
    assert buckets.take("client-0") == 0.0  # forgotten: a fresh bucket


def test_ipv6_clients_share_a_bucket_per_64(built: Settings, service: Service) -> None:
    """One host is routinely handed a whole /64: counting per address would give it 2**64 buckets."""
    app = app_with(built, service, upload_rate=6, upload_burst=1)

    async def run() -> list[int]:
        one, two = ("2001:db8:1:2::1", 1), ("2001:db8:1:2:ffff::9", 1)
        first = await post(app, "/v1/recommendations", image_form(), FORM, one)
        second = await post(app, "/v1/recommendations", image_form(), FORM, two)
        return [first.status_code, second.status_code]

    assert asyncio.run(run()) == [415, 429]


def test_upload_slots_default_to_the_request_threads(built: Settings) -> None:
    assert Limits(built.api).slots_total == built.api.threads
    assert Limits(built.api.model_copy(update={"upload_slots": 5})).slots_total == 5


def test_uploads_wait_for_a_slot_then_get_503_without_their_body_read(
    built: Settings, service: Service
) -> None:
    app = app_with(built, service, upload_slots=2, upload_wait=0.2)
    slots = app.state.limits.upload_slots

    async def run() -> None:
        await slots.acquire()
        await slots.acquire()  # both slots held, as by two uploads being decoded
        body = Body([image_form()])
        busy = await post(app, "/v1/recommendations", body, FORM)
        assert busy.status_code == 503 and "busy" in busy.json()["detail"]
        assert busy.headers["retry-after"] == "1" and body.pulled == 0
        waiting = asyncio.create_task(post(app, "/v1/recommendations", image_form(), FORM))
        await asyncio.sleep(0.05)
        slots.release()  # freed within the wait: the waiting upload goes ahead
        assert (await waiting).status_code == 415
        slots.release()

    asyncio.run(run())


def test_a_slow_upload_holds_its_slot_while_it_streams(built: Settings, service: Service) -> None:
    """The slot covers reading the body: a stalled sender keeps others out (and memory bounded)."""
    app = app_with(built, service, upload_slots=1, upload_wait=0.1)
    data = image_form()

    async def run() -> None:
        slow = Body([data[:40], data[40:]], pause_after=1)
        first = asyncio.create_task(post(app, "/v1/recommendations", slow, FORM))
        await slow.paused.wait()  # the server has read the first 40 bytes and waits for more
        second = await post(app, "/v1/recommendations", image_form(), FORM)
        assert second.status_code == 503
        slow.resume.set()
        assert (await first).status_code == 415
        third = await post(app, "/v1/recommendations", image_form(), FORM)
        assert third.status_code == 415  # the slot was given back

    asyncio.run(run())
