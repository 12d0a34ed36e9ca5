"""How a sync names what it reads and writes (lineage.py), and the outlets each operator declares.

Pure functions and operator construction: no Airflow run needed. The runs themselves are checked
in tests/dags/test_example_dags_lineage.py.
"""

from __future__ import annotations

import pytest

from airflow_provider_simplestore.lineage import (
    location_dataset,
    resource_of_path,
    simplestore_dataset,
    table_dataset,
)


def test_simplestore_namespace_is_the_api_host_and_the_name_the_resource() -> None:
    ds = simplestore_dataset("https://api.simplestore.io", "orders")
    assert (ds.namespace, ds.name, ds.uri) == (
        "simplestore://api.simplestore.io",
        "orders",
        "simplestore://api.simplestore.io/orders",
    )
    # A port is part of the instance; a path or credentials in the URL are not.
    ds = simplestore_dataset("http://user:pw@127.0.0.1:8080/base/", "products")
    assert (ds.namespace, ds.uri) == ("simplestore://127.0.0.1:8080", "simplestore://127.0.0.1:8080/products")


@pytest.mark.parametrize(
    ("location", "namespace", "name", "uri"),
    [
        ("/data/orders/a.jsonl", "file", "/data/orders/a.jsonl", "file:///data/orders/a.jsonl"),
        ("file:///data/./x/../orders.csv", "file", "/data/orders.csv", "file:///data/orders.csv"),
        ("s3://bucket/exports/orders.jsonl", "s3://bucket", "exports/orders.jsonl", "s3://bucket/exports/orders.jsonl"),
        # An ObjectStoragePath with a connection prints it as user info: not part of the dataset.
        ("s3://aws_prod@bucket/k.csv", "s3://bucket", "k.csv", "s3://bucket/k.csv"),
        ("gs://b/p/q.csv", "gs://b", "p/q.csv", "gs://b/p/q.csv"),
        ("sftp://host:2222/in/x.csv", "sftp://host:2222", "/in/x.csv", "sftp://host:2222/in/x.csv"),
    ],
)
def test_file_locations_follow_the_openlineage_naming_spec(location: str, namespace: str, name: str, uri: str) -> None:
    ds = location_dataset(location)
    assert (ds.namespace, ds.name, ds.uri) == (namespace, name, uri)


def test_tables_follow_the_openlineage_naming_spec() -> None:
    pg = table_dataset("postgres", "simplestore_orders", host="db.internal", database="shop")
    assert (pg.namespace, pg.name) == ("postgres://db.internal:5432", "shop.public.simplestore_orders")
    assert pg.uri == "postgres://db.internal:5432/shop/public/simplestore_orders"  # Airflow's postgres asset form
    pg = table_dataset("postgres", "sales.orders", host="db", port=6543, database="shop")
    assert (pg.namespace, pg.name) == ("postgres://db:6543", "shop.sales.orders")
    lite = table_dataset("sqlite", "orders", host="/data/x.db")
    assert (lite.namespace, lite.name, lite.uri) == (
        "sqlite://localhost/data/x.db",
        "main.orders",
        "sqlite://localhost/data/x.db/main/orders",
    )


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/v1/orders", "orders"),
        ("/v1/products/catalog:products:33:a", "products"),
        ("/v1/basket/bycart/c1", "baskets"),
        ("/v1/folder/f1", "folders"),
        ("/v1/cart/c1/items", "carts"),
        ("/v1/customers?pageSize=1", "customers"),
        ("/connect/token", None),
    ],
)
def test_resource_of_an_api_path(path: str, resource: str | None) -> None:
    assert resource_of_path(path) == resource


def test_operators_declare_an_alias_for_what_is_known_only_when_they_run() -> None:
    from airflow_provider_simplestore.compat import Asset, AssetAlias
    from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
    from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

    mine = Asset("file:///elsewhere/report.csv")
    templated = SimpleStoreToObjectStorageOperator(
        task_id="t", resource="orders", destination="/x/{{ ds }}.jsonl", outlets=[mine]
    )
    assert templated.outlets == [mine, AssetAlias("simplestore-export-orders")]  # the user's outlets kept
    static = SimpleStoreToObjectStorageOperator(task_id="s", resource="products", destination="/x/./products.csv")
    assert static.outlets == [Asset("file:///x/products.csv")] and static.asset_alias is None
    sql = SimpleStoreToSqlOperator(task_id="q", resource="orders", table="t", asset_alias="orders-table")
    assert sql.outlets == [AssetAlias("orders-table")]
    imported = SimpleStoreImportOperator(task_id="i", resource="customers", source="/in.csv")
    assert imported.outlets == [AssetAlias("simplestore-import-customers")]
