"""The graph as CSV files for ``neo4j-admin database import full``: a first bulk load of Neo4j, streamed.

Why: ``graph/neo4j.py`` writes through batched ``UNWIND $rows ... MERGE``
transactions. That path stays, and stays what builds use for incremental
updates (new works' edges, a rebuilt type) once a collection lives in Neo4j;
but a first load of tens of millions of edges through transactions takes
hours, while the offline importer writes the store files directly. So a
collection that outgrows the embedded LadybugDB moves with ``asterism graph
export-neo4j DIR``, the command written to ``DIR/README.md`` (and
``DIR/import.sh``), then ``graph.backend = "neo4j"``.

The format follows the Neo4j Operations Manual: "Import header format"
(https://neo4j.com/docs/operations-manual/current/import/header-format/) and
"Full import" (https://neo4j.com/docs/operations-manual/current/import/full-import/):

- Each data source is a header file (one row) and a data file, given as
  ``--nodes=header.csv,data.csv.gz``; a ``.csv.gz`` is read as it is. Header
  and data use the same delimiter, ``,``.
- A header field is ``<name>:<field_type>``. Nodes carry ``:ID(<ID space>)``
  and ``:LABEL``; relationships ``:START_ID(<ID space>)``,
  ``:END_ID(<ID space>)`` and ``:TYPE``. Properties are typed ``long``,
  ``float`` or ``string`` (no type means string).
- Two ID spaces: ``Artwork`` (the property store's integer id) and ``Entity``
  (the knowledge-graph key, e.g. ``artist:claude monet``), so the two never
  collide. The artwork's ``:ID(Artwork)`` column has no name, so it is used
  for matching only and not stored: ``--id-type`` is global and Entity keys
  need ``string``, which would store the id as text. A separate ``id:long``
  column stores it as the integer the UNWIND path writes and the
  ``artwork_id`` constraint indexes. The entity's key is stored by its ID
  column, ``key:ID(Entity)``.
- Several labels in one ``:LABEL`` field are split by the array delimiter
  (``;``): an entity is ``Entity;Artist``. No free text goes in an array
  field, so text never meets that delimiter.
- Quoting is RFC 4180, as the importer reads it by default: a value holding
  the delimiter, a quote or a line break is quoted, an inner quote doubled
  (``"A ""quoted"" title"``); never backslash-escaped
  (``--legacy-style-quoting=false``). An empty field is no property. CR and
  CRLF in text become LF (a lone CR would end the row) and NUL is dropped.
  A value holding a line break needs ``--multiline-fields=true``, which slows
  the importer down, so the command carries it only when some value had one.

Memory: rows are read and written a chunk at a time (``chunk`` artworks'
edges for LadybugDB, whose results are materialised whole; ``chunk`` rows of
a streamed Neo4j result). Nothing holds all the edges; what grows with the
collection is the sorted array of artwork ids (8 bytes per node) and, from
LadybugDB, one entity-to-entity relation type at a time (bounded by the
knowledge graph's vocabulary, not by the collection).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shlex
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from asterism.graph import cypher
from asterism.graph.base import KNOWLEDGE_TYPES, SIMILARITY_TYPES
from asterism.graph.chunked import CHUNK, GraphSource
from asterism.index.vectors import Ids

ARRAY_DELIMITER = ";"
ARTWORK_HEADER = [
    ":ID(Artwork)", "id:long", "title", "artist", "date_start:long", "date_end:long",
    "culture", "classification", "source", "source_id", ":LABEL",
]  # fmt: skip
ENTITY_HEADER = ["key:ID(Entity)", "kind", "label", ":LABEL"]
SIMILARITY_HEADER = [":START_ID(Artwork)", ":END_ID(Artwork)", ":TYPE", "weight:float"]
ARTWORK_LINK_HEADER = [":START_ID(Artwork)", ":END_ID(Entity)", ":TYPE"]
ENTITY_LINK_HEADER = [":START_ID(Entity)", ":END_ID(Entity)", ":TYPE"]
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class ArtworkFacts(Protocol):
    """What an Artwork node carries besides its id (``shapes.Artwork`` has all of it)."""

    @property
    def id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def artist_name(self) -> str | None: ...
    @property
    def date_start(self) -> int | None: ...
    @property
    def date_end(self) -> int | None: ...
    @property
    def culture(self) -> str | None: ...
    @property
    def classification(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def source_id(self) -> str: ...


@dataclass
class Neo4jExport:
    """What ``export_neo4j`` wrote."""

    directory: Path
    nodes: dict[str, int] = field(default_factory=dict)  # ID space -> rows
    relationships: dict[str, int] = field(default_factory=dict)  # type -> rows
    files: list[Path] = field(default_factory=list)
    command: str = ""
    multiline: bool = False
    seconds: float = 0.0


# ----------------------------------------------------------------------------- writing the files
class _Text:
    """Free text made safe for the importer's CSV reader; remembers whether a line break was kept."""

    def __init__(self) -> None:
        self.multiline = False

    def __call__(self, value: str | None) -> str | None:
        if not value:
            return None  # an empty field: no property
        if "\x00" in value:
            value = value.replace("\x00", "")
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" in value:
            self.multiline = True
        return value or None


