"""Database faults turned into bounded waits and errors that name their cause.

Two faults are expected in normal operation, and neither may end in a raw
traceback or a hang:

* PostgreSQL goes away for a while: restarted for an upgrade, a failover, a
  dropped network link. The pool's pre-ping replaces a connection the
  restart killed before it is used; a connection lost mid-transaction, or a
  server that refuses connections for now, makes ``resilient`` reconnect and
  re-run the whole operation with backoff, for up to ``reconnect_timeout``
  seconds, then raise ``StoreUnreachable``. Re-running is safe because every
  store operation is one short transaction whose writes are upserts keyed by
  (source, source_id), sha256 or (source, key): even when the connection
  dropped after the server committed, the second run stores nothing twice.
* SQLite is locked by another writer (a second process in a write
  transaction). SQLite's busy handler waits up to ``busy_timeout`` seconds;
  then ``StoreBusy`` says so, instead of "database is locked".
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# A connection the server refused for a reason waiting will not fix (libpq gives no SQLSTATE then).
PERMANENT = (
    "does not exist",
    "authentication failed",
    "no pg_hba.conf entry",
    "permission denied",
    "no password",
)
FIRST_DELAY = 0.1  # seconds before the first reconnect; doubled after each failure
MAX_DELAY = 2.0


@dataclass(frozen=True)
class Patience:
    """How long the store waits for a fault to pass (``store.busy_timeout``, ``store.reconnect_timeout``)."""

    busy_timeout: float = 30.0  # seconds a SQLite write waits for another writer's lock
    reconnect_timeout: float = 60.0  # seconds a PostgreSQL operation keeps reconnecting


class StoreUnavailable(RuntimeError):
    """The database could not be used within the stated time (CLI: exit 1; API: HTTP 503).

    ``public`` is the same cause without file paths, hosts or driver text, for API clients.
    """

    public = "the collection's database is unavailable; try again shortly"


class StoreBusy(StoreUnavailable):
    """Another writer held SQLite's write lock for longer than ``store.busy_timeout``."""

    public = "the collection's database is locked by another writer; try again shortly"


class StoreUnreachable(StoreUnavailable):
    """PostgreSQL stayed unreachable for longer than ``store.reconnect_timeout``."""

    public = "the collection's database server is unreachable; try again shortly"


class _OnEngine(Protocol):
    engine: Engine
    patience: Patience


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    name = getattr(exc.orig, "sqlite_errorname", "")
    return str(name).startswith("SQLITE_BUSY") or "database is locked" in str(exc.orig)


def is_disconnect(exc: BaseException) -> bool:
    """A server connection lost mid-operation, or one that could not be opened for now.

    "Could not be opened" is any failure before a statement ran (refused, starting up, shutting
    down, too many clients) except a refusal that waiting will not fix: a missing database or
    role, a failed authentication. That fails at once, as a misconfiguration should.
    """
    if not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    if exc.connection_invalidated:
        return True
    return exc.statement is None and not any(marker in str(exc.orig) for marker in PERMANENT)


@contextmanager
def busy_as_error(engine: Engine, patience: Patience) -> Iterator[None]:
    """Turn SQLite's "database is locked", met after ``busy_timeout``, into ``StoreBusy``."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        if engine.dialect.name != "sqlite" or not is_busy(exc):
            raise
        raise StoreBusy(
            f"the SQLite store {engine.url.database} is locked by another writer (another process "
            f"is in a write transaction); gave up after waiting {patience.busy_timeout:g} s "
            "(store.busy_timeout)"
        ) from exc


def run(engine: Engine, patience: Patience, call: Callable[[], T], what: str) -> T:
    """``call()``, re-run on a lost PostgreSQL connection until ``reconnect_timeout`` has passed."""
    server = engine.dialect.name != "sqlite"
    started = time.monotonic()
    delay = FIRST_DELAY
    while True:
        try:
            with busy_as_error(engine, patience):
                return call()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if not server or not is_disconnect(exc):
                raise
            waited = time.monotonic() - started
            cause = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            if waited >= patience.reconnect_timeout:
                where = f"{engine.url.host or 'localhost'}:{engine.url.port or 5432}/{engine.url.database}"
                raise StoreUnreachable(
                    f"the database at {where} stayed unreachable for {waited:.1f} s "
                    f"(store.reconnect_timeout = {patience.reconnect_timeout:g} s): {cause}"
                ) from exc
            if delay == FIRST_DELAY:
                log.warning(
                    "database connection lost during %s (%s); reconnecting for up to %g s",
                    what,
                    cause,
                    patience.reconnect_timeout,
                )
            time.sleep(min(delay, patience.reconnect_timeout - waited))  # the last try at the deadline
            delay = min(delay * 2, MAX_DELAY)


S = TypeVar("S", bound=_OnEngine)


def resilient(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A store method (one idempotent transaction) that rides out faults as ``run`` does."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run(self.engine, self.patience, lambda: method(self, *args, **kwargs), method.__name__)

    return wrapper
