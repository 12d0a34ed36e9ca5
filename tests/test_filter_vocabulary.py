"""One filter vocabulary: every operator, transfer, sensor, trigger and list method of the hook takes a
resource's filters by the names of its `resources.RESOURCES` row, and a misspelt name or a value of
the wrong kind fails before any request or write, naming the task, the key, the resource, the valid
names and the closest one. A misspelt filter that is silently dropped lists everything: wrong data in
a green run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowFailException

from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreFilterError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook
from airflow_provider_simplestore.operators.simplestore import SimpleStoreOperator
from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger
from tests.operator_support import context, listing, total_requests

ORDER_FILTERS = "order_ids, customer_id, status, created_from, created_to"
TRANSFER_ORDER_FILTERS = "order_ids, customer_id, status"  # the window is the operators' own arguments
WINDOW: dict[str, Any] = {"created_from": "2020-01-01T00:00:00Z", "created_to": "2100-01-01T00:00:00Z"}


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(products=12, customers=4, orders=40)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def assert_names_the_mistake(error: BaseException, task: str, filters: str = ORDER_FILTERS) -> None:
    text = str(error)
    assert isinstance(error, SimpleStoreFilterError) and isinstance(error, AirflowFailException), type(error)
    assert text.startswith(task), text
    assert "unknown filter 'Staus' for orders; did you mean 'status'?" in text, text
    assert f"The filters of orders are: {filters}." in text, text


def native_dag() -> DAG:
    return DAG(
        "filters",
        schedule=None,
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        render_template_as_native_obj=True,
    )


# --- a misspelt name: at DAG parse, or once rendered, before any request or write ----------------


def test_a_misspelt_export_filter_fails_when_the_dag_is_parsed(tmp_path: Path) -> None:
    with pytest.raises(SimpleStoreFilterError) as raised:
        SimpleStoreToObjectStorageOperator(
            task_id="export_paid", resource="orders", destination=str(tmp_path / "o.jsonl"), filters={"Staus": "Paid"}
        )
    assert_names_the_mistake(raised.value, "SimpleStoreToObjectStorageOperator 'export_paid': ", TRANSFER_ORDER_FILTERS)


def test_a_misspelt_sql_filter_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(SimpleStoreFilterError) as raised:
        SimpleStoreToSqlOperator(task_id="load_paid", resource="orders", table="paid", filters={"Staus": "Paid"})
    assert_names_the_mistake(raised.value, "SimpleStoreToSqlOperator 'load_paid': ", TRANSFER_ORDER_FILTERS)


def templated_filters_export(destination: Path) -> SimpleStoreToObjectStorageOperator:
    """An orders export whose filters come from the run's params."""
    with native_dag():
        return SimpleStoreToObjectStorageOperator(
            task_id="export_paid",
            resource="orders",
            destination=str(destination),
            filters="{{ params.filters }}",
            **WINDOW,
        )


def test_a_templated_export_filter_is_checked_once_rendered_before_any_request_or_write(
    shop: Any, tmp_path: Path
) -> None:
    destination = tmp_path / "paid.jsonl"
    export = templated_filters_export(destination)
    export.render_template_fields({"params": {"filters": {"Staus": "Paid"}}})
    before = total_requests(shop)
    with pytest.raises(SimpleStoreFilterError) as raised:
        export.execute(context())
    assert_names_the_mistake(raised.value, "SimpleStoreToObjectStorageOperator 'export_paid': ", TRANSFER_ORDER_FILTERS)
    assert total_requests(shop) == before and shop.stats()["token_requests"] == 0
    assert list(tmp_path.iterdir()) == []


