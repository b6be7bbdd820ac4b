"""The catalogue snapshot: every embeddable record as files a server maps instead of reading the store.

Reading a million works from the property store into ``Artwork`` objects took
~0.25 ms a work (minutes at 1M, and ~17 kB resident a work). The build
therefore writes, into its generation (``Home.catalogue``):

    ids.npy, start.npy, end.npy, dated.npy, image.npy   the filter columns, one row per record (by id)
    source.npy, kind.npy, licence.npy                   codes into the manifest's vocabularies
    records.jsonl + offsets.npy                         each record's JSON, decoded on demand
    keys.npy + key_rows.npy                             sorted 64-bit hashes of ``source:source_id``
    words.json, word_*.npy, title_*.npy, artist_key.npy  title/artist search's inverted index (``words.py``)
    catalogue.json                                      the manifest, written last

``licence.npy`` codes the record's licence *class* (stored id, verbatim text,
licence URL, status): the policy of now is applied once per class at start
(``Catalogue.mapped``), never baked in. The manifest names the property
store's fingerprint at the build; a server whose store has changed since
reads the records instead (``recommend/served.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from asterism.files import atomic_write, fsync_folder
from asterism.index.vectors import Ids
from asterism.recommend.words import FILES as WORD_FILES
from asterism.recommend.words import WordIndex
from asterism.shapes import Artwork, Status

FORMAT = 2  # 2: the word index replaced search.jsonl
MANIFEST = "catalogue.json"
UNKNOWN_LOW, UNKNOWN_HIGH = -(10**6), 10**6  # an undated start or end: outside every date filter
RECORD_CACHE = 10_000  # decoded records kept (a page shows ~13; evaluation walks them all)

LicenceClass = tuple[str, str | None, str | None, str]  # stored id, verbatim text, licence URL, status


def licence_class(artwork: Artwork) -> LicenceClass:
    """Everything ``catalogue.license_check`` reads of a record: equal classes, equal verdicts."""
    url = artwork.extras.get("license_url")
    return (artwork.license_id, artwork.license, url if isinstance(url, str) else None, str(artwork.status))


def class_record(cls: LicenceClass) -> Artwork:
    """A stand-in record of one licence class, for ``license_check``."""
    license_id, text, url, status = cls
    extras: dict[str, Any] = {"license_url": url} if url is not None else {}
    return Artwork(source="", source_id="", id=0, license=text, license_id=license_id, extras=extras,
                   status=Status(status))  # fmt: skip


def painters_stamp(path: Path | None) -> dict[str, Any] | None:
    """Which PainterPalette file, as it was: a server reading another one must not use the snapshot."""
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return {"path": str(path.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def key_hash(source: str, source_id: str) -> int:
    """A work's name as a signed 64-bit hash (a match is verified against the decoded record)."""
    digest = hashlib.blake2b(f"{source}:{source_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def fold(text: str) -> str:
    """Lower case without accents: "Gonzalès" matches "gonzales"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def haystack(artwork: Artwork) -> str:
    """What title/artist search reads of a work."""
    return fold(f"{artwork.title} {artwork.artist_name or ''} {artwork.artist_display or ''}")


@dataclass
class FilterColumns:
    """Per work, in id order: what date and picture filters read.

    Defined once for the snapshot the build writes (``Snapshot``) and for the catalogue read
    from the store (``catalogue._Columns``): a filter must answer alike over either.
    """

    ids: Ids
    start: npt.NDArray[np.int64]  # UNKNOWN_LOW when unknown: outside every date filter
    end: npt.NDArray[np.int64]  # UNKNOWN_HIGH when unknown
    dated: npt.NDArray[np.bool_]
    image: npt.NDArray[np.bool_]

    @staticmethod
    def of(works: Sequence[Artwork]) -> dict[str, Any]:
        """The columns of ``works`` (sorted by id) by field name, to construct a subclass with."""
        return {
            "ids": np.asarray([a.id for a in works], dtype=np.int64),
            "start": np.asarray(
                [UNKNOWN_LOW if a.date_start is None else a.date_start for a in works], np.int64
            ),
            "end": np.asarray([UNKNOWN_HIGH if a.date_end is None else a.date_end for a in works], np.int64),
            "dated": np.asarray([a.date_start is not None or a.date_end is not None for a in works], bool),
            "image": np.asarray([a.image is not None for a in works], dtype=bool),
        }


def word_index(ids: Ids, works: Sequence[Artwork]) -> WordIndex:
    """Title and artist search's index of ``works`` (``ids``: theirs, in the same order)."""
    return WordIndex.build(
        ids, [haystack(a) for a in works], [fold(a.title) for a in works],
        [fold(a.artist_name or "") for a in works], [len(a.title) for a in works],
    )  # fmt: skip


def codes(values: Sequence[Any]) -> tuple[npt.NDArray[np.int32], list[Any]]:
    """Each value as its index into the vocabulary of values in first-seen order (filter columns)."""
    vocabulary = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(vocabulary)}
    return np.asarray([index[v] for v in values], dtype=np.int32), vocabulary


