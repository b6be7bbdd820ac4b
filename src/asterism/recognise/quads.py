"""Quadrilaterals in a photo: the shape every locator returns, and the checks they share.

``locate.py`` finds the picture three ways (the wall's blob, closed edge contours,
straight edges: ``lines.py``); each gives four corners, and each candidate must
look like a picture seen in perspective before it is rectified and described.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

MIN_AREA = 0.08  # a candidate covers at least this share of the photo
MAX_AREA = 0.995  # ... and is not the photo's own border

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
    size = float(np.ptp(np.concatenate([a, b]), axis=0).max())
    return bool(np.abs(a - b).max() < tolerance * size)
