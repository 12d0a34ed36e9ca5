"""The SQL transfer's statements: the table's columns per resource, CREATE TABLE, ALTER TABLE ADD
COLUMN, the upsert, typed row values and the table-name check. Pure functions: no hook, no connection.

The typed columns are derived from the documented fields (client/fields.py): one per field, nested
objects flattened, so a field the table lists is a column on every database. A field the platform
adds later is not lost: ``document`` holds the whole record as sent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_simplestore.client.fields import FIELDS, leaves
from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import dumps


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    source: str  # dotted field of the API record
    kind: str = "string"  # the field's kind (client/fields.py KINDS): how its value is stored


# A field's kind -> its column's type: the portable subset (SQLite and PostgreSQL alike). Timestamps
# stay ISO-8601 UTC text as sent (it sorts correctly; SQLite has no timestamp type); lists and maps
# are JSON text; nested objects are flattened into a column per field.
SQL_TYPES = {
    "string": "TEXT",
    "timestamp": "TEXT",
    "integer": "BIGINT",
    "number": "NUMERIC",
    "boolean": "BOOLEAN",
    "list": "TEXT",
    "map": "TEXT",
}
# Columns every table has besides the typed ones. Those that cannot be added to an existing table
# (the key, and the two NOT NULL columns) are REQUIRED: a table without them was not made here.
BASE_COLUMNS = ("id", "version", "document", "synced_at")
REQUIRED_COLUMNS = ("id", "document", "synced_at")
# The names of the first release's product columns, kept so that its tables and queries still work;
# every other column is named after its dotted field path in snake case (basePrice.retailPrice ->
# base_price_retail_price).
KEPT_NAMES = {
    "inventory.sku": "sku",
    "basePrice.currencyCode": "currency_code",
    "basePrice.sellPrice": "sell_price",
    "inventory.availableQuantity": "available_quantity",
}


def column_name(path: str) -> str:
    """``basePrice.sellPrice`` -> ``base_price_sell_price`` (or its first-release name)."""
    return KEPT_NAMES.get(path) or "_".join(
        re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", part).lower() for part in path.split(".")
    )


def _typed_columns(resource: str) -> tuple[Column, ...]:
    """A column for every documented field but the id and version (base columns), in the docs' order."""
    id_field = RESOURCES[resource].id_field
    columns = tuple(
        Column(column_name(path), SQL_TYPES[field.kind], path, field.kind)
        for path, field in leaves(FIELDS[resource])
        if path not in (id_field, "version")
    )
    names = [c.name for c in columns] + list(BASE_COLUMNS)
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:  # a new field whose snake-case name another column has: give it a name in KEPT_NAMES
        raise ValueError(f"{resource}: two columns named {clashes}")
    return columns


# Typed columns per resource, besides id, version, document and synced_at: one per documented field.
TYPED_COLUMNS: dict[str, tuple[Column, ...]] = {name: _typed_columns(name) for name in FIELDS}

# The table name is written into the statements (drivers bind values, not names): only a plain name
# or schema.name gets there, never a quote, a semicolon or a third part.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def check_table(table: str) -> str:
    """The table name, when it is ``name`` or ``schema.name`` (letters, digits, underscores)."""
    if not _IDENTIFIER.match(table or ""):
        raise SimpleStoreConfigError(
            f"table {table!r} is not a plain identifier (name or schema.name; letters, digits, _)"
        )
    return table


def table_columns(resource: str) -> tuple[Column, ...]:
    """Every column of a resource's table, in order: id, version, typed columns, document, synced_at."""
    return (
        Column("id", "TEXT", ""),
        Column("version", "TEXT", "version"),  # an opaque concurrency token
        *TYPED_COLUMNS[resource],
        Column("document", "TEXT", ""),
        Column("synced_at", "TEXT", ""),
    )


def create_table_sql(table: str, resource: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with every column: id the primary key, document and synced_at NOT NULL."""
    lines = [f"{c.name} {c.sql_type}" + (" PRIMARY KEY" if c.name == "id" else "") for c in table_columns(resource)]
    lines = [line + (" NOT NULL" if line.startswith(("document ", "synced_at ")) else "") for line in lines]
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    " + ",\n    ".join(lines) + "\n)"


def probe_sql(table: str) -> str:
    """A query for the table's column names (the cursor's description), no rows; it fails when there is no table."""
    return f"SELECT * FROM {table} WHERE 1 = 0"


def missing_columns(resource: str, present: Iterable[str]) -> list[str]:
    """The resource's columns not among ``present``, in table order (names compared in lower case)."""
    have = {str(name).lower() for name in present}
    return [c.name for c in table_columns(resource) if c.name not in have]


def add_column_sql(table: str, resource: str, name: str) -> str:
    """``ALTER TABLE ... ADD COLUMN`` of one of the resource's columns (nullable: existing rows get NULL)."""
    column = next(c for c in table_columns(resource) if c.name == name)
    if name in REQUIRED_COLUMNS:
        raise ValueError(f"column {name} cannot be added to an existing table")
    return f"ALTER TABLE {table} ADD COLUMN {column.name} {column.sql_type}"


def upsert_sql(table: str, resource: str, placeholder: str) -> str:
    """``INSERT ... ON CONFLICT (id) DO UPDATE``: SQLite >= 3.24 and PostgreSQL alike."""
    names = [c.name for c in table_columns(resource)]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != "id")
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([placeholder] * len(names))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


def _typed(value: Any, kind: str) -> Any:
    """A record's value as its column holds it: NULL when the JSON type does not fit (text is no BOOLEAN)."""
    if value is None or type(value) is _KEPT.get(kind):  # the common case, as it is
        return value
    if kind in ("string", "timestamp"):
        return value if isinstance(value, str) else dumps(value)
    if kind in ("list", "map"):
        return dumps(value)  # always JSON text, so that a column of JSON never holds a bare string
    if isinstance(value, bool):
        return value if kind == "boolean" else None
    if kind == "integer":
        return value if isinstance(value, int) and _INT64[0] <= value <= _INT64[1] else None
    if kind == "number":
        return value if isinstance(value, int | float) else None
    return None


_KEPT = {"string": str, "timestamp": str, "boolean": bool, "number": float}  # JSON types a column takes as they are
_INT64 = (-(2**63), 2**63 - 1)  # BIGINT
# Each typed column's field path, split once: row_values() runs for every record.
_PATHS = {name: tuple((tuple(c.source.split(".")), c.kind) for c in columns) for name, columns in TYPED_COLUMNS.items()}


def row_values(record: Mapping[str, Any], resource: str, id_field: str, synced_at: str) -> tuple[Any, ...]:
    """The upsert's values for one record, in ``table_columns()`` order."""
    values = [str(record[id_field]), _typed(record.get("version"), "string")]
    for path, kind in _PATHS[resource]:
        value = record.get(path[0])
        for part in path[1:]:  # into nested objects; NULL where a step is missing
            value = value.get(part) if isinstance(value, Mapping) else None
        values.append(_typed(value, kind))
    values += [dumps(record), synced_at]
    return tuple(values)
