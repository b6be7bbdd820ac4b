"""IIIF: artworks from any Presentation API 2.x / 3.0 manifest or collection, by URL or file.

``asterism ingest iiif URL_OR_FILE`` starts from one document. A manifest
gives its records; a collection is walked depth-first in document order,
nested collections recursively (a visited set breaks cycles, ``max_depth``
bounds nesting) and paged ones page by page (``first``/``next``, which some
v3 servers keep too). The cursor is the walk itself (documents still to
visit, documents visited, records emitted), stored with each manifest's
records, so a killed run resumes at the first manifest it had not stored,
and a re-run finds every record unchanged (same ids, same fingerprints).

What is a record. A manifest is one object, a book's pages or a painting's
recto, verso and frame views are not each an artwork: by default
(``canvases="work"``) a manifest is one record, pictured by its start canvas
(v3 ``start``, v2 ``startCanvas``) or its first canvas with an image, with
source id the manifest id. ``canvases="each"`` makes every canvas a record
(for manifests that gather separate works, like the NGA highlights), with
source id ``{manifest id}|{canvas id}``: URIs do not contain ``|``, and both
ids are the publisher's, so the id is stable across runs and machines.

Rights: the canvas's own ``license``/``rights`` when it has one (Getty puts
it only there), else the manifest's; that URI is the licence statement the
policy (``normalize/licenses.py``) reads. Without one, ``requiredStatement``
/ ``attribution`` is read for a named licence (Bodleian names CC BY-NC 4.0
there only); a credit line that names none is "unknown", not "other": it
does not restrict anything, it just does not say. Empty values (``rights:
""``) are absent values. The credit line is ``requiredStatement`` /
``attribution``; ``metadata`` pairs are kept in ``extras["metadata"]`` (and a
few well-known labels fill artist, date and medium); the source link is
``homepage``, v2 ``related``, else ``seeAlso``, else the manifest itself.

Politeness: every request goes through ``PoliteClient`` (per-host rate,
retries with backoff); images are asked at the pipeline's largest kept size
(``settings.images.thumb_sizes``), never bigger than needed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from asterism.normalize.licenses import OTHER, UNKNOWN, normalize_license
from asterism.shapes import Artwork
from asterism.sources import iiif_parse as p
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.http import DEFAULT_MAX_IMAGE_BYTES, HttpSource, PoliteClient

CanvasMode = Literal["work", "each"]
# Metadata labels (lower case) that fill ``Artwork`` fields; the pairs are kept whole regardless.
_FIELDS = {
    "artist": "artist_display",
    "artist / maker": "artist_display",
    "creator": "artist_display",
    "maker": "artist_display",
    "date": "date_display",
    "datecreated": "date_display",
    "date created": "date_display",
    "medium": "medium",
    "materials": "medium",
    "object type": "classification",
    "classification": "classification",
}


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def licence(rights: str | None, credit: str | None) -> tuple[str | None, str]:
    """(verbatim statement, licence id) from a rights URI, else from what the credit line names."""
    if rights:
        return rights, normalize_license(rights, url=rights if _is_url(rights) else None)
    if credit:
        found = normalize_license(credit)
        return credit, UNKNOWN if found == OTHER else found
    return None, UNKNOWN


class IiifSource(HttpSource):
    """The manifests under one IIIF URL or file, each an artwork (or each canvas, by setting)."""

    name = "iiif"

    def __init__(
        self,
        client: PoliteClient,
        target: str,
        *,
        language: str = "en",
        canvases: CanvasMode = "work",
        image_size: int = 843,
        max_depth: int = 8,
        limit: int | None = None,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        if canvases not in ("work", "each"):
            raise SourceError(f"canvases must be 'work' or 'each', not {canvases!r}")
        super().__init__(client, max_image_bytes=max_image_bytes)
        self.target = target if _is_url(target) else str(Path(target).expanduser().resolve())
        self.key = f"iiif:{self.target}:{canvases}"
        self.language = language
        self.canvases = canvases
        self.image_size = image_size
        self.max_depth = max_depth
        self.limit = limit
        self.total: int | None = limit
        self._fallbacks: dict[str, list[str]] = {}

    async def _load(self, ref: str) -> Any:
        if _is_url(ref):
            return await self.client.get_json(ref)
        try:
            return json.loads(Path(ref).read_bytes())
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read {ref}: {exc}") from exc

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        """One page per document visited: a manifest's records, or a collection's problems."""
        state = cursor or {"todo": [[self.target, "", 0]], "seen": [], "emitted": 0}
        todo: list[list[Any]] = [list(t) for t in state["todo"]]  # a stack of [ref, type, depth]
        seen: set[str] = set(state["seen"])
        emitted = int(state["emitted"])
        while todo and (self.limit is None or emitted < self.limit):
            ref, _expected, depth = todo.pop()
            if ref in seen:
                continue
            seen.add(ref)
            records: list[SourceRecord] = []
            problems: list[tuple[str, str]] = []
            try:
                doc = p.check_document(await self._load(ref), ref)
                seen.add(str(p.ident(doc)))
                if p.kind(doc) == "Collection":
                    problems += self._expand(doc, ref, int(depth), todo, seen)
                else:
                    records, problems = self._records(doc)
            except SourceError as exc:
                problems.append((ref, str(exc)))
            if self.limit is not None:
                records = records[: self.limit - emitted]
            emitted += len(records)
            done = not todo or (self.limit is not None and emitted >= self.limit)
            state = {"todo": todo, "seen": sorted(seen), "emitted": emitted}
            yield Page(records, None if done else json.loads(json.dumps(state)), problems)
            if done:
                return
        yield Page([], None)  # the rest was already visited: mark the walk finished

    def _expand(
        self, doc: p.JSON, ref: str, depth: int, todo: list[list[Any]], seen: set[str]
    ) -> list[tuple[str, str]]:
        """Push a collection's members (in order), then its next page (same depth: not nesting)."""
        if depth > self.max_depth:
            return [(ref, f"collection nested deeper than {self.max_depth} levels; not followed")]
        listed = p.members(doc)
        pushed = [[m, t, depth + 1] for m, t in listed if m not in seen]
        for key in ("first", "next"):
            page = p.ident(doc.get(key))
            if page and page not in seen:
                pushed.append([page, "page", depth])
        todo.extend(reversed(pushed))
        if not listed and not pushed:
            return [(ref, "collection lists no manifests or collections")]
        return []

    def _records(self, manifest: p.JSON) -> tuple[list[SourceRecord], list[tuple[str, str]]]:
        """The manifest's records (one, or one per canvas) and its bad canvases as problems."""
        manifest_id = str(p.ident(manifest))
        found = p.canvases(manifest, self.language)
        good = [c for c in found if isinstance(c, p.Canvas)]
        if self.canvases == "work":
            if not good:
                reason = str(found[0]) if found else "manifest has no canvases"
                return [], [(manifest_id, reason)]
            start = p.start_canvas(manifest)
            chosen = next((c for c in good if c.id == start), good[0])
            return [self._record(manifest, chosen, manifest_id)], []
        records: list[SourceRecord] = []
        problems: list[tuple[str, str]] = []
        for canvas in found:
            if isinstance(canvas, SourceError):
                problems.append((manifest_id, str(canvas)))
            else:
                records.append(self._record(manifest, canvas, f"{manifest_id}|{canvas.id}"))
        if not found:
            problems.append((manifest_id, "manifest has no canvases"))
        return records, problems

    def _record(self, manifest: p.JSON, canvas: p.Canvas, source_id: str) -> SourceRecord:
        lang = self.language
        label = p.text(manifest.get("label"), lang)
        title = (canvas.label if self.canvases == "each" else None) or label or canvas.label or ""
        required = manifest.get("requiredStatement")
        credit = p.text(required.get("value"), lang) if isinstance(required, dict) else None
        credit = credit or p.text(manifest.get("attribution"), lang)
        statement, license_id = licence(canvas.rights or p.rights_of(manifest), credit)
        pairs = p.metadata_pairs(manifest, lang) + canvas.metadata
        fields: dict[str, str] = {}
        for key, value in pairs:
            name = _FIELDS.get(key.strip().lower())
            if name and name not in fields:
                fields[name] = value
        # A provider label may be a whole address (Wellcome): its first line names the institution.
        providers = [
            t[0]
            for x in p.as_list(manifest.get("provider"))
            if isinstance(x, dict) and (t := p.texts(x.get("label"), lang))
        ]
        links = p.links(manifest)
        extras: dict[str, Any] = {"manifest": p.ident(manifest), "canvas": canvas.id}
        if pairs:
            extras["metadata"] = [list(pair) for pair in pairs]
        if statement and _is_url(statement):
            extras["license_url"] = statement
        if links[1:]:
            extras["links"] = links[1:]
        if self.canvases == "each" and label:
            extras["manifest_label"] = label
        artwork = Artwork(
            source=self.name,
            source_id=source_id,
            collection=providers[0] if providers else urlsplit(source_id).hostname,
            title=title,
            description=p.text(manifest.get("summary", manifest.get("description")), lang, " "),
            credit_line=credit,
            license=statement,
            license_id=license_id,
            source_url=links[0] if links else str(p.ident(manifest)),
            extras=extras,
        ).model_copy(update=fields)
        url, fallbacks = self._image_urls(canvas)
        self._fallbacks[url] = fallbacks
        artwork.image_url = url
        return SourceRecord(artwork, ImageRef(url=url))

    def _image_urls(self, canvas: p.Canvas) -> tuple[str, list[str]]:
        """The sized Image API URL, then what to try if the server refuses it."""
        if canvas.service is None:
            return str(canvas.resource_url), []
        backups = [p.full_url(canvas.service)] + ([canvas.resource_url] if canvas.resource_url else [])
        return p.image_url(canvas.service, self.image_size), backups

    async def fetch_image(self, ref: ImageRef) -> bytes:
        """The sized image; if the server refuses that size, the whole image, then the resource URL."""
        try:
            return await super().fetch_image(ref)
        except SourceError as first:
            for url in self._fallbacks.get(ref.url or "", []):
                if url != ref.url:
                    try:
                        return await super().fetch_image(ImageRef(url=url))
                    except SourceError:
                        continue
            raise first
