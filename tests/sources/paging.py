"""Shared helpers of the source tests: drain a source's pages (closing it), list the ids seen."""

from __future__ import annotations

import asyncio
from typing import Any

from asterism.sources.base import Page


def collect(source: Any, cursor: dict[str, Any] | None = None) -> list[Page]:
    """Every page the source yields from ``cursor``, its client closed afterwards."""

    async def run() -> list[Page]:
        try:
            return [page async for page in source.pages(cursor)]
        finally:
            await source.aclose()

    return asyncio.run(run())


def ids_of(pages: list[Page]) -> list[str]:
    return [r.artwork.source_id for p in pages for r in p.records]
