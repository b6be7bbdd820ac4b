"""The neo4j-admin bulk export, checked without a Neo4j server: the files are parsed as the importer would.

The grammar checked is the Operations Manual's "Import header format"
(https://neo4j.com/docs/operations-manual/current/import/header-format/):
``<name>:<field_type>`` fields, one ``:ID(<space>)`` per node file, one
``:START_ID(<space>)``, ``:END_ID(<space>)`` and ``:TYPE`` per relationship
file, typed properties; data quoted per RFC 4180 (read back here by Python's
``csv`` module, whose reading rules are the same).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import shlex
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import asterism
from asterism.cli.main import app
from asterism.config import Settings
from asterism.graph import open_graph
from asterism.graph.base import KNOWLEDGE_TYPES, SIMILARITY_TYPES, Entity, Link
from asterism.graph.chunked import graph_source
from asterism.graph.edges import EdgeSet
from asterism.graph.ladybug import LadybugGraph
from asterism.graph.neo4j_import import Neo4jExport, export_neo4j
from asterism.index.vectors import Ids
from asterism.shapes import Artwork
from asterism.store import open_database

TYPES = "int|long|float|double|boolean|byte|short|char|string|point|date|localtime|time|localdatetime|datetime|duration"
PROPERTY = re.compile(rf"(?P<name>[^:]+)(?::(?P<type>{TYPES})(?:\[\])?)?\Z")
SPECIAL = re.compile(
    r"(?P<name>[^:]*):(?P<kind>ID|START_ID|END_ID)(?:\((?P<space>[^)]+)\))?\Z|:(?P<bare>LABEL|TYPE|IGNORE)\Z"
)


# ----------------------------------------------------------------------------- reading an export back
def header(path: Path) -> list[dict[str, str | None]]:
    """Each field of a header file, checked against the manual's grammar."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1, f"{path.name}: a header file is one row"
    fields = []
    for text in rows[0]:
        special, prop = SPECIAL.match(text), PROPERTY.match(text)
        assert special or prop, f"{path.name}: {text!r} is not <name>:<field_type>"
        if special:
            kind = special["kind"] or special["bare"]
            fields.append({"kind": kind, "space": special["space"], "name": special["name"] or None})
        else:
            assert prop is not None
            fields.append({"kind": "property", "name": prop["name"], "type": prop["type"] or "string"})
    return fields


