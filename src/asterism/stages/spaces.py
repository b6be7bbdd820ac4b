"""Bring your own vectors: a vector space computed elsewhere, imported for the works it covers.

A museum may publish embeddings of its collection, or a GPU machine may
compute CLIP vectors for a million images overnight; this stage stores them
beside our own (table ``embeddings``, affinity ``space:<name>``) so that an
affinity can be served from them (``models.spaces``, e.g. ``{conceptual =
"openclip"}``): the index stage then builds that affinity's index from the
imported vectors. Rows are matched to works by the work's own name
(``source:source_id``), its store id, or the sha256 of its image (one
vector then covers every record showing that file).

Formats: ``.npy`` (N × D float) with an ids file of N lines, or ``.parquet``
with a ``vector`` column and one of ``ref`` / ``sha256``.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asterism.config import Settings
from asterism.embed.base import Vectors, l2_normalise
from asterism.recommend.query import QueryError
from asterism.recommend.refs import BadRef, parse_ref
from asterism.shapes import Artwork
from asterism.store import open_database
from asterism.store.features import MODEL_PREFIX, SPACE_PREFIX, Embedding

_SHA = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class ImportRefused(QueryError):
    """The file cannot be imported as asked (its shape, its ids, the space name): a 4xx / exit 2."""

    status = 422


@dataclass
class ImportReport:
    space: str
    rows: int = 0
    dim: int = 0
    works: int = 0  # works that got a vector
    unmatched: list[str] = field(default_factory=list)  # row keys naming no stored work

    @property
    def affinity(self) -> str:
        return space_affinity(self.space)


def space_affinity(space: str) -> str:
    """The affinity name an imported space is stored under."""
    return SPACE_PREFIX + space


def read_vectors(path: Path, ids: Path | None) -> tuple[list[str], Vectors]:
    """(row keys, matrix) from ``.npy`` + an ids file, or from Parquet (``ref`` or ``sha256`` + ``vector``)."""
    if path.suffix == ".npy":
        if ids is None:
            raise ImportRefused(f"{path.name}: a .npy file needs --ids (one ref, id or image sha256 per row)")
        matrix = np.load(path, allow_pickle=False)
        keys = [line.strip() for line in ids.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        column = next((c for c in ("ref", "sha256") if c in table.column_names), None)
        if column is None or "vector" not in table.column_names:
            raise ImportRefused(f"{path.name}: needs a 'vector' column and a 'ref' or 'sha256' column")
        keys = [str(v) for v in table.column(column).to_pylist()]
        matrix = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
    else:
        raise ImportRefused(f"{path.name}: give a .npy (with --ids) or a .parquet file")
    if matrix.ndim != 2 or not len(matrix):
        raise ImportRefused(f"{path.name}: expected N × D vectors, got shape {matrix.shape}")
    if len(keys) != len(matrix):
        raise ImportRefused(f"{path.name}: {len(matrix)} vectors but {len(keys)} ids")
    if not np.isfinite(matrix).all():
        raise ImportRefused(f"{path.name}: vectors hold NaN or infinite values")
    return keys, matrix.astype(np.float32)


def _targets(
    key: str, by_ref: dict[tuple[str, str], int], by_id: set[int], by_sha: dict[str, list[int]]
) -> list[int]:
    if _SHA.fullmatch(key.lower()):
        return by_sha.get(key.lower(), [])
    try:
        parsed = parse_ref(key)
    except BadRef:
        return []
    if isinstance(parsed, int):
        return [parsed] if parsed in by_id else []
    found = by_ref.get(parsed)
    return [found] if found is not None else []


def import_vectors(
    settings: Settings, path: Path, space: str, *, ids: Path | None = None, model: str | None = None
) -> ImportReport:
    """Store the file's vectors as space ``space`` for the works they name; replaces that space's vectors."""
    if not _NAME.fullmatch(space):
        raise ImportRefused(f"space name {space!r}: use lower-case letters, digits, '.', '_' or '-'")
    if model is not None and not 0 < len(model) <= 100:
        raise ImportRefused("--model: a name of 1 to 100 characters")
    keys, matrix = read_vectors(path, ids)
    report = ImportReport(space, rows=len(keys), dim=int(matrix.shape[1]))
    with open_database(settings) as database:
        works: list[Artwork] = [a for a in database.records.artworks() if a.embeddable]
        by_ref = {a.key: int(a.id) for a in works if a.id is not None}
        by_id = set(by_ref.values())
        by_sha: defaultdict[str, list[int]] = defaultdict(list)
        for artwork in works:
            if artwork.image is not None and artwork.id is not None:
                by_sha[artwork.image.sha256].append(artwork.id)
        vectors = l2_normalise(matrix)
        if not any(_targets(k, by_ref, by_id, by_sha) for k in keys):
            raise ImportRefused(
                f"{path.name}: none of its {len(keys)} rows names a stored work (nothing imported)"
            )
        rows: dict[int, Embedding] = {}
        key = MODEL_PREFIX + (model or "")
        for row_key, vector in zip(keys, vectors, strict=True):
            targets = _targets(row_key, by_ref, by_id, by_sha)
            if not targets:
                report.unmatched.append(row_key)
            digest = hashlib.sha256(vector.tobytes()).hexdigest()
            for work in targets:
                rows[work] = Embedding(work, report.affinity, key, digest, vector)
        database.features.replace_affinity(report.affinity, list(rows.values()))
        report.works = len(rows)
    return report
