"""``manifest.json``: what an export holds, and the proof that it is whole.

The manifest is the last file an export writes, by one rename, after every
other file is on disk and synced: a folder without one is an export that did
not finish (killed, disk full) and is refused as such, never half-restored. It
names every file with its size and SHA-256, and a restore checks all of them
before it writes anything, so a damaged copy (a flipped bit on a backup disk,
a truncated download, a deleted file) is refused with the file named instead
of turning up later as a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from asterism.files import atomic_write, fsync_folder
from asterism.recommend.query import QueryError

FORMAT = "asterism-export"
VERSION = 1
NAME = "manifest.json"
CHUNK = 1 << 20


class DamagedExport(QueryError):
    """An export folder that is not whole: no manifest, an unreadable one, a missing or altered file."""

    status = 422


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def describe(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of each file (relative, '/'-separated), each synced to disk first."""
    files: dict[str, dict[str, Any]] = {}
    folders: set[Path] = set()
    for name in sorted(set(names)):
        path = folder / name
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
        files[name] = {"bytes": path.stat().st_size, "sha256": checksum(path)}
        folders.add(path.parent)
    for parent in sorted(folders, reverse=True):
        fsync_folder(parent)
    return files


def write(folder: Path, manifest: dict[str, Any]) -> Path:
    """The manifest, last and atomically: the export is complete from this rename on."""
    path = folder / NAME
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return path


def _inside(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts


def read_verified(folder: Path) -> dict[str, Any]:
    """The manifest of a whole export; ``DamagedExport`` naming the first file that is not as listed."""
    path = folder / NAME
    if not folder.is_dir():
        raise DamagedExport(f"{folder} is not a folder")
    if not path.is_file():
        raise DamagedExport(
            f"{path} is missing: not an export, or an export that did not finish (the manifest is written last)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DamagedExport(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DamagedExport(f"{path} is not the manifest of an Asterism export")
    if manifest.get("version") != VERSION:
        raise DamagedExport(
            f"{path}: export format version {manifest.get('version')!r}; this Asterism reads version {VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise DamagedExport(f"{path} lists no files")
    for name, facts in sorted(files.items()):
        if not _inside(name) or not isinstance(facts, dict):
            raise DamagedExport(f"{path} names {name!r}, which is not a file inside the export")
        member = folder / name
        if not member.is_file():
            raise DamagedExport(f"{name} is missing from the export {folder}")
        if member.stat().st_size != facts.get("bytes") or checksum(member) != facts.get("sha256"):
            raise DamagedExport(f"{name} is damaged: its checksum does not match the manifest of {folder}")
    return manifest


def member(folder: Path, manifest: dict[str, Any], name: str) -> Path:
    """A file the manifest lists (and ``read_verified`` checked); ``DamagedExport`` for any other."""
    if name not in manifest["files"]:
        raise DamagedExport(f"{folder / NAME} refers to {name}, which it does not list with a checksum")
    return folder / name