def data_rows(path: Path) -> Iterator[list[str]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        yield from csv.reader(handle)


def sources(export: Neo4jExport) -> list[tuple[str, Path, Path]]:
    """("nodes" | "relationships", header, data) for every data source the written command names."""
    found = []
    for argument in shlex.split(export.command.replace("\\\n", " ")):
        option, _, value = argument.partition("=")
        if option in ("--nodes", "--relationships"):
            head, data = value.split(",")
            found.append((option[2:], Path(head), Path(data)))
    return found


class Parsed:
    """An export read back: nodes per ID space, labels, relationships per type, all references checked."""

    def __init__(self, export: Neo4jExport) -> None:
        self.ids: dict[str, set[str]] = {}
        self.labels: Counter[str] = Counter()
        self.nodes: dict[str, dict[str, dict[str, str]]] = {}  # space -> id -> properties
        self.relationships: Counter[str] = Counter()
        self.weights: dict[str, Counter[tuple[int, int, float]]] = {}
        listed = sources(export)
        assert {p for _, h, d in listed for p in (h, d)} == set(export.files)
        for kind, head, data in sorted(listed, key=lambda s: s[0] != "nodes"):  # nodes first
            fields = header(head)
            kinds = [f["kind"] for f in fields]
            if kind == "nodes":
                assert kinds.count("ID") == 1 and kinds.count("LABEL") == 1, head.name
                space = str(fields[kinds.index("ID")]["space"])
                self._nodes(space, fields, data)
            else:
                assert kinds.count("START_ID") == kinds.count("END_ID") == kinds.count("TYPE") == 1, head.name
                self._relationships(fields, data)

    def _nodes(self, space: str, fields: list[dict[str, str | None]], data: Path) -> None:
        ids, table = self.ids.setdefault(space, set()), self.nodes.setdefault(space, {})
        for row in data_rows(data):
            assert len(row) == len(fields), row
            values = dict(
                zip([f["kind"] if f["kind"] != "property" else f["name"] for f in fields], row, strict=True)
            )
            node_id = values["ID"]
            assert node_id and node_id not in ids, f"{space} id {node_id!r} empty or twice"
            ids.add(node_id)
            table[node_id] = {
                f["name"] or "": v for f, v in zip(fields, row, strict=True) if f["kind"] == "property"
            }
            for label in values["LABEL"].split(";"):
                self.labels[label] += 1
            for f, v in zip(fields, row, strict=True):
                if f["kind"] == "property" and f["type"] == "long" and v:
                    int(v)

    def _relationships(self, fields: list[dict[str, str | None]], data: Path) -> None:
        kinds = [f["kind"] for f in fields]
        start, end = fields[kinds.index("START_ID")], fields[kinds.index("END_ID")]
        weight = next((i for i, f in enumerate(fields) if f["name"] == "weight"), None)
        for row in data_rows(data):
            assert len(row) == len(fields), row
            a, b, type_ = row[kinds.index("START_ID")], row[kinds.index("END_ID")], row[kinds.index("TYPE")]
            assert a in self.ids[str(start["space"])], f"{type_} starts at unknown {start['space']} {a!r}"
            assert b in self.ids[str(end["space"])], f"{type_} ends at unknown {end['space']} {b!r}"
            self.relationships[type_] += 1
            if weight is not None:
                assert fields[weight]["type"] == "float"
                key = (int(a), int(b), float(np.float32(float(row[weight]))))
                self.weights.setdefault(type_, Counter())[key] += 1


# ----------------------------------------------------------------------------- the built sample
def test_export_of_the_built_sample_matches_its_graph(built: Settings, tmp_path: Path) -> None:
    with asterism.Collection(built) as collection:
        export = collection.export_neo4j(tmp_path / "neo4j")
    parsed = Parsed(export)
    graph = open_graph(built, read_only=True, home=built.paths.current())
    try:
        counts = graph.counts()
        edges = {t: graph.edges(t) for t in SIMILARITY_TYPES}
    finally:
        graph.close()
    assert counts["Artwork"] == 120 and counts["FORMAL_SIM"] > 0 and counts["Entity"] > 0
    assert len(parsed.ids["Artwork"]) == parsed.labels["Artwork"] == counts["Artwork"]
    assert len(parsed.ids["Entity"]) == parsed.labels["Entity"] == counts["Entity"]
    for name, count in counts.items():
        if name.startswith("Entity:"):
            assert parsed.labels[name.removeprefix("Entity:")] == count, name
    for type_ in (*SIMILARITY_TYPES, *KNOWLEDGE_TYPES):
        assert parsed.relationships[type_] == counts[type_] == export.relationships[type_], type_
    for type_, stored in edges.items():  # every edge, with its weight to the last float32 bit
        assert parsed.weights.get(type_, Counter()) == Counter(
            zip(
                stored.src.tolist(),
                stored.dst.tolist(),
                stored.weight.astype(np.float64).tolist(),
                strict=True,
            )
        )
    with open_database(built) as database:
        for node_id, properties in list(parsed.nodes["Artwork"].items())[:20]:
            record = database.records.artwork(int(node_id))
            assert record is not None and properties["id"] == node_id
            assert properties["title"] == record.title and properties["source_id"] == record.source_id
    readme = (export.directory / "README.md").read_text()
    assert export.command in readme and export.command in (export.directory / "import.sh").read_text()
    assert export.command.startswith("neo4j-admin database import full neo4j \\\n  --nodes=")
    assert ("--multiline-fields=true" in export.command) == export.multiline
    assert "CREATE CONSTRAINT artwork_id" in (export.directory / "schema.cypher").read_text()


def test_cli_export_refuses_a_folder_in_use(built: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "out"
    result = runner.invoke(
        app, ["--home", str(built.home), "graph", "export-neo4j", str(target), "--no-gzip"]
    )
    assert result.exit_code == 0, result.stderr
    assert "neo4j-admin database import full neo4j" in result.stdout and "120 Artwork" in result.stdout
    assert (target / "nodes-artwork.csv").is_file() and (target / "README.md").is_file()
    result = runner.invoke(app, ["--home", str(built.home), "graph", "export-neo4j", str(target)])
    assert result.exit_code == 2 and "not an empty folder" in " ".join(result.stderr.split())  # rich wraps
    result = runner.invoke(app, ["--home", str(built.home), "graph", "export-neo4j", str(target), "--force"])
    assert result.exit_code == 0 and (target / "nodes-artwork.csv.gz").is_file()


# ----------------------------------------------------------------------------- hostile text
NASTY = [
    'He said "no", then left',
    "two\nlines",
    "carriage\r\nreturn, and a lone\rCR",
    'backslash \\" before a quote',
    "semi;colon, tab\there",
    "Gonzalès — 東京, «quoted»",
    "nul\x00byte",
    '"',
    ",",
]


def test_hostile_titles_and_keys_round_trip(tmp_path: Path) -> None:
    graph = LadybugGraph(tmp_path / "g" / "graph.lbug")
    try:
        graph.add_artworks(np.arange(1, 40))
        graph.replace_edges(
            EdgeSet("HISTORICAL_SIM", np.arange(1, 30), np.arange(2, 31), np.full(29, 0.75, np.float32))
        )
        entities = [Entity(f"artist:{text}", "Artist", text) for text in NASTY]
        graph.replace_knowledge(
            entities, [Link(i + 1, e.key, "CREATED_BY") for i, e in enumerate(entities)]
            + [Link(entities[0].key, entities[1].key, "INFLUENCED_BY")],
        )  # fmt: skip
        works = [
            Artwork(
                id=i + 1, source="local", source_id=f'id,{i}"', title=text, artist_name=text, date_start=1900
            )
            for i, text in enumerate(NASTY)
        ]
        for compress in (False, True):
            export = export_neo4j(
                graph_source(graph, chunk=7), tmp_path / f"out-{compress}", artworks=works, compress=compress
            )
            parsed = Parsed(export)
            expect = [t.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n") for t in NASTY]
            titles = [parsed.nodes["Artwork"][str(i + 1)]["title"] for i in range(len(NASTY))]
            assert titles == expect
            assert [parsed.nodes["Artwork"][str(i + 1)]["source_id"] for i in range(3)] == [
                'id,0"',
                'id,1"',
                'id,2"',
            ]
            assert sorted(parsed.nodes["Entity"][f"artist:{t}"]["label"] for t in expect) == sorted(expect)
            assert parsed.nodes["Artwork"]["39"] == {k: "" for k in parsed.nodes["Artwork"]["39"]} | {
                "id": "39"
            }
            assert parsed.relationships == Counter(
                {"HISTORICAL_SIM": 29, "CREATED_BY": len(NASTY), "INFLUENCED_BY": 1}
            )
            assert export.multiline and "--multiline-fields=true" in export.command
        raw = (tmp_path / "out-False" / "nodes-artwork.csv").read_text(encoding="utf-8")
        assert (
            '"He said ""no"", then left"' in raw and '"backslash \\"" before a quote"' in raw
        )  # doubled, never \"
        assert "\r" not in raw and "\x00" not in raw
        with pytest.raises(ValueError, match="ascending"):
            export_neo4j(graph_source(graph), tmp_path / "bad", artworks=[works[3], works[1], works[0]])
        with pytest.raises(FileExistsError):
            export_neo4j(graph_source(graph), tmp_path / "out-True")
    finally:
        graph.close()


def test_ladybug_reads_in_chunks_lose_and_repeat_nothing(tmp_path: Path) -> None:
    graph = LadybugGraph(tmp_path / "g" / "graph.lbug")
    try:
        rng = np.random.default_rng(4)
        ids = np.unique(rng.integers(1, 10**9, 3000))  # sparse ids: chunks are by rank, not by value
        src, dst = np.repeat(ids, 5), rng.choice(ids, len(ids) * 5)
        graph.replace_edges(EdgeSet("FORMAL_SIM", src, dst, rng.random(len(src), dtype=np.float32)))
        graph.replace_knowledge(
            [Entity("place:x", "Place", "X")], [Link(int(i), "place:x", "FROM_PLACE") for i in ids[::3]]
        )
        export = export_neo4j(graph_source(graph, chunk=101), tmp_path / "out", compress=False)
        parsed = Parsed(export)
        stored = graph.edges("FORMAL_SIM")
        assert parsed.weights["FORMAL_SIM"] == Counter(
            zip(
                stored.src.tolist(),
                stored.dst.tolist(),
                stored.weight.astype(np.float64).tolist(),
                strict=True,
            )
        )
        assert parsed.relationships["FROM_PLACE"] == len(ids[::3]) and len(parsed.ids["Artwork"]) == len(ids)
        assert "--multiline-fields" not in export.command and not export.multiline
    finally:
        graph.close()


# ----------------------------------------------------------------------------- bounded memory
class Synthetic:
    """A graph generated as it is read: ``edges`` FORMAL_SIM edges over a fixed 20k works."""

    chunk = 20_000

    def __init__(self, edges: int) -> None:
        self.edges = edges

    def artwork_ids(self) -> Ids:
        return np.arange(1, 20_001, dtype=np.int64)

    def entities(self) -> Iterator[Sequence[Entity]]:
        yield [Entity(f"artist:{i}", "Artist", f'Painter "{i}", the elder') for i in range(100)]

    def similarity_edges(self, type_: str) -> Iterator[EdgeSet]:
        rng = np.random.default_rng(len(type_))
        for start in range(0, self.edges if type_ == "FORMAL_SIM" else 0, 50_000):
            n = min(50_000, self.edges - start)
            yield EdgeSet(
                type_, rng.integers(1, 20_001, n), rng.integers(1, 20_001, n), rng.random(n, dtype=np.float32)
            )

    def knowledge_links(self, type_: str, start: str) -> Iterator[Sequence[tuple[Any, str]]]:
        if type_ == "CREATED_BY" and start == "Artwork":
            yield [(i, f"artist:{i % 100}") for i in range(1, 20_001)]


BOUND = 32 * 2**20  # bytes Python allocates at the peak of an export, whatever its edge count


def test_export_streams_in_memory_independent_of_edge_count(tmp_path: Path) -> None:
    peaks = {}
    for edges in (100_000, 1_000_000):
        tracemalloc.start()
        try:
            export = export_neo4j(Synthetic(edges), tmp_path / str(edges))
            peaks[edges] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert export.relationships["FORMAL_SIM"] == edges and export.nodes == {
            "Artwork": 20_000,
            "Entity": 100,
        }
    size = os.path.getsize(tmp_path / "1000000" / "rels-formal_sim.csv.gz")
    print(f"tracemalloc peaks: {peaks}; 1M edges gzip {size / 2**20:.1f} MiB")
    assert peaks[1_000_000] < BOUND
    assert peaks[1_000_000] < 1.2 * peaks[100_000] + 2**20  # ten times the edges, not ten times the memory
    rows = sum(1 for _ in data_rows(tmp_path / "1000000" / "rels-formal_sim.csv.gz"))
    assert rows == 1_000_000


# ----------------------------------------------------------------------------- a real Neo4j, when given
def test_export_from_neo4j_when_a_server_is_given(tmp_path: Path) -> None:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        pytest.skip("NEO4J_URI is not set: no Neo4j server to test against")
    from asterism.graph.neo4j import Neo4jGraph

    graph = Neo4jGraph(
        uri, user=os.environ.get("NEO4J_USER", "neo4j"), password=os.environ.get("NEO4J_PASSWORD", "")
    )
    try:
        graph._run("MATCH (n) DETACH DELETE n")  # a scratch database: the test owns it
        graph.add_artworks(np.arange(1, 8))
        graph.replace_edges(
            EdgeSet("FORMAL_SIM", np.array([1, 2]), np.array([2, 3]), np.array([0.9, 0.8], np.float32))
        )
        graph.replace_knowledge(
            [Entity('artist:"a"', "Artist", "A, b")], [Link(1, 'artist:"a"', "CREATED_BY")]
        )
        parsed = Parsed(export_neo4j(graph_source(graph, chunk=2), tmp_path / "out"))
        assert len(parsed.ids["Artwork"]) == 7 and parsed.labels["Artist"] == 1
        assert parsed.relationships == Counter({"FORMAL_SIM": 2, "CREATED_BY": 1})
    finally:
        graph.close()
