"""Parquet for the export: a typed schema from the documented fields, records written as row groups.

pyarrow is an optional extra (``pip install 'airflow-provider-simplestore[parquet]'``), imported only
when a Parquet export runs: DAG parsing never loads it, and without it ``file_format="parquet"`` is a
configuration error when the DAG is parsed.

The schema (``arrow_schema``) has one column per documented field of the resource (client/fields.py),
named as the API names it: text ``string``, whole numbers ``int64``, numbers ``float64`` (what the
JSON decoder gave, exactly), booleans ``bool``, timestamps ``timestamp[us, UTC]``. Documented
objects are **structs** and lists of them **lists of structs**: Parquet stores nested columns
natively and every engine that reads it (DuckDB, Spark, Athena, pandas) reads ``basePrice.sellPrice``
or unnests ``items`` without parsing text. Free-form maps (``attributes``, locale dictionaries) are
**JSON text**: their keys are data, so a struct would need a schema that changes with the data.
``_extra_fields`` holds, as JSON text, what the schema has no column for: a field the platform adds
later, and a value of another type than documented (null when the record fits whole), so the typed
columns and it together are the whole record.

``ParquetEncoder`` has the shape of the line encoders (utils/formats.py): ``header()``, ``encode()``
of each record, ``footer()``, each returning the bytes to write next, so the export writes it through
the same atomic writer. Records are converted to Arrow every ``BATCH_ROWS`` and written as a row group
every ``ROW_GROUP_ROWS``: memory holds at most one row group, whatever the export's size. (A row group
per API page would give thousands of tiny row groups: a footer that grows with them, held in memory
until the end, and slow readers.)
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import Any

from airflow_provider_simplestore.client.fields import FIELDS, Field, typed_values
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import dumps

EXTRA_COLUMN = "_extra_fields"
INSTALL = "pip install 'airflow-provider-simplestore[parquet]'"
BATCH_ROWS = 250  # records held as Python objects before they become an Arrow batch
ROW_GROUP_ROWS = 10_000  # records per row group, the most held as Arrow data


def require_pyarrow() -> None:
    """A clear configuration error when pyarrow is not installed (found without importing it)."""
    if importlib.util.find_spec("pyarrow") is None:
        raise SimpleStoreConfigError(f"file_format 'parquet' needs pyarrow, which is not installed: {INSTALL}")


def parquet_columns(resource: str) -> tuple[tuple[str, str], ...]:
    """(column, kind) of the Parquet file's top-level columns, without importing pyarrow (lineage)."""
    return (*((f.name, f.kind) for f in FIELDS[resource]), (EXTRA_COLUMN, "json"))


def arrow_schema(resource: str) -> Any:
    """The file's pyarrow schema: a column per documented field, then ``_extra_fields``."""
    import pyarrow as pa

    columns = [pa.field(f.name, _arrow_type(f)) for f in FIELDS[resource]]
    return pa.schema([*columns, pa.field(EXTRA_COLUMN, pa.string())], metadata={"simplestore.resource": resource})


def _arrow_type(field: Field) -> Any:
    import pyarrow as pa

    if field.kind == "object":
        return pa.struct([pa.field(f.name, _arrow_type(f)) for f in field.fields])
    if field.kind == "list":
        return pa.list_(pa.struct([pa.field(f.name, _arrow_type(f)) for f in field.fields]))
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "map": pa.string(),  # JSON text
    }[field.kind]


class _Drain:
    """The file object pyarrow writes to: it keeps the bytes until the export takes them."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ParquetEncoder:
    """Records to the bytes of a Parquet file: the schema of `arrow_schema(resource)`, row groups of
    `row_group_rows`. `left_over` names the fields that went to ``_extra_fields`` (for the log)."""

    format = "parquet"

    def __init__(self, resource: str, *, row_group_rows: int | None = None, batch_rows: int | None = None) -> None:
        require_pyarrow()
        # Arrow's default allocator (jemalloc) keeps about 20 MiB more resident after a row group than the
        # C allocator, so an export holds the C one unless the deployment chose (read when pyarrow
        # first loads in the process).
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.resource = resource
        self.schema = arrow_schema(resource)
        self.row_group_rows = row_group_rows or ROW_GROUP_ROWS
        self.batch_rows = min(batch_rows or BATCH_ROWS, self.row_group_rows)
        self.left_over: set[str] = set()
        self._rows: list[dict[str, Any]] = []  # typed records not yet in a batch
        self._batches: list[Any] = []  # Arrow batches not yet in a row group
        self._batched = 0
        self._sink = _Drain()
        self._pool = pa.system_memory_pool()  # also when pyarrow had loaded with another default
        self._writer = pq.ParquetWriter(self._sink, self.schema, memory_pool=self._pool)

    def header(self) -> bytes:
        return self._sink.take()  # the magic number the writer wrote when it opened

    def encode(self, record: Mapping[str, Any]) -> bytes:
        typed, extra = typed_values(record, self.resource)
        if extra is not None:
            typed[EXTRA_COLUMN] = dumps(extra)
            self.left_over.update(_names(extra))
        self._rows.append(typed)
        if len(self._rows) >= self.batch_rows or self._batched + len(self._rows) >= self.row_group_rows:
            self._batch()
            if self._batched >= self.row_group_rows:  # row groups of exactly row_group_rows, the last less
                self._row_group()
        return self._sink.take()

    def encode_all(self, records: list[Any]) -> bytes:
        return b"".join([self.encode(record) for record in records])

    def footer(self) -> bytes:
        """The last row group and the file's footer (its schema and row-group index)."""
        self._batch()
        self._row_group()
        self._writer.close()
        return self._sink.take()

    def _batch(self) -> None:
        if self._rows:
            import pyarrow as pa

            columns = [
                pa.array([row.get(field.name) for row in self._rows], type=field.type, memory_pool=self._pool)
                for field in self.schema
            ]
            self._batches.append(pa.RecordBatch.from_arrays(columns, schema=self.schema))
            self._batched += len(self._rows)
            self._rows = []

    def _row_group(self) -> None:
        if self._batches:
            import pyarrow as pa

            self._writer.write_table(pa.Table.from_batches(self._batches, self.schema), row_group_size=self._batched)
            self._batches, self._batched = [], 0


def _names(extra: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Dotted names of what a record left over (list items' by the list's name)."""
    names: set[str] = set()
    for key, value in extra.items():
        items = [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
        if isinstance(value, Mapping) and value:
            names |= _names(value, f"{prefix}{key}.")
        elif items:
            for item in items:
                names |= _names(item, f"{prefix}{key}[].")
        else:
            names.add(prefix + key)
    return names
