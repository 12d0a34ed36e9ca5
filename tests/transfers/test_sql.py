"""SimpleStoreToSqlOperator into SQLite through the common-sql hook: upserts, windows, missing tables."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator, TableMissingError
from tests.operator_support import context, listing, moment, total_requests


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
            order["version"], order["status"], order["customerId"], order["createdOnUtc"], order["total"]
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
            product["slug"], product["inventory"]["sku"], int(product["isActive"]), product["basePrice"]["sellPrice"]
        )


def test_a_missing_table_with_creation_off_writes_nothing(simplestore_conn: Any, db: Path) -> None:
    before = total_requests(simplestore_conn)
    with pytest.raises(TableMissingError, match=r"table customers does not exist in 'sync_db'; pass create_table=True"):
        load(resource="customers", table="customers", create_table=False).execute(context())
    assert rows(db, "SELECT name FROM sqlite_master") == []
    assert total_requests(simplestore_conn) == before  # refused before reading the API


def test_a_table_lacking_columns_is_refused(simplestore_conn: Any, db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, document TEXT)")
    with pytest.raises(TableMissingError, match="lacks columns version, email_address"):
        load(resource="customers", table="customers").execute(context())
    assert rows(db, "SELECT count(*) FROM customers") == [(0,)]


def test_unsafe_table_names_and_non_sql_connections_are_refused(simplestore_conn: Any, db: Path) -> None:
    with pytest.raises(SimpleStoreConfigError, match="is not a plain identifier"):
        load(resource="customers", table="customers; DROP TABLE x").execute(context())
    operator = SimpleStoreToSqlOperator(
        task_id="load", resource="customers", table="customers", sql_conn_id="simplestore_default"
    )
    with pytest.raises(SimpleStoreConfigError, match="gives a SimpleStoreHook, not a common-sql DbApiHook"):
        operator.execute(context())

