"""The blind preference study's pairs and votes (table ``preference_pairs``).

Only storage lives here: which variant was shown on which side, and the
vote. Drawing the variants and tallying win rates is the study's own logic
(``eval/study.py``); the server keeps the sides and the person only says
"left", "right" or "tie", so a vote cannot be steered by the client.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from asterism.store.retry import Patience, busy_as_error
from asterism.store.schema import preference_pairs

CHOICES = ("left", "right", "tie")


class UnknownPair(LookupError):
    """No such pair (HTTP 404)."""


class AlreadyVoted(ValueError):
    """This pair has its vote (HTTP 409)."""


class StudyVotes:
    def __init__(self, engine: Engine, patience: Patience | None = None) -> None:
        self.engine = engine
        self.patience = patience or Patience()

    def new_pair(self, start_id: int, left: str, right: str) -> str:
        """Record which variant is shown on which side; returns the pair id."""
        pair_id = uuid.uuid4().hex
        with busy_as_error(self.engine, self.patience), self.engine.begin() as conn:
            conn.execute(preference_pairs.insert().values(
                id=pair_id, start_id=start_id, left_variant=left, right_variant=right, created_at=datetime.now(UTC),
            ))  # fmt: skip
        return pair_id

    def vote(self, pair_id: str, choice: str) -> None:
        """One vote per pair: a second raises ``AlreadyVoted`` (the update is guarded in SQL too).

        A SQLite store locked by another writer is waited for (``store.busy_timeout``), then
        ``StoreBusy``. Not re-run on a lost connection: the vote may have been committed.
        """
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}")
        with busy_as_error(self.engine, self.patience), self.engine.begin() as conn:
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

    def votes(self) -> Iterator[tuple[str, str, str]]:
        """(left variant, right variant, choice) of every pair that has its vote."""
        query = sa.select(
            preference_pairs.c.left_variant, preference_pairs.c.right_variant, preference_pairs.c.choice
        ).where(preference_pairs.c.choice.is_not(None))
        with self.engine.connect() as conn:
            for left, right, choice in conn.execute(query):
                yield str(left), str(right), str(choice)
