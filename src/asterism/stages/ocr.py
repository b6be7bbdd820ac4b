"""The OCR stage: text in the pictures, read only where there is writing, resumable.

Reader → mapper → writer, as in the other stages. The store lists the images
that have no result from this reader yet (Tesseract with these languages,
confidence and size); worker threads read each original (JPEGs decoded at
about the OCR size), run the text gate (``images/text_gate.py``, a few ms) and
Tesseract only where the gate sees lines of writing (``ocr.mode = "gate"``,
the default) or on every picture (``"always"``); the main thread writes each
chunk of results, texts onto ``images.ocr_text`` and a ledger row per image,
in one transaction. So a killed stage loses at most one chunk, a re-run looks
only at images without a result, and no image ever gets two rows.

Tesseract is bounded per picture (``images/ocr.py``: 1000-2000 px grey copy,
``ocr.timeout`` seconds). A picture whose file cannot be read right now is
reported and tried again next time; one that cannot be decoded, or that
Tesseract fails on, is recorded as failed. Without Tesseract the stage writes
nothing, so installing it later reads everything then.

It runs at the start of ``asterism build`` (the conceptual embedding reads
the stored text) and after ``asterism ingest`` unless ``--no-ocr``; one OCR
run per data home at a time (a second one finds the lock taken and leaves the
work to the first).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from asterism.config import OcrSettings, Settings
from asterism.images.decode import ImageRejected, decode_image
from asterism.images.ocr import OcrUnavailable, read_or_timeout, tesseract_available
from asterism.images.text_gate import has_text
from asterism.locks import exclusive
from asterism.store.database import Database
from asterism.store.ocr import OcrResult, Pending

log = logging.getLogger(__name__)

CHUNK = 16  # results per transaction: what a kill can cost
Progress = Callable[[str, int, int | None], None]  # (stage, done, total)
Mode = str  # "gate" | "always" | "never"


@dataclass
class OcrReport:
    mode: Mode
    images: int = 0  # looked at in this run
    read: int = 0  # given to Tesseract
    found: int = 0  # ... and real text came back
    skipped: int = 0  # the gate saw no writing
    timeouts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sha256, reason)
    gate_seconds: float = 0.0  # summed over the workers
    ocr_seconds: float = 0.0  # summed over the workers
    seconds: float = 0.0  # wall clock
    unavailable: bool = False  # Tesseract is not installed: nothing was done
    busy: bool = False  # another OCR run holds this home's lock: nothing was done

    @property
    def changed(self) -> bool:
        """New text was stored (concept documents will change)."""
        return self.found > 0

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


class _Busy(Exception):
    pass


@dataclass
class _Look:
    result: OcrResult | None  # None: not recorded (the file could not be read now)
    gate_seconds: float = 0.0
    ocr_seconds: float = 0.0
    error: str | None = None


def reader_key(ocr: OcrSettings) -> str:
    """What a stored result was read with: another language, confidence or size reads again."""
    return f"tesseract:{ocr.languages}:conf{ocr.min_confidence:g}:side{ocr.max_side}"


def run_ocr(
    settings: Settings,
    database: Database,
    *,
    mode: Mode | None = None,
    progress: Progress | None = None,
) -> OcrReport:
    """Read the text of every stored image that has no OCR result yet (``mode``: default ``ocr.mode``)."""
    mode = mode or settings.ocr.mode
    report = OcrReport(mode=mode)
    if mode == "never":
        return report
    if not tesseract_available():
        log.warning("OCR skipped: tesseract is not installed (apt-get install tesseract-ocr)")
        report.unavailable = True
        return report
    lock = settings.paths.ingest_lock.with_name("ocr.lock")
    try:
        with exclusive(lock, lambda pid: _Busy(pid)):
            _run(settings, database, mode, report, progress)
    except _Busy as holder:
        log.info("OCR is already running on this home (pid %s): left to it", holder)
        report.busy = True
    return report


def _run(
    settings: Settings, database: Database, mode: Mode, report: OcrReport, progress: Progress | None
) -> None:
    started = time.perf_counter()
    reader = reader_key(settings.ocr)
    todo = database.ocr.pending(reader, redo_skipped=mode == "always")
    batch: list[OcrResult] = []
    with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="ocr") as pool:
        queue: deque[tuple[Pending, Future[_Look]]] = deque()
        ahead = iter(todo)

        def fill() -> None:  # a few pictures in flight per worker, never the whole list
            while len(queue) < 4 * settings.workers:
                item = next(ahead, None)
                if item is None:
                    return
                queue.append((item, pool.submit(_look, item, settings, mode)))

        try:
            fill()
            while queue:
                item, future = queue.popleft()
                look = future.result()
                fill()
                _count(report, item, look)
                if look.result is not None:
                    batch.append(look.result)
                if len(batch) >= CHUNK:
                    database.ocr.put(reader, batch)
                    batch = []
                if progress:
                    progress("ocr", report.images, len(todo))
            database.ocr.put(reader, batch)
        finally:
            for _, future in queue:  # a failed write: do not wait for pictures nobody will store
                future.cancel()
    report.seconds = time.perf_counter() - started


def _count(report: OcrReport, item: Pending, look: _Look) -> None:
    report.images += 1
    report.gate_seconds += look.gate_seconds
    report.ocr_seconds += look.ocr_seconds
    if look.error is not None:
        report.failures.append((item.sha256, look.error))
    outcome = look.result.outcome if look.result else None
    report.read += outcome in ("text", "none", "timeout")
    report.found += outcome == "text"
    report.skipped += outcome == "skipped"
    report.timeouts += outcome == "timeout"


def _look(item: Pending, settings: Settings, mode: Mode) -> _Look:
    """Gate, then (maybe) Tesseract, on one stored picture. Never raises."""
    started = time.perf_counter()
    ocr = settings.ocr
    try:
        path = settings.paths.file(item.path)
        data = path.read_bytes()
    except Exception as exc:  # gone or unreadable now: reported, tried again next run
        return _Look(None, error=f"{type(exc).__name__}: {exc}")
    try:
        picture = decode_image(
            data,
            max_pixels=settings.images.max_pixels,
            max_bytes=max(settings.images.max_bytes, len(data)),
            draft_size=ocr.max_side,
        ).image
    except ImageRejected as exc:
        return _Look(OcrResult(item.sha256, "failed", seconds=time.perf_counter() - started), error=str(exc))
    gate = 0.0
    if mode == "gate":
        gate_started = time.perf_counter()
        found = has_text(picture)
        gate = time.perf_counter() - gate_started
        if not found:
            return _Look(OcrResult(item.sha256, "skipped", seconds=time.perf_counter() - started), gate)
    read_started = time.perf_counter()
    try:
        text = read_or_timeout(
            picture,
            min_confidence=ocr.min_confidence,
            languages=ocr.languages,
            timeout=ocr.timeout,
            max_side=ocr.max_side,
        )
    except OcrUnavailable as exc:  # uninstalled mid-run: try again once it is back
        return _Look(None, gate, error=str(exc))
    except Exception as exc:  # Tesseract failed on this picture (not a timeout)
        spent = time.perf_counter() - read_started
        result = OcrResult(item.sha256, "failed", seconds=time.perf_counter() - started)
        return _Look(result, gate, spent, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    spent = time.perf_counter() - read_started
    outcome = "timeout" if text is None else "text" if text else "none"
    return _Look(OcrResult(item.sha256, outcome, text or "", time.perf_counter() - started), gate, spent)


__all__ = ["CHUNK", "OcrReport", "reader_key", "run_ocr"]