def test_a_templated_sql_filter_is_checked_once_rendered_before_the_table_is_made(
    shop: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "orders.db"
    monkeypatch.setenv("AIRFLOW_CONN_SQLITE_FILTERS", f"sqlite:///{database}")
    with native_dag():
        load = SimpleStoreToSqlOperator(
            task_id="load_paid",
            resource="orders",
            table="paid",
            sql_conn_id="sqlite_filters",
            filters="{{ params.filters }}",
            **WINDOW,
        )
    load.render_template_fields({"params": {"filters": {"Staus": "Paid"}}})
    with pytest.raises(SimpleStoreFilterError) as raised:
        load.execute(context())
    assert_names_the_mistake(raised.value, "SimpleStoreToSqlOperator 'load_paid': ", TRANSFER_ORDER_FILTERS)
    assert total_requests(shop) == 0
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_the_right_name_exports_exactly_the_paid_orders(shop: Any, tmp_path: Path) -> None:
    destination = tmp_path / "paid.jsonl"
    export = templated_filters_export(destination)
    export.render_template_fields({"params": {"filters": {"status": "Paid"}}})
    summary = export.execute(context())
    paid = listing(shop, "/v1/orders", Status="Paid")
    assert 0 < summary["records"] == len(paid) < len(listing(shop, "/v1/orders"))


def test_a_query_name_is_refused_with_the_filter_name_to_use(tmp_path: Path) -> None:
    with pytest.raises(
        SimpleStoreFilterError,
        match=r"unknown filter 'CustomerId' for orders; did you mean "
        r"'customer_id'\?",
    ):
        SimpleStoreToObjectStorageOperator(
            task_id="export", resource="orders", destination=str(tmp_path / "o.jsonl"), filters={"CustomerId": "c1"}
        )
    with pytest.raises(
        SimpleStoreFilterError,
        match=r"unknown filter 'CreatedToUtc' for orders; did you mean "
        r"'created_to'\? That one is set by the operator's created_to "
        r"argument\.",
    ):
        SimpleStoreToObjectStorageOperator(
            task_id="export",
            resource="orders",
            destination=str(tmp_path / "o.jsonl"),
            filters={"CreatedToUtc": "2026-01-01T00:00:00Z"},
        )


def test_the_transfer_window_is_not_a_filter(tmp_path: Path) -> None:
    with pytest.raises(
        SimpleStoreFilterError,
        match="'created_from' of orders is set by the operator's created_from argument: use that instead",
    ):
        SimpleStoreToObjectStorageOperator(
            task_id="export",
            resource="orders",
            destination=str(tmp_path / "o.jsonl"),
            filters={"created_from": "2026-01-01T00:00:00Z"},
        )


def test_a_window_without_an_incremental_sync_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimpleStoreConfigError, match=r"created_from/created_to bound an incremental sync's window"):
        SimpleStoreToObjectStorageOperator(
            task_id="export",
            resource="orders",
            destination=str(tmp_path / "o.jsonl"),
            incremental=False,
            created_from="2026-01-01T00:00:00Z",
        )


def test_an_empty_id_list_is_refused_by_a_transfer_instead_of_listing_everything(shop: Any, tmp_path: Path) -> None:
    with native_dag():
        export = SimpleStoreToObjectStorageOperator(
            task_id="export",
            resource="customers",
            destination=str(tmp_path / "c.jsonl"),
            filters="{{ params.filters }}",
        )
    export.render_template_fields({"params": {"filters": {"customer_ids": []}}})
    with pytest.raises(
        SimpleStoreConfigError, match="the filter 'customer_ids' is an empty list, which selects no customers"
    ):
        export.execute(context())
    assert total_requests(shop) == 0 and list(tmp_path.iterdir()) == []