class _Table:
    """One data source: ``<name>-header.csv`` (the header row) and ``<name>.csv[.gz]`` (the rows)."""

    def __init__(self, directory: Path, name: str, header: Sequence[str], compress: bool) -> None:
        self.header_path = directory / f"{name}-header.csv"
        self.data_path = directory / (f"{name}.csv.gz" if compress else f"{name}.csv")
        with self.header_path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out, lineterminator="\n").writerow(header)
        # kept open while rows stream in; close() closes it
        self._file: IO[str]
        if compress:
            self._file = gzip.open(self.data_path, "wt", compresslevel=1, encoding="utf-8", newline="")  # noqa: SIM115
        else:
            self._file = self.data_path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")  # RFC 4180 quoting: "" inside quotes
        self.rows = 0

    def write(self, rows: Iterable[Sequence[object]], count: int | None = None) -> None:
        """Append rows (``count`` of them when ``rows`` is an iterator: no list is built)."""
        self._writer.writerows(rows)
        self.rows += len(rows) if count is None and isinstance(rows, Sequence) else int(count or 0)

    def close(self) -> None:
        self._file.close()

    def files(self) -> list[Path]:
        return [self.header_path, self.data_path]

    def remove(self) -> None:
        for path in self.files():
            path.unlink(missing_ok=True)


