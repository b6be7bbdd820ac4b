"""The representation audit: what the collection holds against what the recommender shows.

A collection can be balanced and its recommendations not: a few works close to many others
(a dark tonal picture, a well-linked artist) turn up in list after list, and whole groups are
rarely shown. So the audit runs the recommender by id from every served work (a seeded
sample in a big collection) with the defaults a person gets (default weights, k = 12, page
0, exactly the lists ``Recommender.pick`` returns) and counts exposures: each appearance of a
work in a list. Per group of culture (or place), century, artist gender (PainterPalette,
where the artist is matched), source, holding collection and licence, it reports the
group's share of the collection, its share of exposures and their ratio; an unknown value
is a group of its own ("unknown"), never dropped. Concentration: the Gini coefficient of
exposures over all works (0: every work shown as often, near 1: one work shown always), the
share of works never shown, and the share of exposures taken by the top 1 % of works.

The same starts are run again with broadening on (``Query.max_share``), and the cost of
broadening in relevance is measured the honest way, by image (``eval.runner``): pictures
re-encoded as uploads, the work and every copy of its picture held out, the page with and
without the bound scored against the curators' relevance notions.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asterism.eval.holdout import copies, leaks
from asterism.eval.methods import Universe, vectors_for
from asterism.eval.relevance import NOTIONS, relevant_sets
from asterism.eval.runner import _score, picture_start
from asterism.knowledge.painters import PainterIndex
from asterism.recommend import groups
from asterism.recommend.diversify import share_cap
from asterism.recommend.query import BROADEN_SHARE, Query
from asterism.recommend.service import Service
from asterism.shapes import Artwork

K = 12
MAX_STARTS = 2000  # above this many works, a seeded sample of starts (the figures settle long before)
BY_IMAGE = 100  # pictures for the relevance cost
FACETS = ("culture", "century", "gender", "source", "collection", "license")
CAPPED = ("culture", "century")  # what broadening bounds (``groups.capped``)
RELEVANCE = ("recall@10", "ndcg@10", "mrr")
UNKNOWN = groups.UNKNOWN


def facets(works: Iterable[Artwork], painters: PainterIndex | None) -> dict[int, dict[str, str]]:
    """work id -> facet -> group; "unknown" where the record (or PainterPalette) does not say."""
    out: dict[int, dict[str, str]] = {}
    for work in works:
        if work.id is None:
            continue
        painter = painters.match(work.artist_display or work.artist_name) if painters is not None else None
        out[work.id] = {
            "culture": groups.culture_of(work) or UNKNOWN,
            "century": groups.century_of(work) or UNKNOWN,
            "gender": (painter.gender if painter is not None else None) or UNKNOWN,
            "source": work.source or UNKNOWN,
            "collection": " ".join((work.collection or "").split()) or UNKNOWN,
            "license": work.license_id or UNKNOWN,
        }
    return out


def gini(counts: Sequence[int] | np.ndarray) -> float:
    """Gini coefficient of how often each work was shown, zeros included: 0 even, (n−1)/n for one work."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(values), float(values.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2 * (ranks * values).sum() / (n * total) - (n + 1) / n)


def concentration(exposure: Mapping[int, int], works: Sequence[int]) -> dict[str, float]:
    """Gini, the share of works never shown, and the share of exposures taken by the top 1 % of works."""
    counts = np.asarray([exposure.get(w, 0) for w in works], dtype=np.int64)
    total = int(counts.sum())
    top = max(1, math.ceil(len(counts) / 100))
    return {
        "gini": gini(counts),
        "never_shown": float((counts == 0).mean()) if len(counts) else 0.0,
        "never_shown_works": int((counts == 0).sum()),
        "top1%_works": top,
        "top1%_share": float(np.sort(counts)[::-1][:top].sum() / total) if total else 0.0,
    }


