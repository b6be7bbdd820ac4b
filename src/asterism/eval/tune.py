"""``asterism eval tune``: choose the weights and α/β on validation artists, report on test artists.

Honest by construction: queries are pictures (each work re-encoded as an
upload, with itself and every copy of its picture held out of everything the
query touches), and the split is by artist — the works of one artist are all
in validation or all in test, so a choice cannot learn an artist it is then
scored on. The grid is scored on the validation artists only; the chosen
values and the defaults are then reported on the untouched test artists, by
image (the objective) and by id (for reference). The objective is the mean
recall@10 of the hybrid over the notions that have queries.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asterism.embed.base import Affinity
from asterism.embed.formal import reweight
from asterism.eval import metrics
from asterism.eval.holdout import copies
from asterism.eval.methods import Universe, vectors_for
from asterism.eval.relevance import NOTIONS, UNKNOWN_ARTISTS, relevant_sets
from asterism.eval.runner import picture_start
from asterism.home import Home
from asterism.normalize.artists import artist_key
from asterism.recommend.query import Query, QueryError
from asterism.recommend.service import Service
from asterism.recommend.start import Start
from asterism.settings_file import update_settings_file
from asterism.shapes import Artwork

STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)
MIXES = ((1.0, 0.0), (0.85, 0.15), (0.7, 0.3))
# palette, composition, texture at query time (None: as built); texture alone carries an artist's hand best
PARTS: tuple[tuple[float, float, float] | None, ...] = (None, (0.2, 0.2, 0.6), (0.0, 0.0, 1.0))


@dataclass(frozen=True)
class Choice:
    formal: float
    conceptual: float
    historical: float
    alpha: float
    beta: float
    parts: tuple[float, float, float] | None = None  # query-time formal part weights

    def weights(self) -> dict[Affinity, float]:
        return {
            Affinity.FORMAL: self.formal,
            Affinity.CONCEPTUAL: self.conceptual,
            Affinity.HISTORICAL: self.historical,
        }


def grid() -> list[Choice]:
    combos = [w for w in itertools.product(STEPS, repeat=3) if abs(sum(w) - 1.0) < 1e-9]
    return [Choice(f, c, h, a, b, p) for (f, c, h) in combos for (a, b) in MIXES for p in PARTS]


def score(
    service: Service, starts: dict[int, Start], relevant: dict[str, dict[int, set[int]]], choice: Choice
) -> float:
    """Mean over notions of the hybrid's recall@10 for these starts under ``choice``."""
    per_notion = []
    for notion in NOTIONS:
        values = []
        for query_id, stored in starts.items():
            wanted = relevant[notion].get(query_id)
            if not wanted:
                continue
            start = _weighed(service, stored, choice.parts)
            query = Query(artwork_id=query_id, weights=choice.weights(), alpha=choice.alpha, beta=choice.beta)
            try:
                ranked = service.recommender.rank(start, query, limit=10 + len(start.exclude)).scored
            except QueryError:  # nothing this choice weighs is known for this start: it finds nothing
                ranked = []
            kept = [s.id for s in ranked if s.id not in start.exclude][:10]
            values.append(metrics.recall_at_k(kept, wanted, 10))
        if values:
            per_notion.append(float(np.mean(values)))
    return float(np.mean(per_notion)) if per_notion else 0.0


def _weighed(service: Service, start: Start, parts: tuple[float, float, float] | None) -> Start:
    """The start with its formal query weighted by ``parts``, from the picture's raw vector (None: as built).

    The start's own formal query may already be re-weighted (``upload_formal_parts``); each choice
    starts again from the unweighted vector so the part choices are really compared.
    """
    raw = start.side.formal
    if raw is None or Affinity.FORMAL not in start.vectors or Affinity.FORMAL in service.starts.spaces:
        return start
    formal = raw if parts is None else reweight(raw, service.layout, parts)
    return dataclasses.replace(start, vectors={**start.vectors, Affinity.FORMAL: formal})


