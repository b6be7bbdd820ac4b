"""Sources by name: the one place that turns a name, settings and options into a source.

Every caller (the CLI, tests, scripts) gets the same wiring this way: the
polite client from ``settings.http`` (with the identification AIC asks for),
the image byte cap from ``settings.images.max_bytes``, the public API base
URLs unless a test points one at a replay, and the source's own checkpoint
``key``. Local collections page by ``settings.batch_size``; the network
sources keep their own page sizes, tuned to each API (and AIC's stored
cursors are page numbers, which a different page size would shift).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asterism.config import Settings
from asterism.sources import aic, commons, met
from asterism.sources.aic import AicSource, aic_headers
from asterism.sources.base import Source, SourceError
from asterism.sources.commons import CommonsSource
from asterism.sources.http import PoliteClient
from asterism.sources.iiif import IiifSource
from asterism.sources.local import LocalSource
from asterism.sources.met import MetSource
from asterism.sources.met_csv import MetCsvSource
from asterism.sources.samples import sample_source

PathArg = str | os.PathLike[str]


def _path(value: PathArg, source: str) -> Path:
    """A str or Path option as a Path; anything else is the caller's mistake, said plainly."""
    if not isinstance(value, str | os.PathLike):
        raise SourceError(f"source {source!r} needs a path (str or Path), not {type(value).__name__}")
    return Path(value)


def _local(
    settings: Settings, folder: PathArg, collection: str | None = None, limit: int | None = None
) -> Source:
    return LocalSource(
        _path(folder, "local"), collection=collection, page_size=settings.batch_size, limit=limit
    )


def _sample(settings: Settings, folder: PathArg, limit: int | None = None) -> Source:
    return sample_source(_path(folder, "sample"), page_size=settings.batch_size, limit=limit)


def _aic(
    settings: Settings,
    query: str | None = None,
    public_domain: bool = True,
    image_size: str = "843,",
    limit: int | None = None,
    base_url: str | None = None,
) -> Source:
    return AicSource(
        PoliteClient(settings.http, headers=aic_headers(settings.http)),
        query=query,
        public_domain=public_domain,
        image_size=image_size,
        limit=limit,
        base_url=base_url or aic.API,
        max_image_bytes=settings.images.max_bytes,
    )


def _met(
    settings: Settings,
    department_ids: list[int] | None = None,
    query: str | None = None,
    public_domain: bool = True,
    limit: int | None = None,
    base_url: str | None = None,
) -> Source:
    return MetSource(
        PoliteClient(settings.http),
        department_ids=department_ids,
        query=query,
        public_domain=public_domain,
        limit=limit,
        base_url=base_url or met.API,
        max_image_bytes=settings.images.max_bytes,
    )


def _met_csv(
    settings: Settings, path: PathArg, public_domain: bool = True, limit: int | None = None
) -> Source:
    return MetCsvSource(_path(path, "met-csv"), public_domain=public_domain, limit=limit)


def _commons(
    settings: Settings,
    category: str | None = None,
    search: str | None = None,
    thumb_width: int = 843,
    limit: int | None = None,
    base_url: str | None = None,
) -> Source:
    return CommonsSource(
        PoliteClient(settings.http),
        category=category,
        search=search,
        thumb_width=thumb_width,
        limit=limit,
        base_url=base_url or commons.API,
        max_image_bytes=settings.images.max_bytes,
    )


def _iiif(
    settings: Settings,
    target: PathArg,
    language: str | None = None,
    canvases: str | None = None,
    limit: int | None = None,
) -> Source:
    mode = canvases or settings.iiif.canvases
    if mode not in ("work", "each"):
        raise SourceError(f"canvases must be 'work' (a manifest is one artwork) or 'each', not {mode!r}")
    return IiifSource(
        PoliteClient(settings.http),
        str(target),
        language=language or settings.iiif.language,
        canvases="each" if mode == "each" else "work",
        image_size=max(settings.images.thumb_sizes.values()),
        max_depth=settings.iiif.max_depth,
        limit=limit,
        max_image_bytes=settings.images.max_bytes,
    )


_BUILDERS: dict[str, Callable[..., Source]] = {
    "local": _local,
    "sample": _sample,
    "aic": _aic,
    "met": _met,
    "met-csv": _met_csv,
    "commons": _commons,
    "iiif": _iiif,
}
SOURCE_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def _takes(builder: Callable[..., Source]) -> str:
    """The options of a source as a caller writes them, e.g. ``folder, limit=None``."""
    params = list(inspect.signature(builder).parameters.values())[1:]  # settings is always given
    return ", ".join(str(p.replace(annotation=inspect.Parameter.empty)) for p in params)


def open_source(name: str, settings: Settings, *args: Any, **options: Any) -> Source:
    """The source called ``name``, built from ``settings`` and its own options.

    Raises ``SourceError`` for an unknown name, for arguments the source does
    not take (checked before any client is opened), and whatever the source
    itself refuses (e.g. the Met with neither departments nor a query).
    """
    builder = _BUILDERS.get(name)
    if builder is None:
        raise SourceError(f"unknown source {name!r}; known sources: {', '.join(SOURCE_NAMES)}")
    try:
        inspect.signature(builder).bind(settings, *args, **options)
    except TypeError as exc:
        raise SourceError(f"bad arguments for source {name!r}: {exc}; it takes {_takes(builder)}") from None
    return builder(settings, *args, **options)
