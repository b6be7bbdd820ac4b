"""``asterism eval tune``: choose the affinity weights and α/β on a validation split, report on a test split.

Queries (works with a relevant set under any notion) are split once with a
fixed seed: the grid is scored on the validation half only; the chosen values
and the defaults are then scored on the untouched test half, which is what
the report shows. The objective is the mean recall@10 of the hybrid over the
notions that have queries.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asterism.embed.base import Affinity
from asterism.eval import metrics
from asterism.eval.relevance import NOTIONS, relevant_sets
from asterism.home import Home
from asterism.recommend.query import Query
from asterism.recommend.service import Service
from asterism.recommend.start import Start

STEPS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
MIXES = ((1.0, 0.0), (0.85, 0.15), (0.7, 0.3), (0.5, 0.5))


@dataclass(frozen=True)
class Choice:
    formal: float
    conceptual: float
    historical: float
    alpha: float
    beta: float

    def weights(self) -> dict[Affinity, float]:
        return {
            Affinity.FORMAL: self.formal,
            Affinity.CONCEPTUAL: self.conceptual,
            Affinity.HISTORICAL: self.historical,
        }


def grid() -> list[Choice]:
    combos = [w for w in itertools.product(STEPS, repeat=3) if abs(sum(w) - 1.0) < 1e-9]
    return [Choice(f, c, h, a, b) for (f, c, h) in combos for (a, b) in MIXES]


def score(
    service: Service, starts: dict[int, Start], relevant: dict[str, dict[int, set[int]]], choice: Choice
) -> float:
    per_notion = []
    for notion in NOTIONS:
        values = []
        for query_id, start in starts.items():
            wanted = relevant[notion].get(query_id)
            if not wanted:
                continue
            query = Query(artwork_id=query_id, weights=choice.weights(), alpha=choice.alpha, beta=choice.beta)
            ranked = service.recommender.rank(start, query, limit=10).scored
            values.append(metrics.recall_at_k([s.id for s in ranked], wanted, 10))
        if values:
            per_notion.append(float(np.mean(values)))
    return float(np.mean(per_notion)) if per_notion else 0.0


def tune(service: Service, *, seed: int = 0, choices: list[Choice] | None = None) -> dict[str, Any]:
    catalogue = service.catalogue
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    queries = sorted({q for sets in relevant.values() for q in sets})
    order = np.random.default_rng(seed).permutation(len(queries))
    half = len(queries) // 2
    validation = {queries[i]: service.starts.from_id(queries[i]) for i in order[:half]}
    test = {queries[i]: service.starts.from_id(queries[i]) for i in order[half:]}
    scored = sorted(
        ((score(service, validation, relevant, c), c) for c in (choices if choices is not None else grid())),
        key=lambda item: (-item[0], str(item[1])),
    )
    best_validation, best = scored[0]
    settings = service.settings
    default = Choice(settings.weights.formal, settings.weights.conceptual, settings.weights.historical,
                     settings.recommend.alpha, settings.recommend.beta)  # fmt: skip
    return {
        "queries": {"validation": len(validation), "test": len(test)},
        "grid": len(scored),
        "chosen": best.__dict__,
        "validation_recall@10": {
            "chosen": best_validation,
            "default": score(service, validation, relevant, default),
        },
        "test_recall@10": {
            "chosen": score(service, test, relevant, best),
            "default": score(service, test, relevant, default),
        },
    }


def write_settings(home: Home, chosen: dict[str, float]) -> Path:
    """Put the chosen weights and α/β into ``<home>/asterism.toml``, keeping everything else in it."""
    path = home.config_file
    data: dict[str, Any] = tomllib.loads(path.read_text()) if path.is_file() else {}
    data.setdefault("weights", {}).update({k: chosen[k] for k in ("formal", "conceptual", "historical")})
    data.setdefault("recommend", {}).update({"alpha": chosen["alpha"], "beta": chosen["beta"]})
    path.write_text(_toml(data))
    return path


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for settings: scalars, lists and nested tables."""
    lines = [f"{key} = {_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            lines += ["", f"[{name}]", _toml(value, f"{name}.").strip()]
    return "\n".join(lines).strip() + "\n"
