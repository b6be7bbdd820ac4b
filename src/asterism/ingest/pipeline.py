"""The ingest pipeline: reader (a Source) -> mapper (harvest) -> writer (the store).

Per page of records: skip what is stored and unchanged, fetch the images of
the rest concurrently (the polite client bounds the rate), process new images
on a thread pool, link exact and near duplicates, then write records, images,
problems and the source cursor in one transaction. Kill-safety comes from that
transaction plus a journal of image files about to be written: the next run
deletes files whose batch never committed.

Two rules keep a re-run from losing what an earlier run stored. A record
whose image cannot be fetched again (the museum's server is down) keeps its
stored image and status, with the failure reported and the old fingerprint
kept, so the next run tries again. And only a servable work (active under
the license policy) is ever the original of a duplicate group: an excluded
copy must not hide a public-domain copy of the same picture.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from asterism.config import Settings
from asterism.home import Home
from asterism.images.decode import ImageRejected
from asterism.images.phash import Hashes, PhashIndex
from asterism.images.store import ContentStore
from asterism.ingest.finalize import fingerprint, license_decision, normalise, with_status
from asterism.ingest.harvest import HarvestOptions, harvest_image, sha256_of
from asterism.locks import exclusive
from asterism.shapes import Artwork, ImageFacts, IngestReport, Problem, Status
from asterism.sources.base import Page, Source, SourceError, SourceRecord
from asterism.stages.ocr import run_ocr
from asterism.store import open_database
from asterism.store.base import Batch, Canonical, Known, PropertyStore

Progress = Callable[[IngestReport], None]


class IngestLocked(RuntimeError):
    """Another ingest is writing to this data home."""


def home_lock(home: Home) -> AbstractContextManager[None]:
    """One ingest per data home: two would race on the file journal."""
    return exclusive(
        home.ingest_lock, lambda pid: IngestLocked(f"another ingest (pid {pid}) is running on {home.root}")
    )


@dataclass
class _Fetched:
    record: SourceRecord
    artwork: Artwork
    fingerprint: str
    data: bytes | None = None
    error: str | None = None
    sha256: str | None = None
    facts: ImageFacts | None = None
    previous: Known | None = None  # what the store held for this record before this run
    kept: str | None = None  # the fetch failed; the stored image was kept (the failure)


@dataclass
class Ingestor:
    """Runs sources into the store. One instance per data home and run."""

    settings: Settings
    store: PropertyStore
    content: ContentStore
    options: HarvestOptions
    refresh: bool = False
    _phashes: PhashIndex[Canonical] = field(default_factory=PhashIndex)
    _by_sha: dict[str, Canonical] = field(default_factory=dict)
    _fresh: set[str] = field(default_factory=set)  # images first stored by this page: no stored work has them

    def recover(self) -> int:
        """Delete files left by a killed run (their batch never committed)."""
        removed = self.content.sweep_temporaries()
        for sha in self.store.take_orphans():
            removed += self.content.delete(sha)
        return removed

    async def run(self, source: Source, progress: Progress | None = None) -> IngestReport:
        """Every page of ``source`` after its checkpoint (``source.key``) into the store."""
        checkpoint_key = source.key
        report = IngestReport(source=source.name)
        started = time.perf_counter()
        with home_lock(self.settings.paths), ThreadPoolExecutor(self.settings.workers) as pool:
            self.recover()
            if not len(self._phashes):
                for artwork_id, coarse, fine in self.store.phashes(status=Status.ACTIVE):
                    self._phashes.add(artwork_id, Hashes(coarse, fine))
            cursor = None if self.refresh else self.store.get_checkpoint(source.name, checkpoint_key)
            async for page in source.pages(cursor):
                await self._ingest_page(source, page, checkpoint_key, pool, report)
                report.seconds = time.perf_counter() - started
                if progress:
                    progress(report)
        report.seconds = time.perf_counter() - started
        return report

    async def _ingest_page(
        self, source: Source, page: Page, key: str, pool: ThreadPoolExecutor, report: IngestReport
    ) -> None:
        batch = Batch(
            source=source.name, checkpoint_key=key, cursor=page.cursor, finished=page.cursor is None
        )
        for source_id, reason in page.problems:
            batch.problems.append(
                Problem(source=source.name, source_id=source_id, stage="record", reason=reason)
            )
        report.seen += len(page.records) + len(page.problems)
        known = self.store.known(source.name, [r.artwork.source_id for r in page.records])
        todo: list[_Fetched] = []
        for record in page.records:
            print_ = fingerprint(record.artwork, record.image)
            old = known.get(record.artwork.source_id)
            if not self.refresh and old and old.fingerprint == print_ and old.status != Status.FAILED:
                report.skipped += 1
                continue
            artwork = normalise(record.artwork)
            artwork.id = old.id if old else None
            todo.append(_Fetched(record, artwork, print_, previous=old))

        await asyncio.gather(*(self._fetch(source, item) for item in todo))
        for item in todo:
            self._keep_stored_image(item)
        batch.images = await self._harvest(todo, pool)
        report.images_processed += len(batch.images)
        self._fresh = {facts.sha256 for facts in batch.images}
        links = self._assemble(todo, batch, report)
        self.store.write_batch(batch, links)

    async def _fetch(self, source: Source, item: _Fetched) -> None:
        ref = item.record.image
        if ref is None:
            return
        servable, _ = license_decision(item.artwork, self.settings.license)
        if not servable and ref.path is None:
            return  # never download an image we may not serve; local files are already here
        try:
            item.data = await source.fetch_image(ref)
        except SourceError as exc:
            item.error = f"image fetch failed: {exc}"
        except OSError as exc:
            item.error = f"image unreadable: {exc}"

    def _keep_stored_image(self, item: _Fetched) -> None:
        """A failed re-fetch of a stored image keeps that image, and the old fingerprint.

        An outage at the source must not drop a work from the next build; keeping the
        old fingerprint makes the next run fetch it again.
        """
        old = item.previous
        if item.error is None or old is None or not old.image_sha256:
            return
        if old.status not in (Status.ACTIVE, Status.EXCLUDED):
            return
        facts = self.store.image(old.image_sha256)
        if facts is None or not self.settings.paths.file(facts.path).is_file():
            return
        item.facts, item.kept, item.error = facts, item.error, None
        item.fingerprint = old.fingerprint

    async def _harvest(self, items: list[_Fetched], pool: ThreadPoolExecutor) -> list[ImageFacts]:
        """Hash everything, journal the new shas, then decode/store each new image once.

        Returns the facts of the images stored for the first time.
        """
        for item in items:
            if item.data is not None:
                item.sha256 = sha256_of(item.data)
        new: dict[str, bytes] = {}
        stored = self.store.images([item.sha256 for item in items if item.sha256])
        for item in items:
            if item.sha256 and item.sha256 not in new:
                existing = stored.get(item.sha256)
                if existing is not None:
                    item.facts = existing
                else:
                    new[item.sha256] = item.data or b""
        self.store.mark_pending(list(new))
        loop = asyncio.get_running_loop()
        futures = {
            sha: loop.run_in_executor(pool, harvest_image, data, self.content, self.options)
            for sha, data in new.items()
        }
        results: dict[str, ImageFacts | str] = {}
        for sha, future in futures.items():
            try:
                results[sha] = await future
            except ImageRejected as exc:
                results[sha] = str(exc)
        for item in items:
            if item.facts is None and item.sha256 in results:
                outcome = results[item.sha256]
                if isinstance(outcome, str):
                    item.error = outcome
                else:
                    item.facts = outcome
            item.data = None  # free the bytes early
        return [r for r in results.values() if isinstance(r, ImageFacts)]

    def _assemble(self, items: list[_Fetched], batch: Batch, report: IngestReport) -> dict[str, Canonical]:
        links: dict[str, Canonical] = {}
        for item in items:
            artwork = item.artwork
            servable, reason = license_decision(artwork, self.settings.license)
            if item.error:
                artwork = with_status(artwork, Status.FAILED, item.error)
                batch.problems.append(
                    Problem(
                        source=artwork.source, source_id=artwork.source_id, stage="image", reason=item.error
                    )
                )
                report.failed += 1
            elif item.facts is None:
                status = Status.EXCLUDED if (item.record.image and not servable) else Status.NO_IMAGE
                artwork = with_status(artwork, status, reason if status == Status.EXCLUDED else "no image")
                report.excluded += status == Status.EXCLUDED
                batch.resolved.append(artwork.source_id)
            else:
                artwork = artwork.model_copy(update={"image": item.facts})
                artwork = with_status(artwork, Status.ACTIVE if servable else Status.EXCLUDED, reason)
                report.excluded += not servable
                canonical = self._duplicate_of(artwork, item.facts, report)
                if canonical is not None:
                    links[artwork.source_id] = canonical
                if item.kept is None:
                    batch.resolved.append(artwork.source_id)
                else:
                    reason = f"{item.kept}; kept the stored image"
                    batch.problems.append(
                        Problem(
                            source=artwork.source, source_id=artwork.source_id, stage="image", reason=reason
                        )
                    )
            batch.artworks.append(artwork)
            batch.fingerprints[artwork.source_id] = item.fingerprint
        report.stored += len(batch.artworks)
        return links

    def _duplicate_of(self, artwork: Artwork, facts: ImageFacts, report: IngestReport) -> Canonical | None:
        """Exact duplicates share a sha256; near duplicates share all but a few phash bits.

        Only a servable work becomes an original: a copy the license policy excludes is
        linked to a servable original when there is one, else stays apart, unserved.
        """
        servable = artwork.status == Status.ACTIVE
        selves: set[Canonical] = {artwork.key} | ({artwork.id} if artwork.id is not None else set())
        if facts.sha256 not in self._by_sha and facts.sha256 not in self._fresh:  # fresh: none stored
            stored = self._stored_original(facts.sha256)
            if stored is not None:
                self._by_sha[facts.sha256] = stored
        exact = self._by_sha.get(facts.sha256)
        if exact is None and servable:
            exact = self._by_sha[facts.sha256] = artwork.key
        if exact is not None and exact not in selves:
            report.duplicates += 1
            return exact
        hashes = Hashes(facts.phash, facts.phash_fine)
        near = self._phashes.nearest(hashes, exclude=selves)
        if near is not None:
            report.near_duplicates += 1
            return near[0]
        if servable:
            self._phashes.add(artwork.key, hashes)
        return None

    def _stored_original(self, sha256: str) -> int | None:
        """The stored work that may be the original of this picture: active and canonical."""
        for artwork_id in self.store.artwork_ids_for_image(sha256):
            stored = self.store.artwork(artwork_id)
            if stored is not None and stored.status == Status.ACTIVE and stored.duplicate_of is None:
                return artwork_id
        return None


__all__ = ["IngestLocked", "Ingestor", "home_lock"]


def ingest(
    settings: Settings,
    source: Source,
    *,
    refresh: bool = False,
    ocr: bool | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Run one source into the data home (records, image files, checkpoint), then close the source.

    The one wiring of store, content store and harvest options that the
    library, the CLI, the tests and the benchmarks share. Then the OCR stage
    (``stages/ocr.py``) reads the text of the new pictures, as ``ocr.mode`` says;
    ``ocr=False`` leaves that to the next build, ``ocr=True`` reads now even when
    the mode is "never" (through the text gate).
    """

    async def go(ingestor: Ingestor) -> IngestReport:
        try:
            return await ingestor.run(source, progress)
        finally:
            await source.aclose()

    database = open_database(settings)
    try:
        content = ContentStore(settings.paths, settings.images.thumb_sizes, settings.images.jpeg_quality)
        options = HarvestOptions.from_settings(settings)
        report = asyncio.run(go(Ingestor(settings, database.records, content, options, refresh=refresh)))
        mode = settings.ocr.mode
        if ocr is not None:
            mode = ("gate" if mode == "never" else mode) if ocr else "never"
        if mode != "never":
            text = run_ocr(settings, database, mode=mode)
            report.ocr_read, report.ocr_found, report.ocr_skipped = text.read, text.found, text.skipped
            report.ocr_seconds = text.seconds
        return report
    finally:
        database.close()
