"""The formal vector: palette, composition and texture, kept as separable parts.

Formal affinity is about how a picture looks, not what it shows, so it is
built from three hand-chosen parts rather than a classifier's semantic
features:

- **palette**: a smoothed joint histogram in CIELAB (perceptual lightness and
  the two colour axes), Hellinger-mapped (square root) so shared colours count
  more than exact proportions. A greyscale copy keeps its composition and
  texture but loses almost all palette similarity.
- **composition**: the layout of light and dark on a 12×12 grid plus where
  the edges are on an 8×8 grid, each standardised, so brightness shifts and
  size changes do not matter.
- **texture**: channel correlations of early CNN feature maps (see
  ``backbone``), the brushwork/grain statistic.

Each part is L2-normalised and scaled by the square root of its weight before
concatenation, so the formal cosine is exactly the weighted mean of the three
part cosines, and ``part_similarities`` can tell which part made two works
alike ("similar palette").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from asterism.embed.base import RGB, Vectors, l2_normalise

L_BINS, AB_BINS, AB_RANGE = 4, 8, 80.0
LUMA_GRID, EDGE_GRID, WORK_SIZE = 12, 8, 64
PARTS: tuple[str, ...] = ("palette", "composition", "texture")
Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FormalLayout:
    """Where each part sits in the formal vector, and its weight."""

    dims: tuple[int, ...]
    weights: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)

    @property
    def dim(self) -> int:
        return sum(self.dims)

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in zip(PARTS, self.dims, strict=True):
            out[name] = slice(start, start + size)
            start += size
        return out


def srgb_to_lab(rgb: RGB) -> Array:
    """sRGB (uint8, ...x3) to CIELAB (D65): L in [0, 100], a/b roughly [-128, 127]."""
    c = rgb.astype(np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float32
    )
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lab = np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    )
    return lab.astype(np.float32)


def lab_to_hex(lab: Array) -> str:
    """One Lab colour to #rrggbb (for showing dominant colours)."""
    lightness, a, b = (float(v) for v in lab)
    fy = (lightness + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0
    xyz = np.array([fx, fy, fz], dtype=np.float64)
    xyz = np.where(xyz > 0.206893, xyz**3, (xyz - 16.0 / 116.0) / 7.787) * np.array([0.95047, 1.0, 1.08883])
    matrix = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    linear = np.clip(matrix @ xyz, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    r, g, bl = (round(float(v) * 255) for v in np.clip(srgb, 0, 1))
    return f"#{r:02x}{g:02x}{bl:02x}"


def _smooth(hist: Array) -> Array:
    """Separable [1, 2, 1]/4 smoothing on every axis: a colour near a bin edge counts for both bins."""
    out = hist
    for axis in range(hist.ndim):
        padded = np.pad(out, [(1, 1) if a == axis else (0, 0) for a in range(hist.ndim)], mode="edge")
        lower = np.take(padded, np.arange(0, out.shape[axis]), axis=axis)
        centre = np.take(padded, np.arange(1, out.shape[axis] + 1), axis=axis)
        upper = np.take(padded, np.arange(2, out.shape[axis] + 2), axis=axis)
        out = (lower + 2 * centre + upper) / 4.0
    return out.astype(np.float32)


def palette_histogram(lab: Array) -> Array:
    pixels = lab.reshape(-1, 3)
    l_idx = np.clip((pixels[:, 0] / 100.0 * L_BINS).astype(int), 0, L_BINS - 1)
    ab = np.clip((pixels[:, 1:] + AB_RANGE) / (2 * AB_RANGE) * AB_BINS, 0, AB_BINS - 1e-3).astype(int)
    hist = np.zeros((L_BINS, AB_BINS, AB_BINS), dtype=np.float32)
    np.add.at(hist, (l_idx, ab[:, 0], ab[:, 1]), 1.0)
    hist = _smooth((hist / max(len(pixels), 1)).astype(np.float32))
    return np.sqrt(hist.reshape(-1)).astype(np.float32)


def _standardise(values: Array) -> Array:
    centred = values - values.mean()
    std = float(centred.std())
    result: Array = (centred / std if std > 1e-6 else centred).astype(np.float32)
    return result


def _pool(values: Array, grid: int) -> Array:
    """Mean over a grid×grid layout (edge rows/columns that do not divide evenly are dropped)."""
    h, w = values.shape
    trimmed = values[: h - h % grid, : w - w % grid]
    cells = trimmed.reshape(grid, trimmed.shape[0] // grid, grid, trimmed.shape[1] // grid)
    pooled: Array = cells.mean(axis=(1, 3)).astype(np.float32)
    return pooled


def composition(lab: Array) -> Array:
    lightness = lab[..., 0]
    layout = _standardise(_pool(lightness, LUMA_GRID))
    gy, gx = np.gradient(lightness)
    edges = _standardise(_pool(np.hypot(gx, gy).astype(np.float32), EDGE_GRID))
    return np.concatenate([layout.reshape(-1), edges.reshape(-1)]).astype(np.float32)


def dominant_colours(lab: Array, k: int = 5, iterations: int = 10) -> list[tuple[str, float]]:
    """k-means in Lab on a small sample of pixels: [(#rrggbb, share)], largest share first.

    Deterministic: centres start at lightness quantiles, so the same picture always gives the
    same palette (explanations must not change between runs).
    """
    pixels = lab[::2, ::2].reshape(-1, 3).astype(np.float32)
    order = np.argsort(pixels[:, 0], kind="stable")
    centres = pixels[order[np.linspace(0, len(order) - 1, k).astype(int)]].copy()
    assignment = np.zeros(len(pixels), dtype=int)
    previous: np.ndarray | None = None
    for _ in range(iterations):
        distances = ((pixels[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        assignment = distances.argmin(axis=1)
        if previous is not None and np.array_equal(assignment, previous):
            break  # converged: the same assignment gives the same centres, every later pass included
        previous = assignment
        for j in range(k):
            members = pixels[assignment == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    shares = np.bincount(assignment, minlength=k) / len(pixels)
    result = [(lab_to_hex(centres[j]), float(shares[j])) for j in np.argsort(-shares) if shares[j] > 0.02]
    return result


@dataclass
class FormalParts:
    palette: Array
    composition: Array
    lab: Array
    colours: list[tuple[str, float]] | None = None  # dominant_colours(lab), when analysed ahead


def analyse(image: RGB) -> FormalParts:
    """Palette, composition and dominant colours of one picture (texture comes from the backbone batch)."""
    small = np.asarray(
        Image.fromarray(image).resize((WORK_SIZE, WORK_SIZE), Image.Resampling.BOX), dtype=np.uint8
    )
    lab = srgb_to_lab(small)
    return FormalParts(palette_histogram(lab), composition(lab), lab, dominant_colours(lab))


def layout_for(texture_dim: int, weights: tuple[float, float, float] | None = None) -> FormalLayout:
    """The layout for a texture size; part weights are normalised to sum to 1."""
    palette_dim = L_BINS * AB_BINS * AB_BINS
    dims = (palette_dim, LUMA_GRID**2 + EDGE_GRID**2, texture_dim)
    if weights is None:
        return FormalLayout(dims)
    total = sum(weights)
    if total <= 0 or min(weights) < 0:
        raise ValueError(f"formal part weights must be non-negative and not all zero, got {weights}")
    normalised = tuple(w / total for w in weights)
    return FormalLayout(dims, (normalised[0], normalised[1], normalised[2]))


def assemble(parts: list[FormalParts], texture: Array, layout: FormalLayout) -> Vectors:
    """Rows of [√w·palette | √w·composition | √w·texture], each part unit-length: unit rows."""
    palette = l2_normalise(np.stack([p.palette for p in parts]))
    comp = l2_normalise(np.stack([p.composition for p in parts]))
    tex = l2_normalise(texture)
    scaled = [np.sqrt(w) * m for w, m in zip(layout.weights, (palette, comp, tex), strict=True)]
    return np.concatenate(scaled, axis=1).astype(np.float32)


def reweight(vector: Array, layout: FormalLayout, parts: Sequence[float]) -> Array:
    """A query's formal vector whose dot product with stored vectors is Σ parts[p] · cos_p.

    Stored parts are scaled by √w (the build's weights), so multiplying the
    query's part p by parts[p] / w_p re-weighs the parts at query time, without
    re-embedding or rebuilding the index. A part built with weight 0 stays out.
    """
    out = np.array(vector, dtype=np.float32, copy=True)
    total = float(sum(parts)) or 1.0
    for (_, where), built, wanted in zip(layout.slices().items(), layout.weights, parts, strict=True):
        out[where] *= (wanted / total) / built if built > 0 else 0.0
    return out


def part_similarities(a: Array, b: Array, layout: FormalLayout) -> dict[str, float]:
    """Cosine of each part between two formal vectors (undoing the √weight scaling)."""
    return {
        name: float(np.dot(a[s], b[s]) / w) if w > 0 else 0.0
        for (name, s), w in zip(layout.slices().items(), layout.weights, strict=True)
    }
