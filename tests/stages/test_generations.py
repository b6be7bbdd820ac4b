"""Crash-safe builds: one writer per home, a new generation per build, one atomic switch.

The claim is in ``stages/generations.py``: kill -9 at any point of ``asterism build`` leaves the
previous generation serving, and the next build completes and converges to what an
uninterrupted build writes. The kill test checks exactly that, at many random moments.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_build import ingest, run_build, write

from asterism.config import Settings, load_settings
from asterism.graph import open_graph
from asterism.graph.edges import EDGE_TYPE
from asterism.locks import holder
from asterism.recommend.query import Query
from asterism.recommend.service import open_service
from asterism.stages.generations import BuildRunning, build_lock
from asterism.store import open_database

KILLS = 20
CONVERGE_EVERY = 4  # a full re-run and comparison after every 4th kill (all 20: ~4x the time)


def settings_for(home: Path) -> Settings:
    return load_settings(home=home, ocr={"mode": "never"}, workers=2, batch_size=8)


def cli_build(home: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ASTERISM_HOME=str(home), ASTERISM_OCR__MODE="never", ASTERISM_BATCH_SIZE="8")
    return subprocess.Popen(
        [sys.executable, "-m", "asterism.cli.main", "build"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def snapshot(settings: Settings) -> dict[str, object]:
    """Everything a build derives: stored vectors per affinity and edges per type (sorted)."""
    database = open_database(settings)
    try:
        out: dict[str, object] = {}
        for affinity in ("formal", "conceptual", "historical"):
            ids, matrix = database.features.load(affinity)
            order = np.argsort(ids)
            out[affinity] = (ids[order], matrix[order])
    finally:
        database.close()
    graph = open_graph(settings, read_only=True)
    try:
        for type_ in EDGE_TYPE.values():
            edges = graph.edges(type_)
            order = np.lexsort((edges.dst, edges.src))
            out[type_] = (edges.src[order], edges.dst[order], edges.weight[order])
        out["counts"] = graph.counts()
    finally:
        graph.close()
    return out


def assert_same(got: dict[str, object], want: dict[str, object]) -> None:
    assert got["counts"] == want["counts"]
    for key, value in want.items():
        if key == "counts":
            continue
        for a, b in zip(got[key], value, strict=True):  # type: ignore[call-overload]
            if np.issubdtype(np.asarray(b).dtype, np.integer):
                np.testing.assert_array_equal(a, b, err_msg=key)
            else:
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-5, err_msg=key)


def answers(settings: Settings) -> str | None:
    """The generation a freshly started server serves, after checking that it answers."""
    service = open_service(settings)
    try:
        first = min(service.catalogue.ids)
        page = service.recommend(Query(artwork_id=int(first), k=3))
        assert page.results, "the served generation must answer"
        return service.home.generation if service.home else None
    finally:
        service.close()


def test_a_second_build_is_refused_naming_the_first(settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "c", 4)
    ingest(settings, tmp_path / "c")
    with build_lock(settings.paths):
        assert holder(settings.paths.build_lock) == os.getpid()
        with pytest.raises(BuildRunning, match=rf"a build is running \(pid {os.getpid()}\)"):
            run_build(settings)
    assert holder(settings.paths.build_lock) is None
    assert run_build(settings).changed  # the lock is free again


def test_each_build_publishes_a_generation_and_keeps_the_one_it_replaced(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    write(folder, 8)
    ingest(settings, folder)
    run_build(settings)
    first = settings.paths.current().generation
    assert first is not None and settings.paths.current().built()
    served = open_service(settings)  # a server on the first generation
    try:
        assert not run_build(settings).changed
        assert settings.paths.current().generation == first  # nothing new: nothing switched

        write(folder, 3, start=8)
        ingest(settings, folder)
        assert run_build(settings).changed
        second = settings.paths.current().generation
        assert second not in (None, first)
        # The server opened before the switch still answers from its own generation, files intact.
        assert served.home is not None and served.home.generation == first
        assert served.recommend(Query(artwork_id=min(served.catalogue.ids), k=3)).results
        assert len(served.catalogue.ids) == 8 and answers(settings) == second

        write(folder, 2, start=11)
        ingest(settings, folder)
        run_build(settings)
        kept = {p.name for p in settings.paths.generations.iterdir()}
        assert kept == {second, settings.paths.current().generation}  # the first is gone
    finally:
        served.close()


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~25 builds in subprocesses: 2-3 min here, several times that on a loaded machine
def test_sigkill_at_random_moments_leaves_the_previous_generation_serving(tmp_path: Path) -> None:
    """kill -9 during ``asterism build`` at ``KILLS`` random moments; after each, a server starts and
    answers (from the previous generation or the complete new one); after every ``CONVERGE_EVERY``-th
    (set it to 1 to check every kill), a re-run converges to what an uninterrupted build of the
    same steps wrote."""
    folder = tmp_path / "c"
    write(folder, 10)
    base = settings_for(tmp_path / "base")
    ingest(base, folder)
    run_build(base)
    write(folder, 4, start=10)
    ingest(base, folder)  # the next build has every stage to do: embed 4, index, graph, recognition
    previous = base.paths.current().generation

    warm = tmp_path / "warm-up"  # a first build process reads its libraries from disk: not timed
    shutil.copytree(base.home, warm, copy_function=shutil.copy2)
    assert cli_build(warm).wait(timeout=240) == 0
    shutil.rmtree(warm)
    reference = settings_for(tmp_path / "reference")
    shutil.copytree(base.home, reference.home, copy_function=shutil.copy2)
    started = time.monotonic()
    uninterrupted = cli_build(reference.home)
    switched = None  # when the uninterrupted build published: kills are spread over the time before it
    while uninterrupted.poll() is None:
        if switched is None and reference.paths.current().generation != previous:
            switched = time.monotonic() - started
        time.sleep(0.02)
    assert uninterrupted.returncode == 0, uninterrupted.stderr.read().decode()  # type: ignore[union-attr]
    assert switched is not None
    want = snapshot(reference)

    rng = random.Random(12)
    fractions = sorted(rng.uniform(0.05, 1.1) for _ in range(KILLS))
    outcomes = {"previous": 0, "new": 0}
    for i, fraction in enumerate(fractions):
        moment = fraction * switched
        trial = settings_for(tmp_path / f"trial-{i}")
        shutil.copytree(base.home, trial.home, copy_function=shutil.copy2)
        process = cli_build(trial.home)
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait()
        serving = answers(trial)
        assert serving is not None
        outcomes["previous" if serving == previous else "new"] += 1
        if serving != previous and fraction < 1.0:
            # This build published sooner than the reference did (the machine got quieter): the
            # later kills are scaled to that, so they still spread over the time before the switch.
            switched = min(switched, moment)  # it switched before this moment
        if i % CONVERGE_EVERY:
            shutil.rmtree(trial.home)
            continue
        rerun = cli_build(trial.home)
        assert rerun.wait(timeout=240) == 0, f"kill at {moment:.2f}s: " + rerun.stderr.read().decode()  # type: ignore[union-attr]
        assert_same(snapshot(trial), want)
        assert {p.name for p in trial.paths.generations.iterdir()} <= {
            trial.paths.current().generation,
            serving,
        }  # what the killed build left is gone
        shutil.rmtree(trial.home)
    assert outcomes["previous"] >= KILLS // 2, outcomes  # most kills landed before the switch


def test_a_running_server_follows_a_build_published_by_another_process(
    settings: Settings, tmp_path: Path
) -> None:
    """No restart, no admin call: the server notices the new manifest and swaps the generation in,
    at a request and, with no request at all, from its watcher thread."""
    from fastapi.testclient import TestClient

    from asterism.api.app import create_app

    folder = tmp_path / "c"
    write(folder, 6)
    ingest(settings, folder)
    with TestClient(create_app(settings, ui=None)) as client:
        assert client.get("/readyz").status_code == 503  # started before the first build
        run_build(settings)
        follower = client.app.state.follower  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            follower.wait(5)
            assert time.monotonic() < deadline, "the server never loaded the first build"
            time.sleep(0.3)
        first = follower.served_generation()
        assert first == settings.paths.current().generation

        write(folder, 2, start=6)
        ingest(settings, folder)
        run_build(settings)
        second = settings.paths.current().generation
        while follower.served_generation() != second:  # no request meanwhile: the watcher alone
            follower.wait(5)
            assert time.monotonic() < deadline + 60, "the server never switched to the second build"
            time.sleep(0.3)
        assert client.get("/readyz").json()["artworks"] == 8


def test_a_full_disk_fails_the_build_clearly_and_the_previous_generation_serves(tmp_path: Path) -> None:
    """A real full disk: the home on a small tmpfs, in a private mount namespace (``unshare -rm``)."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow user and mount namespaces (unshare -rm)")
    folder = tmp_path / "c"
    write(folder, 6)
    settings = settings_for(tmp_path / "home")
    ingest(settings, folder)
    run_build(settings)
    write(folder, 3, start=6)
    ingest(settings, folder)  # the next build has new works to embed, index and link
    probe = Path(__file__).with_name("diskfull_probe.py")
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, str(probe), str(settings.home), str(tmp_path / "mnt")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    before = result["before"]
    assert result["full"]["returncode"] != 0
    message = result["full"]["stderr"]
    assert "no space left" in message and "Traceback" not in message, message
    assert result["after_full"] == before  # the previous generation still serves, the same works
    assert result["freed"]["returncode"] == 0, result["freed"]["stderr"]
    after = result["after_freed"]
    assert after["generation"] != before["generation"] and after["indexed"] == before["indexed"] + 3
    assert set(result["leftover"]) <= {before["generation"], after["generation"]}
