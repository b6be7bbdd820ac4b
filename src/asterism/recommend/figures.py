"""Facts to draw beside the reason phrases: colour swatches, the two layouts, a date timeline.

People would rather look than read "shared colours: black (#151610~#171717)". Each figure
here is read off the same data as its phrase in ``explain``: the same palettes through the
same colour matching, the same formal vectors, the same date midpoints. So a swatch's hexes
are the pair its phrase prints, the layouts' similarity is the number "similar composition"
prints, and a timeline's gap is the N of "dated N years apart". Nothing is drawn that the
data does not hold: an upload has no date unless one was inferred (and says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from asterism.embed.base import Affinity
from asterism.embed.formal import LUMA_GRID, FormalLayout, part_similarities
from asterism.normalize.dates import date_midpoint
from asterism.recommend.colours import colour_matches, colour_name
from asterism.recommend.explain import Side
from asterism.shapes import Dates, Layouts, SharedColour, YearSpan

SHOWN_SPREAD = 2.0  # standard deviations of lightness at either end of a drawn layout's grey scale


class Figures(TypedDict, total=False):
    """The optional fields of a ``Reason`` that draw its facts."""

    colours: list[SharedColour] | None
    layouts: Layouts | None
    dates: Dates | None


@dataclass(frozen=True)
class StartFigures:
    """What every result's figures take from the start alone: read once per page, not per result."""

    grid: list[list[float]] | None  # the start's lightness grid (None: nothing to draw)


def start_figures(start: Side, layout: FormalLayout) -> StartFigures:
    return StartFigures(lightness_grid(start.formal, layout) if start.formal is not None else None)


def figures(
    affinity: Affinity, start: Side, other: Side, layout: FormalLayout, once: StartFigures | None = None
) -> Figures:
    """What one affinity's reason can draw between two sides (nothing for the conceptual one).

    ``once``: the start's part, when a page computed it already (``start_figures``).
    """
    if affinity == Affinity.FORMAL:
        return {"colours": shared_colours(start, other), "layouts": layouts(start, other, layout, once)}
    if affinity == Affinity.HISTORICAL:
        return {"dates": dates(start, other)}
    return {}


def shared_colours(start: Side, other: Side) -> list[SharedColour] | None:
    """The "shared colours" phrase as swatch pairs, in its order; None when there is no such phrase."""
    pairs = colour_matches(start.palette, other.palette)
    if not pairs:
        return None
    return [
        SharedColour(
            name=colour_name(a),
            start_hex=a,
            result_hex=b,
            start_share=round(min(1.0, share_a), 4),
            result_share=round(min(1.0, share_b), 4),
        )
        for (a, share_a), (b, share_b) in pairs
    ]


def layouts(
    start: Side, other: Side, layout: FormalLayout, once: StartFigures | None = None
) -> Layouts | None:
    """The two lightness grids the composition part compares; None without both formal vectors.

    Also None when the formal vectors are not laid out as ``layout`` says (imported from another
    model) or the composition part was built with weight 0: then there is no layout to show.
    ``once``: the start's grid, read once for the page (else read here).
    """
    if start.formal is None or other.formal is None:
        return None
    mine = once.grid if once is not None else lightness_grid(start.formal, layout)
    grids = [mine, lightness_grid(other.formal, layout)]
    if grids[0] is None or grids[1] is None:
        return None
    similarity = part_similarities(start.formal, other.formal, layout)["composition"]
    return Layouts(start=grids[0], result=grids[1], similarity=round(similarity, 4))


def lightness_grid(formal: np.ndarray, layout: FormalLayout) -> list[list[float]] | None:
    """The 12×12 light/dark grid inside a formal vector, 0 (dark) … 1 (light), rows top to bottom.

    The composition part is [standardised 12×12 lightness | standardised 8×8 edges], L2-normalised
    and scaled by √weight: standardising its first 144 values again undoes that positive scaling
    exactly, giving each cell's lightness in standard deviations from the picture's mean.
    """
    if formal.shape != (layout.dim,):
        return None
    part = np.asarray(formal[layout.slices()["composition"]][: LUMA_GRID**2], dtype=np.float64)
    spread = float(part.std())
    if spread <= 1e-9:
        return None  # a part built with weight 0 (or a flat picture): nothing to draw
    shown = np.clip(0.5 + (part - part.mean()) / spread / (2 * SHOWN_SPREAD), 0.0, 1.0)
    grid: list[list[float]] = np.round(shown.reshape(LUMA_GRID, LUMA_GRID), 2).tolist()  # 1 % steps
    return grid


def span(date_start: int | None, date_end: int | None, inferred: bool = False) -> YearSpan | None:
    """Years of a date; a date known at one end only is that single year (as ``date_midpoint`` reads it)."""
    if date_start is None and date_end is None:
        return None
    years = [y for y in (date_start, date_end) if y is not None]
    return YearSpan(start=min(years), end=max(years), inferred=inferred)


def dates(start: Side, other: Side) -> Dates | None:
    """The start's and the result's dates and the gap between their midpoints; None if neither is known.

    A stored start brings its record's date; an upload only the period inferred from its
    nearest works (marked ``inferred``), and nothing when none was inferred.
    """
    if other.artwork is None:
        return None
    if start.artwork is not None:
        mine = span(start.artwork.date_start, start.artwork.date_end)
    else:
        guess, mine = start.inferred, None
        if guess is not None and guess.confidence > 0:  # as the phrases: no confidence, no date
            mine = span(guess.date_start, guess.date_end, inferred=True)
    theirs = span(other.artwork.date_start, other.artwork.date_end)
    if mine is None and theirs is None:
        return None
    gap = None
    if mine is not None and theirs is not None:
        a, b = date_midpoint(mine.start, mine.end), date_midpoint(theirs.start, theirs.end)
        gap = round(abs((a or 0.0) - (b or 0.0)))
    return Dates(start=mine, result=theirs, gap=gap)
