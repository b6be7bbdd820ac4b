"""A reference line from third-party CLIP vectors, on the same items and the same relevance.

``aic-objects/openclip_vitb32_embeddings.npy`` holds OpenCLIP ViT-B/32 image
vectors of the 500 aic-objects (row i = ``metadata.csv`` row i), computed
elsewhere (no CLIP weights run here). Each row is matched to its stored work
by the image file's sha256; then CLIP and our vector methods rank the matched
works for each other (leave-one-out) and are scored on the curator notions.
These works carry curator subject terms, so the subject notion is measured
here. They are embedded but, under the default license policy, not served,
so the hybrid (whose graph holds served works only) is not in this table.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from asterism.embed.base import AFFINITIES, Affinity, Vectors, l2_normalise
from asterism.eval.methods import (
    Ask,
    Ranker,
    Universe,
    affinity_ranker,
    composite_ranker,
    random_ranker,
    text_ranker,
    vectors_for,
)
from asterism.eval.relevance import relevant_sets
from asterism.eval.runner import _score
from asterism.index.search import MultiSearcher
from asterism.recommend.service import Service
from asterism.store import PropertyStore

CLIP_FILE = "openclip_vitb32_embeddings.npy"


def _clip_ranker(universe: Universe, clip: Vectors) -> Ranker:
    matrix = clip.astype(np.float64)

    def rank(ask: Ask, k: int) -> list[int]:
        row = universe.row(ask.work)
        if row is None:
            return []
        return universe.top(matrix @ matrix[row], ask.held_out, k)

    return rank


def match_clip_rows(
    store: PropertyStore, searcher: MultiSearcher, folder: Path
) -> tuple[list[int], list[int], Vectors]:
    """(artwork ids, CLIP row numbers, CLIP matrix): metadata rows matched to embedded works by image sha256."""
    clip = np.load(folder / CLIP_FILE).astype(np.float32)
    with (folder / "metadata.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids: list[int] = []
    clip_rows: list[int] = []
    for i, row in enumerate(rows):
        path = folder / "images" / row["filename"]
        if i >= len(clip) or not path.is_file():
            continue
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        found = [
            a for a in store.artwork_ids_for_image(sha) if searcher.vector(Affinity.FORMAL, a) is not None
        ]
        if found and min(found) not in ids:
            ids.append(min(found))
            clip_rows.append(i)
    return ids, clip_rows, clip


def clip_reference(service: Service, folder: Path, k: int = 20) -> dict[str, Any]:
    """notion -> method -> metrics on the CLIP-covered works, plus how many were matched."""
    searcher = service.searcher
    ids, clip_rows, clip = match_clip_rows(service.database.records, searcher, folder)
    if len(ids) < 2:
        return {"matched": len(ids), "scores": {}}
    id_array = np.asarray(ids, dtype=np.int64)
    universe = Universe(id_array, vectors_for(id_array, dict(searcher.vectors)))
    records = {i: a for i in ids if (a := service.database.records.artwork(i)) is not None}
    relevant = relevant_sets(records.values(), service.knowledge)
    methods: dict[str, Ranker] = {str(a): affinity_ranker(universe, a) for a in AFFINITIES}
    methods["composite"] = composite_ranker(universe)
    methods["random"] = random_ranker(universe)
    methods["metadata-text"] = text_ranker(universe, records)
    methods["openclip-vitb32 (reference)"] = _clip_ranker(universe, l2_normalise(clip[clip_rows]))
    lists: dict[str, dict[int, list[int]]] = {name: {} for name in methods}
    for query_id in ids:
        position = universe.row(query_id)
        assert position is not None
        ask = Ask({a: universe.vectors[a][position] for a in AFFINITIES}, query_id, frozenset({query_id}))
        for name, ranker in methods.items():
            lists[name][query_id] = ranker(ask, k)
    return {"matched": len(ids), "scores": _score(lists, relevant)}
