"""SimpleStoreToSqlOperator into SQLite through the common-sql hook: upserts, windows, missing tables."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator, TableMissingError
from airflow_provider_simplestore.utils.formats import lookup
from airflow_provider_simplestore.utils.sql_statements import TYPED_COLUMNS, table_columns
from tests.operator_support import context, listing, moment, serving, total_requests


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sync.db"
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_DB", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return path


def load(**kwargs: Any) -> SimpleStoreToSqlOperator:
    return SimpleStoreToSqlOperator(task_id="load", sql_conn_id="sync_db", **kwargs)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_orders_window_upserts_without_duplicates(simplestore_conn: Any, db: Path) -> None:
    orders = sorted(listing(simplestore_conn, "/v1/orders"), key=lambda o: o["createdOnUtc"])
    start, end = moment(orders[20]["createdOnUtc"]), moment(orders[60]["createdOnUtc"])
    expected = {o["orderId"]: o for o in orders if start <= moment(o["createdOnUtc"]) < end}

    assert load(resource="orders", table="orders", batch_size=7).execute(context(start, end)) == len(expected)
    first_sync = rows(db, "SELECT id, synced_at FROM orders")
    # The same window again (a retry, a catch-up run): same rows, refreshed, none added.
    assert load(resource="orders", table="orders").execute(context(start, end)) == len(expected)

    stored = rows(db, "SELECT id, version, status, customer_id, created_on_utc, total, document, synced_at FROM orders")
    assert sorted(r[0] for r in stored) == sorted(expected)
    for order_id, version, status, customer_id, created, total, document, synced_at in stored:
        order = expected[order_id]
        assert (version, status, customer_id, created, total) == (
            order["version"],
            order["status"],
            order["customerId"],
            order["createdOnUtc"],
            order["total"],
        )
        assert json.loads(document) == order
        assert synced_at > dict(first_sync)[order_id]


def test_products_full_load_in_batches_with_typed_columns(simplestore_conn: Any, db: Path) -> None:
    products = listing(simplestore_conn, "/v1/products")
    written = load(resource="products", table="main.products", batch_size=33).execute(context())
    assert written == len(products)
    stored = {r[0]: r[1:] for r in rows(db, "SELECT id, slug, sku, is_active, sell_price FROM products")}
    for product in products:
        assert stored[product["productId"]] == (
            product["slug"],
            product["inventory"]["sku"],
            int(product["isActive"]),
            product["basePrice"]["sellPrice"],
        )


def test_a_missing_table_with_creation_off_writes_nothing(simplestore_conn: Any, db: Path) -> None:
    before = total_requests(simplestore_conn)
    with pytest.raises(TableMissingError, match=r"table customers does not exist in 'sync_db'; pass create_table=True"):
        load(resource="customers", table="customers", create_table=False).execute(context())
    assert rows(db, "SELECT name FROM sqlite_master") == []
    assert total_requests(simplestore_conn) == before  # refused before reading the API


def test_a_table_lacking_the_key_or_document_is_refused(simplestore_conn: Any, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, document TEXT)")
    refused = (
        r"lacks columns version, first_name, .*, synced_at in 'sync_db'; synced_at cannot be added to an "
        r"existing table .*not created by this operator"
    )
    with pytest.raises(TableMissingError, match=refused):
        load(resource="customers", table="customers").execute(context())
    assert rows(db, "SELECT count(*) FROM customers") == [(0,)]


# The orders table as the first release created it: a few typed columns and the document.
FIRST_RELEASE_ORDERS = """CREATE TABLE orders (id TEXT PRIMARY KEY, version TEXT, status TEXT, customer_id TEXT,
    created_on_utc TEXT, currency_code TEXT, subtotal NUMERIC, shipping_fee NUMERIC, total NUMERIC,
    document TEXT NOT NULL, synced_at TEXT NOT NULL)"""
NEW_ORDER_COLUMNS = [
    "purchaser_name",
    "purchaser_contact_number_local",
    "purchaser_email",
    "receiver_name",
    "receiver_contact_number_local",
    "receiver_email",
    "items",
    "payments",
    "total_paid",
    "attributes",
]


def test_a_first_release_table_gets_the_new_columns_and_keeps_its_rows(
    simplestore_conn: Any, db: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(FIRST_RELEASE_ORDERS)
        conn.execute("INSERT INTO orders (id, status, document, synced_at) VALUES ('ord_old', 'Paid', '{}', 't0')")
    orders = {o["orderId"]: o for o in listing(simplestore_conn, "/v1/orders")}

    assert load(resource="orders", table="orders", incremental=False).execute(context()) == len(orders)
    task_log = caplog.text + capsys.readouterr().out  # Airflow 3's task log goes to stdout, 2.11's to logging
    assert f"Adding columns to orders: {', '.join(NEW_ORDER_COLUMNS)}" in task_log
    with sqlite3.connect(db) as conn:
        assert {d[0] for d in conn.execute("SELECT * FROM orders").description} >= set(NEW_ORDER_COLUMNS)
    assert rows(db, "SELECT status, items, total_paid FROM orders WHERE id = 'ord_old'") == [("Paid", None, None)]
    stored = {r[0]: r[1:] for r in rows(db, "SELECT id, purchaser_email, items, payments, total_paid FROM orders")}
    for order_id, order in orders.items():
        email, items, payments, total_paid = stored[order_id]
        assert (email, json.loads(items), json.loads(payments), total_paid) == (
            order["purchaserEmail"],
            order["items"],
            order["payments"],
            order["totalPaid"],
        )
    # The next run finds every column: nothing more to add.
    caplog.clear()
    load(resource="orders", table="orders", incremental=False).execute(context())
    assert "Adding columns" not in caplog.text + capsys.readouterr().out


def test_a_first_release_table_with_creation_off_is_refused_naming_the_columns(simplestore_conn: Any, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(FIRST_RELEASE_ORDERS)
    before = total_requests(simplestore_conn)
    with pytest.raises(TableMissingError) as caught:
        load(resource="orders", table="orders", incremental=False, create_table=False).execute(context())
    assert str(caught.value).startswith(
        f"table orders lacks columns {', '.join(NEW_ORDER_COLUMNS)} in 'sync_db' (a table of an earlier release?); "
        "pass create_table=True to add them, or run: ALTER TABLE orders ADD COLUMN purchaser_name TEXT; "
    )
    assert str(caught.value).endswith("ALTER TABLE orders ADD COLUMN attributes TEXT")
    assert total_requests(simplestore_conn) == before  # refused before reading the API
    with sqlite3.connect(db) as conn:
        assert "items" not in {d[0] for d in conn.execute("SELECT * FROM orders").description}
    assert rows(db, "SELECT count(*) FROM orders") == [(0,)]


def stored_value(value: Any, kind: str) -> Any:
    """What a SQLite column of `kind` holds for a JSON value (BOOLEAN as 0/1, lists and maps as JSON text)."""
    if value is None:
        return None
    if kind in ("list", "map"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return int(value) if kind == "boolean" else value


@pytest.mark.parametrize("resource", sorted(TYPED_COLUMNS))
def test_every_documented_field_lands_in_its_column(resource: str, simplestore_conn: Any, db: Path) -> None:
    spec = RESOURCES[resource]
    records = {r[spec.id_field]: r for r in listing(simplestore_conn, spec.list_path)}
    assert load(resource=resource, table=resource, incremental=False).execute(context()) == len(records)
    columns = table_columns(resource)
    stored = rows(db, f"SELECT {', '.join(c.name for c in columns)} FROM {resource}")
    assert len(stored) == len(records)
    for row in stored:
        record = records[row[0]]
        for column, value in zip(columns[1:-2], row[1:-2], strict=True):
            assert value == stored_value(lookup(record, column.source), column.kind), (row[0], column.name)
        assert json.loads(row[-2]) == record


def test_a_field_the_platform_adds_later_is_kept_in_the_document(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later = {
        "productId": "p-later",
        "slug": "mug",
        "loyaltyTier": "gold",
        "basePrice": {"sellPrice": 5, "taxRate": 0.1},
    }
    with serving([later], monkeypatch):
        assert load(resource="products", table="products").execute(context()) == 1
    [(slug, price, document)] = rows(db, "SELECT slug, sell_price, document FROM products")
    assert (slug, price) == ("mug", 5)
    assert json.loads(document) == later


def test_unsafe_table_names_and_non_sql_connections_are_refused(simplestore_conn: Any, db: Path) -> None:
    with pytest.raises(SimpleStoreConfigError, match="is not a plain identifier"):
        load(resource="customers", table="customers; DROP TABLE x").execute(context())
    operator = SimpleStoreToSqlOperator(
        task_id="load", resource="customers", table="customers", sql_conn_id="simplestore_default"
    )
    with pytest.raises(SimpleStoreConfigError, match="gives a SimpleStoreHook, not a common-sql DbApiHook"):
        operator.execute(context())
