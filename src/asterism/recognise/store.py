"""What recognition needs from the build, on disk: global descriptors, their projection, local features.

One folder per build under ``<home>/recognition/`` and a ``current`` file
naming it: a build writes a whole new folder, then replaces ``current``
atomically (temp + fsync + rename), so a reader sees the old set or the new
one, never half of each, and a killed build leaves the previous set served.

Local features are fixed-size rows (``STORED_KEYPOINTS`` points a work,
padded; ``counts`` says how many are real) so that they are plain ``.npy``
arrays opened memory-mapped: a query touches only the rows of its shortlist
(~10 works), and 100k works take 100k × 500 × 36 B ≈ 1.8 GB of disk but only
the pages read in memory. Global descriptors (GeM of the backbone's last
feature map, 1280-d) are centred, projected on their principal axes and
whitened (learned on the collection at build time, as in off-the-shelf
instance retrieval) to ``GLOBAL_DIM`` dimensions: smaller and, measured on
the samples, better at telling works apart than the raw pooled vector.

Each work is also described as a phone would see it from across a room:
``SOFT_VIEWS`` are the stored picture shrunk to a small size and softened,
each with its own index (``soft-<n>.faiss``, same projection). A photo that is
blurred, small in the frame and partly covered looks far more like those
views than like the sharp original: on 60 simulated photos (everything
combined, moderate) the right work ranked first by global similarity for
39 photos against the originals alone and 51 with the best of the views too,
and among the first five for 48 against 57.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from asterism.embed.base import l2_normalise
from asterism.files import atomic_write, fsync_folder
from asterism.index.faiss_index import VectorIndex
from asterism.recognise.local import STORED_KEYPOINTS, LocalFeatures

FORMAT = 2  # 2: soft views
GLOBAL_DIM = 256
PCA_SAMPLE = 20_000  # works the projection is learned on
WHITEN_SHRINK = 0.5  # eigenvalue power of the whitening (1 = full whitening, 0 = none): tames tiny axes
SOFT_VIEWS = ((160, 1.0), (96, 1.0))  # (long side in px, Gaussian sigma at that size) of each soft view


def soft_views(rgb: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    """The picture as seen small and out of focus: shrunk, softened, brought back to its size.

    Brought back up so the backbone sees the same input size as for the original (its
    descriptor then differs by the lost detail only, not by scale).
    """
    h, w = rgb.shape[:2]
    out = []
    for long, sigma in SOFT_VIEWS:
        scale = min(1.0, long / max(h, w))
        small = cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        small = cv2.GaussianBlur(small, (0, 0), sigma)
        out.append(np.ascontiguousarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8))
    return out


def _one_blas_thread() -> Any:
    """OpenBLAS on one thread for a while: its threads spin, so on 2 busy cores an SVD of
    267 x 1280 took 1.5-8.8 s with 2 threads and 0.16 s with one (measured 2026-11-30, load ~10)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # via scikit-learn
    except ImportError:  # pragma: no cover - then as many threads as OpenBLAS likes
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class Projection:
    """Centre, principal axes and scales: raw pooled descriptor → unit vector of ``dim`` dimensions."""

    mean: npt.NDArray[np.float32]
    axes: npt.NDArray[np.float32]  # (dim, raw)
    scales: npt.NDArray[np.float32]  # (dim,)

    @classmethod
    def learn(cls, raw: npt.NDArray[np.float32], dim: int = GLOBAL_DIM, seed: int = 0) -> Projection:
        rows = l2_normalise(np.asarray(raw, dtype=np.float32))
        if len(rows) > PCA_SAMPLE:
            rows = rows[np.random.default_rng(seed).choice(len(rows), PCA_SAMPLE, replace=False)]
        mean = rows.mean(axis=0)
        with _one_blas_thread():
            _, singular, axes = np.linalg.svd(rows - mean, full_matrices=False)
        keep = max(1, min(dim, len(rows) - 1, axes.shape[0]))
        variance = (singular[:keep] ** 2) / max(len(rows) - 1, 1)
        scales = 1.0 / np.power(variance + 1e-6, WHITEN_SHRINK / 2)
        return cls(mean.astype(np.float32), axes[:keep].astype(np.float32), scales.astype(np.float32))

    def __call__(self, raw: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        rows = l2_normalise(np.asarray(raw, dtype=np.float32))
        return l2_normalise(((rows - self.mean) @ self.axes.T) * self.scales)

    @property
    def dim(self) -> int:
        return int(self.axes.shape[0])


@dataclass
class RecognitionSet:
    """The built recognition data of a collection, opened read-only."""

    folder: Path
    ids: npt.NDArray[np.int64]
    shas: list[str]
    projection: Projection
    index: VectorIndex
    soft: list[VectorIndex]  # one index per soft view (``SOFT_VIEWS``), same ids and projection
    points: npt.NDArray[np.float16]  # (n, STORED_KEYPOINTS, 2), memory-mapped
    descriptors: npt.NDArray[np.uint8]  # (n, STORED_KEYPOINTS, 32), memory-mapped
    counts: npt.NDArray[np.int16]
    sizes: npt.NDArray[np.int32]  # (n, 2): width, height the points are in
    raw: npt.NDArray[np.float16]  # (n, 1280) pooled descriptors before projection, memory-mapped (reuse)
    soft_raw: npt.NDArray[np.float16]  # (n, views, 1280) the soft views' pooled descriptors (reuse)
    model: str
    _rows: dict[int, int]

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, artwork_id: int) -> int | None:
        return self._rows.get(int(artwork_id))

    def stored_row(self, row: int) -> Row:
        """A work's data as the build wrote it (reused by the next build when its picture did not change)."""
        n = int(self.counts[row])
        width, height = (int(v) for v in self.sizes[row])
        local = LocalFeatures(
            np.asarray(self.points[row, :n], dtype=np.float32),
            np.ascontiguousarray(self.descriptors[row, :n]),
            (width, height),
        )
        return Row(
            int(self.ids[row]),
            self.shas[row],
            np.asarray(self.raw[row], dtype=np.float32),
            local,
            np.asarray(self.soft_raw[row], dtype=np.float32),
        )

    def local(self, artwork_id: int) -> LocalFeatures | None:
        """The stored work's keypoints (read from the mapped arrays on demand)."""
        row = self.row(artwork_id)
        if row is None:
            return None
        n = int(self.counts[row])
        width, height = (int(v) for v in self.sizes[row])
        return LocalFeatures(
            np.asarray(self.points[row, :n], dtype=np.float32),
            np.ascontiguousarray(self.descriptors[row, :n]),
            (width, height),
        )


