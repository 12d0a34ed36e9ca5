"""SimpleStoreToSqlOperator into a real PostgreSQL server (the `postgres_server` fixture) via PostgresHook.

The same operator and SQL as the SQLite tests; here the values come back typed by Postgres
(NUMERIC as Decimal, BOOLEAN as bool), and each batch is one Postgres transaction.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator, TableMissingError
from airflow_provider_simplestore.utils.sql_statements import TYPED_COLUMNS, create_table_sql, table_columns
from tests.operator_support import context, listing, moment, total_requests
from tests.support import eventually

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

PG_TYPES = {"TEXT": "text", "NUMERIC": "numeric", "BOOLEAN": "boolean", "BIGINT": "bigint"}


@pytest.fixture
def store(fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=11, products=60, customers=10, orders=120)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def load(**kwargs: Any) -> SimpleStoreToSqlOperator:
    return SimpleStoreToSqlOperator(task_id="load", sql_conn_id="pg_sync", **kwargs)


def query(pg: PostgresServer, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with pg.connect() as conn:
        return conn.execute(sql, params).fetchall()


def number(value: Any) -> Decimal | None:
    """What Postgres NUMERIC gives back for a JSON number."""
    return None if value is None else Decimal(str(value))


def pg_column_types(pg: PostgresServer, table: str) -> dict[str, str]:
    sql = (
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s"
    )
    return dict(query(pg, sql, (table,)))


def test_orders_load_by_window_and_a_rerun_updates_rows_in_place(store: Any, postgres_conn: PostgresServer) -> None:
    orders = sorted(listing(store, "/v1/orders"), key=lambda o: o["createdOnUtc"])
    bounds = [moment(orders[i]["createdOnUtc"]) for i in (10, 50, 90)]
    in_window = [
        {o["orderId"]: o for o in orders if start <= moment(o["createdOnUtc"]) < end}
        for start, end in itertools.pairwise(bounds)
    ]
    first, second = in_window
    assert first and second and not first.keys() & second.keys()

    assert load(resource="orders", table="orders", batch_size=7).execute(context(*bounds[:2])) == len(first)
    assert pg_column_types(postgres_conn, "orders") == {c.name: PG_TYPES[c.sql_type] for c in table_columns("orders")}
    # Damage one row, then re-run the same window (a retry, a catch-up run): upserted back, none added.
    victim = next(iter(first))
    with postgres_conn.connect() as conn:
        conn.execute("UPDATE orders SET status = 'tampered', total = -1 WHERE id = %s", (victim,))
    synced = dict(query(postgres_conn, "SELECT id, synced_at FROM orders"))
    assert load(resource="orders", table="orders", batch_size=7).execute(context(*bounds[:2])) == len(first)
    assert query(postgres_conn, "SELECT count(*), count(DISTINCT id) FROM orders") == [(len(first), len(first))]
    resynced = query(postgres_conn, "SELECT id, synced_at FROM orders")
    assert all(moment(synced_at) > moment(synced[id_]) for id_, synced_at in resynced)

    # The next window adds its own orders only.
    assert load(resource="orders", table="orders").execute(context(*bounds[1:])) == len(second)
    stored = query(
        postgres_conn,
        "SELECT id, version, status, customer_id, created_on_utc, currency_code, subtotal, shipping_fee, total,"
        " document, document::jsonb ->> 'orderId' FROM orders",
    )
    expected = {**first, **second}
    assert sorted(row[0] for row in stored) == sorted(expected)
    for order_id, version, status, customer, created, currency, subtotal, fee, total, document, doc_id in stored:
        order = expected[order_id]
        assert (version, status, customer, created, currency) == (
            order["version"],
            order["status"],
            order["customerId"],
            order["createdOnUtc"],
            order["currencyCode"],
        )
        assert (subtotal, fee, total) == tuple(number(order[k]) for k in ("subtotal", "shippingFee", "total"))
        assert json.loads(document) == order and doc_id == order_id


def test_products_full_load_with_typed_columns(store: Any, postgres_conn: PostgresServer) -> None:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    inactive, round_price = (p["productId"] for p in listing(store, "/v1/products")[:2])
    # A false boolean and an integer price next to float prices in the same batch.
    hook = SimpleStoreHook()
    hook.update_product(inactive, {"isActive": False})
    hook.update_product(round_price, {"basePrice": {"sellPrice": 20}})
    products = {p["productId"]: p for p in listing(store, "/v1/products")}
    assert {p["isActive"] for p in products.values()} == {True, False}

    assert load(resource="products", table="public.products", batch_size=25).execute(context()) == len(products)
    assert pg_column_types(postgres_conn, "products") == {
        c.name: PG_TYPES[c.sql_type] for c in table_columns("products")
    }
    stored = query(
        postgres_conn,
        "SELECT id, version, slug, sku, title, status, is_active, currency_code, sell_price, available_quantity,"
        " document FROM products",
    )
    assert len(stored) == len(products)
    for product_id, version, slug, sku, title, status, active, currency, price, quantity, document in stored:
        product = products[product_id]
        assert (version, slug, sku, title, status) == (
            product["version"],
            product["slug"],
            product["inventory"]["sku"],
            product["title"],
            product["status"],
        )
        assert active is product["isActive"]
        assert (currency, price) == (product["basePrice"]["currencyCode"], number(product["basePrice"]["sellPrice"]))
        assert quantity == number(product["inventory"]["availableQuantity"])
        assert json.loads(document) == product
    assert query(postgres_conn, "SELECT is_active FROM products WHERE id = %s", (inactive,)) == [(False,)]
    assert query(postgres_conn, "SELECT sell_price FROM products WHERE id = %s", (round_price,)) == [(Decimal(20),)]


def test_each_batch_is_one_postgres_transaction(store: Any, postgres_conn: PostgresServer) -> None:
    from psycopg import errors, sql

    products = listing(store, "/v1/products")  # API order is load order (one worker)
    poison = products[25]["productId"]
    with postgres_conn.connect() as conn:
        conn.execute(create_table_sql("products", "products"))
        conn.execute(sql.SQL("ALTER TABLE products ADD CONSTRAINT no_poison CHECK (id <> {})").format(poison))

    with pytest.raises(errors.CheckViolation, match="no_poison"):
        load(resource="products", table="products", batch_size=10).execute(context())
    # Batches 1 and 2 committed; batch 3 (rows 20-29, with the poisoned row) rolled back whole.
    assert sorted(r[0] for r in query(postgres_conn, "SELECT id FROM products")) == sorted(
        p["productId"] for p in products[:20]
    )

    with postgres_conn.connect() as conn:
        conn.execute("ALTER TABLE products DROP CONSTRAINT no_poison")
    assert load(resource="products", table="products", batch_size=10).execute(context()) == len(products)
    assert query(postgres_conn, "SELECT count(*) FROM products") == [(len(products),)]


def test_a_missing_table_with_creation_off_writes_nothing(store: Any, postgres_conn: PostgresServer) -> None:
    before = total_requests(store)
    with pytest.raises(TableMissingError, match=r"table customers does not exist in 'pg_sync'; pass create_table=True"):
        load(resource="customers", table="customers", create_table=False).execute(context())
    assert query(postgres_conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'") == []
    assert total_requests(store) == before  # refused before reading the API
    # The failed probe's transaction was rolled back and the connection closed: nothing left open.
    # PostgreSQL ends a backend after its client disconnects, in its own time: wait for it.
    others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    eventually(lambda: query(postgres_conn, others) == [(0,)], what="the probe's backend to end")


def test_a_table_lacking_the_key_or_document_is_refused(store: Any, postgres_conn: PostgresServer) -> None:
    with postgres_conn.connect() as conn:
        conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, document TEXT)")
    with pytest.raises(
        TableMissingError,
        match=r"lacks columns version, first_name, .*, synced_at in 'pg_sync'; "
        r"synced_at cannot be added",
    ):
        load(resource="customers", table="customers").execute(context())
    assert query(postgres_conn, "SELECT count(*) FROM customers") == [(0,)]


# The products table as the first release created it: a few typed columns and the document.
FIRST_RELEASE_PRODUCTS = """CREATE TABLE products (id TEXT PRIMARY KEY, version TEXT, slug TEXT, sku TEXT,
    title TEXT, status TEXT, is_active BOOLEAN, currency_code TEXT, sell_price NUMERIC, available_quantity NUMERIC,
    document TEXT NOT NULL, synced_at TEXT NOT NULL)"""


def test_a_first_release_table_gets_the_new_columns_typed(store: Any, postgres_conn: PostgresServer) -> None:
    with postgres_conn.connect() as conn:
        conn.execute(FIRST_RELEASE_PRODUCTS)
        conn.execute("INSERT INTO products (id, slug, document, synced_at) VALUES ('old', 'kept', '{}', 't0')")
    refused = (
        r"lacks columns short_url, .* in 'pg_sync' \(a table of an earlier release\?\); pass "
        r"create_table=True to add them, or run: ALTER TABLE"
    )
    with pytest.raises(TableMissingError, match=refused):
        load(resource="products", table="products", create_table=False).execute(context())
    products = {p["productId"]: p for p in listing(store, "/v1/products")}

    assert load(resource="products", table="products", batch_size=25).execute(context()) == len(products)
    assert pg_column_types(postgres_conn, "products") == {
        c.name: PG_TYPES[c.sql_type] for c in table_columns("products")
    }
    assert query(postgres_conn, "SELECT slug, short_url FROM products WHERE id = 'old'") == [("kept", None)]
    stored = query(
        postgres_conn,
        "SELECT id, short_url, base_rewards_points, inventory_track_inventory,"
        " price_sell_price, categories::jsonb FROM products WHERE id <> 'old'",
    )
    assert len(stored) == len(products)
    for product_id, short_url, points, tracked, price, categories in stored:
        product = products[product_id]
        assert (short_url, points, tracked, categories) == (
            product["shortUrl"],
            product["baseRewards"]["points"],
            product["inventory"]["trackInventory"],
            product["categories"],
        )
        assert price == number(product["price"]["sellPrice"])


@pytest.mark.parametrize("resource", sorted(TYPED_COLUMNS))
def test_every_resource_table_is_valid_postgres(resource: str, postgres_conn: PostgresServer) -> None:
    with postgres_conn.connect() as conn:
        conn.execute(create_table_sql(resource, resource))
        conn.execute(create_table_sql(resource, resource))  # IF NOT EXISTS: a second run is a no-op
    assert pg_column_types(postgres_conn, resource) == {c.name: PG_TYPES[c.sql_type] for c in table_columns(resource)}
