"""`endpoint` stays under the API base; ids go in quoted through `path_ids`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreNotFoundError, SimpleStorePathError
from airflow_provider_simplestore.operators.simplestore import SimpleStoreOperator
from tests.operator_support import context, listing, total_requests


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(products=3, customers=2, orders=1)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


ESCAPES = [
    "/v1/products/../customers/{id}",
    "/v1/products/%2e%2e/customers/{id}",
    "/v1/products/.%2E/customers/{id}",
    "/v1/products/..%2fcustomers%2f{id}",
    "/v1/products/./../customers/{id}",
    "/v1/customers/{id}/..",
    "//127.0.0.1/v1/customers/{id}",
    "http://127.0.0.1/v1/customers/{id}",
    "v1/customers/{id}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_an_endpoint_that_leaves_its_path_is_refused_before_any_request(shop: Any, template: str) -> None:
    customer_id = listing(shop, "/v1/customers")[0]["customerId"]
    before = total_requests(shop)
    operator = SimpleStoreOperator(task_id="delete", method="DELETE", endpoint=template.format(id=customer_id))
    with pytest.raises(SimpleStorePathError):
        operator.execute(context())
    assert total_requests(shop) == before
    assert customer_id in {c["customerId"] for c in listing(shop, "/v1/customers")}


def test_path_ids_are_quoted_as_one_segment(shop: Any) -> None:
    product = listing(shop, "/v1/products")[0]
    customer_id = listing(shop, "/v1/customers")[0]["customerId"]
    got = SimpleStoreOperator(
        task_id="get", endpoint="/v1/products/{product_id}", path_ids={"product_id": product["productId"]}
    ).execute(context())
    assert got == product
    hostile = SimpleStoreOperator(
        task_id="rm",
        method="DELETE",
        endpoint="/v1/products/{product_id}",
        path_ids={"product_id": f"../customers/{customer_id}"},
    )
    with pytest.raises(SimpleStorePathError):
        hostile.execute(context())
    with pytest.raises(SimpleStoreNotFoundError):  # a slash inside an id stays inside its segment
        SimpleStoreOperator(
            task_id="slash",
            method="DELETE",
            endpoint="/v1/products/{product_id}",
            path_ids={"product_id": f"x/{customer_id}"},
        ).execute(context())
    assert customer_id in {c["customerId"] for c in listing(shop, "/v1/customers")}
    assert "path_ids" in SimpleStoreOperator.template_fields
