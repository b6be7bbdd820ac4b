"""Find the picture in a photo of it: the frame's inner edge, rectified, with frame and wall cut away.

A visitor's photo shows the work inside its frame on a wall, seen off-axis.
The global descriptors that pick the candidates describe the whole picture
they are given (palette, layout, texture), so the frame and the wall weigh on
them as much as the work does: measured on the AIC paintings, the formal
nearest neighbour of "frame + a little wall" was the right work 21 % of the
time. So before describing the photo we look for the work in it:

1. **The wall.** Galleries hang works on walls of one colour, so the photo's
   border is mostly wall. Pixels far (in CIELAB) from the border's median
   colour are "not wall"; the largest such blob, closed and filled, is the
   framed work. Its outline is four lines fitted by RANSAC to the blob's top,
   bottom, left and right profiles (``_fitted_quad``): a visitor in front of
   the work joins the blob, but bends only part of one profile, which the fit
   ignores; the convex hull would follow the visitor down to the photo's edge
   (measured: combined phone photos at moderate strength, 83 → 87 % top-1).
2. **The frame.** Rectified (a homography to an upright rectangle of the
   quad's own proportions), the frame is a band along each side, and a
   moulding (or a mat) runs parallel to its side: along the side each line
   of it is nearly one colour, whatever its profile across. The first line,
   walking in, that varies along the side as paint does is the inner edge
   (``_inner_edge``), searched within the outer ``FRAME_BAND`` of each side.
3. **Edges, as a second opinion.** Canny edges' closed contours that reduce
   to a convex quadrilateral of a sensible size are kept too (walls that are
   not one colour, photos with no wall at all), and so are quads spanned by
   the longest straight edges (``lines.py``): a visitor across one corner
   breaks the frame's contour and joins the wall's blob, but leaves three
   sides and part of the fourth straight. Both kinds are ranked by how much of
   their outline lies on edges: a contour through the visitor's shoulder lies
   on edges along little of its quad.

The wall's outline (and the frame inside it) comes first, then at most
``EDGE_REGIONS`` edge-made candidates, best first, none within 3 % of a region
kept before it (``quads.same``: the same rectangle found twice would take the
place of a different one). The caller keeps the whole photo as a fallback, and
the recogniser's verification (``recogniser.py``) decides which, if any, is the
work. ``Recogniser.crops`` describes at most four crops, so where a wall's
outline was found the edge-made candidates are rarely described: their ranking
matters when there is no wall to subtract. A photo of a sculpture or an object
yields no convincing quadrilateral, so its description is the whole photo's, as
before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from asterism.embed.base import RGB
from asterism.recognise.lines import edge_map, line_quads
from asterism.recognise.quads import Quad, on_edges, order_corners, same, sensible, support

WORK_SIZE = 512  # locate on a copy of about this long side: corners are scaled back
FRAME_BAND = 0.22  # the inner edge lies within this share of each side of the outer quad
WALL_DISTANCE = 18.0  # CIELAB ΔE from the wall's colour that counts as "not wall"
PAINT_SPREAD = 2.5  # paint varies along a side this many times more than a moulding's line does ...
MIN_SPREAD = 6.0  # ... and by at least this much more (CIELAB units, 0–255 scale as OpenCV gives)
EDGE_REGIONS = 3  # quads from edges (closed contours and straight lines) kept after the wall's outline


@dataclass(frozen=True)
class Region:
    """A candidate picture region: its corners in the photo and the rectified crop."""

    corners: Quad
    crop: RGB
    how: str  # "frame" (inner edge), "outline" (outer edge of the framed work), "edges", "lines", "photo"


def rectify(rgb: RGB, corners: Quad, long_side: int = WORK_SIZE) -> RGB:
    """The quad warped to an upright rectangle with the proportions of its sides."""
    tl, tr, br, bl = corners
    width = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    scale = long_side / max(width, height, 1.0)
    w, h = max(round(width * scale), 8), max(round(height * scale), 8)
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    out: RGB = np.asarray(cv2.warpPerspective(rgb, matrix, (w, h), flags=cv2.INTER_AREA), dtype=np.uint8)
    return out


def _quad_of(contour: npt.NDArray[Any]) -> Quad | None:
    """A contour reduced to a convex quadrilateral, or None."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.02, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return order_corners(approx.reshape(4, 2).astype(np.float32))
    return None


