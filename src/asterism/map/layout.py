"""The geometry of the collection map: one vector space laid out on the unit square, and works added to it.

A map is read by eye: a work's neighbours on the plane should be its
neighbours in the affinity, and a work once seen somewhere should stay there
when the collection grows, or the map a visitor learnt is lost at every
build. So there are two operations:

- ``lay_out``: the whole space at once with UMAP (cosine, 15 neighbours,
  seeded). With a ``random_state`` UMAP runs single-threaded and gives
  byte-identical coordinates for identical input on the same machine and
  library versions (measured in tests/stages/test_layout.py); under 16 works
  UMAP's spectral start is meaningless, so a small space is laid out along its
  two principal axes instead (also deterministic).
- ``place``: works added later go to the similarity-weighted mean of their
  ``PLACE_K`` nearest already-placed works (weights ``exp((s - s_max) / T)``,
  so the closest neighbour's cluster wins over a distant second one), plus a
  jitter of at most ``JITTER`` drawn from the work's id, so duplicates of a
  picture do not hide each other. A work's place depends on its own vector
  and the placed works only, not on the other new works (in another batch it
  differs by float rounding of the similarities, ~1e-7). Nothing already
  placed moves.

Coordinates are scaled uniformly (the aspect ratio of the layout is kept) into
[0, 1]² and stored as float32 in one ``.npz`` per map (``MapLayout``), sorted
by id, with a short hash of the vector each work was placed from: a work
whose vector changed (a new picture, a new model) is placed again.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from asterism.files import atomic_write
from asterism.index.vectors import Ids

Points = npt.NDArray[np.float32]  # (n, 2): x, y in [0, 1]
RowHashes = npt.NDArray[np.uint64]

SEED = 7
NEIGHBOURS = 15  # UMAP's n_neighbors: its default, local enough for clusters of a few works
MIN_DIST = 0.1  # UMAP's default: works stay readable as separate thumbnails
SMALL = 16  # fewer works than this: principal axes instead of UMAP
PLACE_K = 10  # neighbours a new work is placed among
TEMPERATURE = 0.05  # similarity scale of the placement weights (0.05 less similar: e^-1 the weight)
JITTER = 0.003  # at most this far (in unit-square units) from the weighted mean
_CHUNK = 1024  # query rows per similarity block: 1024 × 100k float32 = 400 MB at most


@dataclass(frozen=True)
class MapLayout:
    """One map: works by id (ascending), their place in [0, 1]², and a hash of the vector each came from."""

    ids: Ids
    xy: Points
    rows: RowHashes

    def __post_init__(self) -> None:
        if not (len(self.ids) == len(self.xy) == len(self.rows)):
            raise ValueError(f"{len(self.ids)} ids, {len(self.xy)} points, {len(self.rows)} row hashes")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls) -> MapLayout:
        return cls(np.zeros(0, np.int64), np.zeros((0, 2), np.float32), np.zeros(0, np.uint64))

    @classmethod
    def of(cls, ids: Any, xy: Any, rows: Any) -> MapLayout:
        """Sorted by id, in the stored dtypes."""
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        return cls(
            ids[order],
            np.ascontiguousarray(np.asarray(xy, dtype=np.float32)[order].reshape(-1, 2)),
            np.asarray(rows, dtype=np.uint64)[order],
        )

    def save(self, path: Path) -> None:
        """One ``.npz``, replaced atomically; the same map makes the same bytes (no time stamps in it)."""

        def write(temporary: Path) -> None:
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
                for name, array in (("ids", self.ids), ("xy", self.xy), ("rows", self.rows)):
                    member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                    with archive.open(member, "w", force_zip64=True) as handle:
                        np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> MapLayout:
        with np.load(path, allow_pickle=False) as stored:
            return cls(stored["ids"], stored["xy"], stored["rows"])

    def positions(self, ids: Ids) -> npt.NDArray[np.intp]:
        """Row of each id in this map, -1 where absent."""
        if len(self.ids) == 0:
            return np.full(len(ids), -1, dtype=np.intp)
        at = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        found: npt.NDArray[np.intp] = np.where(self.ids[at] == ids, at, -1).astype(np.intp)
        return found


def row_hashes(matrix: npt.NDArray[Any]) -> RowHashes:
    """64 bits of BLAKE2b per row of float32: equal hashes, the same vector (to the bit)."""
    rows = np.ascontiguousarray(matrix, dtype=np.float32)
    out = np.empty(len(rows), dtype=np.uint64)
    for i, row in enumerate(rows):
        out[i] = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
    return out


def normalise(xy: npt.NDArray[Any]) -> Points:
    """Scale into [0, 1]² by one factor for both axes (shapes stay shapes), the shorter axis centred."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(points) == 0:
        return np.zeros((0, 2), np.float32)
    low, high = points.min(axis=0), points.max(axis=0)
    span = float((high - low).max())
    if span <= 0:
        return np.full(points.shape, 0.5, dtype=np.float32)
    scaled = (points - low) / span + (1.0 - (high - low) / span) / 2.0
    result: Points = np.clip(scaled, 0.0, 1.0).astype(np.float32)
    return result