# --- values of the wrong kind ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "filters", "expected"),
    [
        ("products", {"is_active": "maybe"}, "'is_active' of products must be true or false, got 'maybe'"),
        ("customers", {"customer_ids": {"id": "c1"}}, "'customer_ids' of customers must be an id or a list of ids"),
        ("folders", {"name": ["a", "b"]}, "'name' of folders must be a text, got ['a', 'b']"),
    ],
)
def test_a_value_of_the_wrong_kind_fails_when_the_dag_is_parsed(
    resource: str, filters: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SimpleStoreFilterError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        SimpleStoreToSqlOperator(task_id="load", resource=resource, table="t", filters=filters)


def test_rendered_values_are_read_as_their_kind(shop: Any, tmp_path: Path) -> None:
    with native_dag():
        export = SimpleStoreToObjectStorageOperator(
            task_id="export",
            resource="products",
            destination=str(tmp_path / "p.jsonl"),
            filters={"is_active": "{{ params.active }}"},
        )
    export.render_template_fields({"params": {"active": "False"}})  # a rendered flag is text
    summary = export.execute(context())
    assert summary["records"] == len(listing(shop, "/v1/products", IsActive="false"))


# --- the sensor and the trigger -------------------------------------------------------------------


def test_the_sensor_checks_its_filters_when_the_dag_is_parsed() -> None:
    with pytest.raises(
        SimpleStoreFilterError,
        match=r"SimpleStoreOrdersSensor 'wait': the filter 'status' of orders "
        r"must be a text, got \['Paid'\]",
    ):
        SimpleStoreOrdersSensor(task_id="wait", status=["Paid"])  # type: ignore[arg-type]  # the wrong kind on purpose


def test_the_sensor_checks_rendered_filters_before_its_first_request(shop: Any) -> None:
    with native_dag():
        sensor = SimpleStoreOrdersSensor(task_id="wait", status="{{ params.status }}", since="2020-01-01T00:00:00Z")
    sensor.render_template_fields({"params": {"status": {"any": "Paid"}}})
    with pytest.raises(SimpleStoreFilterError, match="SimpleStoreOrdersSensor 'wait': the filter 'status'"):
        sensor.poke(context())
    assert total_requests(shop) == 0


def test_the_trigger_names_a_misspelt_filter_and_the_one_it_sets_itself() -> None:
    with pytest.raises(SimpleStoreFilterError) as raised:
        SimpleStoreOrdersTrigger(since="2026-01-01T00:00:00Z", filters={"Staus": "Paid"})
    assert_names_the_mistake(raised.value, "SimpleStoreOrdersTrigger: ", "order_ids, customer_id, status, created_to")
    with pytest.raises(SimpleStoreFilterError, match="'created_from' of orders is set by the since argument"):
        SimpleStoreOrdersTrigger(since="2026-01-01T00:00:00Z", filters={"created_from": "2025-01-01T00:00:00Z"})


# --- the hook's list methods -----------------------------------------------------------------------


def test_the_hook_names_a_misspelt_filter_before_any_request(shop: Any) -> None:
    hook = SimpleStoreHook()
    with pytest.raises(SimpleStoreFilterError) as raised:
        list(hook.list_orders(Staus="Paid"))  # type: ignore[arg-type]  # misspelt on purpose
    assert_names_the_mistake(raised.value, "SimpleStoreHook.list_orders: ")
    with pytest.raises(SimpleStoreFilterError) as raised:
        list(hook.list_resource("orders", Staus="Paid"))
    assert_names_the_mistake(raised.value, "SimpleStoreHook.list_orders: ")
    with pytest.raises(SimpleStoreFilterError, match="'created_from' of orders must be an ISO-8601"):
        list(hook.list_orders(created_from="last week"))
    assert total_requests(shop) == 0


def test_the_async_hook_names_a_misspelt_filter_before_any_request(shop: Any) -> None:
    async def listed() -> list[Any]:
        async with SimpleStoreAsyncHook() as hook:
            return [order async for order in hook.list_orders(Staus="Paid")]  # type: ignore[arg-type]  # misspelt

    with pytest.raises(SimpleStoreFilterError) as raised:
        asyncio.run(listed())
    assert_names_the_mistake(raised.value, "SimpleStoreAsyncHook.list_orders: ")
    assert total_requests(shop) == 0


def test_the_hook_reads_flags_ids_and_moments(shop: Any) -> None:
    hook = SimpleStoreHook()
    orders = listing(shop, "/v1/orders")
    first = min(orders, key=lambda o: o["createdOnUtc"])["createdOnUtc"]
    ids = tuple(o["orderId"] for o in orders[:3])
    assert {o["orderId"] for o in hook.list_orders(order_ids=ids, created_from=first)} == set(ids) & {
        o["orderId"] for o in orders if o["createdOnUtc"] >= first
    }
    active = list(hook.list_products(is_active="true"))  # type: ignore[arg-type]  # text, read as a flag
    assert len(active) == len(listing(shop, "/v1/products", IsActive="true"))


# --- the generic operator: the API's query names on a list call ----------------------------------


def test_the_generic_operator_checks_the_query_of_a_list_call(shop: Any) -> None:
    with pytest.raises(SimpleStoreFilterError) as raised:
        SimpleStoreOperator(task_id="count_paid", endpoint="/v1/orders", query={"Staus": "Paid", "pageSize": 1})
    text = str(raised.value)
    assert text.startswith(
        "SimpleStoreOperator 'count_paid': unknown filter 'Staus' for orders; did you mean 'status'?"
    ), text
    assert "status (status), created_from (createdFromUtc)" in text
    # The API's names and the python names are both read; a non-list call is sent as given.
    for query in ({"Status": "Paid", "pageSize": 1}, {"status": "Paid", "PAGESIZE": 1}):
        count = SimpleStoreOperator(
            task_id="count_paid",
            endpoint="/v1/orders",
            query=query,
            response_filter=lambda page: page["totalRecordsFound"],
        ).execute(context())
        assert count == len(listing(shop, "/v1/orders", Status="Paid"))
    SimpleStoreOperator(task_id="config", endpoint="/v1/configuration", query={"anything": 1})


def test_the_generic_operator_checks_a_templated_list_call_before_its_request(shop: Any) -> None:
    with native_dag():
        operator = SimpleStoreOperator(task_id="count_paid", endpoint="{{ params.endpoint }}", query={"Staus": "Paid"})
    operator.render_template_fields({"params": {"endpoint": "/v1/orders"}})
    with pytest.raises(SimpleStoreFilterError, match="did you mean 'status'"):
        operator.execute(context())
    assert total_requests(shop) == 0


def test_every_resource_names_its_filters_in_one_row() -> None:
    """The one vocabulary is the row's: the hook's typed keywords are checked against it elsewhere
    (tests/client/test_resources.py); here every declared kind is one the check knows."""
    for spec in RESOURCES.values():
        for name in spec.filters:
            assert spec.kind(name) in ("text", "flag", "ids", "moment"), (spec.name, name)


@pytest.fixture(autouse=True)
def _no_leftover_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AIRFLOW_CONN_SQLITE_DEFAULT", raising=False)
    yield
