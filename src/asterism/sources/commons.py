"""Wikimedia Commons through the MediaWiki Action API: one category or one search.

Never a crawl of all of Commons: the source walks the files of a single
category (``generator=categorymembers``, files only) or of a full-text search
in the File namespace (``generator=search``, ``gsrnamespace=6``), asking for
``imageinfo`` with ``url|sha1|size|mime|extmetadata`` and a thumbnail
``iiurlwidth`` wide. The MediaWiki ``continue`` object is the cursor, exactly
as the API returns it, so a resumed walk asks for the very next batch.

A batch's ``imageinfo`` can itself be split across responses (``iicontinue``,
no ``batchcomplete``): files that arrive without it are not errors then, they
come back in the next response, and a file is yielded once per run.

Licence, artist, date and description come from ``extmetadata``
(``LicenseShortName`` verbatim, ``LicenseUrl`` into ``extras["license_url"]``,
``Artist``, ``DateTimeOriginal``, ``ImageDescription``, ``Categories``), with
HTML stripped; the licence id is left to the licence normaliser. Both
``formatversion=1`` (pages as an object, as in the recordings) and ``2``
(pages as a list, what this source asks for) are understood.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from asterism.shapes import Artwork
from asterism.sources.aic import strip_html
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.http import DEFAULT_MAX_IMAGE_BYTES, HttpSource, PoliteClient

API = "https://commons.wikimedia.org/w/api.php"
IIPROP = "url|sha1|size|mime|extmetadata"
MAX_BATCH = 50  # imageinfo with extmetadata: the API's limit per request for ordinary clients


def _raw(info: dict[str, Any], key: str) -> Any:
    entry = (info.get("extmetadata") or {}).get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def _meta(info: dict[str, Any], key: str) -> str | None:
    value = _raw(info, key)
    return strip_html(str(value)) if value not in (None, "") else None


def parse_page(page: dict[str, Any]) -> tuple[Artwork, ImageRef | None]:
    """One ``query.pages`` entry as an ``Artwork`` and the reference of its (thumbnail) image."""
    title = page.get("title")
    if not title:
        raise SourceError("page without a title")
    if page.get("missing") not in (None, False):
        raise SourceError("file missing (deleted or never uploaded)")
    infos = page.get("imageinfo") or []
    if not infos:
        raise SourceError("no imageinfo for this file")
    info = infos[0]
    name = str(title).removeprefix("File:").rsplit(".", 1)[0]
    license_url = _raw(info, "LicenseUrl")
    extras: dict[str, Any] = {"license_url": str(license_url)} if license_url else {}
    extras.update({k: info[k] for k in ("mime", "width", "height", "size") if info.get(k)})
    usage = _meta(info, "UsageTerms")
    if usage:
        extras["usage_terms"] = usage
    artwork = Artwork(
        source="commons",
        source_id=str(title),
        collection="Wikimedia Commons",
        title=_meta(info, "ObjectName") or name,
        artist_display=_meta(info, "Artist"),
        date_display=_meta(info, "DateTimeOriginal"),
        description=_meta(info, "ImageDescription"),
        credit_line=_meta(info, "Credit"),
        subjects=[c.strip() for c in (_meta(info, "Categories") or "").split("|") if c.strip()],
        license=_meta(info, "LicenseShortName") or usage or "",
        source_url=info.get("descriptionurl") or f"https://commons.wikimedia.org/wiki/{title}",
        image_url=info.get("url"),
        extras=extras,
    )
    if info.get("thumburl"):
        return artwork, ImageRef(url=str(info["thumburl"]))
    if info.get("url"):  # the original: Commons publishes its SHA-1, so the download can be verified
        return artwork, ImageRef(url=str(info["url"]), sha1=info.get("sha1") or None)
    return artwork, None


def pages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``query.pages`` in a stable order (search rank when given, else page id)."""
    pages = (body.get("query") or {}).get("pages") or []
    items = list(pages.values()) if isinstance(pages, dict) else list(pages)
    return sorted((p for p in items if isinstance(p, dict)), key=lambda p: p.get("index", p.get("pageid", 0)))


class CommonsSource(HttpSource):
    """Files of one Commons category, or of one search, with their licence metadata."""

    name = "commons"

    def __init__(
        self,
        client: PoliteClient,
        *,
        category: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        page_size: int = 50,
        thumb_width: int = 843,
        base_url: str = API,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        if bool(category) == bool(search):
            raise SourceError("give exactly one of a category or a search")
        super().__init__(client, max_image_bytes=max_image_bytes)
        self.key = f"commons:{category or search}"
        self.category = category
        self.search = search
        self.limit = limit
        self.page_size = max(1, min(page_size, MAX_BATCH))
        self.thumb_width = thumb_width
        self.base_url = base_url
        self.total: int | None = limit

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "action": "query",
            "format": "json",
            "formatversion": "2",
            "prop": "imageinfo",
            "iiprop": IIPROP,
            "iiurlwidth": self.thumb_width,
        }
        if self.category:
            title = self.category if self.category.startswith("Category:") else f"Category:{self.category}"
            params.update(
                generator="categorymembers", gcmtitle=title, gcmtype="file", gcmlimit=self.page_size
            )
        else:
            params.update(generator="search", gsrsearch=self.search, gsrnamespace=6, gsrlimit=self.page_size)
        return params

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        cont = dict((cursor or {}).get("continue") or {})
        emitted = int((cursor or {}).get("emitted", 0))
        first = cursor is None
        yielded: set[str] = set()
        while True:
            body = await self.client.get_json(self.base_url, {**self._params(), **cont})
            if not isinstance(body, dict):
                raise SourceError("unexpected MediaWiki response: not a JSON object")
            if "error" in body:
                error = body["error"] if isinstance(body["error"], dict) else {}
                raise SourceError(f"MediaWiki error {error.get('code')}: {error.get('info')}")
            complete = "batchcomplete" in body
            records: list[SourceRecord] = []
            problems: list[tuple[str, str]] = []
            for page in pages_of(body):
                if self.limit is not None and emitted >= self.limit:
                    break
                title = str(page.get("title", "?"))
                if title in yielded:
                    continue
                if not page.get("imageinfo") and not page.get("missing") and not complete:
                    continue  # its imageinfo comes in the next response of this batch
                try:
                    artwork, ref = parse_page(page)
                except (SourceError, ValueError, TypeError) as exc:
                    problems.append((title, str(exc)))
                    continue
                records.append(SourceRecord(artwork, ref))
                yielded.add(title)
                emitted += 1
            next_cont = body.get("continue")
            done = not next_cont or (self.limit is not None and emitted >= self.limit)
            if first and done and not records and not problems:
                problems.append(
                    (f"query:{self.category or self.search}", "the category or search matched no files")
                )
            first = False
            yield Page(records, None if done else {"continue": next_cont, "emitted": emitted}, problems)
            if done:
                return
            cont = dict(next_cont or {})

    async def fetch_image(self, ref: ImageRef) -> bytes:
        """The download, verified against the SHA-1 Commons publishes for originals."""
        data = await super().fetch_image(ref)
        if ref.sha1 and hashlib.sha1(data).hexdigest() != ref.sha1.lower():
            raise SourceError(f"{ref.url}: content does not match the SHA-1 Commons published")
        return data
