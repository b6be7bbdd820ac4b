"""What prose costs a recommendation page: template vs a local OpenAI-compatible endpoint.

    .venv/bin/python bench/prose.py --data ../shared/data [--starts 20] [--k 10]
    .venv/bin/python bench/prose.py --home asterism-data      # an already built home

In process (FastAPI's TestClient over ASGI, no sockets for the API), the page
itself answered from the answer cache so only prose is measured: per start, the
page without prose, then with prose from the template (no endpoint), then from a
local chat-completions server on loopback (``tests/chatserver.py``, replying at
once: HTTP, JSON, grounding and the cache are measured, not a model's own time)
the first time (cold) and again (prose cache). Prints medians and p90 in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

import asterism
from asterism.api.app import create_app
from asterism.config import Settings, load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from chatserver import ChatServer


def built_home(data: Path, root: Path) -> Settings:
    settings = load_settings(home=root / "home", ocr={"mode": "never"}, workers=2, batch_size=32,
                             painters_csv=data / "knowledge" / "PainterPalette.csv")  # fmt: skip
    with asterism.Collection(settings) as collection:
        collection.ingest("sample", data / "aic-paintings", limit=120)
        collection.build()
    return settings


def timed(client: TestClient, body: dict[str, object]) -> float:
    started = time.perf_counter()
    response = client.post("/v1/recommendations", json=body)
    assert response.status_code == 200, response.text
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):7.1f} {ordered[int(0.9 * (len(ordered) - 1))]:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root, ChatServer() as chat:
        if args.home is not None:
            settings = load_settings(home=args.home)
        else:
            assert args.data is not None, "give --home or --data"
            settings = built_home(args.data, Path(root))
        with asterism.Collection(settings) as collection:
            service = collection.service()
            ids = sorted(service.catalogue.records)[: args.starts]
            endpoint = settings.prose.model_copy(
                update={"endpoint": chat.url, "model": "bench", "budget": 10.0}
            )
            plain = create_app(settings, service=service, ui=None)
            model = create_app(settings.model_copy(update={"prose": endpoint}), service=service, ui=None)
            rows: dict[str, list[float]] = {"page, no prose": [], "template prose": [],
                                            "endpoint prose, cold": [], "endpoint prose, cached": []}  # fmt: skip
            with TestClient(plain) as a, TestClient(model) as b:
                for start in ids:
                    body: dict[str, object] = {"artwork_id": start, "k": args.k}
                    timed(a, body), timed(b, body)  # the pages into each app's answer cache
                    rows["page, no prose"].append(timed(a, body))
                    rows["template prose"].append(timed(a, {**body, "prose": True}))
                    rows["endpoint prose, cold"].append(timed(b, {**body, "prose": True}))
                    rows["endpoint prose, cached"].append(timed(b, {**body, "prose": True}))
    shown = settings.prose.max_results
    print(f"{len(ids)} starts, k={args.k}, prose on the first {shown}; chat requests: {chat.count}")
    print(f"{'':26s} {'median':>7s} {'p90':>7s}  (ms per page)")
    for name, values in rows.items():
        print(f"{name:26s} {summary(values)}")


if __name__ == "__main__":
    main()
