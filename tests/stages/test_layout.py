"""The collection map: reproducible layouts, incremental placement, neighbourhoods kept, wired into the build.

The maths is checked on clustered synthetic vectors (a Gaussian mixture on the
unit sphere, where "related" is known), the stage on the indexes of the
sample collection the session builds once (``built``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from asterism.config import Settings
from asterism.home import Home
from asterism.index.files import vector_digest
from asterism.map.layout import SMALL, MapLayout, lay_out, neighbour_agreement, normalise, place, row_hashes
from asterism.stages.layout import MAPS, build_layouts, source_index, update_layout


def clustered(n: int, dim: int = 48, clusters: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(unit vectors, cluster of each): tight clusters around random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    labels = rng.integers(0, clusters, n)
    vectors = centres[labels] + rng.normal(scale=0.35, size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


@pytest.fixture(scope="module")
def space() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """600 clustered works (ids 1000…) and their UMAP layout, made once."""
    vectors, _ = clustered(600)
    return np.arange(1000, 1600, dtype=np.int64), vectors, lay_out(vectors)


def test_layout_is_reproducible_to_the_byte_and_inside_the_unit_square(
    space: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    _, vectors, xy = space
    again = lay_out(vectors.copy())
    assert xy.dtype == np.float32 and xy.shape == (600, 2)
    assert again.tobytes() == xy.tobytes()
    assert xy.min() >= 0.0 and xy.max() <= 1.0
    assert np.isclose(max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1]))), 1.0)  # the long axis spans it


def test_map_neighbours_are_vector_neighbours_far_above_chance(
    space: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    _, vectors, xy = space
    agreement = neighbour_agreement(vectors, xy, k=10)
    chance = 10 / (len(vectors) - 1)
    assert agreement > 10 * chance, (agreement, chance)  # measured 0.38 vs chance 0.017


def test_normalise_keeps_the_aspect_ratio() -> None:
    points = normalise(np.array([[0.0, 0.0], [4.0, 1.0], [2.0, 0.5]]))
    assert points.tolist() == [[0.0, 0.375], [1.0, 0.625], [0.5, 0.5]]
    assert normalise(np.ones((3, 2))).tolist() == [[0.5, 0.5]] * 3


def test_small_collections_are_laid_out_without_umap() -> None:
    assert lay_out(np.zeros((0, 8), np.float32)).shape == (0, 2)
    assert lay_out(np.ones((1, 8), np.float32)).tolist() == [[0.5, 0.5]]
    vectors, labels = clustered(SMALL - 1, clusters=2, seed=3)
    xy = lay_out(vectors)
    assert xy.tobytes() == lay_out(vectors).tobytes() and xy.min() >= 0 and xy.max() <= 1
    # Two clusters on their principal axes: each work is nearer its own cluster's centre on the map.
    centres = np.stack([xy[labels == c].mean(axis=0) for c in (0, 1)])
    own = np.linalg.norm(xy - centres[labels], axis=1)
    other = np.linalg.norm(xy - centres[1 - labels], axis=1)
    assert (own < other).all()


def test_new_works_are_placed_without_moving_the_old_ones(
    space: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    ids, vectors, xy = space
    old = MapLayout.of(ids[:500], xy[:500], row_hashes(vectors[:500]))
    grown, state = update_layout(old, ids, vectors)
    assert state == "placed 100, removed 0"
    assert grown.ids.tolist() == ids.tolist()
    assert grown.xy[:500].tobytes() == old.xy.tobytes()  # exactly where they were
    new = grown.xy[500:]
    assert new.min() >= 0 and new.max() <= 1
    # Each new work lands by the work most like it among the placed ones: far nearer than a random work.
    best = (vectors[500:] @ vectors[:500].T).argmax(axis=1)
    to_best = np.linalg.norm(new - old.xy[best], axis=1)
    to_random = np.linalg.norm(new - old.xy[np.random.default_rng(1).integers(0, 500, 100)], axis=1)
    assert np.median(to_best) < 0.25 * np.median(to_random), (np.median(to_best), np.median(to_random))
    # The new works' map neighbourhoods agree with their vector neighbourhoods as the old ones' do.
    assert neighbour_agreement(vectors, grown.xy, k=10) > 0.8 * neighbour_agreement(vectors, xy, k=10)


def test_placement_depends_on_the_work_not_on_the_batch(
    space: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    ids, vectors, xy = space
    together = place(ids[500:], vectors[500:], vectors[:500], xy[:500])
    assert place(ids[500:], vectors[500:], vectors[:500], xy[:500]).tobytes() == together.tobytes()
    later = place(ids[550:], vectors[550:], vectors[:500], xy[:500])
    first = place(ids[500:550][::-1], vectors[500:550][::-1], vectors[:500], xy[:500])[::-1]
    # Another batch changes the similarities' float rounding only (BLAS blocks differ), not the place.
    assert np.abs(together - np.concatenate([first, later])).max() < 1e-5
    duplicate = place(ids[500:502], np.stack([vectors[500], vectors[500]]), vectors[:500], xy[:500])
    assert 0 < np.linalg.norm(duplicate[0] - duplicate[1]) <= 2 * 0.003 + 1e-6  # jittered apart, only just


def test_removed_and_changed_works(space: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    ids, vectors, xy = space
    full = MapLayout.of(ids, xy, row_hashes(vectors))
    changed = vectors.copy()
    changed[10] = vectors[300]  # work 1010 got another picture: it is placed again, by its new likeness
    keep = np.r_[0:200, 220:600]  # 1200…1219 left the collection
    smaller, state = update_layout(full, ids[keep], changed[keep])
    assert state == "placed 1, removed 20"
    assert not np.isin(np.arange(1200, 1220), smaller.ids).any()
    same = smaller.ids != 1010
    assert smaller.xy[same].tobytes() == xy[keep][ids[keep] != 1010].tobytes()
    moved = smaller.xy[~same][0]
    assert np.linalg.norm(moved - xy[300]) < 0.05  # by its new likeness (measured 0.005; it was 0.26 away)


def test_a_full_layout_when_asked_or_when_most_works_are_new(
    space: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    ids, vectors, xy = space
    small = MapLayout.of(ids[:250], xy[:250], row_hashes(vectors[:250]))
    assert update_layout(small, ids, vectors)[1] == "laid out 600"  # 350 new of 600: over half
    assert update_layout(small, ids[:400], vectors[:400])[1] == "placed 150, removed 0"
    relaid, state = update_layout(MapLayout.of(ids, xy, row_hashes(vectors)), ids, vectors, relayout=True)
    assert state == "laid out 600" and relaid.xy.tobytes() == xy.tobytes()  # reproducible, so the same


# ------------------------------------------------------------------------------------- the stage


def copy_indexes(built: Settings, target: Path, drop_last: int = 0) -> Home:
    """A home whose generation holds the built sample's index vectors (the last ``drop_last`` rows left out)."""
    source = built.paths.current()
    home = Home(target).at("g1")
    home.indexes.mkdir(parents=True)
    for name in {source_index(m) for m in MAPS}:
        files, copy = source.index(name), home.index(name)
        ids, vectors = np.load(files.ids), np.load(files.vectors)
        if drop_last:
            ids, vectors = ids[:-drop_last], vectors[:-drop_last]
        np.save(copy.ids, ids)
        np.save(copy.vectors, vectors)
        copy.state.write_text(json.dumps({"digest": vector_digest(ids, vectors)}))
    return home


