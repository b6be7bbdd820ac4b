"""How people name a work: the store's integer id, or the work's own name ``source:source_id``.

Store ids are short but belong to one data home; ``aic:27992`` or
``local:met-local/459027`` name the same work in any home built from the
same sources, so scripts, links and notes can use them. Everywhere a work is
named (CLI ``--id`` and ``connect``, API paths and batches, the library)
both forms are accepted and read here.
"""

from __future__ import annotations

from asterism.recommend.query import QueryError

WorkRef = int | str


class BadRef(QueryError):
    """Not a work name at all (HTTP 422)."""

    status = 422


def parse_ref(ref: WorkRef) -> int | tuple[str, str]:
    """``40`` or ``"40"`` → 40; ``"aic:27992"`` → ("aic", "27992"); anything else raises ``BadRef``."""
    if isinstance(ref, bool):
        raise BadRef(f"{ref!r} is not a work name")
    if isinstance(ref, int):
        return ref
    text = str(ref).strip().rstrip("/")  # a trailing slash from a URL names the same work
    if text.isascii() and text.isdigit():
        return int(text)
    source, sep, source_id = text.partition(":")
    if sep and source.strip() and source_id.strip():
        return source.strip(), source_id.strip()
    raise BadRef(f"{text!r} is not a work name: give an id (40) or source:source_id (aic:27992)")