def artist_split(
    artworks: Mapping[int, Artwork], queries: list[int], seed: int
) -> tuple[list[int], list[int]]:
    """(validation, test) queries, about half each, no artist on both sides (unknown artists: one each)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for query in queries:
        key = artist_key(artworks[query].artist_name or "")
        groups[key if key not in UNKNOWN_ARTISTS else f"#{query}"].append(query)
    names = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(names))
    validation: list[int] = []
    test: list[int] = []
    for i in order:
        side = validation if len(validation) <= len(test) else test
        side.extend(groups[names[i]])
    return sorted(validation), sorted(test)


def picture_starts(service: Service, queries: list[int], held: dict[int, frozenset[int]]) -> dict[int, Start]:
    """Each work's picture as an upload, the work and its copies held out (see ``runner.picture_start``)."""
    return {q: start for q in queries if (start := picture_start(service, q, held[q])) is not None}


def per_notion(
    service: Service, starts: dict[int, Start], relevant: dict[str, dict[int, set[int]]], choice: Choice
) -> dict[str, float]:
    """Recall@10 of ``choice`` for each notion that has queries among ``starts``."""
    out = {}
    for notion in NOTIONS:
        only = {n: (relevant[n] if n == notion else {}) for n in NOTIONS}
        if any(q in relevant[notion] for q in starts):
            out[notion] = score(service, starts, only, choice)
    return out


def tune(
    service: Service,
    *,
    seed: int = 0,
    choices: list[Choice] | None = None,
    limit: int | None = None,
    compare: dict[str, Choice] | None = None,
) -> dict[str, Any]:
    """Grid-search on validation artists by image; report chosen and default on test artists.

    ``compare``: more settings (e.g. one affinity alone) reported per notion on the test artists.
    """
    catalogue = service.catalogue
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    queries = sorted({q for sets in relevant.values() for q in sets})
    validation_ids, test_ids = artist_split(catalogue.records, queries, seed)
    if limit is not None:
        validation_ids, test_ids = validation_ids[:limit], test_ids[:limit]
    universe = Universe(catalogue.ids, vectors_for(catalogue.ids, dict(service.searcher.vectors)))
    held = copies(catalogue, universe, service.settings.recommend.near_duplicate)
    validation = picture_starts(service, validation_ids, held)
    test = picture_starts(service, test_ids, held)
    test_by_id = {q: dataclasses.replace(service.starts.from_id(q), exclude=held[q]) for q in test_ids}
    scored = sorted(
        ((score(service, validation, relevant, c), c) for c in (choices if choices is not None else grid())),
        key=lambda item: (-item[0], str(item[1])),
    )
    best_validation, best = scored[0]
    settings = service.settings
    shipped, upload = settings.recommend, settings.recommend.upload_weights  # the defaults for a picture
    default = Choice(upload.formal, upload.conceptual, upload.historical,
                     shipped.upload_alpha, shipped.upload_beta, shipped.upload_formal_parts)  # fmt: skip
    artists = {
        side: len({artist_key(catalogue.records[q].artist_name or "") for q in ids})
        for side, ids in (("validation", validation_ids), ("test", test_ids))
    }
    return {
        "queries": {"validation": len(validation), "test": len(test), "test by id": len(test_by_id)},
        "artists": artists,
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
        "test_recall@10 by id": {
            "chosen": score(service, test_by_id, relevant, best),
            "default": score(service, test_by_id, relevant, default),
        },
        "test_by_notion": {
            name: per_notion(service, test, relevant, choice)
            for name, choice in {"chosen": best, "default": default, **(compare or {})}.items()
        },
    }


def write_settings(home: Home, chosen: dict[str, Any], as_built: tuple[float, float, float]) -> Path:
    """The choice as the defaults for a picture (``[recommend]`` ``upload_*``) in ``<home>/asterism.toml``.

    Tuned by image, it sets what an upload gets; a stored start keeps ``[weights]``, alpha and
    beta (tuning those by id would read the answer key). Everything else in the file is kept.
    """
    path = home.config_file
    weights = {k: chosen[k] for k in ("formal", "conceptual", "historical")}
    update_settings_file(path, "recommend.upload_weights", weights)
    parts = list(chosen["parts"]) if chosen.get("parts") else list(as_built)
    recommend = {"upload_alpha": chosen["alpha"], "upload_beta": chosen["beta"], "upload_formal_parts": parts}
    return update_settings_file(path, "recommend", recommend)
