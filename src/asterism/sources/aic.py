"""The Art Institute of Chicago public API (https://api.artic.edu/docs/).

Without a query the source walks the ``/artworks`` listing; with one it pages
through ``/artworks/search?q=``. Either way it asks only for the fields it
keeps (``fields=``), ``page`` by ``page``; the cursor is the next page number,
so a killed ingest resumes at the first page it had not stored.

Public-domain mode: a search filters server-side
(``query[term][is_public_domain]=true``); the listing cannot filter, so works
AIC does not flag as public domain are skipped here. The listing is used for
the whole collection because search results are an Elasticsearch window that
refuses to page past 10,000 results (``page * limit <= 10000``); a search
stops there and says so in a problem.

Images come from AIC's IIIF server (``config.iiif_url`` in every response):
``{iiif_url}/{image_id}/full/{size}/0/default.jpg``, 843 px wide by default,
the size AIC recommends. AIC asks API users to identify themselves with an
``AIC-User-Agent`` header (build the client with ``aic_headers(settings)``);
the anonymous rate limit is 60 requests a minute, hence the default per-host
rate of 1/s for ``api.artic.edu`` in ``HttpSettings``.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

from asterism.config import HttpSettings
from asterism.shapes import Artwork
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.http import DEFAULT_MAX_IMAGE_BYTES, HttpSource, PoliteClient

API = "https://api.artic.edu/api/v1"
IIIF = "https://www.artic.edu/iiif/2"
SEARCH_WINDOW = 10_000
MAX_PAGE_SIZE = 100  # the API refuses larger pages
FIELDS = (
    "id,title,artist_display,artist_title,date_display,date_start,date_end,place_of_origin,"
    "medium_display,classification_title,subject_titles,term_titles,style_titles,description,"
    "credit_line,provenance_text,image_id,is_public_domain,copyright_notice,api_link,artwork_type_title,"
    "department_title"
)
PUBLIC_DOMAIN = "Public domain (is_public_domain)"
NOT_PUBLIC = "Not public domain (is_public_domain=false)"


def aic_headers(http: HttpSettings) -> dict[str, str]:
    """The identification AIC asks for, from the same settings as the User-Agent."""
    return {"AIC-User-Agent": f"{http.user_agent} ({http.contact})"}


def strip_html(text: str | None) -> str | None:
    """Plain text from a museum's HTML snippet: tags dropped, entities decoded, spaces collapsed."""
    if not text:
        return None
    plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", plain) or None


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _year(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_artwork(item: dict[str, Any]) -> Artwork:
    """One AIC artwork record (the API's ``data`` object) as an ``Artwork``, fields verbatim."""
    if not isinstance(item, dict) or "id" not in item:
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
        date_start=_year(item.get("date_start")),
        date_end=_year(item.get("date_end")),
        place=item.get("place_of_origin") or None,
        classification=item.get("classification_title") or item.get("artwork_type_title") or None,
        medium=item.get("medium_display") or None,
        subjects=subjects,
        styles=_str_list(item.get("style_titles")),
        description=strip_html(item.get("description")),
        credit_line=item.get("credit_line") or None,
        provenance=item.get("provenance_text") or None,
        # Only the flag is unambiguous; any other statement is left to the licence normaliser.
        license=PUBLIC_DOMAIN if public else (item.get("copyright_notice") or NOT_PUBLIC),
        license_id="public-domain" if public else "unknown",
        source_url=f"https://www.artic.edu/artworks/{artwork_id}",
        extras={k: item[k] for k in ("department_title", "image_id", "api_link") if item.get(k)},
    )


class AicSource(HttpSource):
    """Artworks of the Art Institute of Chicago: all, or a search; public domain only by default."""

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
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        super().__init__(client, max_image_bytes=max_image_bytes)
        self.key = f"aic:{query or 'all'}:{'pd' if public_domain else 'all'}"
        self.query = query
        self.public_domain = public_domain
        self.limit = limit
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.image_size = image_size
        self.base_url = base_url.rstrip("/")
        self.total: int | None = limit

    @property
    def searching(self) -> bool:
        return self.query is not None

    def _request(self, page: int) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"page": page, "limit": self.page_size, "fields": FIELDS}
        if not self.searching:
            return f"{self.base_url}/artworks", params
        params["q"] = self.query
        if self.public_domain:
            params["query[term][is_public_domain]"] = "true"
        return f"{self.base_url}/artworks/search", params

    def _record(self, item: dict[str, Any], iiif: str) -> SourceRecord:
        artwork = parse_artwork(item)
        image_id = item.get("image_id")
        if not image_id:
            return SourceRecord(artwork, None)
        ref = ImageRef(url=f"{iiif}/{image_id}/full/{self.image_size}/0/default.jpg")
        artwork.image_url = ref.url
        return SourceRecord(artwork, ref)

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        page = int((cursor or {}).get("page", 1))
        emitted = int((cursor or {}).get("emitted", 0))
        while True:
            url, params = self._request(page)
            body = await self.client.get_json(url, params)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise SourceError(f"unexpected AIC response for page {page} of {url}: no 'data' list")
            pagination = body.get("pagination") or {}
            total = pagination.get("total")
            if isinstance(total, int) and (self.searching or not self.public_domain):
                self.total = min(total, self.limit) if self.limit is not None else total
            iiif = str((body.get("config") or {}).get("iiif_url") or IIIF).rstrip("/")
            records: list[SourceRecord] = []
            problems: list[tuple[str, str]] = []
            for item in body["data"]:
                if self.limit is not None and emitted >= self.limit:
                    break
                if self.public_domain and isinstance(item, dict) and item.get("is_public_domain") is not True:
                    continue  # the listing cannot filter server-side
                try:
                    records.append(self._record(item, iiif))
                except (SourceError, ValueError, TypeError) as exc:
                    problems.append((str(item.get("id", "?")) if isinstance(item, dict) else "?", str(exc)))
                    continue
                emitted += 1
            total_pages = pagination.get("total_pages")
            done = (
                not body["data"]
                or (self.limit is not None and emitted >= self.limit)
                or (isinstance(total_pages, int) and page >= total_pages)
            )
            if not done and self.searching and (page + 1) * self.page_size > SEARCH_WINDOW:
                reason = f"AIC search stops at {SEARCH_WINDOW} results; narrow the query to see the rest"
                problems.append((f"search:{self.query}", reason))
                done = True
            yield Page(records, None if done else {"page": page + 1, "emitted": emitted}, problems)
            if done:
                return
            page += 1
