"""A phone-photo simulator: what a visitor's snapshot of a stored work looks like.

Recognition is evaluated by photographing each stored picture and asking the
system to find it again. The stored picture is a clean, flat, colour-managed
scan; a visitor's photo is not: the painting sits in a moulding on a coloured
wall, taken a little from the side and tilted, under spotlights that leave
glare on varnish or glass and a tungsten or daylight cast, sometimes with
another visitor's head in the way, slightly shaken, and finally downscaled and
JPEG-compressed by the upload path (to a long side of about 512 px). The
parameters below are this instrument's claim of realism, so they are stated
here; each scales with a strength in [0, 1] (``STRENGTHS`` names three grades).

- frame: a moulding 4-12 % of the picture's short side wide (gilt, dark wood,
  black or white), bevelled (light inner and outer lips, a shading gradient
  across the profile, lit from above) and grained; a third of the time a
  passe-partout mat 4-10 % wide; the top member casts a soft shadow inwards.
- wall: the framed work on a wall (off-white, grey, museum red, green, blue)
  lit from above (vertical gradient), with mild blotches and grain and a soft
  drop shadow; the work covers ~85 % of the photo at mild down to ~35 % at
  strong, off-centre. Implies a frame.
- perspective: standing off-axis (left, right or below): the far edge
  shrinks and moves in, corner displacements up to 15 % of the size at 1.
- rotation: hand-held tilt, up to ±8° at 1.
- crop: framed too tightly, the phone's frame cuts 5 % (mild) to 15 % (strong)
  of the picture's width and height, not centred, and the rest fills the photo.
- glare: one or two elliptical Gaussian highlights pushing towards white
  (peak up to 0.7) plus a veiling haze of up to 8 %.
- colour: residual white-balance cast from warm tungsten to cool daylight
  (red/blue gains up to ±25 %) and exposure up to ±0.8 EV, in linear light.
- blur: Gaussian defocus, sigma up to 2.5 px at a 512 px long side, with
  hand-shake motion blur 40 % of the time.
- occlusion: a visitor's head and shoulders, dark to mid-tone, irregular and
  out of focus, rising from the bottom of the work (possibly at a corner),
  covering up to 20 % of the work at 1.
- lowres: resampled through a long side of ~320 px (mild) to 128 px (strong).
- jpeg: re-encoded at quality ~85 (mild) down to ~30 (strong).

Uncovered areas after perspective or rotation show the wall (or a plain
neutral grey when there is no wall). ``combined`` applies every transform but
crop (a photo framed too tightly shows no wall) in the order light meets the
camera: frame, wall, perspective, rotation, glare, colour, occlusion, blur,
lowres, jpeg.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from asterism.embed.base import RGB

TRANSFORMS: tuple[str, ...] = (
    "frame", "wall", "perspective", "rotation", "crop", "glare", "colour", "blur", "jpeg", "occlusion", "lowres",
)  # fmt: skip
COMBINED_ORDER: tuple[str, ...] = (
    "frame", "wall", "perspective", "rotation", "glare", "colour", "occlusion", "blur", "lowres", "jpeg",
)  # fmt: skip
STRENGTHS: dict[str, float] = {"mild": 0.33, "moderate": 0.66, "strong": 1.0}

FRAME_COLOURS: dict[str, tuple[float, float, float]] = {
    "gilt": (0.76, 0.60, 0.30), "dark wood": (0.30, 0.18, 0.10),
    "black": (0.10, 0.10, 0.10), "white": (0.90, 0.89, 0.86),
}  # fmt: skip
FRAME_GRAIN = {"gilt": 0.10, "dark wood": 0.14, "black": 0.05, "white": 0.03}
WALL_COLOURS: dict[str, tuple[float, float, float]] = {
    "off-white": (0.88, 0.86, 0.82), "grey": (0.60, 0.60, 0.59), "museum red": (0.50, 0.14, 0.15),
    "museum green": (0.22, 0.35, 0.29), "museum blue": (0.18, 0.25, 0.38),
}  # fmt: skip
NEUTRAL = (0.72, 0.71, 0.69)

Float = npt.NDArray[np.float32]


@dataclass
class _Shot:
    """What later steps need to know about earlier ones."""

    long: int  # the photo's long side
    framed: bool = False
    backdrop: Float | None = None  # the bare wall behind the work, once there is one
    box: tuple[int, int, int, int] | None = None  # the framed work's (top, left, bottom, right) on the wall


def _between(mild: float, strong: float, s: float) -> float:
    """The value at strength s, given the values at the mild and strong grades."""
    return mild + (strong - mild) * (s - STRENGTHS["mild"]) / (1.0 - STRENGTHS["mild"])


def _noise(shape: tuple[int, int], sx: float, sy: float, rng: np.random.Generator) -> Float:
    """Smooth Gaussian noise of unit standard deviation, correlated over (sx, sy) pixels."""
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sx, sigmaY=sy)
    return np.asarray(field / (field.std() + 1e-6), dtype=np.float32)


def _resize(img: Float, width: int, height: int) -> Float:
    shrink = width * height < img.shape[0] * img.shape[1]
    return np.asarray(
        cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    )


def _fit_long(img: Float, long: int) -> Float:
    h, w = img.shape[:2]
    k = long / max(h, w)
    return _resize(img, max(1, round(w * k)), max(1, round(h * k)))


def _frame(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """Mat (sometimes) and a bevelled, grained moulding; scaled back to the photo's long side."""
    h, w = img.shape[:2]
    short = min(h, w)
    if rng.random() < 0.35:  # passe-partout with a bright bevel cut round the opening
        m = max(2, round(short * rng.uniform(0.04, 0.10)))
        cut = max(1, round(short * 0.006))
        mat = np.empty((h + 2 * m, w + 2 * m, 3), np.float32)
        mat[:] = np.array((0.93, 0.91, 0.86), np.float32) * rng.uniform(0.94, 1.02)
        mat *= 1 + 0.015 * _noise(mat.shape[:2], 1.0, 1.0, rng)[..., None]
        mat[m - cut : m + h + cut, m - cut : m + w + cut] = 0.97
        mat[m : m + h, m : m + w] = img
        img, h, w = mat, h + 2 * m, w + 2 * m
    fw = max(2, round(short * (0.04 + 0.08 * s * rng.uniform(0.5, 1.0))))
    kind = list(FRAME_COLOURS)[rng.integers(len(FRAME_COLOURS))]
    H, W = h + 2 * fw, w + 2 * fw
    yy, xx = np.mgrid[0:H, 0:W]
    dists = np.stack([yy, H - 1 - yy, xx, W - 1 - xx])  # to the top, bottom, left, right outer edge
    side, dist = dists.argmin(0), dists.min(0).astype(np.float32)
    t = dist / fw  # 0 at the outer lip, 1 at the inner lip; the argmin mitres the corners
    profile = (
        0.78
        + 0.22 * np.sin(np.pi * t)
        + 0.28 * (np.exp(-((t / 0.07) ** 2)) + np.exp(-(((1 - t) / 0.07) ** 2)))
    )
    light = np.array([1.15, 0.78, 1.04, 0.90], np.float32)[side]  # lit from above, a little from the left
    along_x = _noise((H, W), fw * 2.0, 0.6, rng)  # grain runs along each member
    along_y = _noise((H, W), 0.6, fw * 2.0, rng)
    grain = np.where(side < 2, along_x, along_y) + 0.5 * _noise((H, W), 0.7, 0.7, rng)
    base = np.array(FRAME_COLOURS[kind], np.float32) * rng.uniform(0.9, 1.1)
    moulding = base * (profile * light * (1 + FRAME_GRAIN[kind] * grain))[..., None]
    out = np.where((t < 1)[..., None], moulding, 0).astype(np.float32)
    inside = np.clip(dist - fw, 0, None)  # the top member's shadow falls on the picture below it
    shadow = np.where(side == 0, 0.35, 0.10) * np.exp(-inside / (0.12 * fw + 1))
    out[fw : fw + h, fw : fw + w] = img * (1 - shadow[fw : fw + h, fw : fw + w, None])
    shot.framed = True
    return _fit_long(out, shot.long)


