"""What every command shares: the opened collection, the consoles, and one way to fail.

Commands are thin: parse, call one ``Collection`` method, print. A question
the library refuses (unknown work, bad weights, not built yet, a locked
home) exits with status 2 and ``error: <message>`` on stderr; a source that
stopped answering, or a database locked or unreachable for longer than its
stated wait, exits with 1 and says how to resume.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from asterism.collection import Collection
from asterism.ingest.pipeline import IngestLocked
from asterism.recommend.query import QueryError
from asterism.sources.base import SourceError
from asterism.store.retry import StoreUnavailable

console = Console()
errors = Console(stderr=True)


def collection(ctx: typer.Context) -> Collection:
    """The collection the global ``--home`` option opened (see ``cli.main``)."""
    found = ctx.find_root().obj
    assert isinstance(found, Collection)
    return found


def fail(message: object, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned ``Exit``."""
    errors.print(f"[red]error:[/] {escape(str(message))}", highlight=False)  # messages echo user input
    return typer.Exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn the library's refusals into a message and an exit status instead of a traceback."""
    try:
        yield
    except SourceError as exc:
        raise fail(f"{exc}\nRe-run the same command to resume from the last stored page.", 1) from None
    except StoreUnavailable as exc:
        hint = "Re-run the command when the database is back; an ingest resumes from its last stored page."
        raise fail(f"{exc}\n{hint}", 1) from None
    except (QueryError, IngestLocked) as exc:
        raise fail(exc) from None
