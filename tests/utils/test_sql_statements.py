"""utils/sql_statements.py: the SQL transfer's table, statements, typed row values and table-name check.

Pure functions, tested without an operator or a connection; the statements run on an in-memory SQLite
(the operator's tests run them on SQLite files and PostgreSQL through the common-sql hooks).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils import sql_statements as sql

# The hooks' own placeholders: SqliteHook "?", PostgresHook (and DbApiHook's default) "%s".
PLACEHOLDERS = ["?", "%s"]


def test_the_sql_is_the_portable_subset_for_any_placeholder() -> None:
    statement = sql.upsert_sql("orders", "orders", "%s")
    assert statement.startswith("INSERT INTO orders (id, version, status, ")
    assert "VALUES (%s, %s, " in statement and "?" not in statement
    assert "ON CONFLICT (id) DO UPDATE SET version = excluded.version" in statement
    ddl = sql.create_table_sql("orders", "orders")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS orders (") and "id TEXT PRIMARY KEY" in ddl
    assert "document TEXT NOT NULL" in ddl and "synced_at TEXT NOT NULL" in ddl
    # The same text runs on SQLite (>= 3.24 for ON CONFLICT ... DO UPDATE).
    conn = sqlite3.connect(":memory:")
    conn.execute(ddl)
    values = ["o1", "1", "Paid", "c1", "2026-01-01T00:00:00Z", "AUD", 1.0, 2.0, 3.0, "{}", "now"]
    conn.execute(sql.upsert_sql("orders", "orders", "?"), values)
    conn.execute(sql.upsert_sql("orders", "orders", "?"), [*values[:2], "Refunded", *values[3:]])
    assert conn.execute("SELECT id, status FROM orders").fetchall() == [("o1", "Refunded")]


def test_create_table_is_every_column_in_order() -> None:
    assert sql.create_table_sql("archive.folders", "folders") == (
        "CREATE TABLE IF NOT EXISTS archive.folders (\n"
        "    id TEXT PRIMARY KEY,\n"
        "    version TEXT,\n"
        "    name TEXT,\n"
        "    parent_id TEXT,\n"
        "    document TEXT NOT NULL,\n"
        "    synced_at TEXT NOT NULL\n"
        ")"
    )


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_the_upsert_binds_every_column_and_updates_all_but_the_id(placeholder: str) -> None:
    p = placeholder
    assert sql.upsert_sql("folders", "folders", placeholder) == (
        "INSERT INTO folders (id, version, name, parent_id, document, synced_at) "
        f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name, "
        "parent_id = excluded.parent_id, document = excluded.document, synced_at = excluded.synced_at"
    )


@pytest.mark.parametrize("resource", sorted(sql.TYPED_COLUMNS))
def test_each_table_is_created_with_its_columns_and_a_second_upsert_replaces_every_value(resource: str) -> None:
    columns = sql.table_columns(resource)
    conn = sqlite3.connect(":memory:")
    conn.execute(sql.create_table_sql(resource, resource))
    conn.execute(sql.create_table_sql(resource, resource))  # IF NOT EXISTS: a second run is a no-op
    info = conn.execute(f"PRAGMA table_info({resource})").fetchall()  # cid, name, type, notnull, default, pk
    assert [(name, sql_type, bool(pk)) for _, name, sql_type, _, _, pk in info] == [
        (c.name, c.sql_type, c.name == "id") for c in columns
    ]
    first = ["x1", *(f"first-{c.name}" for c in columns[1:])]
    second = ["x1", *(f"second-{c.name}" for c in columns[1:])]
    conn.execute(sql.upsert_sql(resource, resource, "?"), first)
    conn.execute(sql.upsert_sql(resource, resource, "?"), second)
    assert conn.execute(f"SELECT * FROM {resource}").fetchall() == [tuple(second)]


def product_row(record: dict[str, Any], synced_at: str = "t") -> dict[str, Any]:
    """row_values() of a product, by column name."""
    values = sql.row_values(record, "products", "productId", synced_at)
    return dict(zip([c.name for c in sql.table_columns("products")], values, strict=True))


def test_row_values_are_typed_per_column() -> None:
    record: dict[str, Any] = {
        "productId": 42,  # the id is text whatever its JSON type
        "version": 3,  # TEXT: a number becomes its JSON text
        "slug": "red-mug",
        "title": {"en": "Red mug"},  # TEXT: an object becomes JSON text
        "status": None,
        "isActive": "yes",  # BOOLEAN: only a JSON boolean
        "basePrice": {"currencyCode": "AUD", "sellPrice": 12.5},
        "inventory": {"sku": "MUG-1", "availableQuantity": True},  # NUMERIC: a boolean is not a number
    }
    named = product_row(record, synced_at="2026-01-01T00:00:00.000000+00:00")
    document = named.pop("document")
    assert named == {
        "id": "42",
        "version": "3",
        "slug": "red-mug",
        "sku": "MUG-1",
        "title": '{"en":"Red mug"}',
        "status": None,
        "is_active": None,
        "currency_code": "AUD",
        "sell_price": 12.5,
        "available_quantity": None,
        "synced_at": "2026-01-01T00:00:00.000000+00:00",
    }
    assert json.loads(document) == record


def test_booleans_and_numbers_keep_their_type() -> None:
    named = product_row({"productId": "p1", "isActive": False, "basePrice": {"sellPrice": 0},
                         "inventory": {"availableQuantity": 7}})
    assert (named["is_active"], named["sell_price"], named["available_quantity"]) == (False, 0, 7)
    assert named["slug"] is None  # an absent field is NULL


@pytest.mark.parametrize("table", ["orders", "schema.name", "main.products", "_t1", "Orders_2026"])
def test_a_name_or_schema_name_is_a_table(table: str) -> None:
    assert sql.check_table(table) == table


@pytest.mark.parametrize(
    "table",
    ["a;drop table x", "orders;", "a;b", "a.b.c", '"orders"', "a'b", "`orders`", "a b", "a-b", "1orders", ".a", "a.",
     ""],
)
def test_anything_else_is_refused_naming_it(table: str) -> None:
    with pytest.raises(SimpleStoreConfigError) as caught:
        sql.check_table(table)
    assert str(caught.value) == (
        f"table {table!r} is not a plain identifier (name or schema.name; letters, digits, _)"
    )


def test_the_probe_reads_the_columns_and_fails_without_a_table() -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        conn.execute(sql.probe_sql("customers"))
    conn.execute("CREATE TABLE customers (ID TEXT PRIMARY KEY, Document TEXT)")
    conn.execute("INSERT INTO customers VALUES ('c1', '{}')")
    cursor = conn.execute(sql.probe_sql("customers"))
    assert cursor.fetchall() == []  # the names only, not the rows
    present = [d[0] for d in cursor.description]
    assert sql.missing_columns("customers", present) == [
        "version", "email_address", "first_name", "last_name", "display_name", "synced_at"
    ]
    assert sql.missing_columns("customers", [c.name.upper() for c in sql.table_columns("customers")]) == []
