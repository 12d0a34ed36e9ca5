"""utils/sql_statements.py: the SQL transfer's table, statements, typed row values and table-name check.

Pure functions, tested without an operator or a connection; the statements run on an in-memory SQLite
(the operator's tests run them on SQLite files and PostgreSQL through the common-sql hooks).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from airflow_provider_simplestore.client.fields import FIELDS, leaves
from airflow_provider_simplestore.client.resources import RESOURCES
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
    values = sql.row_values({"orderId": "o1", "version": "1", "status": "Paid"}, "orders", "orderId", "now")
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
        "    attributes TEXT,\n"
        "    document TEXT NOT NULL,\n"
        "    synced_at TEXT NOT NULL\n"
        ")"
    )


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_the_upsert_binds_every_column_and_updates_all_but_the_id(placeholder: str) -> None:
    p = placeholder
    assert sql.upsert_sql("folders", "folders", placeholder) == (
        "INSERT INTO folders (id, version, name, parent_id, attributes, document, synced_at) "
        f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) "
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name, "
        "parent_id = excluded.parent_id, attributes = excluded.attributes, document = excluded.document, "
        "synced_at = excluded.synced_at"
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
        "titles": {"en-AU": "Red mug"},  # a map: JSON text
        "categories": "kitchen",  # a list's column is JSON text even when the value is not a list
        "files": [],
        "basePrice": {"currencyCode": "AUD", "sellPrice": 12.5},
        "price": "on request",  # text where an object is documented: its columns are NULL
        "baseRewards": {"points": 3.0},  # BIGINT: a fraction's type is not an integer
        "rewards": {"points": 2**63},  # BIGINT: out of its range
        "inventory": {"sku": "MUG-1", "availableQuantity": True},  # NUMERIC: a boolean is not a number
    }
    named = product_row(record, synced_at="2026-01-01T00:00:00.000000+00:00")
    document = named.pop("document")
    assert named == {name: None for name in named} | {
        "id": "42",
        "version": "3",
        "slug": "red-mug",
        "sku": "MUG-1",
        "title": '{"en":"Red mug"}',
        "titles": '{"en-AU":"Red mug"}',
        "categories": '"kitchen"',
        "files": "[]",
        "currency_code": "AUD",
        "sell_price": 12.5,
        "synced_at": "2026-01-01T00:00:00.000000+00:00",
    }
    assert json.loads(document) == record


def test_booleans_and_numbers_keep_their_type() -> None:
    named = product_row(
        {
            "productId": "p1",
            "isActive": False,
            "basePrice": {"sellPrice": 0},
            "baseRewards": {"points": 2**63 - 1},
            "inventory": {"availableQuantity": 7},
        }
    )
    assert (named["is_active"], named["sell_price"], named["available_quantity"]) == (False, 0, 7)
    assert named["base_rewards_points"] == 2**63 - 1
    assert named["slug"] is None  # an absent field is NULL


@pytest.mark.parametrize("table", ["orders", "schema.name", "main.products", "_t1", "Orders_2026"])
def test_a_name_or_schema_name_is_a_table(table: str) -> None:
    assert sql.check_table(table) == table


@pytest.mark.parametrize(
    "table",
    [
        "a;drop table x",
        "orders;",
        "a;b",
        "a.b.c",
        '"orders"',
        "a'b",
        "`orders`",
        "a b",
        "a-b",
        "1orders",
        ".a",
        "a.",
        "",
    ],
)
def test_anything_else_is_refused_naming_it(table: str) -> None:
    with pytest.raises(SimpleStoreConfigError) as caught:
        sql.check_table(table)
    assert str(caught.value) == (f"table {table!r} is not a plain identifier (name or schema.name; letters, digits, _)")


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
        "version",
        "first_name",
        "last_name",
        "display_name",
        "email_address",
        "phones",
        "addresses",
        "attributes",
        "synced_at",
    ]
    assert sql.missing_columns("customers", [c.name.upper() for c in sql.table_columns("customers")]) == []


# --- a column for every documented field -----------------------------------------------------------


@pytest.mark.parametrize("resource", sorted(sql.TYPED_COLUMNS))
def test_every_documented_field_has_a_column_of_its_kind(resource: str) -> None:
    id_field = RESOURCES[resource].id_field
    documented = {path: field.kind for path, field in leaves(FIELDS[resource])}
    columns = {c.source: c for c in sql.table_columns(resource) if c.source}
    assert set(columns) | {id_field} == set(documented), "one column per documented field (objects flattened)"
    for path, column in columns.items():
        assert (column.kind, column.sql_type) == (documented[path], sql.SQL_TYPES[documented[path]]), path


def test_columns_are_the_field_paths_in_snake_case_but_the_first_releases() -> None:
    assert sql.column_name("basePrice.retailPrice") == "base_price_retail_price"
    assert sql.column_name("purchaserContactNumberLocal") == "purchaser_contact_number_local"
    assert sql.column_name("inventory.availableQuantity") == "available_quantity"  # named so in the first release
    named = {c.source: c.name for c in sql.TYPED_COLUMNS["orders"]}
    assert (named["createdOnUtc"], named["items"], named["totalPaid"]) == ("created_on_utc", "items", "total_paid")


# The products table as the first release created it: a few typed columns and the document.
FIRST_RELEASE_PRODUCTS = """CREATE TABLE products (id TEXT PRIMARY KEY, version TEXT, slug TEXT, sku TEXT,
    title TEXT, status TEXT, is_active BOOLEAN, currency_code TEXT, sell_price NUMERIC, available_quantity NUMERIC,
    document TEXT NOT NULL, synced_at TEXT NOT NULL)"""


def test_a_first_release_table_gets_the_columns_it_lacks_and_keeps_its_rows() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(FIRST_RELEASE_PRODUCTS)
    conn.execute("INSERT INTO products (id, slug, document, synced_at) VALUES ('old', 'kept', '{}', 't0')")
    present = [d[0] for d in conn.execute(sql.probe_sql("products")).description]
    missing = sql.missing_columns("products", present)
    assert missing[:3] == ["short_url", "description", "titles"] and "sell_price" not in missing
    for name in missing:
        conn.execute(sql.add_column_sql("products", "products", name))
    assert sql.missing_columns("products", [d[0] for d in conn.execute(sql.probe_sql("products")).description]) == []
    record = {"productId": "new", "shortUrl": "Ab3", "baseRewards": {"points": 7}, "titles": {"ja-JP": "赤"}}
    conn.execute(sql.upsert_sql("products", "products", "?"), sql.row_values(record, "products", "productId", "t1"))
    stored = conn.execute("SELECT id, slug, short_url, base_rewards_points, titles FROM products ORDER BY id")
    assert stored.fetchall() == [("new", None, "Ab3", 7, '{"ja-JP":"赤"}'), ("old", "kept", None, None, None)]


@pytest.mark.parametrize("name", sql.REQUIRED_COLUMNS)
def test_the_key_and_not_null_columns_are_never_added(name: str) -> None:
    with pytest.raises(ValueError, match=f"column {name} cannot be added"):
        sql.add_column_sql("products", "products", name)