def _wall_outline(lab: npt.NDArray[np.float32]) -> Quad | None:
    """The outer edge of what is not wall, as four corners (None without a clear wall)."""
    h, w = lab.shape[:2]
    border = max(2, min(h, w) // 40)
    ring = np.concatenate(
        [lab[:border].reshape(-1, 3), lab[-border:].reshape(-1, 3),
         lab[:, :border].reshape(-1, 3), lab[:, -border:].reshape(-1, 3)]
    )  # fmt: skip
    wall = np.median(ring, axis=0)
    spread = np.median(np.linalg.norm(ring - wall, axis=1))
    if spread > WALL_DISTANCE:  # the border is not one colour: no wall to subtract
        return None
    mask = (np.linalg.norm(lab - wall, axis=2) > max(WALL_DISTANCE, 3 * spread)).astype(np.uint8)
    kernel = np.ones((5, 5), np.uint8)
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2), dtype=np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    areas = [cv2.contourArea(c) for c in contours]
    largest = np.asarray(contours[int(np.argmax(areas))])
    blob = np.zeros_like(mask)
    cv2.drawContours(blob, [largest], -1, 1, thickness=cv2.FILLED)
    for quad in (_fitted_quad(blob), _quad_of(largest)):
        if quad is not None and sensible(quad, float(h * w)):
            return quad
    return None


def _fitted_quad(blob: npt.NDArray[np.uint8]) -> Quad | None:
    """Four lines fitted robustly to the blob's top, bottom, left and right profiles, intersected.

    A visitor standing in front of the work joins its blob and bulges out of one side; the convex
    hull follows the bulge, but along most of each side the profile is still the frame's straight
    edge, so a line fitted by RANSAC to the profile ignores the bulge.
    """
    if int(blob.sum()) < 100:
        return None
    filled = blob.astype(bool)
    columns = np.flatnonzero(filled.any(axis=0))
    rows = np.flatnonzero(filled.any(axis=1))
    top = filled[:, columns].argmax(axis=0).astype(np.float64)
    bottom = (blob.shape[0] - 1 - filled[::-1, columns].argmax(axis=0)).astype(np.float64)
    left = filled[rows].argmax(axis=1).astype(np.float64)
    right = (blob.shape[1] - 1 - filled[rows, ::-1].argmax(axis=1)).astype(np.float64)
    h, w = blob.shape
    fits = [  # a profile running along the photo's border is the occluder leaving the photo, not a frame
        _robust_line(columns[(v > 1) & (v < h - 2)].astype(np.float64), v[(v > 1) & (v < h - 2)])
        for v in (top, bottom)
    ]
    fits += [_robust_line(rows[(v > 1) & (v < w - 2)].astype(np.float64), v[(v > 1) & (v < w - 2)])
             for v in (left, right)]  # fmt: skip
    if any(f is None for f in fits):
        return None
    (a_top, b_top), (a_bottom, b_bottom), (a_left, b_left), (a_right, b_right) = fits  # type: ignore[misc]
    corners = []
    for a1, b1 in ((a_top, b_top), (a_bottom, b_bottom)):  # y = a1·x + b1
        for a2, b2 in ((a_left, b_left), (a_right, b_right)):  # x = a2·y + b2
            denominator = 1.0 - a1 * a2
            if abs(denominator) < 1e-6:
                return None
            x = (a2 * b1 + b2) / denominator
            corners.append((x, a1 * x + b1))
    return order_corners(np.array(corners, dtype=np.float32))


def _robust_line(
    u: npt.NDArray[np.float64], v: npt.NDArray[np.float64], tolerance: float = 2.5, tries: int = 60
) -> tuple[float, float] | None:
    """v = a·u + b through most of the points (RANSAC, seeded: the same photo, the same quad)."""
    if len(u) < 10:
        return None
    rng = np.random.default_rng(0)
    best: npt.NDArray[np.bool_] | None = None
    for _ in range(tries):
        i, j = rng.choice(len(u), 2, replace=False)
        if u[i] == u[j]:
            continue
        a = (v[j] - v[i]) / (u[j] - u[i])
        inside = np.abs(v - (a * u + v[i] - a * u[i])) < tolerance
        if best is None or inside.sum() > best.sum():
            best = inside
    if best is None or best.sum() < 0.3 * len(u):
        return None
    a, b = np.polyfit(u[best], v[best], 1)
    return float(a), float(b)


def _edge_quads(gray: npt.NDArray[np.uint8], limit: int = 3) -> list[Quad]:
    """Distinct convex quadrilaterals among the closed contours of Canny edges, largest first."""
    median = float(np.median(gray))
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 0.66 * median, 1.33 * median + 10)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    area = float(gray.shape[0] * gray.shape[1])
    found: list[Quad] = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:20]:
        quad = _quad_of(np.asarray(contour))  # a drawn line's two sides are two contours: one quad
        if quad is not None and sensible(quad, area) and not any(same(quad, q) for q in found):
            found.append(quad)
        if len(found) >= limit:
            break
    return found


