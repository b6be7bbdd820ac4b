"""``asterism build --ray ADDRESS`` on a real Ray cluster started here: the single-process build's vectors.

The cluster is two Ray nodes on this machine, a head and a worker, each started with ``ray
start`` on its own loopback address (``raycluster.py``), each offering 2 CPUs: one actor of
``models.threads`` = 2 threads per node. The teardown ends only this cluster's processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.embed.base import AFFINITIES
from asterism.stages.distribute_ray import ModelMismatch, RayDistributor, RayUnavailable, _same
from asterism.store import open_database

import checkpointgen
from raycluster import BIN, LoopbackCluster, free_port

# A Ray cluster and its actors start in ~1 min here, several times that on a loaded machine (one
# run at load ~15 passed 300 s): a hang is still caught, by the subprocess timeouts and this one.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

WORKS = 80  # two image chunks (64 + 16), one per node, and one chunk of documents
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "ASTERISM_OCR__MODE": "never"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head and a worker node on loopback addresses; yields the head's address."""
    with LoopbackCluster(cpus=2) as started:
        started.add_node()
        yield started.address


def _settings(home: Path) -> Settings:
    return load_settings(home=home, ocr={"mode": "never"})


@pytest.fixture(scope="module")
def ingested(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with WORKS sample paintings ingested and nothing built, to copy (ids included)."""
    home = tmp_path_factory.mktemp("ray") / "ingested"
    with Collection(_settings(home)) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=WORKS)
    return home


@pytest.fixture(scope="module")
def single(ingested: Path) -> Settings:
    """The single-process build of the same works (the embed stage)."""
    settings = _settings(shutil.copytree(ingested, ingested.parent / "single"))
    started = time.perf_counter()
    with Collection(settings) as collection:
        report = collection.build(stages=("embed",))
    assert report.embed.images == WORKS and report.embed.conceptual == WORKS
    print(f"single process: embed {time.perf_counter() - started:.1f} s")
    return settings


def _assert_same_vectors(settings: Settings, other_settings: Settings) -> None:
    """Every affinity's vectors bit for bit, the labels, colours and documents too."""
    one, other = open_database(settings), open_database(other_settings)
    try:
        for affinity in AFFINITIES:
            ids, vectors = one.features.load(affinity)
            other_ids, other_vectors = other.features.load(affinity)
            assert len(ids) == WORKS and np.array_equal(ids, other_ids), affinity
            assert np.array_equal(vectors, other_vectors), (affinity, np.abs(vectors - other_vectors).max())
        shas = [a.image.sha256 for a in one.records.artworks() if a.image]
        described = [
            {sha: (f.model, f.labels, f.palette) for sha, f in store.features.image_features(shas).items()}
            for store in (one, other)
        ]
        assert described[0] == described[1]  # the predicted labels and dominant colours
        assert one.features.documents(ids) == other.features.documents(ids)
    finally:
        one.close()
        other.close()


def test_ray_build_writes_the_single_process_vectors(
    cluster: str, ingested: Path, single: Settings, tmp_path: Path
) -> None:
    home = shutil.copytree(ingested, tmp_path / "ray")
    started = time.perf_counter()
    command = [str(BIN / "asterism"), "--home", str(home), "build", "--ray", cluster]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert f"embed: {WORKS} works; {WORKS} images" in output
    assert "ray: 3 chunks on 2 nodes" in output, output  # 2 image chunks, 1 of documents; both nodes
    print(f"asterism build --ray: {time.perf_counter() - started:.1f} s (every stage)")
    _assert_same_vectors(single, _settings(home))


def _with_clip(settings: Settings, clip: Path) -> Settings:
    models = settings.models.model_copy(update={"clip_path": clip, "conceptual": "text+clip"})
    return settings.model_copy(update={"models": models})


def test_workers_read_a_shared_home_and_the_pictures_of_the_clip_modes(
    cluster: str, ingested: Path, single: Settings, tmp_path: Path
) -> None:
    """The actors read the content store themselves; in text+clip mode the text stage needs pictures too."""
    clip = checkpointgen.tiny_clip(tmp_path / "tiny-clip")
    reference = _with_clip(_settings(shutil.copytree(single.paths.root, tmp_path / "local")), clip)
    with Collection(reference) as collection:  # re-embeds the documents only, with their pictures
        assert collection.build(stages=("embed",)).embed.conceptual == WORKS
    settings = _with_clip(_settings(shutil.copytree(ingested, tmp_path / "shared")), clip)
    with RayDistributor(cluster, images="shared") as distributor, Collection(settings) as collection:
        report = collection.build(stages=("embed",), distributor=distributor)
        assert distributor.describe().startswith("4 chunks on 2 nodes"), distributor.describe()  # 2 + 2
    assert report.embed.images == WORKS and not report.embed.image_failures
    _assert_same_vectors(reference, settings)


def test_an_actor_no_node_can_hold_is_refused_not_waited_for(cluster: str) -> None:
    with RayDistributor(cluster, threads=4) as distributor, pytest.raises(RayUnavailable, match="4 CPUs"):
        distributor.workers(4)  # each node offers 2


def test_an_address_where_no_cluster_answers_fails_at_once() -> None:
    port = free_port("127.0.0.1")  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(RayUnavailable, match="no Ray cluster answers"):
        RayDistributor(f"127.0.0.1:{port}").connect()
    assert time.perf_counter() - started < 15  # ray.init alone would retry for minutes


def test_vectors_of_another_model_are_refused() -> None:
    _same("effnet@1", "effnet@1")
    with pytest.raises(ModelMismatch, match="same Asterism"):
        _same("effnet@2", "effnet@1")