def _principal_axes(vectors: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The first two principal components, signs fixed (largest loading positive) so runs agree."""
    centred = np.asarray(vectors, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    projected: npt.NDArray[np.float64] = centred @ (axes * signs[:, None]).T
    if projected.shape[1] < 2:  # one work, or a space of one dimension
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
    return projected


def lay_out(
    vectors: npt.NDArray[Any],
    *,
    seed: int = SEED,
    neighbours: int = NEIGHBOURS,
    min_dist: float = MIN_DIST,
    epochs: int | None = None,
) -> Points:
    """The whole space on the unit square: UMAP (cosine), or principal axes under ``SMALL`` works.

    ``epochs``: UMAP's ``n_epochs`` (None: its default, 200 above 10k works, 500 below).
    """
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(matrix) < SMALL:
        return normalise(_principal_axes(matrix)) if len(matrix) else np.zeros((0, 2), np.float32)
    umap = _umap()
    model = umap.UMAP(
        n_neighbors=min(neighbours, len(matrix) - 1),
        min_dist=min_dist,
        metric="cosine",
        n_epochs=epochs,
        random_state=seed,  # single-threaded, reproducible
        transform_seed=seed,
        n_jobs=1,
        low_memory=True,
    )
    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state": as intended
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return normalise(model.fit_transform(matrix))


def _umap() -> Any:
    """UMAP, imported here (~2 s of CPU, paid only by a build that lays out), its compiled code kept on disk.

    UMAP's own numba functions are not declared ``cache=True`` (pynndescent's are), so every
    build process compiled them again before its first layout: ~10 s of CPU for a map of the
    767 samples, ~8 times the layout itself. ``enable_caching`` is what ``cache=True`` does at
    declaration; numba keeps the machine code beside the package (``umap/__pycache__``) or, when
    that is read-only, in the user's cache (``NUMBA_CACHE_DIR`` overrides both), keyed by the
    source file and the CPU, and compiles again when either changes. The same machine code
    gives the same coordinates to the byte (tests/stages/test_layout.py runs a layout in a fresh
    process with a cold and a warm cache). ``_cache`` is numba's own attribute, read to leave a
    function alone that is cached already.
    """
    import sys

    import umap
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if name != "umap" and not name.startswith("umap."):
            continue
        for function in list(vars(module).values()):
            own = isinstance(function, Dispatcher) and function.py_func.__module__ == name
            if own and isinstance(function._cache, NullCache):
                try:
                    function.enable_caching()
                except RuntimeError:  # no writable place for its cache: compiled in memory, as before
                    continue
    return umap


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser on arrays (uint64 arithmetic wraps, as it should here)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return mixed


def jitter(ids: Ids, seed: int = SEED, radius: float = JITTER) -> npt.NDArray[np.float64]:
    """A small offset per work, a function of its id and the seed only (no state, no order)."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    base = np.asarray(ids, dtype=np.int64).astype(np.uint64) ^ _mix(np.full(len(ids), seed, dtype=np.uint64))
    unit = 1.0 / float(1 << 53)
    u = (_mix(base + golden) >> np.uint64(11)).astype(np.float64) * unit
    v = (_mix(base + np.uint64(0x3C6EF372FE94F82A)) >> np.uint64(11)).astype(np.float64) * unit  # 2 golden
    angle, distance = 2 * np.pi * u, radius * np.sqrt(v)  # uniform over the disc
    return np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=1)