def breakdown(
    exposure: Mapping[int, int], labels: Mapping[int, Mapping[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """facet -> one row per group, most works first: works, shares of collection and exposures, ratio."""
    total_works = len(labels)
    total_shown = sum(exposure.get(w, 0) for w in labels)
    out: dict[str, list[dict[str, Any]]] = {}
    for facet in FACETS:
        works: Counter[str] = Counter()
        shown: Counter[str] = Counter()
        for work, by_facet in labels.items():
            works[by_facet[facet]] += 1
            shown[by_facet[facet]] += exposure.get(work, 0)
        rows = []
        for group, count in sorted(works.items(), key=lambda item: (-item[1], item[0])):
            collection_share = count / total_works
            exposure_share = shown[group] / total_shown if total_shown else 0.0
            rows.append({
                "group": group, "works": count, "collection_share": collection_share,
                "exposures": shown[group], "exposure_share": exposure_share,
                "ratio": exposure_share / collection_share,
            })  # fmt: skip
        out[facet] = rows
    return out


def over_cap(lists: Iterable[Sequence[int]], labels: Mapping[int, Mapping[str, str]], cap: int) -> int:
    """How many lists hold more than ``cap`` works of one known culture or century."""
    over = 0
    for shown in lists:
        for facet in CAPPED:
            counts = Counter(labels[w][facet] for w in shown if w in labels)
            counts.pop(UNKNOWN, None)
            if counts and max(counts.values()) > cap:
                over += 1
                break
    return over


def expose(
    service: Service, starts: Sequence[int], k: int, shares: Sequence[float | None]
) -> dict[float | None, list[list[int]]]:
    """For each max_share (None: off), the list of works shown from each start, in start order."""
    out: dict[float | None, list[list[int]]] = {share: [] for share in shares}
    for work in starts:
        start = service.starts.from_id(work)
        for share in shares:
            picked = service.recommender.pick(start, Query(artwork_id=work, k=k, max_share=share))
            out[share].append([s.id for s in picked.page])
    return out


def run_summary(
    lists: Sequence[Sequence[int]], labels: Mapping[int, Mapping[str, str]], k: int, cap: int
) -> dict[str, Any]:
    """One run's figures: exposures and short pages, concentration, groups, lists over the cap."""
    exposure = Counter(w for shown in lists for w in shown)
    short = [k - len(shown) for shown in lists if len(shown) < k]
    return {
        "lists": len(lists),
        "exposures": sum(exposure.values()),
        "short_pages": len(short),
        "missing_results": sum(short),
        "over_cap_lists": over_cap(lists, labels, cap),
        "concentration": concentration(exposure, sorted(labels)),
        "groups": breakdown(exposure, labels),
    }


def relevance_cost(service: Service, *, pictures: int, k: int, max_share: float, seed: int) -> dict[str, Any]:
    """Relevance by image of the page as shown, without and with broadening, on the same pictures.

    As in ``eval.runner``: each picture is re-encoded as an upload and embedded with the work
    and every copy of its picture held out of everything it touches; ``held_out_shown`` must
    be 0 for the figures to be honest.
    """
    catalogue = service.catalogue
    universe = Universe(catalogue.ids, vectors_for(catalogue.ids, dict(service.searcher.vectors)))
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    held = copies(catalogue, universe, service.settings.recommend.near_duplicate)
    queries = [
        int(i) for i in catalogue.ids
        if any(int(i) in relevant[n] for n in NOTIONS) and (a := catalogue.get(int(i))) and a.image
    ]  # fmt: skip
    rng = np.random.default_rng(seed)
    chosen = sorted(queries[i] for i in rng.choice(len(queries), min(pictures, len(queries)), replace=False))
    lists: dict[str, dict[int, list[int]]] = {"default": {}, "broaden": {}}
    if service.models is not None:
        for work in chosen:
            start = picture_start(service, work, held[work])
            if start is None:
                continue
            start = dataclasses.replace(start, exclude=start.exclude | held[work])
            for name, share in (("default", None), ("broaden", max_share)):
                query = Query(artwork_id=work, k=k, max_share=share)
                lists[name][work] = [s.id for s in service.recommender.pick(start, query).page]
    scores = _score(lists, relevant)
    return {
        "pictures": len(lists["default"]),
        "k": k,
        "scores": {
            notion: {name: {m: values[m] for m in RELEVANCE} for name, values in methods.items()}
            for notion, methods in scores.items()
        },
        "held_out_shown": leaks(lists, held),
    }


def audit(
    service: Service,
    *,
    starts: int | None = None,
    seed: int = 0,
    k: int = K,
    max_share: float = BROADEN_SHARE,
    by_image: int = BY_IMAGE,
) -> dict[str, Any]:
    """The collection against what is shown, broadening off and on, and broadening's cost by image.

    ``starts``: how many works to start from (None: every work up to ``MAX_STARTS``, else a sample
    drawn with ``seed``); ``by_image``: pictures for the relevance cost (0: skip it).
    """
    began = time.perf_counter()
    catalogue = service.catalogue
    painters_csv = service.models.painters_csv if service.models is not None else None
    painters = PainterIndex.load(Path(painters_csv)) if painters_csv is not None else None
    labels = facets(catalogue.records.values(), painters)
    ids = [int(i) for i in catalogue.ids]
    wanted = min(len(ids), MAX_STARTS if starts is None else starts)
    sampled = wanted < len(ids)
    chosen = (
        sorted(ids[i] for i in np.random.default_rng(seed).choice(len(ids), wanted, replace=False))
        if sampled
        else ids
    )
    cap = share_cap(max_share, k)
    runs = expose(service, chosen, k, (None, max_share))
    report: dict[str, Any] = {
        "works": len(ids),
        "starts": len(chosen),
        "sampled": sampled,
        "seed": seed,
        "k": k,
        "max_share": max_share,
        "cap": cap,
        "painters": str(painters_csv) if painters_csv is not None else None,
        "gender_known": sum(1 for by_facet in labels.values() if by_facet["gender"] != UNKNOWN),
        "runs": {
            "default": run_summary(runs[None], labels, k, cap),
            "broaden": run_summary(runs[max_share], labels, k, cap),
        },
    }
    if by_image:
        report["relevance"] = relevance_cost(service, pictures=by_image, k=k, max_share=max_share, seed=seed)
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report