def save(folder: Path, artworks: Sequence[Artwork], meta: dict[str, Any]) -> None:
    """Write the snapshot of ``artworks`` (embeddable records) with ``meta`` in the manifest.

    The manifest goes first (removed) and last (written atomically): a killed save leaves
    no manifest, and ``load`` answers None. Every file is replaced by rename, so a file
    shared by hard link with the served generation is never written into.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    works = sorted(artworks, key=lambda a: a.id or 0)
    sources, source_names = codes([a.source for a in works])
    kinds, kind_names = codes([(a.classification or "").lower() for a in works])
    licences, classes = codes([licence_class(a) for a in works])
    hashes = np.asarray([key_hash(*a.key) for a in works], dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    columns: dict[str, npt.NDArray[Any]] = {
        **FilterColumns.of(works),
        "source": sources,
        "kind": kinds,
        "licence": licences,
        "keys": hashes[order],
        "key_rows": order.astype(np.int64),
    }
    documents = [a.model_dump_json().encode() for a in works]
    columns["offsets"] = np.concatenate([[0], np.cumsum([len(d) for d in documents])]).astype(np.int64)
    for name, array in columns.items():
        atomic_write(folder / f"{name}.npy", functools.partial(_save_npy, array=array))
    atomic_write(folder / "records.jsonl", lambda path: path.write_bytes(b"".join(documents)))
    word_index(columns["ids"], works).save(folder)
    (folder / "search.jsonl").unlink(missing_ok=True)  # format 1's scan text, linked from an older generation
    fsync_folder(folder)
    manifest = {**meta, "format": FORMAT, "rows": len(works), "sources": source_names, "kinds": kind_names,
                "classes": [list(c) for c in classes]}  # fmt: skip
    atomic_write(folder / MANIFEST, lambda path: path.write_text(json.dumps(manifest)))


def manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a complete snapshot of this format, else None."""
    try:
        found: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if found.get("format") == FORMAT else None


@dataclass
class Snapshot(FilterColumns):
    """A mapped snapshot: columns over every record (sorted by id), and decoding of one record."""

    folder: Path
    meta: dict[str, Any]
    source: npt.NDArray[np.int32]
    kind: npt.NDArray[np.int32]
    licence: npt.NDArray[np.int32]
    keys: npt.NDArray[np.int64]
    key_rows: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]
    blob: npt.NDArray[np.uint8]

    @classmethod
    def load(cls, folder: Path) -> Snapshot | None:
        """The snapshot ``save`` wrote, memory-mapped; None if absent, partial or of another format."""
        meta = manifest(folder)
        if meta is None:
            return None
        names = ("ids", "start", "end", "dated", "image", "source", "kind", "licence", "keys", "key_rows",
                 "offsets")  # fmt: skip
        try:
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in names}
            size = (folder / "records.jsonl").stat().st_size
            for name in (*WORD_FILES, "words.json"):
                (folder / name).stat()  # present: a search must not fail on a partial snapshot
            blob = (
                np.memmap(folder / "records.jsonl", dtype=np.uint8, mode="r")
                if size
                else np.zeros(0, np.uint8)
            )
        except (OSError, ValueError):
            return None
        if len(arrays["ids"]) != meta["rows"] or int(arrays["offsets"][-1]) != size:
            return None
        return cls(folder=folder, meta=meta, blob=blob, **arrays)

    @property
    def classes(self) -> list[LicenceClass]:
        return [(c[0], c[1], c[2], c[3]) for c in self.meta["classes"]]

    def record(self, row: int) -> Artwork:
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        return Artwork.model_validate_json(self.blob[start:end].tobytes())

    def find(self, source: str, source_id: str) -> int | None:
        """The row of the record named ``source:source_id`` (decoded to check the name), else None."""
        wanted = key_hash(source, source_id)
        position = int(np.searchsorted(self.keys, wanted))
        while position < len(self.keys) and int(self.keys[position]) == wanted:
            row = int(self.key_rows[position])
            if self.record(row).key == (source, source_id):
                return row
            position += 1
        return None

    def words(self) -> WordIndex:
        """Title and artist search's index (read when first searched)."""
        return WordIndex.load(self.folder)


class MappedRecords(Mapping[int, Artwork]):
    """The served records of a snapshot by id, decoded on demand behind a bounded LRU.

    ``rows``: each served id's row in the snapshot; ``licences``: per row, the licence id
    the policy of now reads from the record's statement when it differs from the stored one.
    """

    def __init__(self, snapshot: Snapshot, ids: Ids, rows: npt.NDArray[np.int64],
                 relabel: Mapping[int, str], classes: npt.NDArray[np.int32]) -> None:  # fmt: skip
        self._snapshot, self._ids, self._rows = snapshot, ids, rows
        self._relabel, self._classes = relabel, classes
        self._cache: OrderedDict[int, Artwork] = OrderedDict()
        self._lock = threading.Lock()

    def _position(self, artwork_id: object) -> int | None:
        if not isinstance(artwork_id, int | np.integer) or isinstance(artwork_id, bool):
            return None
        position = int(np.searchsorted(self._ids, artwork_id))
        if position < len(self._ids) and int(self._ids[position]) == int(artwork_id):
            return position
        return None

    def __getitem__(self, artwork_id: int) -> Artwork:
        position = self._position(artwork_id)
        if position is None:
            raise KeyError(artwork_id)
        with self._lock:
            found = self._cache.get(position)
            if found is not None:
                self._cache.move_to_end(position)
                return found
        row = int(self._rows[position])
        work = self._snapshot.record(row)
        relabel = self._relabel.get(int(self._classes[row]))
        if relabel is not None:
            work = work.model_copy(update={"license_id": relabel})
        with self._lock:
            self._cache[position] = work
            if len(self._cache) > RECORD_CACHE:
                self._cache.popitem(last=False)
        return work

    def __contains__(self, artwork_id: object) -> bool:
        return self._position(artwork_id) is not None

    def __iter__(self) -> Iterator[int]:
        return (int(i) for i in self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _save_npy(path: Path, *, array: npt.NDArray[Any]) -> None:
    with path.open("wb") as out:  # np.save on a path not ending in .npy would write to another file
        np.save(out, np.ascontiguousarray(array))
