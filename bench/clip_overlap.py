"""How close are our neighbours to CLIP's? Overlap@10 against third-party OpenCLIP ViT-B/32 vectors.

    .venv/bin/python bench/clip_overlap.py [--home asterism-data] [--data ../shared/data]

``aic-objects/openclip_vitb32_embeddings.npy`` holds OpenCLIP image vectors
of the 500 aic-objects (row i = metadata.csv row i), computed elsewhere: a
CLIP model cannot run here offline. Each metadata row is matched to its
stored artwork by the sha256 of its image file (not by id: the two sample
sets share AIC ids). For every matched work, its 10 nearest neighbours among
the matched works are taken under CLIP and under each of our affinities
(and the 0.4/0.4/0.2 composite); overlap@10 is the share of CLIP's ten that
ours also lists, averaged. Chance level is 10 / (n - 1).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from asterism.config import load_settings
from asterism.embed.base import AFFINITIES, Affinity
from asterism.eval.reference import match_clip_rows
from asterism.index.files import open_searcher
from asterism.store import open_database


def top10(matrix: np.ndarray) -> np.ndarray:
    sims = matrix @ matrix.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :10]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASTERISM_HOME", "asterism-data")))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    settings = load_settings(home=args.home)
    folder = args.data / "aic-objects"
    with open_database(settings) as database:
        searcher = open_searcher(settings.paths)
        matched_ids, matched_rows, clip = match_clip_rows(database.records, searcher, folder)
    clip /= np.linalg.norm(clip, axis=1, keepdims=True)
    n = len(matched_ids)
    print(f"{n} of {len(clip)} aic-objects matched to stored works; chance overlap@10 = {10 / (n - 1):.3f}")
    reference = top10(clip[matched_rows])
    parts = {}
    print("| ours | overlap@10 with OpenCLIP ViT-B/32 |\n|---|---|")
    for affinity in AFFINITIES:
        found, vectors = searcher.vectors[affinity].get(matched_ids)
        assert found.all()
        parts[affinity] = vectors
        print(f"| {affinity} | {overlap(top10(vectors), reference):.3f} |")
    composite = np.concatenate(
        [np.sqrt(w) * parts[a] for a, w in zip(AFFINITIES, (0.4, 0.4, 0.2), strict=True)], axis=1
    )
    print(f"| composite 0.4/0.4/0.2 | {overlap(top10(composite), reference):.3f} |")
    formal_conceptual = np.concatenate(
        [np.sqrt(0.5) * parts[Affinity.FORMAL], np.sqrt(0.5) * parts[Affinity.CONCEPTUAL]], axis=1
    )
    print(f"| formal + conceptual 0.5/0.5 | {overlap(top10(formal_conceptual), reference):.3f} |")
    rng = np.random.default_rng(0)
    random = np.stack([rng.choice(np.delete(np.arange(n), i), 10, replace=False) for i in range(n)])
    print(f"| random | {overlap(random, reference):.3f} |")


if __name__ == "__main__":
    main()