def _inner_edge(crop: RGB) -> tuple[int, int, int, int] | None:
    """(top, right, bottom, left) insets of the frame's inner edge in a rectified framed work.

    A moulding (and a mat) runs parallel to its side: along the side, each line of pixels
    in the frame is nearly one colour, however many lips and bevels it has across. Paint is
    not. So, walking inwards from each side, the inner edge is the first line whose colour
    varies along the side clearly more than the frame's own lines do (for three lines running).
    """
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = lab.shape[:2]
    bands = (
        lab[: int(h * FRAME_BAND), w // 8 : -w // 8],  # top: rows, outside → in
        lab[h // 8 : -h // 8, ::-1][:, : int(w * FRAME_BAND)].transpose(1, 0, 2),  # right
        lab[::-1][: int(h * FRAME_BAND), w // 8 : -w // 8],  # bottom
        lab[h // 8 : -h // 8, : int(w * FRAME_BAND)].transpose(1, 0, 2),  # left
    )
    insets = []
    for band in bands:
        inset = _side_inset(band)
        if inset is None:
            return None
        insets.append(inset)
    top, right, bottom, left = insets
    return top, right, bottom, left


def _side_inset(band: npt.NDArray[np.float32]) -> int | None:
    """The first line (outside → in) of a side's band whose colour varies along the side like paint."""
    spread = np.linalg.norm(band.std(axis=1), axis=1)  # per line: colour variation along the side
    skip = 2  # the outline may hold a line of wall
    if len(spread) < skip + 8:
        return None
    frame = float(np.median(spread[skip : skip + 4]))
    bar = max(PAINT_SPREAD * frame, frame + MIN_SPREAD)
    above = spread > bar
    for i in range(skip + 3, len(spread) - 2):
        if above[i : i + 3].all():
            return i
    return None


def locate(rgb: RGB) -> list[Region]:
    """Candidate regions of the picture in a photo, most specific first (the whole photo not included)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIZE / max(h, w))
    small = cv2.resize(rgb, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    regions: list[Region] = []
    outline = _wall_outline(lab)
    if outline is not None:
        regions += _wall_regions(rgb, (outline / scale).astype(np.float32))
    gray = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    edges, near = edge_map(gray)
    found = [(quad, "edges") for quad in _edge_quads(gray)] + [
        (quad, "lines") for quad in line_quads(edges, near)
    ]
    if not found:
        return regions
    points = np.array([quad for quad, _ in found], dtype=np.float64)
    length = on_edges(points, support(points, near))  # more outline on edges comes first
    made = 0
    for i in np.argsort(-length, kind="stable"):
        quad, how = found[i]
        corners = (quad / scale).astype(np.float32)
        if any(same(corners, r.corners) for r in regions):
            continue  # a copy of a region already kept must not take a place of the EDGE_REGIONS
        regions.append(Region(corners, rectify(rgb, corners), how))
        made += 1
        if made == EDGE_REGIONS:
            break
    return regions


def _wall_regions(rgb: RGB, corners: Quad) -> list[Region]:
    """The wall's outline and, when a frame's inner edge is found inside it, that inner region first."""
    crop = rectify(rgb, corners)
    outline = Region(corners, crop, "outline")
    inner = _inner_edge(crop)  # a frame is looked for inside the wall's outline only
    if inner is None:
        return [outline]
    top, right, bottom, left = inner
    ch, cw = crop.shape[:2]
    if cw - left - right <= cw // 2 or ch - top - bottom <= ch // 2:
        return [outline]
    inside = np.ascontiguousarray(crop[top : ch - bottom, left : cw - right])
    return [Region(_inset(corners, crop.shape, inner), inside, "frame"), outline]


def _inset(corners: Quad, shape: tuple[int, ...], inner: tuple[int, int, int, int]) -> Quad:
    """The inner edge's corners in the photo (the crop's inset rectangle mapped back)."""
    h, w = shape[:2]
    top, right, bottom, left = inner
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    back = cv2.getPerspectiveTransform(target, corners.astype(np.float32))
    box = np.array(
        [[left, top], [w - 1 - right, top], [w - 1 - right, h - 1 - bottom], [left, h - 1 - bottom]],
        dtype=np.float32,
    )
    mapped: Quad = cv2.perspectiveTransform(box[None], back)[0].astype(np.float32)
    return mapped