def test_the_build_made_every_map_of_the_sample(built: Settings) -> None:
    home = built.paths.current()
    for name in MAPS:
        layout = MapLayout.load(home.layout(name).points)
        ids = np.load(home.index(source_index(name)).ids)
        assert sorted(ids.tolist()) == layout.ids.tolist()
        assert layout.xy.dtype == np.float32 and layout.xy.min() >= 0 and layout.xy.max() <= 1
        state = json.loads(home.layout(name).state.read_text())
        assert state["count"] == len(ids)


def test_stage_is_reproducible_idempotent_and_incremental(built: Settings, tmp_path: Path) -> None:
    first, second = copy_indexes(built, tmp_path / "a"), copy_indexes(built, tmp_path / "b")
    report = build_layouts(first)
    assert set(report.built) == set(MAPS) and all(s.startswith("laid out") for s in report.built.values())
    build_layouts(second)
    for name in MAPS:
        assert first.layout(name).points.read_bytes() == second.layout(name).points.read_bytes()
    assert set(build_layouts(first).built.values()) == {"unchanged"}  # nothing new: nothing rewritten

    grown = copy_indexes(built, tmp_path / "c", drop_last=20)
    assert all(s.startswith("laid out") for s in build_layouts(grown).built.values())
    before = {name: MapLayout.load(grown.layout(name).points) for name in MAPS}
    shutil.rmtree(grown.indexes)
    copy_indexes(built, tmp_path / "c")  # the 20 works arrive
    report = build_layouts(grown)
    for name in MAPS:
        assert report.built[name] == "placed 20, removed 0"
        after = MapLayout.load(grown.layout(name).points)
        kept = after.positions(before[name].ids)
        assert (kept >= 0).all() and after.xy[kept].tobytes() == before[name].xy.tobytes()
        assert len(after) == len(before[name]) + 20
    relaid = build_layouts(grown, relayout=True)
    assert all(s.startswith("laid out") for s in relaid.built.values())
    for name in MAPS:  # laid out anew from the same vectors: the same as a first build
        assert grown.layout(name).points.read_bytes() == first.layout(name).points.read_bytes()


