"""The fuzz and soak campaigns in small: hostile uploads and requests in process, a short soak.

``make fuzz`` and ``make soak`` (bench/fuzz.py, bench/soak.py) send tens of thousands of cases
to a running ``asterism serve``. Here the same generators (tests/hostile*.py) send a few hundred
through the app in process, on the session's built collection, exactly as uvicorn would hand
them over (raw paths, 64 KB body chunks), and eight threads load a real uvicorn server for a
few seconds. Every answer must be below 500 and cost under 2 s of CPU; the soak must see no error
(a 5xx other than a 503 with Retry-After, an unexpected 4xx, a connection error). A failure
names the family and seed: ``upload_case(seed)`` / ``request_case(seed, ids)`` rebuild the bytes.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import hostile
import hostile_http
from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.service import Service
from hostile_http import Case, asgi_send, form_body, form_part, request_case, upload_case
from serving import serving

import imagegen

SEED = 7_000_000  # the bench uses seed × 10⁷: these are other cases from the same generators
PER_FAMILY = 7  # uploads per image family: every family is sent, "big" (20 MB) included, but "huge"
# (a 49 MP picture: ~10 s to make; make fuzz sends it, and bench/RESULTS.md has what it costs)
REQUESTS = 300
SLOW, HANG = 2.0, 10.0  # CPU seconds a case may cost; wall seconds that mean it hung
SOAK_THREADS, SOAK_SECONDS = 8, 10.0
# Pillow warns about what it skips in a broken file (truncated reads, corrupt EXIF): expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")


def make_app(built: Settings, service: Service) -> FastAPI:
    """The app as ``asterism serve`` makes it, but for the upload rate limit: every case has one address."""
    settings = built.model_copy(update={"api": built.api.model_copy(update={"upload_rate": 0})})
    return create_app(settings, service=service, ui=None)


@pytest.fixture(scope="module")
def app(built: Settings, service: Service) -> FastAPI:
    """The app, warmed: the first upload loads the image models (seconds), which no case should pay."""
    app = make_app(built, service)
    picture = imagegen.jpeg(3, (320, 240))
    for recognise in (b"true", b"false"):
        parts = [form_part("image", picture, "w.jpg", "image/jpeg"), form_part("recognise", recognise)]
        warm = Case("warm", 0, "POST", "/v1/recommendations", (("content-type", "multipart/form-data; boundary=w"),),
                    form_body("w", parts))  # fmt: skip
        assert asyncio.run(asgi_send(app, warm))[0] == 200
    return app


@pytest.fixture(scope="module")
def ids(app: FastAPI) -> list[int]:
    case = Case("ids", 0, "GET", "/v1/search?q=a&limit=50")
    status, body = asyncio.run(asgi_send(app, case))
    assert status == 200
    return [hit["id"] for hit in json.loads(body)["results"]]


def sweep(app: FastAPI, cases: list[Case]) -> tuple[list[str], Counter[int]]:
    """Send every case in turn; the ones answered 5xx, not at all, or costing more than 2 s.

    The cost is the CPU time of this process (the app's threads included; one case at a time),
    the issue's rule ("no request costs more than 2 s of CPU"), so that the test says the same
    on an idle machine and on one shared with other jobs; wall time over 10 s (a hang) fails too.
    ``bench/fuzz.py`` measures wall time against a real server.
    """

    async def run() -> tuple[list[str], Counter[int]]:
        failures, statuses = [], Counter[int]()
        for case in cases:
            started, cpu = time.perf_counter(), time.process_time()
            status, body = await asgi_send(app, case)
            seconds, cost = time.perf_counter() - started, time.process_time() - cpu
            statuses[status] += 1
            if status >= 500 or status < 100 or cost > SLOW or seconds > HANG:
                failures.append(
                    f"{case.family} seed {case.seed}: {status}, {cost:.2f} s CPU, {seconds:.2f} s: {body[:160]!r}"
                )
        return failures, statuses

    return asyncio.run(run())


def test_hostile_uploads_in_process(app: FastAPI) -> None:
    families = [family for family in hostile.FAMILIES if family not in hostile.SLOW_TO_MAKE]
    cases = [upload_case(SEED + i, family) for family in families for i in range(PER_FAMILY)]
    failures, statuses = sweep(app, cases)
    assert not failures, "\n".join(failures)
    assert statuses[200] > 0 and sum(n for s, n in statuses.items() if 400 <= s < 500) > 0, statuses


def test_hostile_requests_in_process(app: FastAPI, ids: list[int]) -> None:
    cases = [request_case(SEED + i, ids) for i in range(REQUESTS)]
    assert {case.family for case in cases} == set(hostile_http.FAMILIES)
    failures, statuses = sweep(app, cases)
    assert not failures, "\n".join(failures)
    assert statuses[200] > 0 and statuses[422] > 0, statuses


def test_the_generators_are_reproducible(tmp_path: Path) -> None:
    """A failure is replayed from its seed, or from the folder the bench saves it to."""
    for family in set(hostile.FAMILIES) - hostile.SLOW_TO_MAKE:
        assert upload_case(11, family) == upload_case(11, family), family
    assert len({upload_case(seed).body for seed in range(20)}) == 20
    for seed in range(50):
        case = request_case(seed, [1, 2, 3])
        assert case == request_case(seed, [1, 2, 3])
        assert Case.load(case.save(tmp_path / str(seed), status=500)) == case


@pytest.mark.parametrize(
    "text", [b"[" * 3000 + b"]" * 3000, b'{"formal": ' + b"9" * 5000 + b"}"], ids=["deep", "digits"]
)
def test_form_options_json_cannot_hold_are_refused(app: FastAPI, text: bytes) -> None:
    parts = [form_part("image", imagegen.jpeg(5), "p.jpg", "image/jpeg"), form_part("weights", text)]
    case = Case("multipart", 0, "POST", "/v1/recommendations", (("content-type", "multipart/form-data; boundary=x"),),
                form_body("x", parts))  # fmt: skip
    status, body = asyncio.run(asgi_send(app, case))
    assert status == 422, body


@pytest.mark.parametrize("size", [(600, 1), (3000, 2), (2, 1500)])
def test_a_picture_one_pixel_high_is_answered(app: FastAPI, size: tuple[int, int]) -> None:
    parts = [form_part("image", imagegen.encode(imagegen.picture(1, size), "PNG"), "p.png", "image/png")]
    case = Case("valid", 0, "POST", "/v1/recommendations", (("content-type", "multipart/form-data; boundary=x"),),
                form_body("x", parts))  # fmt: skip
    status, body = asyncio.run(asgi_send(app, case))
    assert status < 500, body


# ---------------------------------------------------------------- a short soak on a real server


@pytest.fixture(scope="module")
def server(built: Settings, service: Service) -> Iterator[str]:
    with serving(make_app(built, service)) as url:
        yield url


def test_short_soak(server: str, ids: list[int]) -> None:
    """Eight clients back to back, mixed kinds: no errors; 429 and 503 + Retry-After are counted apart."""
    pictures = [imagegen.jpeg(seed, (200, 150)) for seed in range(16)]
    thumbs = [f"/v1/images/{i}?size=thumb" for i in ids[:20]]
    stop = time.monotonic() + SOAK_SECONDS
    outcomes: Counter[tuple[str, str]] = Counter()

    def call(http: httpx.Client, kind: str, rng: random.Random) -> httpx.Response:
        if kind == "upload":
            return http.post(
                "/v1/recommendations", files={"image": ("p.jpg", rng.choice(pictures), "image/jpeg")}
            )
        if kind == "by-id":
            return http.post(
                "/v1/recommendations", json={"artwork_id": rng.choice(ids), "k": rng.choice((6, 10))}
            )
        if kind == "image":
            return http.get(rng.choice(thumbs))
        return http.get("/v1/search", params={"q": rng.choice(("monet", "portrait", "river", "a"))})

    def client(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=server, timeout=30) as http:
            while time.monotonic() < stop:
                kind = rng.choice(("upload", "by-id", "by-id", "image", "image", "search"))
                try:
                    answer = call(http, kind, rng)
                except httpx.HTTPError as exc:
                    outcomes[(kind, f"error {type(exc).__name__}")] += 1
                    continue
                limited = answer.status_code == 429 or (
                    answer.status_code == 503 and "retry-after" in answer.headers
                )
                verdict = (
                    "ok"
                    if answer.status_code < 400
                    else "limited"
                    if limited
                    else f"error {answer.status_code}"
                )
                outcomes[(kind, verdict)] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(SOAK_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = {key: n for key, n in outcomes.items() if key[1].startswith("error")}
    assert not errors, outcomes
    assert all(outcomes[(kind, "ok")] > 0 for kind in ("upload", "by-id", "image", "search")), outcomes
