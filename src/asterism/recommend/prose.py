"""Prose explanations: a sentence or two per result, written from its true reasons only.

The writers (a template by default, or any OpenAI-compatible endpoint) are in
``prose_writers.py``. ``Narrator`` checks every model text against those facts
(``grounding.py``), caches what it accepted (and what it rejected) under the
start, the result, the reasons and the model, and bounds a page's wait: whatever a
model has not answered within the budget, an error, or an ungrounded text is
answered by the template, the reason logged. A late answer still lands in the
cache for the next request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Literal, Protocol

from asterism.config import ProseSettings
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.explain import KnowledgeView
from asterism.recommend.grounding import Vocabulary, ungrounded
from asterism.recommend.prose_writers import (
    PROMPT_VERSION,
    REJECTED,
    ChatWriter,
    Facts,
    ProseError,
    ProseWriter,
    TemplateWriter,
    Work,
)
from asterism.shapes import Artwork, RecommendationPage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prose:
    text: str
    source: Literal["model", "template"]
    note: str = ""  # why the template answered when a model was asked


class TextCache(Protocol):
    """The API's answer cache fits (memory or Redis): bytes under string keys."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class LruCache:
    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Narrator:
    """Prose for results: cached, grounded, within a time budget; the template when no model is set."""

    def __init__(
        self, settings: ProseSettings, cache: TextCache | None = None, writer: ProseWriter | None = None
    ) -> None:
        self.settings = settings
        self.template = TemplateWriter()
        self.writer: ProseWriter | None = writer or (ChatWriter(settings) if settings.endpoint else None)
        self.cache: TextCache = cache if cache is not None else LruCache()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._vocabulary: tuple[object, Vocabulary] | None = None

    def vocabulary(
        self, works: Iterable[Artwork], names: Iterable[str] = (), owner: object = None
    ) -> Vocabulary:
        """Known names of a catalogue, built once per ``owner`` (the catalogue object)."""
        with self._lock:
            if self._vocabulary is None or owner is None or self._vocabulary[0] is not owner:
                self._vocabulary = (owner, Vocabulary.of(works, names))
            return self._vocabulary[1]

    def key(self, facts: Facts) -> str:
        model = self.writer.model if self.writer is not None else "template"
        return f"asterism:prose:{PROMPT_VERSION}:{model}:{facts.digest()}"

    def templated(self, facts: Facts, note: str = "") -> Prose:
        return Prose(self.template.write(facts), "template", note)

    def cached(self, facts: Facts) -> Prose | None:
        found = self.cache.get(self.key(facts))
        if found is None:
            return None
        if found == REJECTED:
            return self.templated(facts, "a model text for these facts failed grounding before")
        return Prose(found.decode(), "model")

    def generate(self, facts: Facts, vocabulary: Vocabulary) -> Prose:
        """One model call, checked; the template (and why) on any failure. Accepted texts are cached."""
        assert self.writer is not None
        started = time.perf_counter()
        try:
            text = self.writer.write(facts)
        except ProseError as exc:
            log.warning("prose: %s; the template answers", exc)
            return self.templated(facts, str(exc))
        problems = ungrounded(text, facts.allowed(), vocabulary)
        if problems:
            log.warning("prose rejected (names %s not in the reasons): %r", ", ".join(problems), text[:200])
            self.cache.set(self.key(facts), REJECTED)
            return self.templated(facts, "not grounded: " + ", ".join(problems))
        self.cache.set(self.key(facts), text.encode())
        log.debug("prose written in %.2f s", time.perf_counter() - started)
        return Prose(text, "model")

    def _submit(self, items: Sequence[Facts], vocabulary: Vocabulary) -> list[Prose | Future[Prose]]:
        out: list[Prose | Future[Prose]] = []
        for facts in items:
            if self.writer is None:
                out.append(self.templated(facts))
            elif (found := self.cached(facts)) is not None:
                out.append(found)
            else:
                out.append(self.pool().submit(self.generate, facts, vocabulary))
        return out

    def _settle(self, items: Sequence[Facts], started: Sequence[Prose | Future[Prose]]) -> list[Prose]:
        out = []
        for facts, item in zip(items, started, strict=True):
            if isinstance(item, Prose):
                out.append(item)
            elif item.done() and not item.cancelled() and item.exception() is None:
                out.append(item.result())
            elif item.done() and not item.cancelled():
                log.error("prose failed: %r", item.exception())
                out.append(self.templated(facts, f"failed: {item.exception()!r}"))
            else:
                item.cancel()  # not yet started: dropped; running: finishes into the cache
                out.append(self.templated(facts, f"no reply within the budget of {self.settings.budget:g} s"))
        return out

    def page(
        self, items: Sequence[Facts], vocabulary: Vocabulary, budget: float | None = None
    ) -> list[Prose]:
        """Prose for each of ``items``, waiting at most ``budget`` seconds (``prose.budget``) in all."""
        started = self._submit(items, vocabulary)
        futures = [f for f in started if isinstance(f, Future)]
        if futures:
            wait(futures, timeout=self.settings.budget if budget is None else budget)
        return self._settle(items, started)

    async def apage(
        self, items: Sequence[Facts], vocabulary: Vocabulary, budget: float | None = None
    ) -> list[Prose]:
        """``page`` for the event loop: no request thread is held while the model writes."""
        started = self._submit(items, vocabulary)
        futures = [asyncio.wrap_future(f) for f in started if isinstance(f, Future)]
        if futures:
            await asyncio.wait(futures, timeout=self.settings.budget if budget is None else budget)
        return self._settle(items, started)

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="prose")
            return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.writer, ChatWriter):
            self.writer.close()


def facts_of(start: Artwork | None, result: Artwork, formal: Iterable[str], conceptual: Iterable[str],
             historical: Iterable[str]) -> Facts:  # fmt: skip
    """The facts of one result from the records (a ``Recommendation``'s reasons)."""
    return Facts(Work.of(start) if start is not None else None, Work.of(result),
                 tuple(formal), tuple(conceptual), tuple(historical))  # fmt: skip


def known_names(narrator: Narrator, catalogue: Catalogue, knowledge: KnowledgeView | None) -> Vocabulary:
    """The names grounding knows (catalogue and knowledge graph), built once per catalogue; none for a template."""
    if narrator.writer is None:
        return Vocabulary()
    graph = knowledge.graph.nodes.values() if knowledge is not None else ()
    names = [node.label for node in graph if node.type.lower() != "artwork"]
    return narrator.vocabulary(catalogue.records.values(), names, owner=catalogue)


def explain_page(
    narrator: Narrator, page: RecommendationPage, catalogue: Catalogue, knowledge: KnowledgeView | None = None
) -> list[Prose]:
    """Prose for the first ``prose.max_results`` results of a page (the CLI's ``--prose``)."""
    start = catalogue.get(page.start_id) if page.start_id is not None else None
    items = page.results[: narrator.settings.max_results]
    facts = [
        facts_of(start, r.artwork, r.formal.reasons, r.conceptual.reasons, r.historical.reasons)
        for r in items
    ]
    return narrator.page(facts, known_names(narrator, catalogue, knowledge))
