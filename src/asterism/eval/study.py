"""The blind preference study (blueprint §6): which weighting do people prefer, with an honest interval.

Each pair shows the default weighting against one alternative, sides drawn at
random; the server keeps which was where and the person only says "left",
"right" or "about the same". Win rates exclude ties and carry a Wilson 95%
interval, because a handful of votes proves little.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from asterism.embed.base import Affinity
from asterism.eval.metrics import binomial_interval
from asterism.store.schema import preference_pairs

DEFAULT = "default"
VARIANTS: dict[str, dict[Affinity, float]] = {
    "formal-led": {Affinity.FORMAL: 0.7, Affinity.CONCEPTUAL: 0.2, Affinity.HISTORICAL: 0.1},
    "meaning-led": {Affinity.FORMAL: 0.2, Affinity.CONCEPTUAL: 0.7, Affinity.HISTORICAL: 0.1},
    "history-led": {Affinity.FORMAL: 0.1, Affinity.CONCEPTUAL: 0.2, Affinity.HISTORICAL: 0.7},
}
CHOICES = ("left", "right", "tie")


class UnknownPair(LookupError):
    """No such pair (HTTP 404)."""


class AlreadyVoted(ValueError):
    """This pair has its vote (HTTP 409)."""


class PreferenceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def new_pair(self, start_id: int, rng: random.Random | None = None) -> tuple[str, str, str]:
        """(pair id, left variant, right variant): the default against a random alternative, sides shuffled."""
        chooser = rng or random.Random()
        other = chooser.choice(sorted(VARIANTS))
        left, right = (DEFAULT, other) if chooser.random() < 0.5 else (other, DEFAULT)
        pair_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(preference_pairs.insert().values(
                id=pair_id, start_id=start_id, left_variant=left, right_variant=right, created_at=datetime.now(UTC),
            ))  # fmt: skip
        return pair_id, left, right

    def vote(self, pair_id: str, choice: str) -> None:
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}")
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(preference_pairs.c.choice).where(preference_pairs.c.id == pair_id)
            ).first()
            if row is None:
                raise UnknownPair(f"no study pair {pair_id}")
            if row.choice is not None:
                raise AlreadyVoted(f"pair {pair_id} already has a vote")
            conn.execute(
                preference_pairs.update()
                .where(preference_pairs.c.id == pair_id, preference_pairs.c.choice.is_(None))
                .values(choice=choice, voted_at=datetime.now(UTC))
            )

    def results(self) -> dict[str, Any]:
        """Per alternative against the default: wins, losses, ties, win rate and its Wilson interval."""
        tally: dict[str, Counter[str]] = {name: Counter() for name in VARIANTS}
        query = sa.select(
            preference_pairs.c.left_variant, preference_pairs.c.right_variant, preference_pairs.c.choice
        )
        with self.engine.connect() as conn:
            for left, right, choice in conn.execute(query.where(preference_pairs.c.choice.is_not(None))):
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
