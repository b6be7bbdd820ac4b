"""``asterism eval models``: the same relevance report for each embedder variant, as a model-choice table.

Variants come from the stored vectors without re-embedding where the model
allows it: the formal vector is the concatenation of its √weight-scaled parts,
so palette-only, composition-only and texture-only variants are its slices,
renormalised. Each registered embedder of the build (the formal model with its
backbone, the conceptual text or CLIP model, the historical graph model) is
listed with its stored identity; a CLIP or DINOv2 checkpoint enters the table
by building with it configured (its vectors then carry its identity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from asterism.embed.base import Affinity, ImageEmbedder, Vectors, l2_normalise
from asterism.eval.methods import Ask, Ranker, Universe, affinity_ranker, vectors_for
from asterism.eval.relevance import relevant_sets
from asterism.eval.runner import _score
from asterism.recommend.service import Service


def variants(service: Service, universe: Universe) -> dict[str, tuple[Affinity, Vectors]]:
    """name -> (affinity slot, matrix aligned with the universe)."""
    layout = service.layout
    formal = universe.vectors[Affinity.FORMAL]
    out: dict[str, tuple[Affinity, Vectors]] = {
        "formal (all parts)": (Affinity.FORMAL, formal),
        "conceptual": (Affinity.CONCEPTUAL, universe.vectors[Affinity.CONCEPTUAL]),
        "historical": (Affinity.HISTORICAL, universe.vectors[Affinity.HISTORICAL]),
    }
    for part, window in layout.slices().items():
        out[f"formal: {part} only"] = (Affinity.FORMAL, l2_normalise(formal[:, window]))
    out.update(checkpoint_variants(service, universe))
    return out


def checkpoint_variants(service: Service, universe: Universe) -> dict[str, tuple[Affinity, Vectors]]:
    """CLIP and DINOv2 image vectors of every work, when a local checkpoint is configured."""
    from asterism.embed.checkpoints import Clip, Dinov2
    from asterism.embed.featurize import read_rgb

    settings = service.settings
    threads = settings.models.threads
    loaders: list[tuple[str, Callable[[], ImageEmbedder]]] = []
    clip_path, dinov2_path = settings.models.clip_path, settings.models.dinov2_path
    if clip_path is not None:
        onnx = settings.paths.onnx_cache
        loaders.append(("clip (image)", lambda: Clip(clip_path, threads=threads, cache_dir=onnx)))
    if dinov2_path is not None:
        loaders.append(("dinov2", lambda: Dinov2(dinov2_path, threads=threads)))
    if not loaders:
        return {}
    catalogue = service.catalogue
    pictures, rows = [], []
    for row, artwork_id in enumerate(universe.ids):
        artwork = catalogue.get(int(artwork_id))
        if artwork is not None and artwork.image is not None:
            pictures.append(
                read_rgb(settings.paths.file(artwork.image.thumbs.get("thumb") or artwork.image.path))
            )
            rows.append(row)
    out = {}
    for name, load in loaders:
        model = load()
        matrix = np.zeros((len(universe.ids), model.info.dim), dtype=np.float32)
        if pictures:
            matrix[rows] = model.embed_images(pictures)
        out[f"{name}: {model.info.key}"] = (Affinity.FORMAL, matrix)
    return out


def compare_models(service: Service, k: int = 20) -> dict[str, Any]:
    catalogue = service.catalogue
    universe = Universe(catalogue.ids, vectors_for(catalogue.ids, dict(service.searcher.vectors)))
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    queries = sorted({q for sets in relevant.values() for q in sets})
    lists: dict[str, dict[int, list[int]]] = {}
    for name, (affinity, matrix) in variants(service, universe).items():
        ranker: Ranker = affinity_ranker(Universe(universe.ids, {affinity: matrix}), affinity)
        lists[name] = {}
        for query_id in queries:
            row = universe.row(query_id)
            assert row is not None
            lists[name][query_id] = ranker(Ask({affinity: matrix[row]}, query_id, frozenset({query_id})), k)
    models = service.models
    identities = (
        {"formal": models.formal_info.key, "conceptual": models.concept_info.key}
        if models is not None
        else {}
    )
    return {"queries": len(queries), "models": identities, "scores": _score(lists, relevant)}


def table(result: dict[str, Any]) -> str:
    notions = [n for n, methods in result["scores"].items() if methods]
    lines = [
        "| model | " + " | ".join(f"{n} recall@10" for n in notions) + " |",
        "|---|" + "---|" * len(notions),
    ]
    names = list(result["scores"][notions[0]]) if notions else []
    for name in names:
        cells = [f"{result['scores'][n].get(name, {}).get('recall@10', float('nan')):.3f}" for n in notions]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
