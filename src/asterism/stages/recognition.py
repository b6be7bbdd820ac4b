"""The recognition stage: each served work's global descriptor and local features, for photo recognition.

Reader → mapper → writer like the embedding stage: worker threads decode the
stored picture at ``FEATURE_SIZE``, find its ORB keypoints and make its soft
views (OpenCV and Pillow release the GIL) while the main thread runs the
backbone for the GeM descriptors of the picture and its views in small batches. A work whose picture did not change since the
last set (same id, same sha256, same backbone) is copied from it, so a
rebuild after adding a few works costs a few works. The set is written
whole and switched atomically (``recognise/store.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.base import RGB
from asterism.embed.featurize import read_rgb
from asterism.home import Home, OutsideHome
from asterism.recognise.local import FEATURE_SIZE, LocalFeatures, describe
from asterism.recognise.store import FORMAT, Row, open_set, soft_views, write_set
from asterism.shapes import Artwork

BATCH = 8
Progress = Callable[[str, int, int | None], None]


@dataclass
class RecognitionReport:
    works: int = 0
    computed: int = 0
    reused: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)  # (artwork id, reason)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.computed > 0 or self.works != self.reused


def model_key(backbone: EfficientNetLite0) -> str:
    return f"recognition-{FORMAT}+{backbone.info.key}"


def _read(path: Path) -> tuple[list[RGB], LocalFeatures]:
    """The picture and its soft views (the backbone's inputs), and the picture's keypoints."""
    rgb = read_rgb(path, FEATURE_SIZE)
    return [rgb, *soft_views(rgb)], describe(rgb)


def build_recognition(
    artworks: Sequence[Artwork],
    home: Home,
    backbone: EfficientNetLite0,
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> RecognitionReport:
    """Write a new recognition set for the served works with a picture, unless nothing changed."""
    started = time.perf_counter()
    report = RecognitionReport()
    key = model_key(backbone)
    works = [a for a in artworks if a.image is not None and a.id is not None]
    previous = open_set(home.recognition)
    old: dict[tuple[int, str], int] = {}
    if previous is not None and previous.model == key:
        old = {
            (int(i), sha): row for row, (i, sha) in enumerate(zip(previous.ids, previous.shas, strict=True))
        }
    rows: dict[int, Row] = {}
    todo: list[tuple[Artwork, Path]] = []
    for work in works:
        assert work.image is not None and work.id is not None
        found = old.get((work.id, work.image.sha256))
        if found is not None and previous is not None:
            rows[work.id] = previous.stored_row(found)
            continue
        try:
            todo.append((work, home.file(work.image.path)))
        except OutsideHome as exc:
            report.failures.append((work.id, str(exc)))
    report.reused = len(rows)
    if not todo and previous is not None and len(rows) == len(previous.ids):
        report.works = len(rows)
        report.seconds = time.perf_counter() - started
        return report  # the same works with the same pictures: nothing to write
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recognition") as pool:
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            futures = [pool.submit(_read, path) for _, path in chunk]
            pictures: list[tuple[Artwork, list[RGB], LocalFeatures]] = []
            for (work, _), future in zip(chunk, futures, strict=True):
                try:
                    views, local = future.result()
                    pictures.append((work, views, local))
                except Exception as exc:  # a bad file fails that work, never the build
                    report.failures.append((int(work.id or 0), f"{type(exc).__name__}: {exc}"))
            if pictures:
                inputs = [view for _, views, _ in pictures for view in views]
                descriptors = backbone.run(inputs, texture=False).descriptor
                per = len(inputs) // len(pictures)
                for n, (work, _, local) in enumerate(pictures):
                    assert work.id is not None and work.image is not None
                    raw = descriptors[n * per : (n + 1) * per]
                    rows[work.id] = Row(work.id, work.image.sha256, raw[0], local, raw[1:])
                    report.computed += 1
            if progress:
                progress("recognition", min(start + BATCH, len(todo)), len(todo))
    ordered = [rows[i] for i in sorted(rows)]
    if ordered:
        write_set(home.recognition, ordered, key)
    report.works = len(ordered)
    report.seconds = time.perf_counter() - started
    return report
