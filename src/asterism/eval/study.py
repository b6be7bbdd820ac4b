"""The blind preference study (blueprint §6): which weighting do people prefer, with an honest interval.

Each pair shows the default weighting against one alternative, sides drawn at
random; the server keeps which was where and the person only says "left",
"right" or "about the same". Win rates exclude ties and carry a Wilson 95%
interval, because a handful of votes proves little.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from asterism.embed.base import Affinity
from asterism.eval.metrics import binomial_interval
from asterism.store.study import StudyVotes

DEFAULT = "default"
VARIANTS: dict[str, dict[Affinity, float]] = {
    "formal-led": {Affinity.FORMAL: 0.7, Affinity.CONCEPTUAL: 0.2, Affinity.HISTORICAL: 0.1},
    "meaning-led": {Affinity.FORMAL: 0.2, Affinity.CONCEPTUAL: 0.7, Affinity.HISTORICAL: 0.1},
    "history-led": {Affinity.FORMAL: 0.1, Affinity.CONCEPTUAL: 0.2, Affinity.HISTORICAL: 0.7},
}


def draw_sides(rng: random.Random | None = None) -> tuple[str, str]:
    """(left, right): the default against a random alternative, sides shuffled."""
    chooser = rng or random.Random()
    other = chooser.choice(sorted(VARIANTS))
    return (DEFAULT, other) if chooser.random() < 0.5 else (other, DEFAULT)


def new_pair(votes: StudyVotes, start_id: int, rng: random.Random | None = None) -> tuple[str, str, str]:
    """(pair id, left variant, right variant), recorded before either list is shown."""
    left, right = draw_sides(rng)
    return votes.new_pair(start_id, left, right), left, right


def results(votes: StudyVotes) -> dict[str, Any]:
    """Per alternative against the default: wins, losses, ties, win rate and its Wilson interval."""
    tally: dict[str, Counter[str]] = {name: Counter() for name in VARIANTS}
    for left, right, choice in votes.votes():
        other = right if left == DEFAULT else left
        if other not in tally:
            continue
        if choice == "tie":
            tally[other]["ties"] += 1
        elif (choice == "left") == (left == other):
            tally[other]["wins"] += 1
        else:
            tally[other]["losses"] += 1
    out = {}
    for name, counts in tally.items():
        decided = counts["wins"] + counts["losses"]
        low, high = binomial_interval(counts["wins"], decided)
        out[name] = {
            "wins": counts["wins"], "losses": counts["losses"], "ties": counts["ties"],
            "win_rate": counts["wins"] / decided if decided else None, "interval95": [low, high],
        }  # fmt: skip
    return out
