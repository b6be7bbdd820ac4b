"""The Art Institute of Chicago public API (https://api.artic.edu/docs/).

Listing goes through ``/artworks`` (or ``/artworks/search`` with a query),
asking only for the fields we keep (``fields=``), page by page; the cursor is
the next page number, so a killed ingest resumes at the first page it had not
stored. Images come from AIC's IIIF server at
``{iiif_url}/{image_id}/full/{size}/0/default.jpg``, 843 px wide by default
(the size AIC recommends). AIC asks API users to identify themselves with an
``AIC-User-Agent`` header; the anonymous rate limit is 60 requests a minute,
hence the default per-host rate of 1/s for ``api.artic.edu``.

The search endpoint is backed by Elasticsearch and refuses to page past
10,000 results; the source stops there and says so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from asterism.models import Artwork
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.http import PoliteClient

API = "https://api.artic.edu/api/v1"
IIIF = "https://www.artic.edu/iiif/2"
SEARCH_WINDOW = 10_000
FIELDS = (
    "id,title,artist_display,artist_title,date_display,date_start,date_end,place_of_origin,"
    "medium_display,classification_title,subject_titles,term_titles,style_titles,description,"
    "credit_line,provenance_text,image_id,is_public_domain,copyright_notice,api_link,artwork_type_title,"
    "department_title"
)
PUBLIC_DOMAIN = "Public domain (AIC is_public_domain; images CC0)"


def strip_html(text: str | None) -> str | None:
    if not text:
        return None
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", plain) or None


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_artwork(item: dict[str, Any]) -> Artwork:
    """One AIC artwork record (the API's ``data`` object) as an ``Artwork``."""
    if "id" not in item:
        raise SourceError("AIC record without an id")
    artwork_id = str(item["id"])
    public = item.get("is_public_domain") is True
    subjects = list(dict.fromkeys(_str_list(item.get("subject_titles")) + _str_list(item.get("term_titles"))))
    return Artwork(
        source="aic",
        source_id=artwork_id,
        collection="Art Institute of Chicago",
        title=str(item.get("title") or ""),
        artist_name=item.get("artist_title") or None,
        artist_display=item.get("artist_display") or None,
        date_display=item.get("date_display") or None,
        date_start=item.get("date_start") if isinstance(item.get("date_start"), int) else None,
        date_end=item.get("date_end") if isinstance(item.get("date_end"), int) else None,
        place=item.get("place_of_origin") or None,
        classification=item.get("classification_title") or item.get("artwork_type_title") or None,
        medium=item.get("medium_display") or None,
        subjects=subjects,
        styles=_str_list(item.get("style_titles")),
        description=strip_html(item.get("description")),
        credit_line=item.get("credit_line") or None,
        provenance=item.get("provenance_text") or None,
        license=PUBLIC_DOMAIN if public else (item.get("copyright_notice") or "Not public domain (AIC)"),
        license_id="public-domain" if public else "other",
        source_url=f"https://www.artic.edu/artworks/{artwork_id}",
        extras={k: item[k] for k in ("department_title", "image_id", "api_link") if item.get(k)},
    )


class AicSource:
    """Artworks of the Art Institute of Chicago, optionally a search, optionally public domain only."""

    name = "aic"

    def __init__(
        self,
        client: PoliteClient,
        *,
        query: str | None = None,
        public_domain: bool = True,
        limit: int | None = None,
        page_size: int = 100,
        image_size: str = "843,",
        base_url: str = API,
    ) -> None:
        self.client = client
        self.query = query
        self.public_domain = public_domain
        self.limit = limit
        self.page_size = max(1, min(page_size, 100))  # the API's maximum
        self.image_size = image_size
        self.base_url = base_url.rstrip("/")
        self.total: int | None = limit

    def _request(self, page: int) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"page": page, "limit": self.page_size, "fields": FIELDS}
        if self.query is None and not self.public_domain:
            return f"{self.base_url}/artworks", params
        params["q"] = self.query or ""
        if self.public_domain:
            params["query[term][is_public_domain]"] = "true"
        return f"{self.base_url}/artworks/search", params

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        page = int((cursor or {}).get("page", 1))
        emitted = int((cursor or {}).get("emitted", 0))
        while True:
            url, params = self._request(page)
            body = await self.client.get_json(url, params)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise SourceError(f"unexpected AIC response for page {page}: no 'data' list")
            pagination = body.get("pagination") or {}
            total = pagination.get("total")
            if isinstance(total, int):
                self.total = min(total, self.limit) if self.limit else total
            iiif = ((body.get("config") or {}).get("iiif_url") or IIIF).rstrip("/")
            records, problems = [], []
            for item in body["data"]:
                if self.limit is not None and emitted >= self.limit:
                    break
                try:
                    artwork = parse_artwork(item)
                except (SourceError, ValueError, TypeError) as exc:
                    problems.append((str(item.get("id", "?")) if isinstance(item, dict) else "?", str(exc)))
                    continue
                image_id = item.get("image_id")
                ref = (
                    ImageRef(url=f"{iiif}/{image_id}/full/{self.image_size}/0/default.jpg")
                    if image_id
                    else None
                )
                if ref is not None:
                    artwork.image_url = ref.url
                records.append(SourceRecord(artwork, ref))
                emitted += 1
            total_pages = pagination.get("total_pages")
            done = (
                not body["data"]
                or (self.limit is not None and emitted >= self.limit)
                or (isinstance(total_pages, int) and page >= total_pages)
            )
            if not done and "q" in params and (page + 1) * self.page_size > SEARCH_WINDOW:
                problems.append(
                    ("search", f"AIC search pages stop at {SEARCH_WINDOW} results; narrow the query")
                )
                done = True
            yield Page(records, None if done else {"page": page + 1, "emitted": emitted}, problems)
            if done:
                return
            page += 1

    async def fetch_image(self, ref: ImageRef) -> bytes:
        if not ref.url:
            raise SourceError("no image URL")
        return await self.client.get_bytes(ref.url, max_bytes=50 * 1024 * 1024)

    async def aclose(self) -> None:
        await self.client.aclose()
        await asyncio.sleep(0)
