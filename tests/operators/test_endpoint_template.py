"""Endpoint templates fill plain `{name}` placeholders only, and full-width dots are dots.

`endpoint` used to be filled with str.format: `{pid.__class__}` and `{pid[0]}` put other text than
the quoted id into the path (type information only, but not the id the user meant). Full-width
dot segments (U+FF0E twice; U+2025, the two-dot leader) passed the path check, though a server or proxy that
normalises Unicode (NFKC) resolves them as `..`. Both are refused before any request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.client.resources import Endpoint
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStorePathError
from airflow_provider_simplestore.operators.simplestore import SimpleStoreOperator
from tests.operator_support import context, listing, total_requests

FULL_STOP = "\uff0e"  # NFKC: "."
TWO_DOT_LEADER = "\u2025"  # NFKC: ".."


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(products=2, customers=2, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


@pytest.mark.parametrize(
    "placeholder", ["{pid.__class__}", "{pid[0]}", "{pid!r}", "{pid:>40}", "{pid.real}", "{0}", "{}", "{pid[x]}"]
)
def test_only_plain_placeholders_are_filled(shop: Any, placeholder: str) -> None:
    before = total_requests(shop)
    operator = SimpleStoreOperator(task_id="get", endpoint=f"/v1/products/{placeholder}", path_ids={"pid": "p1"})
    with pytest.raises(SimpleStoreConfigError, match=re.escape("only plain {name} placeholders")):
        operator.execute(context())
    assert total_requests(shop) == before


def test_a_plain_placeholder_is_filled_and_quoted(shop: Any) -> None:
    product = listing(shop, "/v1/products")[0]
    got = SimpleStoreOperator(
        task_id="get", endpoint="/v1/products/{product_id}", path_ids={"product_id": product["productId"]}
    ).execute(context())
    assert got == product
    assert Endpoint("GET", "/v1/{a}/{b_2}/{{literal}}").format(a="x/y", b_2=3) == "/v1/x%2Fy/3/{literal}"
    with pytest.raises(TypeError, match="needs the id 'b'"):
        Endpoint("GET", "/v1/{a}/{b}").format(a=1)


@pytest.mark.parametrize(
    "endpoint",
    [
        f"/v1/products/{FULL_STOP * 2}/customers/{{cid}}",
        f"/v1/products/{FULL_STOP}./customers/{{cid}}",
        f"/v1/products/{TWO_DOT_LEADER}/customers/{{cid}}",
        "/v1/products/%EF%BC%8E%EF%BC%8E/customers/{cid}",
        f"/v1/customers/{{cid}}/{FULL_STOP}",
        f"/v1/products/{FULL_STOP * 2}\uff0fcustomers/{{cid}}",  # full-width solidus: `../customers` after NFKC
    ],
)
def test_full_width_dot_segments_are_refused_before_any_request(shop: Any, endpoint: str) -> None:
    customer_id = listing(shop, "/v1/customers")[0]["customerId"]
    before = total_requests(shop)
    operator = SimpleStoreOperator(task_id="rm", method="DELETE", endpoint=endpoint.format(cid=customer_id))
    with pytest.raises(SimpleStorePathError):
        operator.execute(context())
    assert total_requests(shop) == before
    assert customer_id in {c["customerId"] for c in listing(shop, "/v1/customers")}


@pytest.mark.parametrize("hostile", [FULL_STOP * 2, TWO_DOT_LEADER, FULL_STOP])
def test_a_full_width_dot_id_is_refused(shop: Any, hostile: str) -> None:
    before = total_requests(shop)
    operator = SimpleStoreOperator(
        task_id="rm", method="DELETE", endpoint="/v1/products/{product_id}", path_ids={"product_id": hostile}
    )
    with pytest.raises(SimpleStoreConfigError):
        operator.execute(context())
    assert total_requests(shop) == before
