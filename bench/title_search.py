"""Title and artist search at size: the word index against the linear scan it replaced, in one run.

    .venv/bin/python bench/title_search.py [--size 1000000] [--queries 40]

``--size`` synthetic works (``scale.synthetic_works``: realistic titles and
artists) are written as the build writes its catalogue snapshot
(``recommend/snapshot.save``, which builds the word index) and mapped as a
server maps them (``Catalogue.mapped``). Then the same queries (one, two and
three word prefixes of real titles and artists, and words no work holds) are
answered by ``Catalogue.search`` and by the old scan, written out below, over
the same folded texts. Both are timed in CPU seconds (``time.process_time``),
so a loaded machine inflates neither; the answers are compared, and the
ratio printed. Also printed: the snapshot step's extra cost for the index and
its size on disk, and the first search's cost (the index read from disk).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np

import scale
from asterism.config import LicenseSettings
from asterism.recommend import snapshot
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.snapshot import Snapshot, fold, haystack
from asterism.recommend.words import FILES


def old_scan(hay: list[tuple[int, str]], catalogue: Catalogue, text: str, limit: int = 20) -> list[int]:
    """The scan ``Catalogue.search`` was (regular expressions over every work's folded text)."""
    terms = [t for t in re.findall(r"\w+", fold(text)) if t]
    found = []
    for artwork_id, words_of in hay:
        words = re.findall(r"\w+", words_of)
        if all(any(w.startswith(t) for w in words) for t in terms):
            record = catalogue.records[artwork_id]
            exact = fold(record.title) == fold(text) or fold(record.artist_name or "") == fold(text)
            found.append((not exact, len(record.title), artwork_id))
    return [i for _, _, i in sorted(found)[:limit]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--scan-queries", type=int, default=5, help="the old scan is slow: this many of them")
    args = parser.parse_args()
    works = [w.model_copy(update={"id": i}) for i, w in enumerate(scale.synthetic_works(args.size), 1)]
    rng = np.random.default_rng(0)
    picks = [works[int(i)] for i in rng.choice(len(works), args.queries, replace=False)]
    queries = []
    for n, work in enumerate(picks):
        words = re.findall(r"\w+", f"{work.title} {work.artist_name or ''}")
        take = 1 + n % 3
        queries.append(" ".join(w[: max(3, len(w) - n % 2)] for w in words[:take]) if n % 8 else "zzqx")
    with tempfile.TemporaryDirectory(prefix="asterism-search-") as folder:
        started = time.process_time()
        snapshot.save(Path(folder), works, {})
        save_s = time.process_time() - started
        index_mb = sum((Path(folder) / name).stat().st_size for name in (*FILES, "words.json")) / 2**20
        mapped = Snapshot.load(Path(folder))
        assert mapped is not None
        catalogue = Catalogue.mapped(mapped, LicenseSettings(allow_unknown=True))
        started = time.process_time()
        catalogue.search(queries[0])
        first_s = time.process_time() - started
        timings, found = [], []
        for text in queries:
            started = time.process_time()
            found.append([w.id for w in catalogue.search(text)])
            timings.append(time.process_time() - started)
        hay = [(int(a.id or 0), haystack(a)) for a in works]
        scans = []
        for text, answer in list(zip(queries, found, strict=True))[: args.scan_queries]:
            started = time.process_time()
            assert old_scan(hay, catalogue, text) == answer, text
            scans.append(time.process_time() - started)
    index_ms, scan_ms = 1000 * float(np.median(timings)), 1000 * float(np.median(scans))
    print(f"\n## Title search, {args.size:,} works — `bench/title_search.py`\n")
    print("| measure | value |\n|---|---|")
    print(f"| snapshot step with the word index (CPU) | {save_s:.1f} s; index on disk {index_mb:.1f} MB |")
    print(f"| first search (index read from disk, CPU) | {1000 * first_s:.0f} ms |")
    print(
        f"| word index, {len(queries)} queries: p50 / max CPU | {index_ms:.2f} / {1000 * max(timings):.2f} ms |"
    )
    print(f"| old scan, {len(scans)} of the same queries: p50 CPU | {scan_ms:,.0f} ms |")
    print(
        f"| scan / index (p50) | ×{scan_ms / max(index_ms, 1e-6):,.0f}; answers equal on all {len(scans)} |"
    )


if __name__ == "__main__":
    main()
