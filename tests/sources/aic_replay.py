"""The recorded AIC artworks served as a paged /artworks/search API with IIIF images."""

from __future__ import annotations

import json
import math
from pathlib import Path

import imagegen
from replay_server import Replay, json_response


def recorded_artworks(shared_data: Path) -> list[dict]:
    folder = shared_data / "api-recordings/aic/artworks"
    return sorted((json.loads(p.read_text()) for p in folder.glob("*.json")), key=lambda r: r["id"])


def install_aic(replay: Replay, shared_data: Path) -> list[dict]:
    records = recorded_artworks(shared_data)

    def page(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        number, limit = int(query.get("page", 1)), int(query.get("limit", 12))
        fields = query.get("fields", "").split(",")
        chosen = records[(number - 1) * limit : number * limit]
        data = [{k: v for k, v in r.items() if k in fields} for r in chosen]
        return json_response(
            {
                "pagination": {
                    "total": len(records),
                    "limit": limit,
                    "offset": (number - 1) * limit,
                    "total_pages": math.ceil(len(records) / limit),
                    "current_page": number,
                },
                "data": data,
                "info": {"license_text": "CC0 for data", "version": "1.13"},
                "config": {"iiif_url": f"{replay.url}/iiif/2", "website_url": "http://www.artic.edu"},
            }
        )

    replay.route("/api/v1/artworks/search", page)
    replay.route("/api/v1/artworks", page)
    replay.route(
        "/iiif/2/*",
        lambda _q: (200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(hash(_q.get("x", "")) % 7, (120, 90))),
    )
    return records
