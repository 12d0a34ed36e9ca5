"""The SQL transfer's statements: the table's columns per resource, CREATE TABLE, the upsert, typed
row values and the table-name check. Pure functions: no hook, no connection."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import dumps, lookup


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    source: str  # dotted field of the API record


def _columns(*specs: str) -> tuple[Column, ...]:
    """Columns from ``"name SQL_TYPE dotted.source"`` strings."""
    return tuple(Column(*spec.split()) for spec in specs)


# Typed columns per resource, besides id, version, document and synced_at. Types are the portable
# subset (TEXT, NUMERIC, BOOLEAN); timestamps are ISO-8601 UTC text, which sorts correctly.
TYPED_COLUMNS: dict[str, tuple[Column, ...]] = {
    "products": _columns("slug TEXT slug", "sku TEXT inventory.sku", "title TEXT title", "status TEXT status",
        "is_active BOOLEAN isActive", "currency_code TEXT basePrice.currencyCode",
        "sell_price NUMERIC basePrice.sellPrice", "available_quantity NUMERIC inventory.availableQuantity"),
    "categories": _columns("slug TEXT slug", "name TEXT name", "parent_id TEXT parentId",
        "is_active BOOLEAN isActive"),
    "collections": _columns("slug TEXT slug", "name TEXT name", "is_active BOOLEAN isActive"),
    "specials": _columns("name TEXT name", "special_type TEXT specialType", "amount NUMERIC amount",
        "start_on_utc TEXT startOnUtc", "end_on_utc TEXT endOnUtc", "is_active BOOLEAN isActive"),
    "customers": _columns("email_address TEXT emailAddress", "first_name TEXT firstName", "last_name TEXT lastName",
        "display_name TEXT displayName"),
    "orders": _columns("status TEXT status", "customer_id TEXT customerId", "created_on_utc TEXT createdOnUtc",
        "currency_code TEXT currencyCode", "subtotal NUMERIC subtotal", "shipping_fee NUMERIC shippingFee",
        "total NUMERIC total"),
    "baskets": _columns("status TEXT status", "customer_id TEXT customerId", "order_id TEXT orderId",
        "currency_code TEXT currencyCode", "total_currency NUMERIC totalCurrency"),
    "folders": _columns("name TEXT name", "parent_id TEXT parentId"),
}

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
        Column("version", "TEXT", "version"),
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


def upsert_sql(table: str, resource: str, placeholder: str) -> str:
    """``INSERT ... ON CONFLICT (id) DO UPDATE``: SQLite >= 3.24 and PostgreSQL alike."""
    names = [c.name for c in table_columns(resource)]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != "id")
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([placeholder] * len(names))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


def _typed(value: Any, sql_type: str) -> Any:
    """A record's value as its column holds it: NULL when the JSON type does not fit (text is no BOOLEAN)."""
    if value is None:
        return None
    if sql_type == "TEXT":
        return value if isinstance(value, str) else dumps(value)
    if sql_type == "BOOLEAN":
        return bool(value) if isinstance(value, bool) else None
    if sql_type == "NUMERIC":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return value


def row_values(record: Mapping[str, Any], resource: str, id_field: str, synced_at: str) -> tuple[Any, ...]:
    """The upsert's values for one record, in ``table_columns()`` order."""
    values: list[Any] = []
    for column in table_columns(resource):
        if column.name == "id":
            values.append(str(record[id_field]))
        elif column.name == "document":
            values.append(dumps(record))
        elif column.name == "synced_at":
            values.append(synced_at)
        else:
            values.append(_typed(lookup(record, column.source), column.sql_type))
    return tuple(values)
