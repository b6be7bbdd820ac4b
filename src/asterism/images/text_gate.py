"""Is there text worth reading in this picture? A cheap gate in front of OCR.

Tesseract costs 0.3-2 s a picture and most pictures of a museum collection
hold no text it can read: on the 767 sample images a full OCR pass finds real
words in 5 (captions under prints and cartoons, a manuscript page), so two
thirds of a fresh build went to reading brushwork. This gate answers "could
OCR read something here?" in a few milliseconds, and only pictures it passes
are given to Tesseract (``stages/ocr.py``).

Method: writing is a row of marks of one size, on one baseline, on a plain
ground. On a grey copy at most ``GATE_SIDE`` pixels a side (never enlarged):

1. adaptive threshold (mean of a window about 1/20 of the long side, minus 15
   grey levels), once for dark marks and once on the inverted picture for
   light ones;
2. connected components that could be a character or a few merged ones: at
   least ``MIN_CHAR_HEIGHT`` pixels high, at most 1/8 of the long side, not
   wider than 6 heights, neither a speck nor a solid block;
3. those closed horizontally (by 1.2 median character heights) into candidate
   lines; a line is kept when it holds at least 5 character widths in at least
   2 marks, is at least 3 times as wide as high, 70 % of its marks are within
   [0.5, 1.6] of their median height and sit on their median baseline (within
   15 % of that height: an i's dot, a comma or a descender may stray), its
   marks hold 75 % of the ink in its box, and the ground in and just around the
   box is plain: the median absolute deviation of the background grey is under
   0.35 of the ink/ground contrast (0.25 for light marks, which highlights,
   pearls and glints imitate). Brushwork, hatching, foliage, textiles and
   ornament fail the last three tests; print and handwriting pass them.

One kept line is enough. The thresholds were tuned on the samples plus 139
sample pictures given a caption, a label or painted words, and checked on
another 140 such pictures the tuning never saw; ``bench/ocr_gate.py`` measures
it, figures in bench/RESULTS.md ("OCR behind a text gate"): every sample image
whose OCR yields a real word passes (5 of 5), 88.5 % of the others are skipped,
at 6 ms a 512-pixel picture on one loaded core (p95 9 ms); of the held-out
pictures, captions 35/35, labels 19/24, words painted over the picture 6/11.

Why this and not the alternatives, measured on the same 40 samples and load:
OpenCV's MSER region detector alone costs more (16 ms) than this whole gate
(13 ms) before its regions are grouped into lines; Tesseract's orientation
and script detection (``--psm 0``) takes 360 ms a picture, more than reading
it (290 ms), and its layout pass on the 512-pixel grey copy 160 ms; a learned
text detector (EAST, DBNet) needs weights this project cannot ship and a
network pass per picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

GATE_SIDE = 1024  # the grey copy's long side at most (pictures are never enlarged)
MIN_CHAR_HEIGHT = 5  # pixels: smaller print is not read by OCR either
MIN_CHARS = 5  # character widths in a line
MIN_ASPECT = 3.0  # a line is at least this many times as wide as high
MAX_BASELINE_SPREAD = 0.15  # of the characters' height
MIN_SHARE = 0.7  # of a line's marks that must be of its size, and on its baseline
MIN_PURITY = 0.75  # share of the line box's ink that belongs to its characters
# Background grey spread over ink/ground contrast, for dark marks and for light ones: light marks on
# a dark ground are rare in collections, and highlights, pearls and glints look like them.
MAX_GROUND_SPREAD = (0.35, 0.25)
GROUND_BAND = 0.3  # of the line height, looked at above and below the line

Grey = npt.NDArray[np.uint8]
Array = npt.NDArray[Any]  # what OpenCV hands back: integer arrays of its choosing


@dataclass(frozen=True)
class TextLines:
    """What the gate found: lines of text and the character widths in them."""

    lines: int
    chars: int

    @property
    def found(self) -> bool:
        return self.lines > 0


def gate_input(image: Image.Image, side: int = GATE_SIDE) -> Grey:
    """The grey copy the gate looks at: long side at most ``side``, never enlarged."""
    longest = max(image.size)
    if longest > side:
        factor = side / longest
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def has_text(image: Image.Image) -> bool:
    """True when the picture holds at least one line that looks like writing."""
    return text_lines(image).found


def text_lines(image: Image.Image) -> TextLines:
    """The lines of writing in ``image`` (dark on light or light on dark)."""
    return find_lines(gate_input(image))


def find_lines(grey: Grey) -> TextLines:
    """``text_lines`` on a grey array already at the gate's size."""
    height, width = grey.shape
    if min(height, width) < MIN_CHAR_HEIGHT * 2:
        return TextLines(0, 0)
    block = 2 * max(12, max(height, width) // 40) + 1  # odd, about 1/20 of the long side
    lines = chars = 0
    for picture, spread in zip((grey, 255 - grey), MAX_GROUND_SPREAD, strict=True):  # dark, then light
        found, counted = _lines(picture, block, spread)
        lines += found
        chars += counted
    return TextLines(lines, chars)


def _lines(grey: Grey, block: int, spread: float) -> tuple[int, int]:
    height, width = grey.shape
    ink = cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
    count, labels, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    fill = area / np.maximum(w * h, 1)
    tallest = max(MIN_CHAR_HEIGHT + 3, max(height, width) // 8)
    char = (
        (h >= MIN_CHAR_HEIGHT) & (h <= tallest) & (w <= 6 * h) & (area >= 6) & (fill > 0.12) & (fill < 0.95)
    )
    char[0] = False  # the background
    ids = np.flatnonzero(char)
    if len(ids) < 2:
        return 0, 0
    keep = np.zeros(count, np.uint8)
    keep[ids] = 1
    marks = keep[labels]
    gap = max(3, int(np.median(h[ids]) * 1.2))
    closed = cv2.morphologyEx(marks, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    n_lines, line_labels, boxes, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    line_of = line_labels[centres[ids, 1].astype(int), centres[ids, 0].astype(int)]
    members = np.bincount(line_of, minlength=n_lines)
    widths = np.bincount(line_of, np.maximum(1.0, np.round(w[ids] / (0.8 * h[ids]))), minlength=n_lines)
    lx, ly, lw, lh = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    shaped = (members >= 2) & (widths >= MIN_CHARS) & (lw >= MIN_ASPECT * lh)
    shaped[0] = False
    candidates = np.flatnonzero(shaped)
    if not len(candidates):
        return 0, 0
    order = np.argsort(line_of, kind="stable")
    starts = np.searchsorted(line_of[order], candidates)
    heights, bottoms = h[ids][order], (stats[ids, 1] + h[ids])[order]
    all_ink = cv2.integral(ink)
    char_ink = cv2.integral(marks)
    found = chars = 0
    for line, start in zip(candidates, starts, strict=True):
        end = start + members[line]
        if not _one_line(heights[start:end], bottoms[start:end], int(lh[line])):
            continue
        x0, y0, x1, y1 = int(lx[line]), int(ly[line]), int(lx[line] + lw[line]), int(ly[line] + lh[line])
        total = _box_sum(all_ink, x0, y0, x1, y1)
        if total <= 0 or _box_sum(char_ink, x0, y0, x1, y1) < MIN_PURITY * total:
            continue
        band = max(2, round(GROUND_BAND * lh[line]))
        top, bottom = max(0, y0 - band), min(height, y1 + band)
        if _plain_ground(grey[top:bottom, x0:x1], ink[top:bottom, x0:x1], spread):
            found += 1
            chars += int(widths[line])
    return found, chars


def _one_line(heights: Array, bottoms: Array, line_height: int) -> bool:
    """Marks of about one size on one baseline; an i's dot, a comma or a descender may stray."""
    size = float(np.median(heights))
    if line_height > 2.2 * size + 2:
        return False
    similar = (heights >= 0.5 * size) & (heights <= 1.6 * size)
    on_baseline = np.abs(bottoms - np.median(bottoms)) <= MAX_BASELINE_SPREAD * size + 1
    return bool(similar.mean() >= MIN_SHARE and on_baseline.mean() >= MIN_SHARE)


def _box_sum(integral: Array, x0: int, y0: int, x1: int, y1: int) -> int:
    return int(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


def _plain_ground(region: Array, ink: Array, spread: float) -> bool:
    """The ground around the marks is even compared with the marks' contrast.

    Median and median absolute deviation, so a strip of picture at the edge of a label or
    the antialiased rims of the letters do not count against it.
    """
    marked = ink.astype(bool)
    if not marked.any() or marked.all():
        return False
    ground = region[~marked].astype(np.float64)
    level = float(np.median(ground))
    contrast = abs(level - float(np.median(region[marked])))
    return 1.4826 * float(np.median(np.abs(ground - level))) < spread * max(contrast, 1.0)


__all__ = ["GATE_SIDE", "TextLines", "find_lines", "gate_input", "has_text", "text_lines"]
