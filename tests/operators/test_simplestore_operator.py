"""SimpleStoreOperator: one call, its JSON to XCom, and a size limit that points elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreNotFoundError
from airflow_provider_simplestore.operators.simplestore import ResultTooLargeError, SimpleStoreOperator
from tests.operator_support import context, listing


def test_get_with_query_and_response_filter(simplestore_conn: Any) -> None:
    product = listing(simplestore_conn, "/v1/products")[3]
    operator = SimpleStoreOperator(
        task_id="call",
        endpoint="/v1/products",
        query={"slug": product["slug"]},
        response_filter=lambda page: [p["productId"] for p in page["result"]],
    )
    assert operator.execute(context()) == [product["productId"]]

    one = SimpleStoreOperator(task_id="one", endpoint=f"/v1/products/{product['productId']}").execute(context())
    assert one == product


def test_a_result_over_max_xcom_bytes_is_refused_with_a_pointer_to_the_export(simplestore_conn: Any) -> None:
    operator = SimpleStoreOperator(task_id="big", endpoint="/v1/orders", query={"pageSize": 50}, max_xcom_bytes=2048)
    with pytest.raises(ResultTooLargeError, match=r"over max_xcom_bytes=2048.*SimpleStoreToObjectStorageOperator"):
        operator.execute(context())
    narrowed = SimpleStoreOperator(
        task_id="small",
        endpoint="/v1/orders",
        query={"pageSize": 50},
        max_xcom_bytes=2048,
        response_filter=lambda page: page["totalRecordsFound"],
    )
    assert narrowed.execute(context()) == len(listing(simplestore_conn, "/v1/orders"))


def test_errors_are_typed(simplestore_conn: Any) -> None:
    with pytest.raises(SimpleStoreNotFoundError, match="404"):
        SimpleStoreOperator(task_id="missing", endpoint="/v1/products/no-such-id").execute(context())
    with pytest.raises(SimpleStoreConfigError, match="unknown method 'patch'; expected one of GET, POST, PUT, DELETE"):
        SimpleStoreOperator(task_id="patch", endpoint="/v1/products", method="patch").execute(context())


def test_templated_fields_include_the_connection() -> None:
    assert {"simplestore_conn_id", "endpoint", "query", "json"} <= set(SimpleStoreOperator.template_fields)