def place(
    ids: Ids,
    vectors: npt.NDArray[Any],
    placed_vectors: npt.NDArray[Any],
    placed_xy: Points,
    *,
    k: int = PLACE_K,
    seed: int = SEED,
) -> Points:
    """Where new works go in an existing map: among their nearest placed works, by dot product."""
    if len(placed_vectors) == 0:
        raise ValueError("nothing placed yet: lay the space out first")
    k = min(k, len(placed_vectors))
    anchors = np.asarray(placed_xy, dtype=np.float64)
    out = np.zeros((len(ids), 2), dtype=np.float64)
    for start in range(0, len(ids), _CHUNK):
        query = np.asarray(vectors[start : start + _CHUNK], dtype=np.float32)
        similar = query @ np.asarray(placed_vectors, dtype=np.float32).T
        nearest = np.argpartition(-similar, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(similar, nearest, axis=1).astype(np.float64)
        weights = np.exp((scores - scores.max(axis=1, keepdims=True)) / TEMPERATURE)
        out[start : start + len(query)] = (weights[..., None] * anchors[nearest]).sum(1) / weights.sum(1)[
            :, None
        ]
    result: Points = np.clip(out + jitter(ids, seed), 0.0, 1.0).astype(np.float32)
    return result


def nearest(
    matrix: npt.NDArray[Any], rows: npt.NDArray[np.intp], k: int, *, plane: bool
) -> npt.NDArray[np.intp]:
    """The ``k`` nearest other rows of each of ``rows``: by dot product, or on the plane by distance."""
    data: npt.NDArray[np.floating[Any]] = np.asarray(matrix, dtype=np.float64 if plane else np.float32)
    norms = (data.astype(np.float64) ** 2).sum(axis=1) if plane else None
    out = np.zeros((len(rows), k), dtype=np.intp)
    for start in range(0, len(rows), 256):
        chosen = rows[start : start + 256]
        score = (data[chosen] @ data.T).astype(np.float64)
        if norms is not None:  # -|a - b|² up to a constant per row: 2 a·b - |b|²
            score = 2 * score - norms[None, :]
        score[np.arange(len(chosen)), chosen] = -np.inf
        top = np.argpartition(-score, k - 1, axis=1)[:, :k]
        out[start : start + len(chosen)] = top
    return out


def neighbour_agreement(
    vectors: npt.NDArray[Any], xy: Points, *, k: int = 10, sample: int | None = None, seed: int = SEED
) -> float:
    """Mean share of a work's ``k`` nearest map neighbours that are among its ``k`` nearest in the vectors.

    Chance is about k / (n - 1); 1.0 is a map that keeps every neighbourhood. ``sample``: measure
    on that many works drawn at random (the full measure is quadratic).
    """
    n = len(vectors)
    if n <= k:
        raise ValueError(f"{n} works: need more than k = {k}")
    rows = np.arange(n, dtype=np.intp)
    if sample is not None and sample < n:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False)).astype(np.intp)
    in_space = nearest(vectors, rows, k, plane=False)
    on_map = nearest(xy, rows, k, plane=True)
    shared = [len(np.intersect1d(a, b)) for a, b in zip(in_space, on_map, strict=True)]
    return float(np.mean(shared)) / k
