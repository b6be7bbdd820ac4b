"""Build generations: a build writes a new folder and switches to it with one atomic manifest.

A build that is killed (kill -9, power cut, full disk) must leave the
collection the server was serving, and the next build must complete. So no
build writes a file that a server reads. Each build:

1. takes the home's build lock (``build_lock``: one writer; a second build,
   or an admin rebuild beside a CLI build, is told "a build is running (pid N)");
2. removes any generation that no manifest names (what a killed build left);
3. starts a new generation seeded from the served one (``begin``): files that
   are only ever replaced by rename (indexes, vectors, recognition sets, state
   files: ``files.atomic_write``) are hard links, free and shared; the graph
   database, which LadybugDB rewrites in place, is copied;
4. brings the new generation up to date (the stages' usual incremental work);
5. switches ``current.json`` to it with one atomic rename (``publish``) — the
   only moment anything a reader sees changes — and removes generations older
   than the one it replaced (a server still on that one reloads within a
   second: ``api/reload.py``; Linux keeps an open or mapped file alive anyway).

The property store is not part of a generation: it is the source of truth,
written by ingest and by the embed stage one transaction at a time, and a
killed embed stage resumes where it stopped. A Neo4j graph lives in its
server, outside the generation: only the embedded LadybugDB graph is switched
atomically with the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

from asterism.files import atomic_write, fsync_folder
from asterism.home import Home
from asterism.locks import exclusive
from asterism.recommend.query import QueryError

COPIED = ("graph",)  # rewritten in place by their database: each generation gets its own copy
# only ever replaced by rename: shared by hard links
LINKED = ("indexes", "recognition", "adjacency", "layouts", "catalogue")


class BuildRunning(QueryError):
    """Another process holds the home's build lock (HTTP 409: the request conflicts with that build)."""

    status = 409


def build_lock(home: Home) -> AbstractContextManager[None]:
    """Hold the home's build lock for the block, or raise ``BuildRunning`` naming the holder's pid."""
    return exclusive(
        home.build_lock,
        lambda pid: BuildRunning(f"a build is running (pid {pid}) on {home.root}: wait for it"),
    )


def begin(home: Home) -> Home:
    """A new generation, seeded from the served one; call with the build lock held."""
    served = home.current()
    _remove_abandoned(home, keep={served.generation})
    name = f"g{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    fresh = home.at(name)
    fresh.built_root.mkdir(parents=True)
    for folder in LINKED:
        _link_tree(served.built_root / folder, fresh.built_root / folder)
    for folder in COPIED:
        source = served.built_root / folder
        if source.is_dir():
            shutil.copytree(source, fresh.built_root / folder)
    return fresh


def publish(home: Home, fresh: Home) -> None:
    """Make ``fresh`` the served generation (one rename), then drop the ones before the replaced one."""
    assert fresh.generation is not None
    _sync_tree(fresh.built_root)
    replaced = home.current().generation
    manifest = {"generation": fresh.generation, "published": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write(home.manifest, lambda path: path.write_text(json.dumps(manifest)))
    _remove_abandoned(home, keep={fresh.generation, replaced})
    if replaced is None:  # a home from before generations: its top-level built files are now stale
        for folder in (*LINKED, *COPIED):
            shutil.rmtree(home.root / folder, ignore_errors=True)


def abandon(fresh: Home) -> None:
    """Remove a generation that will not be published (the build failed)."""
    shutil.rmtree(fresh.built_root, ignore_errors=True)


def _remove_abandoned(home: Home, keep: set[str | None]) -> None:
    if not home.generations.is_dir():
        return
    for folder in home.generations.iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _link_tree(source: Path, target: Path) -> None:
    """``target`` as a copy of ``source`` made of hard links (copies where links are refused)."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:  # another file system, or links not allowed: a copy costs space, not safety
            shutil.copy2(path, destination)


def _sync_tree(root: Path) -> None:
    """fsync every file and folder of a generation before the manifest names it."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            fsync_folder(path)
    fsync_folder(root)
