"""Title and artist search through the word index equals the scan it replaced, on both catalogue paths.

The reference below is the old implementation in a few lines: every served
work whose folded title and artists hold each query word as a word prefix,
exact title or artist matches first, then shorter titles, then id. The index
(``recommend/words.py``) must answer exactly that, whether the catalogue was
read from records or mapped from a build's snapshot, and never name a work
the license policy withholds.
"""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from asterism.config import LicenseSettings
from asterism.recommend import snapshot
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.snapshot import Snapshot, fold, haystack
from asterism.recommend.words import FILES, WordIndex
from asterism.shapes import Artwork

WORDS = ["Bedroom", "bed", "Arles", "Étude", "étoile", "Portrait", "portraits", "of", "a", "Woman", "Café",
         "Cafe", "Nuit", "Night", "한국", "ﬁsh", "½", "Sea", "Seascape", "Hokusai", "Wave", "Great", "Rouen", "Cathedral"]  # fmt: skip
ARTISTS = [
    "Vincent van Gogh",
    "Claude Monet",
    "Katsushika Hokusai",
    "Élisabeth Vigée Le Brun",
    None,
    "Van Gogh",
]


def collection(n: int = 400) -> list[Artwork]:
    rng = random.Random(7)
    works = []
    for i in range(1, n + 1):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        licence = ("CC0", "CC0-1.0") if i % 7 else ("CC BY-NC 4.0", "CC-BY-NC-4.0")  # every 7th withheld
        artist = rng.choice(ARTISTS)
        works.append(Artwork(source="local", source_id=f"w{i}", id=i, title=title, artist_name=artist,
                             license=licence[0], license_id=licence[1]))  # fmt: skip
    works.append(Artwork(source="local", source_id="exact", id=n + 1, title="Claude Monet", license="CC0",
                         license_id="CC0-1.0", artist_name="Someone"))  # fmt: skip
    return works


def reference(works: list[Artwork], text: str, limit: int, served: set[int]) -> list[int]:
    """The linear scan search was before the index."""
    terms = re.findall(r"\w+", fold(text))
    if not terms:
        return []
    found = []
    for work in works:
        words = re.findall(r"\w+", haystack(work))
        if work.id in served and all(any(w.startswith(t) for w in words) for t in terms):
            exact = fold(work.title) == fold(text) or fold(work.artist_name or "") == fold(text)
            found.append((not exact, len(work.title), work.id))
    return [i for _, _, i in sorted(found)[:limit]]


QUERIES = ["bed", "Bedroom", "BEDROOM arl", "etoile", "ÉTUDE", "cafe", "café nuit", "van gogh", "vincent",
           "claude monet", "Monet", "por", "portraits", "a", "hokusai great wave", "zzz", "", "  ", "!!",
           "sea", "sea cathedral rouen", "le brun", "vigee"]  # fmt: skip


@pytest.fixture(params=["records", "snapshot"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Catalogue, list[Artwork]]:
    works, policy = collection(), LicenseSettings(allowed=["CC0"])
    if request.param == "records":
        return Catalogue(works, policy), works
    snapshot.save(tmp_path, list(reversed(works)), {})
    mapped = Snapshot.load(tmp_path)
    assert mapped is not None
    return Catalogue.mapped(mapped, policy), works


@pytest.mark.parametrize("limit", [1, 5, 20, 1000])
def test_search_equals_the_scan_it_replaced(catalogue: tuple[Catalogue, list[Artwork]], limit: int) -> None:
    served_catalogue, works = catalogue
    served = {int(i) for i in served_catalogue.ids}
    assert len(served) < len(works)  # some are withheld, so "never named" is tested
    hits = 0
    for text in QUERIES:
        found = [w.id for w in served_catalogue.search(text, limit)]
        assert found == reference(works, text, limit, served), text
        assert set(found) <= served
        hits += len(found)
    assert hits > min(limit, 20)  # the queries do find works
    exact = [fold(w.title) == "bed" for w in served_catalogue.search("bed", 1000)]
    assert exact[0] and not exact[-1] and exact == sorted(exact, reverse=True)  # exact titles first


def test_prefixes_cover_a_contiguous_run_of_the_vocabulary() -> None:
    texts = ["bed bedroom", "bedside", "abed", "be"]
    index = WordIndex.build([10, 20, 30, 40], texts, texts, ["", "", "", ""], [len(t) for t in texts])
    assert index.ids[index.matching(["be"])].tolist() == [10, 20, 40]
    assert index.ids[index.matching(["bed"])].tolist() == [10, 20]
    assert index.ids[index.matching(["bedr"])].tolist() == [10]
    assert index.ids[index.matching(["bed", "be"])].tolist() == [10, 20]
    assert index.matching(["c"]).tolist() == [] and index.matching(["bed", "x"]).tolist() == []
    assert index.ids[index.matching(["be"], within=np.array([True, False, True, True]))].tolist() == [10, 40]
    ranked = index.ranked(index.matching(["be"]), "bedside", 3)  # the exact title first, then shorter
    assert index.ids[ranked].tolist() == [20, 40, 10]


@pytest.mark.parametrize("ids", [[5, 6, 7], [-9, 5, 6], [5, 6, 1 << 50]])
def test_ranking_holds_for_ids_the_packed_key_cannot_hold(ids: list[int]) -> None:
    texts = ["bed r", "bed", "bedside"]
    index = WordIndex.build(ids, texts, texts, ["", "", ""], [len(t) for t in texts])
    ranked = index.ids[index.ranked(index.matching(["bed"]), "bedside", 3)].tolist()
    assert ranked == [ids[2], ids[1], ids[0]]  # exact first, then the shorter title
    assert index.ids[index.ranked(index.matching(["bed"]), "zz", 1)].tolist() == [ids[1]]


def test_concurrent_first_searches_never_see_the_index_without_its_served_mask(tmp_path: Path) -> None:
    """Request threads race to the first search of a mapped catalogue, whose index also holds
    withheld works; ``allowed`` is slowed so a search reading the index before its mask would
    hand a withheld position to ``records`` (a KeyError, a 500 from the API)."""
    works = collection()
    snapshot.save(tmp_path, works, {})
    mapped = Snapshot.load(tmp_path)
    assert mapped is not None
    catalogue = Catalogue.mapped(mapped, LicenseSettings(allowed=["CC0"]))
    allowed = catalogue.allowed

    def slow(ids: np.ndarray, filters: object) -> np.ndarray:
        time.sleep(0.2)
        return allowed(ids, filters)  # type: ignore[arg-type]

    catalogue.allowed = slow  # type: ignore[method-assign]
    served = {int(i) for i in catalogue.ids}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda text: catalogue.search(text, 1000), ["bed", "cafe", "a", "sea"] * 4))
    assert all({w.id for w in found} <= served for found in answers) and any(answers)


def test_a_snapshot_without_its_word_index_is_not_mapped(tmp_path: Path) -> None:
    works = collection(20)
    snapshot.save(tmp_path, works, {})
    assert Snapshot.load(tmp_path) is not None
    loaded = Snapshot.load(tmp_path)
    assert loaded is not None and loaded.words().ids.tolist() == sorted(w.id for w in works if w.id)
    for name in (*FILES, "words.json"):
        snapshot.save(tmp_path, works, {})
        (tmp_path / name).unlink()
        assert Snapshot.load(tmp_path) is None, name
