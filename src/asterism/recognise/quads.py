"""Quadrilaterals in a photo: the shape every locator returns, and the checks and score they share.

``locate.py`` finds the picture three ways (the wall's blob, closed edge contours,
straight edges: ``lines.py``); each gives four corners, and each candidate must
look like a picture seen in perspective before it is rectified and described
(``sensible``, or ``shaped`` for many at once). ``support`` and ``on_edges``
measure how much of a quad's outline lies on edges, the score that ranks the
candidates made from edges.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

MIN_AREA = 0.08  # a candidate covers at least this share of the photo
MAX_AREA = 0.995  # ... and is not the photo's own border
LINE_SAMPLES = 64  # points tested along each side of a quad for edges under it

Quad = npt.NDArray[np.float32]  # 4 × 2 corners (x, y), clockwise from top-left


def order_corners(points: npt.NDArray[np.float32]) -> Quad:
    """Four points as top-left, top-right, bottom-right, bottom-left (by sums and differences)."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32
    )


def sensible(quad: Quad, area: float) -> bool:
    """Big enough, not the photo itself, and not too far from a rectangle seen in perspective."""
    share = abs(cv2.contourArea(quad)) / area
    if not MIN_AREA <= share <= MAX_AREA:
        return False
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    return bool(sides.min() > 0.25 * sides.max())  # a 1:4 picture is fine; a sliver is not


def shaped(points: npt.NDArray[np.float64], area: float) -> npt.NDArray[np.bool_]:
    """``sensible`` and convex, for N quads at once (N × 4 corners in order round the quad)."""
    sides = np.roll(points, -1, axis=1) - points
    turns = (
        sides[..., 0] * np.roll(sides, -1, axis=1)[..., 1]
        - sides[..., 1] * np.roll(sides, -1, axis=1)[..., 0]
    )
    convex = (turns > 0).all(axis=1) | (turns < 0).all(axis=1)
    x, y = points[..., 0], points[..., 1]
    share = 0.5 * np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)) / area
    lengths = np.linalg.norm(sides, axis=2)
    ok: npt.NDArray[np.bool_] = (
        convex
        & (share >= MIN_AREA)
        & (share <= MAX_AREA)
        & (lengths.min(axis=1) > 0.25 * lengths.max(axis=1))
    )
    return ok


def same(a: Quad, b: Quad, tolerance: float = 0.03) -> bool:
    """Whether no corner of one is further from the other's than ``tolerance`` of their extent."""
    size = float(np.ptp(np.concatenate([a, b]), axis=0).max())
    return bool(np.abs(a - b).max() < tolerance * size)


def support(points: npt.NDArray[np.float64], near: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """(N, 4): the share of each side of N quads (N × 4 corners, in order) that lies on an edge."""
    h, w = near.shape
    t = np.linspace(0.0, 1.0, LINE_SAMPLES)[None, None, :, None]
    start, end = points[:, :, None, :], np.roll(points, -1, axis=1)[:, :, None, :]
    along = start + t * (end - start)  # (N, 4 sides, samples, xy)
    inside = (along[..., 0] >= 0) & (along[..., 0] <= w - 1) & (along[..., 1] >= 0) & (along[..., 1] <= h - 1)
    x = np.clip(along[..., 0], 0, w - 1).astype(np.intp)
    y = np.clip(along[..., 1], 0, h - 1).astype(np.intp)
    share: npt.NDArray[np.float64] = ((near[y, x] <= 2.0) & inside).mean(axis=2)
    return share


def on_edges(points: npt.NDArray[np.float64], share: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Length of each quad's outline that lies on edges: the larger, the more it is *the* rectangle."""
    sides = np.linalg.norm(points - np.roll(points, -1, axis=1), axis=2)
    length: npt.NDArray[np.float64] = (share * sides).sum(axis=1)
    return length
