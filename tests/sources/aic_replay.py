"""The recorded AIC artworks served as a paged AIC API (listing and search) with IIIF images.

The recordings are single ``/artworks/{id}`` records; list pages are built
from them the way the API builds its own: ``fields=`` selects the keys,
``page``/``limit`` slice, ``query[term][is_public_domain]`` filters a search,
and ``pagination`` and ``config.iiif_url`` (pointing back at this server)
frame the page. Each image id gets its own generated JPEG.
"""

from __future__ import annotations

import copy
import json
import math
import zlib
from pathlib import Path
from typing import Any

import imagegen
from replay_server import Replay, Response, json_response


def recorded_artworks(shared_data: Path) -> list[dict[str, Any]]:
    folder = shared_data / "api-recordings/aic/artworks"
    return sorted((json.loads(p.read_text()) for p in folder.glob("*.json")), key=lambda r: r["id"])


def variant(record: dict[str, Any], new_id: int, **changes: Any) -> dict[str, Any]:
    """A copy of a real record under another id (e.g. not public domain, or without an image)."""
    out = copy.deepcopy(record)
    out.update(id=new_id, api_link=f"https://api.artic.edu/api/v1/artworks/{new_id}", **changes)
    return out


def install_aic(
    replay: Replay, shared_data: Path, extra: list[dict[str, Any]] | None = None, total: int | None = None
) -> list[dict[str, Any]]:
    """Serve the recorded records (plus ``extra``).

    ``total`` pretends the collection is that big, repeating the records to fill the pages.
    """
    records = sorted([*recorded_artworks(shared_data), *(extra or [])], key=lambda r: r["id"])

    def page(query: dict[str, str], path: str) -> Response:
        chosen = records
        if path.endswith("/search") and query.get("query[term][is_public_domain]") == "true":
            chosen = [r for r in records if r.get("is_public_domain") is True]
        number, limit = int(query.get("page", 1)), int(query.get("limit", 12))
        fields = query.get("fields", "").split(",")
        count = total if total is not None else len(chosen)
        window = range((number - 1) * limit, min(number * limit, count))
        data = [{k: v for k, v in chosen[i % len(chosen)].items() if k in fields} for i in window]
        return json_response(
            {
                "pagination": {
                    "total": count,
                    "limit": limit,
                    "offset": (number - 1) * limit,
                    "total_pages": math.ceil(count / limit),
                    "current_page": number,
                },
                "data": data,
                "info": {"license_text": "CC0 for data", "version": "1.13"},
                "config": {"iiif_url": f"{replay.url}/iiif/2", "website_url": "http://www.artic.edu"},
            }
        )

    def image(_query: dict[str, str], path: str) -> Response:
        image_id = path.split("/")[3]  # /iiif/2/{image_id}/full/...
        return 200, {"Content-Type": "image/jpeg"}, imagegen.jpeg(zlib.crc32(image_id.encode()), (120, 90))

    replay.route("/api/v1/artworks/search", page)
    replay.route("/api/v1/artworks", page)
    replay.route("/iiif/2/*", image)
    return records