def export_neo4j(
    source: GraphSource,
    directory: Path,
    *,
    artworks: Iterable[ArtworkFacts] = (),
    compress: bool = True,
    database: str = "neo4j",
    overwrite: bool = False,
) -> Neo4jExport:
    """Write the graph under ``directory`` as neo4j-admin CSV, with the import command beside it.

    ``artworks``: the works' records, ascending by id (``PropertyStore.artworks()``), joined
    to the Artwork nodes as they stream past; a node without a record gets its id only.
    ``compress``: gzip the data files (level 1: the import reads faster than it inflates).
    ``database``: the database name the written command imports into.
    ``overwrite``: write into a directory that is not empty (files of the same names are replaced).
    """
    started = time.perf_counter()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]*", database):
        raise ValueError(f"not a Neo4j database name: {database!r}")
    directory = Path(directory).resolve()
    if "," in str(directory):
        raise ValueError(f"{directory}: a comma would split the importer's file list; choose another folder")
    if directory.exists() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(f"{directory} is not empty (overwrite to write into it anyway)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "README.md").unlink(missing_ok=True)  # written last: its presence means complete
    report = Neo4jExport(directory)
    text = _Text()
    node_tables: list[_Table] = []
    rel_tables: list[_Table] = []

    table = _Table(directory, "nodes-artwork", ARTWORK_HEADER, compress)
    try:
        _write_artworks(table, source.artwork_ids(), iter(artworks), text, getattr(source, "chunk", CHUNK))
    finally:
        table.close()
    node_tables.append(table)
    report.nodes["Artwork"] = table.rows

    table = _Table(directory, "nodes-entity", ENTITY_HEADER, compress)
    try:
        for entities in source.entities():
            table.write([
                (text(e.key), e.kind, text(e.label), f"Entity{ARRAY_DELIMITER}{e.kind}" if _LABEL.match(e.kind) else "Entity")
                for e in entities
            ])  # fmt: skip
    finally:
        table.close()
    node_tables.append(table)
    report.nodes["Entity"] = table.rows

    for type_ in SIMILARITY_TYPES:
        table = _Table(directory, f"rels-{type_.lower()}", SIMILARITY_HEADER, compress)
        try:
            for edges in source.similarity_edges(type_):
                # float(w) is the exact float32 value: what the UNWIND path stores, to the last bit
                rows = zip(
                    edges.src.tolist(),
                    edges.dst.tolist(),
                    repeat(type_),
                    edges.weight.astype(np.float64).tolist(),
                )
                table.write(rows, len(edges))  # an iterator: zip reuses its row tuple
        finally:
            table.close()
        rel_tables.append(table)
        report.relationships[type_] = table.rows

    for start, header in (("Artwork", ARTWORK_LINK_HEADER), ("Entity", ENTITY_LINK_HEADER)):
        table = _Table(directory, f"rels-knowledge-from-{start.lower()}", header, compress)
        try:
            for type_ in KNOWLEDGE_TYPES:
                for links in source.knowledge_links(type_, start):
                    table.write([(s if start == "Artwork" else text(s), text(d), type_) for s, d in links])
                    report.relationships[type_] = report.relationships.get(type_, 0) + len(links)
        finally:
            table.close()
        rel_tables.append(table)
    for type_ in KNOWLEDGE_TYPES:
        report.relationships.setdefault(type_, 0)

    for t in node_tables + rel_tables:
        if not t.rows:
            t.remove()  # left out of the command rather than handed over empty
    node_tables = [t for t in node_tables if t.rows]
    rel_tables = [t for t in rel_tables if t.rows]
    report.multiline = text.multiline
    report.command = _command(database, node_tables, rel_tables, text.multiline)
    report.files = [p for t in node_tables + rel_tables for p in t.files()]
    _write_companions(report, database)
    report.seconds = time.perf_counter() - started
    return report


def _write_artworks(
    table: _Table, ids: Ids, records: Iterator[ArtworkFacts], text: _Text, chunk: int
) -> None:
    """Artwork rows in id order, each merged with its record when the records stream reaches it."""
    record = next(records, None)
    for begin in range(0, len(ids), chunk):
        rows: list[tuple[object, ...]] = []
        for artwork_id in ids[begin : begin + chunk].tolist():
            while record is not None and (record.id is None or record.id < artwork_id):
                passed = record.id
                record = next(records, None)
                if record is not None and passed is not None and record.id is not None and record.id < passed:
                    raise ValueError("artwork records must come in ascending id order")
            if record is not None and record.id == artwork_id:
                rows.append((
                    artwork_id, artwork_id, text(record.title), text(record.artist_name), record.date_start,
                    record.date_end, text(record.culture), text(record.classification), text(record.source),
                    text(record.source_id), "Artwork",
                ))  # fmt: skip
            else:
                rows.append(
                    (artwork_id, artwork_id, None, None, None, None, None, None, None, None, "Artwork")
                )
        table.write(rows)


def _command(database: str, nodes: Sequence[_Table], relationships: Sequence[_Table], multiline: bool) -> str:
    """The exact ``neo4j-admin database import full`` line (the database first: --nodes is greedy)."""
    parts = [f"--nodes={t.header_path},{t.data_path}" for t in nodes]
    parts += [f"--relationships={t.header_path},{t.data_path}" for t in relationships]
    parts += [
        "--delimiter=,",
        f"--array-delimiter={ARRAY_DELIMITER}",
        '--quote="',
        "--legacy-style-quoting=false",
    ]
    if multiline:
        parts.append("--multiline-fields=true")
    return " \\\n  ".join([f"neo4j-admin database import full {database}", *map(shlex.quote, parts)])


def _write_companions(report: Neo4jExport, database: str) -> None:
    """schema.cypher, manifest.json, import.sh, then README.md (last: its presence means complete)."""
    directory = report.directory
    (directory / "schema.cypher").write_text(
        "".join(f"{s};\n" for s in cypher.NEO4J_SCHEMA), encoding="utf-8"
    )
    manifest = {
        "database": database,
        "nodes": report.nodes,
        "relationships": report.relationships,
        "files": [p.name for p in report.files],
        "multiline_fields": report.multiline,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    script = directory / "import.sh"
    script.write_text(f"#!/bin/sh\nset -eu\n{report.command}\n", encoding="utf-8")
    script.chmod(0o755)
    counts = "\n".join(
        f"| `{name}` | {count:,} |" for name, count in {**report.nodes, **report.relationships}.items()
    )
    multiline = (
        "Some text holds a line break, so the command carries `--multiline-fields=true` "
        "(the importer is slower with it; on Neo4j 2025.x and later, `--multiline-fields-format=v2` "
        "with `--multiline-fields=<the two nodes-*.csv files>` limits it to them).\n"
        if report.multiline
        else "No text holds a line break: the import runs without `--multiline-fields`.\n"
    )
    (directory / "README.md").write_text(
        f"""# Asterism graph for `neo4j-admin database import full`

Written by `asterism graph export-neo4j`: every Artwork node (with title, artist, dates,
culture, classification, source), every knowledge-graph Entity node (labels `Entity` plus its
kind: Artist, Movement, Place, Period, Century, Classification), the typed similarity
relationships (`weight:float`, the cosine) and the knowledge relations. Header files are
separate from the data files (format: Neo4j Operations Manual, "Import header format").

| nodes / relationships | rows |
|---|---:|
{counts}

## Import

The importer writes a database that does not exist yet, offline. Stop the target database
first (`STOP DATABASE {database}`, or stop the server for the default one); to replace one
that has data, add `--overwrite-destination=true`. Then run (also in `import.sh`):

```sh
{report.command}
```

{multiline}
Afterwards, for a database that did not exist: `CREATE DATABASE {database}`; otherwise start it.
Then create the constraints and the index asterism queries by (`schema.cypher`; asterism also
creates them when it first connects):

```sh
cypher-shell -d {database} -f schema.cypher
```

## Then

Set `graph.backend = "neo4j"` and `graph.neo4j_uri` in `asterism.toml`. Later builds write to
Neo4j through batched `UNWIND $rows ... MERGE` transactions (new works' edges, a rebuilt edge
type): the incremental path; this bulk import is for the first load.
""",
        encoding="utf-8",
    )
