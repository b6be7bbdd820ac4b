"""Straight edges in a photo, and the quadrilaterals four of them span.

The wall's blob and the closed edge contours (``locate.py``) both need the
frame's whole outline. A visitor across one corner of the frame breaks its
contour and, on a wall near their own colour, joins the blob: neither finds a
quad. Three sides and part of the fourth are still straight edges, though, and
a quad spanned by four straight lines is found where its corner is hidden. The
same measure, how much of a quad's outline lies on edges (``quads.support``,
``quads.on_edges``), ranks every edge-made candidate in ``locate``: a contour bent
round a visitor's shoulder lies on edges along little of the quad it reduces to.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from asterism.recognise.quads import Quad, on_edges, order_corners, same, shaped, support

LINE_CANNY = (20, 50)  # low Canny thresholds: blur and glare leave a frame's edges faint
LINE_SEGMENTS = 6  # longest distinct segments kept per direction: at most 15 × 15 quads to score
SIDE_SUPPORT = 0.3  # share of each side lying on an edge (something may hide the rest) ...
MEAN_SUPPORT = 0.6  # ... and of the four sides together
DISTINCT = 0.1  # line quads closer than this share of their size are one: the frame's inner and
# outer edges give four near-copies of its quad, and the recogniser's insets cut 6-12 % anyway


def line_quads(edges: npt.NDArray[np.uint8], near: npt.NDArray[np.float32], limit: int = 2) -> list[Quad]:
    """Quadrilaterals whose four sides lie along straight edges, even where something hides a corner.

    The longest distinct straight segments (probabilistic Hough on ``edge_map``) are split into
    near-horizontal and near-vertical; every pair of each spans a quad. A quad is kept when edges
    run along at least ``SIDE_SUPPORT`` of each side (the hidden part of a side has none) and
    ``MEAN_SUPPORT`` of all four, and quads are ranked by the length of outline on edges: the
    frame's outer edge is the largest such rectangle, a horizon inside the picture spans a smaller
    one.
    """
    h, w = edges.shape
    found = cv2.HoughLinesP(edges, 1, np.pi / 180, 30, minLineLength=0.12 * min(h, w), maxLineGap=8)
    if found is None:
        return []
    segments = found.reshape(-1, 4).astype(np.float64)
    angle = np.degrees(
        np.arctan2(np.abs(segments[:, 3] - segments[:, 1]), np.abs(segments[:, 2] - segments[:, 0]))
    )
    across, down = _distinct(segments[angle < 30]), _distinct(segments[angle > 60])
    if len(across) < 2 or len(down) < 2:
        return []
    a_pairs = np.array([(i, j) for i in range(len(across)) for j in range(i + 1, len(across))])
    d_pairs = np.array([(i, j) for i in range(len(down)) for j in range(i + 1, len(down))])
    a1, a2 = across[a_pairs[:, 0]], across[a_pairs[:, 1]]  # (P, 3) homogeneous lines
    d1, d2 = down[d_pairs[:, 0]], down[d_pairs[:, 1]]  # (Q, 3)
    # corners a1∩d1, a1∩d2, a2∩d2, a2∩d1: consecutive corners share a line, so they go round the quad
    corners = np.stack(
        [np.cross(a[:, None, :], d[None, :, :]) for a, d in ((a1, d1), (a1, d2), (a2, d2), (a2, d1))], axis=2
    ).reshape(-1, 4, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        points = corners[..., :2] / corners[..., 2:]
    points = points[np.isfinite(points).all(axis=(1, 2)) & (np.abs(points) < 4 * max(h, w)).all(axis=(1, 2))]
    if not len(points):
        return []
    share = support(points, near)
    score = on_edges(points, share)
    good = (share.min(axis=1) >= SIDE_SUPPORT) & (share.mean(axis=1) >= MEAN_SUPPORT) & shaped(points, h * w)
    out: list[Quad] = []
    for row in np.flatnonzero(good)[np.argsort(-score[good])]:
        quad = order_corners(points[row].astype(np.float32))
        if any(same(quad, q, DISTINCT) for q in out):  # the frame's inner and outer edges mix
            continue
        out.append(quad)
        if len(out) >= limit:
            break
    return out


def edge_map(gray: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Low-threshold Canny edges (blur and glare soften a frame's) and each pixel's distance to one."""
    edges = np.asarray(cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), *LINE_CANNY), dtype=np.uint8)
    near = np.asarray(cv2.distanceTransform((edges == 0).astype(np.uint8), cv2.DIST_L2, 3), dtype=np.float32)
    return edges, near


def _distinct(segments: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The longest ``LINE_SEGMENTS`` segments on different lines, as homogeneous lines (a, b, c).

    A frame's edge comes out of Hough as several overlapping pieces of one line; kept apart, they
    would fill the quota with one side.
    """
    length = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    kept: list[npt.NDArray[np.float64]] = []
    for segment in segments[np.argsort(-length)]:
        line = np.cross([segment[0], segment[1], 1.0], [segment[2], segment[3], 1.0])
        line /= np.hypot(line[0], line[1])
        middle = np.array([(segment[0] + segment[2]) / 2, (segment[1] + segment[3]) / 2, 1.0])
        if any(
            abs(float(k @ middle)) < 4.0 and abs(float(k[0] * line[1] - k[1] * line[0])) < 0.05 for k in kept
        ):
            continue  # within 4 px and ~3° of a longer one: the same edge
        kept.append(line)
        if len(kept) >= LINE_SEGMENTS:
            break
    return np.array(kept, dtype=np.float64).reshape(-1, 3)
