"""The property store's tables as Parquet files, and copied from one database to another.

One codec serves every table, driven by the SQLAlchemy schema (``store/schema.py``),
so a column added by a migration travels without new code here:

* booleans, integers, numbers, text → bool, int64, float64, string (nulls stay nulls);
* JSON → its JSON text: Parquet has no "any" type, and the text reads back exactly;
* times → UTC timestamps (SQLite hands back the naive times it was given in UTC,
  PostgreSQL aware ones; both are written, and restored, as UTC);
* a vector blob (``image_features.formal``, ``embeddings.vector``) → a column
  named ``vector`` of ``list<float32>``: exact, and an array to anything that reads
  Parquet, so ``asterism vectors import`` and pandas read the files as they are.

Rows are read and written in batches, never a whole table in memory, and in
primary-key order, so an export of an unchanged store is the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from asterism.store.schema import artworks, metadata, pending_files, problems

BATCH = 5000
VECTOR = "vector"  # the name a vector blob column has in the files
# Every table worth keeping, parents before children (foreign keys): ``pending_files`` only lists
# files of a batch in flight, which an export (taken under the ingest lock) never has.
TABLES = [t for t in metadata.sorted_tables if t is not pending_files]
SERIAL = (artworks, problems)  # PostgreSQL sequences to move past the copied ids


def kind(column: sa.Column[Any]) -> str:
    """How a column travels: bool, int, float, str, json, time or vector."""
    type_ = column.type
    if isinstance(type_, sa.JSON):
        return "json"
    if isinstance(type_, sa.DateTime):
        return "time"
    if isinstance(type_, sa.LargeBinary):
        return "vector"
    if isinstance(type_, sa.Boolean):
        return "bool"
    if isinstance(type_, sa.Integer):
        return "int"
    if isinstance(type_, sa.Float | sa.Numeric):
        return "float"
    return "str"


ARROW = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "json": pa.string(),
    "time": pa.timestamp("us", tz="UTC"),
    "vector": pa.list_(pa.float32()),
}


def file_name(column: sa.Column[Any]) -> str:
    return VECTOR if kind(column) == "vector" else column.name


def utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC time (SQLite returns the naive UTC time it was given)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _arrow_column(kind_: str, values: list[Any]) -> pa.Array:
    if kind_ == "vector":
        vectors = [np.frombuffer(v, dtype=np.float32) for v in values]
        offsets = np.zeros(len(vectors) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(v) for v in vectors])
        flat = np.concatenate(vectors) if vectors else np.zeros(0, np.float32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=pa.float32()))
    if kind_ == "json":
        values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    elif kind_ == "time":
        values = [utc(v) for v in values]
    return pa.array(values, type=ARROW[kind_])


def write_parquet(
    connection: sa.Connection,
    query: sa.Select[Any],
    columns: Sequence[tuple[str, str]],
    path: Path,
) -> int:
    """The rows of ``query`` into one Parquet file; ``columns``: (name in the file, kind) per selected column.

    Returns the number of rows (an empty table still gets its file, with its schema).
    """
    schema = pa.schema([(name, ARROW[k]) for name, k in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for chunk in result.partitions():
            arrays = [_arrow_column(k, [row[i] for row in chunk]) for i, (_, k) in enumerate(columns)]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            rows += len(chunk)
    return rows


def write_table(connection: sa.Connection, table: sa.Table, path: Path, where: Any = None) -> int:
    """A whole table (or the rows ``where`` selects), in primary-key order."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    if where is not None:
        query = query.where(where)
    return write_parquet(connection, query, [(file_name(c), kind(c)) for c in table.columns], path)


def _python_column(kind_: str, array: pa.Array) -> list[Any]:
    if kind_ == "vector":
        offsets = array.offsets.to_numpy()
        flat = np.asarray(array.values.to_numpy(zero_copy_only=False), dtype=np.float32)
        return [flat[offsets[i] : offsets[i + 1]].tobytes() for i in range(len(array))]
    values: list[Any] = array.to_pylist()
    if kind_ == "json":
        return [None if v is None else json.loads(v) for v in values]
    return values


def read_rows(path: Path, table: sa.Table) -> Iterator[list[dict[str, Any]]]:
    """Batches of rows of ``table`` from a file ``write_table`` wrote (extra columns, e.g. ``ref``, ignored)."""
    source = pq.ParquetFile(path)
    for batch in source.iter_batches(batch_size=BATCH):
        names = batch.schema.names
        columns = {}
        for column in table.columns:
            name = file_name(column)
            if name in names:
                columns[column.name] = _python_column(kind(column), batch.column(names.index(name)))
        yield [{name: values[i] for name, values in columns.items()} for i in range(batch.num_rows)]


def insert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(sa.insert(table), rows)


def copy_table(source: sa.Connection, target: sa.Connection, table: sa.Table) -> int:
    """Every row of ``table`` from one database into the same table of another; returns the count."""
    times = [c.name for c in table.columns if kind(c) == "time"]
    copied = 0
    query = sa.select(table).order_by(*table.primary_key.columns)
    for chunk in source.execution_options(yield_per=BATCH).execute(query).partitions():
        rows = [dict(row._mapping) for row in chunk]
        for row in rows:
            for name in times:
                row[name] = utc(row[name])
        insert(target, table, rows)
        copied += len(rows)
    return copied


def count(connection: sa.Connection, table: sa.Table) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def first_filled(connection: sa.Connection) -> str | None:
    """The first table that holds any row (a store to restore or migrate into must have none)."""
    return next((t.name for t in metadata.sorted_tables if count(connection, t)), None)


def advance_sequences(connection: sa.Connection) -> None:
    """PostgreSQL: move the id sequences past the copied ids, so the next ingest does not collide.

    Rows copied with their ids do not advance a SERIAL column's sequence; SQLite needs nothing
    (its next id is always the largest plus one).
    """
    if connection.dialect.name != "postgresql":
        return
    for table in SERIAL:
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
            )
        )