def _wall(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """The framed work hung on a lit wall, covering ~85 % (mild) to ~35 % (strong) of a 4:3 photo."""
    if not shot.framed:
        img = _frame(img, s, rng, shot)
    h, w = img.shape[:2]
    ph, pw = (shot.long, round(shot.long * 0.75)) if h >= w else (round(shot.long * 0.75), shot.long)
    colour = WALL_COLOURS[list(WALL_COLOURS)[rng.integers(len(WALL_COLOURS))]]
    top, bottom = rng.uniform(1.02, 1.10), rng.uniform(0.80, 0.92)
    gradient = np.linspace(top, bottom, ph, dtype=np.float32)[:, None, None]
    blotch = (
        1
        + 0.025 * _noise((ph, pw), shot.long / 10, shot.long / 10, rng)
        + 0.01 * _noise((ph, pw), 0.8, 0.8, rng)
    )
    wall = np.array(colour, np.float32) * rng.uniform(0.94, 1.06) * gradient * blotch[..., None]
    frac = float(np.clip(_between(0.85, 0.35, s), 0.3, 1.0)) * rng.uniform(0.92, 1.05)
    k = min(math.sqrt(frac * ph * pw / (h * w)), 0.97 * min(ph / h, pw / w))
    fh, fw = max(1, round(h * k)), max(1, round(w * k))
    y0 = round((ph - fh) * (0.5 + rng.uniform(-0.3, 0.3)))
    x0 = round((pw - fw) * (0.5 + rng.uniform(-0.3, 0.3)))
    cast = np.zeros((ph, pw), np.float32)  # the frame's soft drop shadow, offset down
    dy = round(0.012 * shot.long)
    cast[min(ph, y0 + dy) : min(ph, y0 + fh + dy), x0 + dy // 2 : x0 + fw + dy // 2] = 1
    cast = np.asarray(cv2.GaussianBlur(cast, (0, 0), 0.015 * shot.long), np.float32)
    out = wall * (1 - 0.35 * cast[..., None])
    out[y0 : y0 + fh, x0 : x0 + fw] = _resize(img, fw, fh)
    shot.backdrop = wall.astype(np.float32)
    shot.box = (y0, x0, y0 + fh, x0 + fw)
    return out.astype(np.float32)


def _warp(img: Float, matrix: npt.NDArray[np.float64], shot: _Shot) -> Float:
    """Warp by a homography; where the image leaves, show the bare wall (or plain grey)."""
    h, w = img.shape[:2]
    warped = cv2.warpPerspective(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    cover = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    back = shot.backdrop if shot.backdrop is not None else np.full_like(img, NEUTRAL)
    return np.asarray(warped + (1 - cover[..., None]) * back, dtype=np.float32)


def _perspective(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """Viewed from the left, right or below: the far edge shrinks (along) and recedes (across)."""
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)  # tl, tr, br, bl
    a = 0.15 * s * rng.uniform(0.6, 1.0)
    dst = src.copy()
    where = rng.choice(["left", "right", "below"], p=[0.4, 0.4, 0.2])
    if where == "left":  # far edge on the right
        dst[1] += (-a * w, a / 2 * h)
        dst[2] += (-a * w, -a / 2 * h)
    elif where == "right":
        dst[0] += (a * w, a / 2 * h)
        dst[3] += (a * w, -a / 2 * h)
    else:  # from below, the top edge is far
        dst[0] += (a / 2 * w, a * h)
        dst[1] += (-a / 2 * w, a * h)
    dst += rng.uniform(-0.02, 0.02, (4, 2)).astype(np.float32) * s * np.array([w, h], np.float32)
    dst += (np.array([w, h], np.float32) - dst.min(0) - dst.max(0)) / 2  # keep the work centred
    return _warp(img, np.asarray(cv2.getPerspectiveTransform(src, dst), np.float64), shot)


def _rotation(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    h, w = img.shape[:2]
    angle = 8.0 * s * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
    matrix = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), [0, 0, 1]])
    return _warp(img, matrix.astype(np.float64), shot)


def _crop(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    h, w = img.shape[:2]
    keep = 1.0 - _between(0.05, 0.15, s)
    ch, cw = max(8, round(h * keep)), max(8, round(w * keep))
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return _resize(np.ascontiguousarray(img[top : top + ch, left : left + cw]), w, h)


def _glare(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """Spotlight reflections on the work's varnish or glass, mostly in its upper half, and a veiling haze."""
    h, w = img.shape[:2]
    y0, x0, y1, x1 = shot.box or (0, 0, h, w)
    size = max(y1 - y0, x1 - x0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.zeros((h, w), np.float32)
    for _ in range(rng.integers(1, 3)):
        cy, cx = y0 + (y1 - y0) * rng.uniform(0.1, 0.6), x0 + (x1 - x0) * rng.uniform(0.15, 0.85)
        sa = size * rng.uniform(0.04, 0.14)
        sb = sa * rng.uniform(0.35, 0.8)
        th = rng.uniform(0, np.pi)
        u = (xx - cx) * math.cos(th) + (yy - cy) * math.sin(th)
        v = -(xx - cx) * math.sin(th) + (yy - cy) * math.cos(th)
        light += 0.7 * s * rng.uniform(0.6, 1.0) * np.exp(-0.5 * ((u / sa) ** 2 + (v / sb) ** 2))
    light = np.clip(light + 0.08 * s * rng.uniform(0.5, 1.0), 0, 1)
    return np.asarray(img + (1 - img) * light[..., None], np.float32)


def _colour(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """White-balance cast (tungsten warm to daylight cool) and exposure, applied in linear light."""
    warmth = s * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
    gains = np.array([1 + 0.25 * warmth, 1 + 0.03 * warmth, 1 - 0.25 * warmth], np.float32)
    exposure = 2.0 ** (0.8 * s * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0]))
    linear = np.clip(img, 0, 1) ** 2.2 * gains * exposure
    return np.asarray(np.clip(linear, 0, 1) ** (1 / 2.2), dtype=np.float32)


def _blur(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    sigma = 2.5 * s * rng.uniform(0.6, 1.0) * shot.long / 512
    out = np.asarray(cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.1 else img)
    if rng.random() < 0.4:  # hand shake: a short line kernel at a random angle
        n = max(3, round(3 * sigma) | 1)
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2] = 1
        spin = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), rng.uniform(0, 180), 1.0)
        kernel = np.asarray(cv2.warpAffine(kernel, spin, (n, n)), np.float32)
        out = cv2.filter2D(out, -1, kernel / kernel.sum())
    return np.asarray(out, dtype=np.float32)


def _occlusion(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    """Another visitor's head and shoulders, standing in front of the work, out of focus.

    The visitor rises from the bottom of the work (at a corner or anywhere
    along it) and, being nearer the camera, their body runs off the bottom of
    the photo; the target area is a fraction of the work, not of the photo.
    """
    h, w = img.shape[:2]
    y0, x0, y1, x1 = shot.box or (0, 0, h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along, depth = xx - (x0 + (x1 - x0) * rng.uniform(-0.1, 1.1)), y1 - yy
    wobble = 0.12 * _noise((h, w), shot.long / 25, shot.long / 25, rng)
    target = 0.20 * s * rng.uniform(0.6, 1.0) * (y1 - y0) * (x1 - x0)

    def head(r: float) -> Float:
        return np.asarray((along / (0.75 * r)) ** 2 + ((depth - 1.9 * r) / (0.95 * r)) ** 2, np.float32)

    def shape(r: float) -> npt.NDArray[np.bool_]:
        shoulders = (along / (2.2 * r)) ** 2 + np.maximum(0, (depth + 0.3 * r) / (1.3 * r)) ** 2
        return np.asarray(np.minimum(head(r), shoulders) < 1 + wobble)

    r = max(y1 - y0, x1 - x0) / 8
    for _ in range(3):  # rescale to the target area inside the work (area grows about as r squared)
        r *= math.sqrt(target / max(1, int(shape(r)[y0:y1, x0:x1].sum())))
    mask = cv2.GaussianBlur(shape(r).astype(np.float32), (0, 0), 2 + 0.006 * shot.long)
    hair = np.array([0.10, 0.08, 0.07], np.float32) * rng.uniform(0.6, 2.5)
    cloth = rng.uniform(0.05, 0.45) * (1 + rng.uniform(-0.3, 0.3, 3)).astype(np.float32)
    body = (
        np.where((head(r) < 1.2)[..., None], hair, cloth)
        * (1 + 0.06 * _noise((h, w), 12, 12, rng))[..., None]
    )
    return np.asarray(img * (1 - mask[..., None]) + body * mask[..., None], dtype=np.float32)


def _lowres(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    h, w = img.shape[:2]
    long = min(max(h, w), round(np.clip(_between(320, 128, s), 96, 512)))
    small = _fit_long(img, long)
    return _resize(small, w, h)


def _jpeg(img: Float, s: float, rng: np.random.Generator, shot: _Shot) -> Float:
    quality = int(np.clip(round(_between(85, 30, s)), 20, 95))
    bgr = cv2.cvtColor(_to_rgb(img), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.float32) / np.float32(255)


_STEPS: dict[str, Callable[[Float, float, np.random.Generator, _Shot], Float]] = {
    "frame": _frame, "wall": _wall, "perspective": _perspective, "rotation": _rotation, "crop": _crop, "glare": _glare,
    "colour": _colour, "blur": _blur, "jpeg": _jpeg, "occlusion": _occlusion, "lowres": _lowres,
}  # fmt: skip


def _to_rgb(img: Float) -> RGB:
    return np.asarray(np.clip(np.rint(img * 255), 0, 255), dtype=np.uint8)


def photograph(rgb: RGB, transform: str, strength: float, rng: np.random.Generator) -> RGB:
    """A simulated phone photo of ``rgb`` under one transform (or ``"combined"``) at a strength in [0, 1].

    Deterministic for the generator's state. The photo's long side is the
    input's long side; "frame" and "wall" change the aspect ratio.
    """
    steps = COMBINED_ORDER if transform == "combined" else (transform,)
    if transform != "combined" and transform not in _STEPS:
        raise ValueError(f"unknown transform {transform!r}; expected one of {(*TRANSFORMS, 'combined')}")
    s = float(np.clip(strength, 0.0, 1.0))
    img: Float = np.ascontiguousarray(rgb[..., :3], dtype=np.float32) / np.float32(255)
    shot = _Shot(long=max(rgb.shape[:2]))
    for step in steps:
        img = _STEPS[step](img, s, rng, shot)
    return _to_rgb(img)
