"""One writer per data home: an exclusive lock file that names its holder.

``flock`` is released by the kernel when its holder dies, so a killed ingest
or build never leaves a stale lock behind; the pid written into the file is
only there to be named in the refusal ("a build is running (pid N)").
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """Hold the lock at ``path`` for the block, or raise ``refuse(holder_pid_text)`` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise refuse(handle.read().strip() or "unknown") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def holder(path: Path) -> int | None:
    """The pid holding the lock at ``path``, or None when no live process does.

    Read, not tried: taking the lock even briefly to ask would make a writer starting at that
    moment fail. The holder empties the file when it lets go; a holder killed with SIGKILL
    leaves its pid, which no longer names a live process (a recycled pid can make this say
    "running" for a while: only the message depends on it, never the lock).
    """
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    if not text.isdigit():
        return None
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return int(text)
