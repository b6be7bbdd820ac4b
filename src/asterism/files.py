"""Writing a file so that a reader, or a process killed mid-write, never sees half of it.

Every file a build or an ingest rewrites goes through ``atomic_write``: the
new content is written beside the target under a temporary name and renamed
over it, so the target is always the old file or the new one. It also makes
hard links safe: a build generation shares its unchanged files with the
previous one by hard links (``stages/generations.py``), and a rename gives the
new generation a new file instead of writing into the shared one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX needs the directory itself synced)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def atomic_write(path: Path, write: Callable[[Path], Any], *, durable: bool = True) -> None:
    """Call ``write(temp_path)`` and rename the result over ``path``.

    ``durable``: fsync the file and its folder, so the rename survives a power cut, not only a
    killed process (content-addressed images skip it: a lost one is fetched again).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        if durable:
            with temporary.open("rb+") as written:
                os.fsync(written.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable:
        fsync_folder(path.parent)
