"""Prose on an answer page: the first ``prose.max_results`` results get a sentence or two.

The page itself is cached without prose (prose does not change the ranking); prose is
added on the way out, from its own cache (the answer cache's backend, keyed by start,
result, reasons and model) or the model, within ``prose.budget`` seconds, else the
template. Nothing here holds a request thread while a model writes.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool

from asterism.api.cache import Cache, NoCache
from asterism.api.schemas import PageOut, ProseOut, ResultOut
from asterism.config import Settings
from asterism.recommend.prose import Narrator, known_names
from asterism.recommend.prose_writers import Facts, Work
from asterism.recommend.service import Service

_LOCK = threading.Lock()


def narrator(state: Any, settings: Settings) -> Narrator:
    """The app's narrator, made at its first use (a model client and threads only when asked for)."""
    with _LOCK:
        found: Narrator | None = getattr(state, "narrator", None)
        if found is None:
            cache: Cache | None = getattr(state, "cache", None)
            found = Narrator(settings.prose, None if cache is None or isinstance(cache, NoCache) else cache)
            state.narrator = found
        return found


def _work(item: ResultOut) -> Work:
    a = item.artwork
    return Work(a.id, a.title, a.artist or a.artist_display, a.date, a.date_start, a.date_end)


async def with_prose(answer: bytes, state: Any, service: Service, settings: Settings) -> bytes:
    """The serialised page ``answer`` with ``prose`` on its first results."""
    if not settings.prose.enabled:
        raise HTTPException(400, "prose is switched off on this server (prose.enabled)")
    found = narrator(state, settings)
    page = PageOut.model_validate_json(answer)
    start = service.catalogue.get(page.start_id) if page.start_id is not None else None
    items = page.results[: settings.prose.max_results]
    facts = [
        Facts(
            Work.of(start) if start is not None else None,
            _work(item),
            tuple(item.formal.reasons),
            tuple(item.conceptual.reasons),
            tuple(item.historical.reasons),
        )
        for item in items
    ]
    words = await run_in_threadpool(known_names, found, service.catalogue, service.knowledge)
    for item, prose in zip(items, await found.apage(facts, words), strict=True):
        item.prose = ProseOut(text=prose.text, source=prose.source)
    return page.model_dump_json().encode()
