"""Every server process follows the served build generation, whoever published it.

A build (from the CLI, from ``POST /v1/admin/rebuild`` in any worker, or on
another machine sharing the home) ends by switching ``current.json`` to its
generation (``stages/generations.py``). Each worker process notices it
within ``interval`` (one ``stat``, from a watcher thread and at requests)
and opens the new generation in a background thread, and
requests keep being answered from the old one until the new one is ready
and swapped in. The old service is closed a while later, when no request
can still be using it. A server started before the first build loads the
collection the same way, as soon as one is published.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from asterism.config import Settings
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service, open_service

log = logging.getLogger(__name__)
GRACE = 60.0  # seconds an old service stays open after the swap: requests that hold it finish first


class Follower:
    """Swaps ``state.service`` for the published generation; one per app (on ``app.state``)."""

    def __init__(
        self,
        settings: Settings,
        state: Any,
        *,
        interval: float = 1.0,
    ) -> None:
        self.settings = settings
        self.state = state  # the app's state: .service, .service_error
        self.interval = interval
        self._checked = 0.0
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the manifest last read
        self._loading: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def served_generation(self) -> str | None:
        service: Service | None = self.state.service
        return service.home.generation if service is not None and service.home is not None else None

    def check(self) -> None:
        """Start loading the published generation if it is not the one served (cheap; call per request)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        with self._lock:
            if now - self._checked < self.interval or self._loading is not None:
                return
            self._checked = now
            manifest = self.settings.paths.manifest
            try:
                stat = manifest.stat()
            except FileNotFoundError:
                return
            mark = (stat.st_mtime_ns, stat.st_size)
            if mark == self._seen:
                return
            try:
                published = json.loads(manifest.read_text())["generation"]
            except (OSError, ValueError, KeyError):
                return  # not there or being replaced: look again at the next check
            self._seen = mark
            if published == self.served_generation():
                return
            self._loading = threading.Thread(target=self._load, name="asterism-reload", daemon=True)
            self._loading.start()

    def start(self) -> None:
        """Check every ``interval`` in a daemon thread as well: a server with no requests still
        moves off a generation before the next build removes it."""
        self._stopped.clear()
        threading.Thread(target=self._watch, name="asterism-follow", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            self.check()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a reload in progress has finished (tests, and the admin endpoint's callers)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout)

    def _load(self) -> None:
        try:
            fresh = open_service(self.settings)
            fresh.warm_up()  # the first upload on the new build must not pay for loading its models
        except (QueryError, OSError, ValueError) as exc:
            log.warning("could not load the published build: %s", exc)
            self._seen = None  # try again at the next check
            with self._lock:
                self._loading = None
            return
        old, self.state.service = self.state.service, fresh
        self.state.service_error = None
        log.info("now serving build generation %s", self.served_generation())
        if old is not None:
            closer = threading.Timer(GRACE, old.close)
            closer.daemon = True
            closer.start()
        with self._lock:
            self._loading = None
