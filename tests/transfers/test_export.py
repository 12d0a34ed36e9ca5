"""SimpleStoreToObjectStorageOperator against the sandbox: contents, windows, bad input and atomicity."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreServerError
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.formats import CSV_COLUMNS, CsvEncoder
from airflow_provider_simplestore.utils.source import SYNC_RESOURCES
from airflow_provider_simplestore.utils.storage import StorageError
from tests.operator_support import context, listing, moment, total_requests


def export(**kwargs: Any) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(task_id="export", **kwargs)


def test_products_jsonl_is_the_full_listing_in_order(simplestore_conn: Any, tmp_path: Path) -> None:
    target = tmp_path / "products.jsonl"
    summary = export(resource="products", destination=str(target), page_size=17, max_workers=3).execute(context())

    expected = listing(simplestore_conn, "/v1/products")
    data = target.read_bytes()
    assert [json.loads(line) for line in data.decode().splitlines()] == expected
    assert summary == {
        "destination": f"file://{target}",
        "resource": "products",
        "format": "jsonl",
        "records": len(expected),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "duplicates_dropped": 0,
    }


def test_customers_csv_has_the_documented_header_and_flattened_cells(simplestore_conn: Any, tmp_path: Path) -> None:
    target = tmp_path / "out" / "customers.csv"  # the folder is created
    summary = export(resource="customers", destination=f"file://{target}").execute(context())

    expected = listing(simplestore_conn, "/v1/customers")
    with target.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS["customers"]
    assert summary["format"] == "csv" and summary["records"] == len(rows) == len(expected)
    for row, customer in zip(rows, expected, strict=True):
        assert row["customerId"] == customer["customerId"]
        assert row["emailAddress"] == customer["emailAddress"]
        assert json.loads(row["addresses"]) == customer["addresses"]


LIST_PATHS = {"baskets": "/v1/basket"}


@pytest.mark.parametrize("resource", SYNC_RESOURCES)
def test_every_resource_exports_and_its_csv_columns_cover_every_field(
    simplestore_conn: Any, tmp_path: Path, resource: str
) -> None:
    expected = listing(simplestore_conn, LIST_PATHS.get(resource, f"/v1/{resource}"))
    target = tmp_path / f"{resource}.csv"
    summary = export(resource=resource, destination=str(target), incremental=False).execute(context())
    with target.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == summary["records"] == len(expected) > 0
    # The fixed header leaves no field of the platform's records out.
    encoder = CsvEncoder(CSV_COLUMNS[resource])
    for record in expected:
        encoder.encode(record)
    assert encoder.dropped == set()


def test_orders_window_is_start_inclusive_end_exclusive(simplestore_conn: Any, tmp_path: Path) -> None:
    orders = sorted(listing(simplestore_conn, "/v1/orders"), key=lambda o: o["createdOnUtc"])
    start, end = moment(orders[10]["createdOnUtc"]), moment(orders[40]["createdOnUtc"])
    target = tmp_path / "orders.jsonl"

    summary = export(resource="orders", destination=str(target)).execute(context(start, end))

    exported = [json.loads(line)["orderId"] for line in target.read_text().splitlines()]
    expected = [o["orderId"] for o in orders if start <= moment(o["createdOnUtc"]) < end]
    assert orders[10]["orderId"] in exported and orders[40]["orderId"] not in exported
    assert sorted(exported) == sorted(expected)
    assert summary["records"] == len(expected)


def test_templated_window_overrides_the_data_interval(simplestore_conn: Any, tmp_path: Path) -> None:
    orders = sorted(listing(simplestore_conn, "/v1/orders"), key=lambda o: o["createdOnUtc"])
    operator = export(
        resource="orders",
        destination=str(tmp_path / "o.jsonl"),
        created_from=orders[0]["createdOnUtc"],
        created_to=orders[5]["createdOnUtc"],
    )
    assert operator.execute(context())["records"] == 5  # no data interval needed


def test_an_empty_window_gives_an_empty_file_not_an_error(simplestore_conn: Any, tmp_path: Path) -> None:
    empty = context(dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2001, 1, 2, tzinfo=dt.timezone.utc))
    summary_csv = export(resource="orders", destination=str(tmp_path / "o.csv")).execute(empty)
    summary_jsonl = export(resource="orders", destination=str(tmp_path / "o.jsonl")).execute(empty)

    assert (tmp_path / "o.csv").read_text() == ",".join(CSV_COLUMNS["orders"]) + "\n"
    assert (tmp_path / "o.jsonl").read_bytes() == b""
    assert summary_csv["records"] == summary_jsonl["records"] == 0
    assert summary_jsonl["sha256"] == hashlib.sha256(b"").hexdigest()


def test_unknown_resource_is_refused_when_the_dag_is_parsed() -> None:
    with pytest.raises(SimpleStoreConfigError, match=r"unknown resource 'product'; expected one of: products, "):
        export(resource="product", destination="/tmp/x.jsonl")
    with pytest.raises(SimpleStoreConfigError, match="only orders do"):
        export(resource="products", destination="/tmp/x.jsonl", incremental=True)
    with pytest.raises(SimpleStoreConfigError, match="unknown file_format 'xml'"):
        export(resource="products", destination="/tmp/x.xml", file_format="xml")


def test_incremental_without_a_window_is_a_clear_error(simplestore_conn: Any, tmp_path: Path) -> None:
    with pytest.raises(SimpleStoreConfigError, match="no data interval; pass created_from/created_to"):
        export(resource="orders", destination=str(tmp_path / "o.jsonl")).execute(context())
    with pytest.raises(SimpleStoreConfigError, match="has no time zone"):
        export(
            resource="orders",
            destination=str(tmp_path / "o.jsonl"),
            created_from="2026-01-01T00:00:00",
            created_to="2026-01-02T00:00:00Z",
        ).execute(context())
    assert list(tmp_path.iterdir()) == []


def test_a_scheme_without_filesystem_fails_before_any_api_call(simplestore_conn: Any) -> None:
    before = total_requests(simplestore_conn)
    # gs://, not s3://: the deploy dependency group installs S3's filesystem (tests/transfers/test_storage_s3.py).
    with pytest.raises(
        StorageError,
        match=r"destination 'gs://bucket/orders/x.jsonl': no filesystem is installed "
        r"for scheme 'gs'; install apache-airflow-providers-google",
    ):
        export(resource="orders", destination="gs://bucket/orders/x.jsonl").execute(context())
    assert total_requests(simplestore_conn) == before


def test_a_failure_mid_export_leaves_the_old_file_and_no_temporary(
    fresh_sandbox: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=2, products=120)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    target = tmp_path / "products.csv"
    target.write_text("yesterday's export\n")
    operator = export(resource="products", destination=str(target), page_size=10)

    real_pages = operator.hook.paginate_pages

    def pages_then_outage(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for index, page in enumerate(real_pages(*args, **kwargs)):
            yield page
            if index == 1:  # two pages are written: the platform starts failing
                sb.set_faults(rules=[{"kind": "503", "probability": 1, "routes": ["/v1/products"]}])

    monkeypatch.setattr(operator.hook, "paginate_pages", pages_then_outage)
    with pytest.raises(SimpleStoreServerError):
        operator.execute(context())

    assert sb.stats()["requests"]["GET /v1/products"] >= 3
    assert target.read_text() == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["products.csv"]
