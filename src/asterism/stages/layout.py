"""The layout stage: the collection map, one 2-D layout per affinity and one for the hybrid.

Each map is made from the vectors the index stage just wrote into this
generation: ``formal``, ``conceptual``, ``historical`` from their own index,
``hybrid`` from the composite index — each affinity's unit vectors scaled by
√(default weight) and concatenated, so that a dot product is the weighted
cosine the recommender ranks by (``index/composite.py``).

Incremental, so that a map people have learnt does not reshuffle at every
build (``map/layout.py`` for the maths):

- the same vectors (the index's digest) and the same parameters: nothing to do;
- otherwise the works already on the map whose vector is unchanged keep their
  exact coordinates; works that left the collection disappear; new works, and
  works whose vector changed, are placed among their nearest placed
  neighbours;
- the whole map is laid out again with UMAP only when asked
  (``asterism build --relayout``), when the parameters changed, when nothing
  was placed yet, or when the works to place exceed ``RELAYOUT_SHARE`` (half)
  of the map: past that, placing by the old neighbours would describe the
  new collection by the old one (a new model changes every vector: a relayout).

Every file is written with ``atomic_write`` into the new generation; a killed
build leaves the served generation's maps, and the next build redoes this.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asterism.embed.base import AFFINITIES
from asterism.files import atomic_write
from asterism.home import Home
from asterism.map import layout as geometry
from asterism.map.layout import MapLayout

HYBRID = "hybrid"
MAPS = (*(str(a) for a in AFFINITIES), HYBRID)
COMPOSITE = "composite"  # the index the hybrid map is made from (``stages/index.py``)
RELAYOUT_SHARE = 0.5
VERSION = 1  # of the layout method: a change lays every map out again


@dataclass
class LayoutReport:
    built: dict[str, str] = field(default_factory=dict)  # map -> "laid out N" | "placed N, removed M" | ...
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(state != "unchanged" for state in self.built.values())


def source_index(name: str) -> str:
    """Which index a map is made from."""
    return COMPOSITE if name == HYBRID else name


def parameters(seed: int, epochs: int | None) -> dict[str, Any]:
    """What decides a layout besides the vectors: another value lays the map out again."""
    return {
        "version": VERSION,
        "seed": seed,
        "neighbours": geometry.NEIGHBOURS,
        "min_dist": geometry.MIN_DIST,
        "epochs": epochs,
        "place_k": geometry.PLACE_K,
        "temperature": geometry.TEMPERATURE,
        "jitter": geometry.JITTER,
    }


def update_layout(
    previous: MapLayout | None,
    ids: np.ndarray,
    vectors: np.ndarray,
    *,
    relayout: bool = False,
    share: float = RELAYOUT_SHARE,
    seed: int = geometry.SEED,
    epochs: int | None = None,
) -> tuple[MapLayout, str]:
    """The map of ``ids`` (rows of ``vectors``) given the previous one: kept, placed or laid out anew."""
    ids = np.asarray(ids, dtype=np.int64)
    hashes = geometry.row_hashes(vectors)
    if previous is None or len(previous) == 0:
        relayout = True
    kept = np.zeros(len(ids), dtype=bool)
    at = np.full(len(ids), -1, dtype=np.intp)
    if not relayout and previous is not None:
        at = previous.positions(ids)
        kept = at >= 0
        kept[kept] = previous.rows[at[kept]] == hashes[kept]
    fresh = int((~kept).sum())
    if relayout or fresh > share * len(ids) or not kept.any():
        xy = geometry.lay_out(vectors, seed=seed, epochs=epochs)
        return MapLayout.of(ids, xy, hashes), f"laid out {len(ids)}"
    assert previous is not None
    xy = np.zeros((len(ids), 2), dtype=np.float32)
    xy[kept] = previous.xy[at[kept]]
    if fresh:
        placed_vectors = np.asarray(vectors)[kept]
        xy[~kept] = geometry.place(
            ids[~kept], np.asarray(vectors)[~kept], placed_vectors, xy[kept], seed=seed
        )
    removed = len(previous) - int((at >= 0).sum())
    return MapLayout.of(ids, xy, hashes), f"placed {fresh}, removed {removed}"


def build_layouts(
    home: Home, *, relayout: bool = False, seed: int = geometry.SEED, epochs: int | None = None
) -> LayoutReport:
    """Bring every map of generation ``home`` up to date with its indexes' vectors."""
    report = LayoutReport()
    wanted = parameters(seed, epochs)
    for name in MAPS:
        started = time.perf_counter()
        index = home.index(source_index(name))
        files = home.layout(name)
        if not (index.vectors.is_file() and index.state.is_file()):  # e.g. no composite yet
            if files.points.is_file():  # the index went away: so does its map (a hard link here)
                files.points.unlink()
                files.state.unlink(missing_ok=True)
                report.built[name] = "removed"
            continue
        digest = json.loads(index.state.read_text()).get("digest")
        state = json.loads(files.state.read_text()) if files.state.is_file() else {}
        same = state.get("digest") == digest and state.get("parameters") == wanted
        if same and not relayout and files.points.is_file():
            report.built[name] = "unchanged"
            continue
        previous = MapLayout.load(files.points) if files.points.is_file() else None
        if state.get("parameters") != wanted:
            previous = None  # other parameters: nothing of the old map can be kept
        ids = np.load(index.ids)
        vectors = np.load(index.vectors, mmap_mode="r")
        result, report.built[name] = update_layout(
            previous, ids, vectors, relayout=relayout, seed=seed, epochs=epochs
        )
        result.save(files.points)
        _save(files.state, {"digest": digest, "parameters": wanted, "count": len(result)})
        report.seconds[name] = time.perf_counter() - started
    return report


def _save(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(json.dumps(state, indent=1)))
