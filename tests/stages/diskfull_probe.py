"""Run inside a private mount namespace (``unshare -rm``): a build on a full disk, then with space.

Prints one JSON object for ``test_generations.test_a_full_disk_...``: the failed build's exit
status and message, the generation a server then serves, and the build after space is freed.
Not a test module itself: it needs the tmpfs mount that only exists inside the namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from asterism.config import load_settings
from asterism.recommend.query import Query
from asterism.recommend.service import open_service

SPARE = 48 * 1024  # bytes left free: the embed stage's few rows fit, a new generation does not


def build(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ASTERISM_HOME=str(home), ASTERISM_OCR__MODE="never")
    command = [sys.executable, "-m", "asterism.cli.main", "build"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def serving(home: Path) -> dict[str, object]:
    service = open_service(load_settings(home=home, ocr={"mode": "never"}))
    try:
        page = service.recommend(Query(artwork_id=int(min(service.catalogue.ids)), k=3))
        generation = service.home.generation if service.home else None
        indexed = service.readiness()["indexes"]["formal"]
        return {"generation": generation, "results": len(page.results), "indexed": indexed}
    finally:
        service.close()


def main(source: Path, mount: Path) -> None:
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], check=True)
    home = mount / "home"
    shutil.copytree(source, home)
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    with open(filler, "wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - SPARE))
    before = serving(home)
    full = build(home)
    after_full = serving(home)
    filler.unlink()
    freed = build(home)
    result = {
        "before": before,
        "full": {"returncode": full.returncode, "stderr": full.stderr[-2000:]},
        "after_full": after_full,
        "freed": {"returncode": freed.returncode, "stderr": freed.stderr[-2000:]},
        "after_freed": serving(home),
        "leftover": sorted(p.name for p in (home / "generations").iterdir()),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
