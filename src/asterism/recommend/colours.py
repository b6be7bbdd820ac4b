"""Colour names for explanations: "#2b4a7c" reads as "dark blue" to a person."""

from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np

from asterism.embed.formal import srgb_to_lab

MATCH_DELTA_E = 15.0  # CIE76 distance under which two palette colours count as the same colour
MIN_SHARE = 0.08  # a colour must cover this share of both pictures to be "shared"

_HUES = [(15, "red"), (40, "orange"), (65, "yellow"), (160, "green"), (195, "teal"), (255, "blue"),
         (290, "purple"), (335, "pink"), (360, "red")]  # fmt: skip


def hex_to_rgb(code: str) -> tuple[int, int, int]:
    value = code.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def colour_name(code: str) -> str:
    """A plain name from hue, lightness and saturation (browns, greys and ochres included)."""
    r, g, b = (c / 255 for c in hex_to_rgb(code))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    degrees = hue * 360
    if sat < 0.12 or light < 0.08 or light > 0.95:
        if light < 0.15:
            return "black"
        if light > 0.9:
            return "white"
        return "dark grey" if light < 0.4 else ("light grey" if light > 0.7 else "grey")
    name = next(label for limit, label in _HUES if degrees < limit)
    if name in ("orange", "red") and light < 0.35:
        return "brown" if name == "orange" else "dark red"
    if name == "yellow" and light < 0.45:
        return "ochre" if sat > 0.3 else "olive"
    if light < 0.3:
        return f"dark {name}"
    if light > 0.72:
        return f"light {name}" if name != "pink" else "pale pink"
    return name


@lru_cache(maxsize=65536)
def _lab(code: str) -> np.ndarray:
    lab: np.ndarray = srgb_to_lab(np.asarray([hex_to_rgb(code)], dtype=np.uint8))[0]
    return lab


def shared_colours(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> list[tuple[str, str]]:
    """Pairs (colour in a, colour in b) that match in Lab within MATCH_DELTA_E, both ≥ MIN_SHARE, a's order."""
    return [(x, y) for (x, _), (y, _) in colour_matches(a, b)]


Match = tuple[tuple[str, float], tuple[str, float]]


def colour_matches(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> list[Match]:
    """``shared_colours`` with each colour's share kept: ((hex in a, share), (hex in b, share)).

    A result's phrase and its swatches ask for the same pair: the second asks the memo.
    """
    return list(_matches(tuple(a), tuple(b)))


@lru_cache(maxsize=4096)
def _matches(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...]) -> tuple[Match, ...]:
    big_a = [(code, share) for code, share in a if share >= MIN_SHARE]
    big_b = [(code, share) for code, share in b if share >= MIN_SHARE]
    if not big_a or not big_b:
        return ()
    lab_a = np.stack([_lab(c) for c, _ in big_a])
    lab_b = np.stack([_lab(c) for c, _ in big_b])
    distance = np.linalg.norm(lab_a[:, None, :] - lab_b[None, :, :], axis=2)
    pairs, used = [], set()
    for i, colour in enumerate(big_a):
        j = int(np.argmin(distance[i]))
        if distance[i, j] <= MATCH_DELTA_E and j not in used:
            used.add(j)
            pairs.append((colour, big_b[j]))
    return tuple(pairs)
