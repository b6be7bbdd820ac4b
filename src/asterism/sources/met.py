"""The Metropolitan Museum of Art Collection API (https://metmuseum.github.io/).

The API has no paged listing: ``/objects?departmentIds=`` or
``/search?hasImages=true&q=`` return every matching object id at once, and
each record is a separate ``/objects/{id}`` call. So the source fetches the
id list (again, on resume: it is one request), sorts it, and walks it in
pages; the cursor is the offset into that sorted list. Records of one page
are fetched concurrently within the client's per-host rate limit (the Met
asks for at most 80 requests a second; we default to far fewer).

``isPublicDomain`` is the Met's own rights statement: public-domain objects
have images under CC0 (Open Access). The listing cannot filter on it, so in
public-domain mode the other objects are still yielded for their metadata,
without an image reference (so nothing of theirs is downloaded); their licence
text says why, and the id is left "unknown" for the licence normaliser.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from asterism.shapes import Artwork
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.http import DEFAULT_MAX_IMAGE_BYTES, HttpSource, PoliteClient

API = "https://collectionapi.metmuseum.org/public/collection/v1"
PUBLIC_DOMAIN = "Public domain (isPublicDomain)"
NOT_PUBLIC = "Not public domain (isPublicDomain=false)"
NOT_FOUND = "object not found (HTTP 404)"
EXTRAS = (
    "department",
    "accessionNumber",
    "objectName",
    "rightsAndReproduction",
    "artistULAN_URL",
    "artistWikidata_URL",
    "objectWikidata_URL",
)


def parse_object(item: dict[str, Any]) -> Artwork:
    """One ``/objects/{id}`` record as an ``Artwork``."""
    if not isinstance(item.get("objectID"), int):
        raise SourceError("Met record without an objectID")
    object_id = str(item["objectID"])
    public = item.get("isPublicDomain") is True
    artist = item.get("artistDisplayName") or ""
    bio = item.get("artistDisplayBio") or ""
    place = ", ".join(p for p in (item.get("city"), item.get("state"), item.get("country")) if p) or None
    tags = [t.get("term") for t in item.get("tags") or [] if isinstance(t, dict) and t.get("term")]
    return Artwork(
        source="met",
        source_id=object_id,
        collection="The Metropolitan Museum of Art",
        title=str(item.get("title") or item.get("objectName") or ""),
        artist_name=artist or None,
        artist_display=f"{artist} ({bio})" if artist and bio else (artist or None),
        date_display=item.get("objectDate") or None,
        date_start=item.get("objectBeginDate") if isinstance(item.get("objectBeginDate"), int) else None,
        date_end=item.get("objectEndDate") if isinstance(item.get("objectEndDate"), int) else None,
        culture=item.get("culture") or item.get("artistNationality") or None,
        place=place,
        classification=item.get("classification") or item.get("objectName") or None,
        medium=item.get("medium") or None,
        subjects=[str(t) for t in tags],
        styles=[p for p in (item.get("period"), item.get("dynasty")) if p],
        credit_line=item.get("creditLine") or None,
        license=PUBLIC_DOMAIN if public else NOT_PUBLIC,
        license_id="public-domain" if public else "unknown",
        source_url=item.get("objectURL") or f"https://www.metmuseum.org/art/collection/search/{object_id}",
        extras={k: item[k] for k in EXTRAS if item.get(k)},
    )


class MetSource(HttpSource):
    """Objects of one or more departments, or of a search, from the Met Collection API."""

    name = "met"

    def __init__(
        self,
        client: PoliteClient,
        *,
        department_ids: list[int] | None = None,
        query: str | None = None,
        public_domain: bool = True,
        limit: int | None = None,
        page_size: int = 50,
        base_url: str = API,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        if not department_ids and not query:
            raise SourceError("give department ids or a search query (the Met has ~500,000 objects)")
        super().__init__(client, max_image_bytes=max_image_bytes)
        self.department_ids = department_ids or []
        scope = query or "+".join(str(d) for d in self.department_ids)
        self.key = f"met:{scope}:{'pd' if public_domain else 'all'}"
        self.query = query
        self.public_domain = public_domain
        self.limit = limit
        self.page_size = max(1, page_size)
        self.base_url = base_url.rstrip("/")
        self.total: int | None = limit

    async def _object_ids(self) -> list[int]:
        if self.query:
            params: dict[str, Any] = {"hasImages": "true", "q": self.query}
            if self.department_ids:
                params["departmentId"] = self.department_ids[0]
            body = await self.client.get_json(f"{self.base_url}/search", params)
        else:
            ids = "|".join(str(d) for d in self.department_ids)
            body = await self.client.get_json(f"{self.base_url}/objects", {"departmentIds": ids})
        if not isinstance(body, dict):
            raise SourceError("unexpected Met listing: not a JSON object")
        found = body.get("objectIDs") or []
        return sorted({int(i) for i in found if isinstance(i, int)})

    async def _fetch(self, object_id: int) -> dict[str, Any] | str:
        """The object record, or why it could not be had (a 404 is the Met withdrawing an object)."""
        try:
            body = await self.client.get_json(f"{self.base_url}/objects/{object_id}")
        except SourceError as exc:
            return NOT_FOUND if "HTTP 404" in str(exc) else str(exc)
        return body if isinstance(body, dict) else "unexpected object record: not a JSON object"

    def _record(self, result: dict[str, Any]) -> SourceRecord:
        artwork = parse_object(result)
        url = result.get("primaryImageSmall") or result.get("primaryImage")
        wanted = bool(url) and (artwork.license_id == "public-domain" or not self.public_domain)
        if not wanted:
            return SourceRecord(artwork, None)
        artwork.image_url = str(url)
        return SourceRecord(artwork, ImageRef(url=str(url)))

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        ids = await self._object_ids()
        if self.limit is not None:
            ids = ids[: self.limit]
        self.total = len(ids)
        offset = int((cursor or {}).get("offset", 0))
        if not ids:
            scope = f"search:{self.query}" if self.query else f"departments:{self.department_ids}"
            yield Page([], None, [(scope, "the Met returned no object ids")])
            return
        if offset >= len(ids):
            yield Page([], None)  # the list shrank since the checkpoint: nothing left to do
            return
        while offset < len(ids):
            chunk = ids[offset : offset + self.page_size]
            results = await asyncio.gather(*(self._fetch(i) for i in chunk))
            failures = [r for r in results if isinstance(r, str) and r != NOT_FOUND]
            if failures and len(failures) == len(chunk):
                # The API is down rather than one object bad: stop before this page so a re-run retries it.
                raise SourceError(f"every object of this page failed, e.g. {failures[0]}")
            records: list[SourceRecord] = []
            problems: list[tuple[str, str]] = []
            for object_id, result in zip(chunk, results, strict=True):
                try:
                    if isinstance(result, str):
                        raise SourceError(result)
                    records.append(self._record(result))
                except (SourceError, ValueError, TypeError) as exc:
                    problems.append((str(object_id), str(exc)))
            offset += len(chunk)
            yield Page(records, {"offset": offset} if offset < len(ids) else None, problems)