def test_sample_maps_keep_neighbourhoods(built: Settings) -> None:
    home = built.paths.current()
    agreement = {}
    for name in MAPS:
        layout = MapLayout.load(home.layout(name).points)
        files = home.index(source_index(name))
        ids, vectors = np.load(files.ids), np.load(files.vectors)
        order = np.argsort(ids)
        agreement[name] = neighbour_agreement(vectors[order], layout.xy, k=10)
    chance = 10 / (len(layout) - 1)
    # measured: formal 0.52, conceptual 0.45, historical 0.69, hybrid 0.55; chance 0.084
    assert min(agreement.values()) > 3 * chance, (agreement, chance)


def test_a_map_goes_when_its_index_goes(built: Settings, tmp_path: Path) -> None:
    home = copy_indexes(built, tmp_path / "d")
    build_layouts(home)
    for path in home.index("composite").__dict__.values():
        Path(path).unlink(missing_ok=True)
    report = build_layouts(home)
    assert report.built == {"formal": "unchanged", "conceptual": "unchanged", "historical": "unchanged",
                            "hybrid": "removed"}  # fmt: skip
    assert not home.layout("hybrid").points.exists() and home.layout("formal").points.exists()


_LAYOUT_IN_A_FRESH_PROCESS = """
import sys
import numpy as np
from asterism.map.layout import lay_out
vectors = np.load(sys.argv[1])
np.save(sys.argv[2], lay_out(vectors))
import umap.umap_
stats = umap.umap_.smooth_knn_dist.stats
print("cache", sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


@pytest.mark.slow
def test_umaps_compiled_code_is_kept_on_disk_and_gives_the_same_map(
    space: tuple[np.ndarray, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    """A build process after the first loads UMAP's machine code instead of compiling it (~10 s of CPU),
    and the map is the same to the byte: with a cold cache, a warm one, and in this process."""
    import subprocess
    import sys

    _, vectors, xy = space
    np.save(tmp_path / "vectors.npy", vectors)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}  # a cold cache of its own
    script = tmp_path / "lay_out.py"
    script.write_text(_LAYOUT_IN_A_FRESH_PROCESS)
    counts = []
    for run in ("cold", "warm"):
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "vectors.npy"), str(tmp_path / f"{run}.npy")],
            env=env, capture_output=True, text=True, timeout=280, check=True,
        )  # fmt: skip
        counts.append(tuple(int(n) for n in done.stdout.split("cache ")[-1].split()))
    assert counts[0] == (0, 1)  # compiled, and written to the cache
    assert counts[1] == (1, 0)  # loaded from it: no compilation
    assert any((tmp_path / "numba").rglob("*smooth_knn_dist*.nbc"))
    assert np.load(tmp_path / "cold.npy").tobytes() == xy.tobytes()
    assert np.load(tmp_path / "warm.npy").tobytes() == xy.tobytes()