def current(root: Path) -> Path | None:
    """The folder of the recognition set in service, if a build has made one."""
    pointer = root / "current"
    if not pointer.is_file():
        return None
    folder = root / pointer.read_text().strip()
    return folder if folder.is_dir() else None


def open_set(root: Path) -> RecognitionSet | None:
    folder = current(root)
    if folder is None:
        return None
    state = json.loads((folder / "state.json").read_text())
    if state.get("format") != FORMAT:
        return None
    ids = np.load(folder / "ids.npy")
    projection = np.load(folder / "projection.npz")
    return RecognitionSet(
        folder,
        ids,
        list(state["shas"]),
        Projection(projection["mean"], projection["axes"], projection["scales"]),
        VectorIndex.load(folder / "global.faiss"),
        [VectorIndex.load(folder / f"soft-{view}.faiss") for view in range(len(SOFT_VIEWS))],
        np.load(folder / "points.npy", mmap_mode="r"),
        np.load(folder / "descriptors.npy", mmap_mode="r"),
        np.load(folder / "counts.npy"),
        np.load(folder / "sizes.npy"),
        np.load(folder / "raw.npy", mmap_mode="r"),
        np.load(folder / "soft.npy", mmap_mode="r"),
        str(state.get("model", "")),
        {int(i): row for row, i in enumerate(ids)},
    )


@dataclass
class Row:
    """One work's recognition data as the build computes it."""

    artwork_id: int
    sha256: str
    raw: npt.NDArray[np.float32]  # the pooled descriptor, before projection
    local: LocalFeatures
    soft: npt.NDArray[np.float32]  # (views, raw dim): the soft views' pooled descriptors


def write_set(root: Path, rows: list[Row], model: str, *, dim: int = GLOBAL_DIM) -> Path:
    """Write a new recognition set and make it current (the previous one is removed after the switch)."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"set-{uuid.uuid4().hex[:12]}"
    folder = root / name
    folder.mkdir()
    try:
        _write(folder, rows, model, dim)
        fsync_folder(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    atomic_write(root / "current", lambda path: path.write_text(name))
    for other in root.glob("set-*"):  # the old set, and any folder a killed build left behind
        if other.is_dir() and other.name != name:
            shutil.rmtree(other, ignore_errors=True)
    return folder


def _write(folder: Path, rows: list[Row], model: str, dim: int) -> None:
    n = len(rows)
    ids = np.array([r.artwork_id for r in rows], dtype=np.int64)
    raw = np.stack([r.raw for r in rows]).astype(np.float32) if rows else np.zeros((0, 1), np.float32)
    projection = Projection.learn(raw, dim) if n > 1 else _identity(raw)
    vectors = projection(raw) if n else np.zeros((0, projection.dim), np.float32)
    views = len(SOFT_VIEWS)
    for r in rows:
        if r.soft.shape != (views, *raw.shape[1:]):
            raise ValueError(
                f"soft views of shape {r.soft.shape} for work {r.artwork_id}: expected {(views, *raw.shape[1:])}"
            )
    soft = (
        np.stack([r.soft for r in rows]).astype(np.float32) if rows else np.zeros((0, views, 1), np.float32)
    )
    points = np.zeros((n, STORED_KEYPOINTS, 2), dtype=np.float16)
    descriptors = np.zeros((n, STORED_KEYPOINTS, 32), dtype=np.uint8)
    counts = np.zeros(n, dtype=np.int16)
    sizes = np.zeros((n, 2), dtype=np.int32)
    for i, row in enumerate(rows):
        k = min(len(row.local), STORED_KEYPOINTS)
        points[i, :k] = row.local.points[:k]
        descriptors[i, :k] = row.local.descriptors[:k]
        counts[i] = k
        sizes[i] = row.local.size
    for name, array in (
        ("ids", ids), ("points", points), ("descriptors", descriptors), ("counts", counts), ("sizes", sizes),
        ("raw", raw.astype(np.float16)), ("soft", soft.astype(np.float16)),
    ):  # fmt: skip
        np.save(folder / f"{name}.npy", array)
    np.savez(folder / "projection.npz", mean=projection.mean, axes=projection.axes, scales=projection.scales)
    VectorIndex.build(ids, vectors, model=model).save(folder / "global.faiss")
    for view in range(views):
        seen = projection(soft[:, view]) if n else np.zeros((0, projection.dim), np.float32)
        VectorIndex.build(ids, seen, model=model).save(folder / f"soft-{view}.faiss")
    state: dict[str, Any] = {"format": FORMAT, "model": model, "shas": [r.sha256 for r in rows], "count": n}
    (folder / "state.json").write_text(json.dumps(state))
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _identity(raw: npt.NDArray[np.float32]) -> Projection:
    dim = raw.shape[1]
    return Projection(np.zeros(dim, np.float32), np.eye(dim, dtype=np.float32), np.ones(dim, np.float32))
