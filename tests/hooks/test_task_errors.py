"""A task's failed call says what the Test button says: the connection id, what failed, the field to
change (Client Secret, API base URL, Token URL) and, for a host that cannot be reached, its URL and
how often it was tried, in one traceback (the library's chain stays attached, unprinted)."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.client.settings import SimpleStoreSettings
from airflow_provider_simplestore.exceptions import (
    SimpleStoreCredentialsError,
    SimpleStoreError,
    SimpleStoreResponseError,
    SimpleStoreTransportError,
)
from airflow_provider_simplestore.hooks.connection_check import explain_failure
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger
from tests.operator_support import context

FAST_RETRIES = {"max_retries": 2, "max_retry_wait": 0.05}


def export(tmp_path: Path, conn_id: str) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(
        task_id="export", resource="products", destination=str(tmp_path / "p.jsonl"), simplestore_conn_id=conn_id
    )


def printed_tracebacks(error: BaseException) -> int:
    """Tracebacks Python prints for the error (what `dag.test()` and a console log show)."""
    return "".join(traceback.format_exception(error)).count("Traceback (most recent call last)")


def logged_exceptions(error: BaseException) -> list[str]:
    """The exceptions of an Airflow 3 task log's `error_detail` (structlog's dict tracebacks)."""
    try:
        from structlog.tracebacks import extract
    except ImportError:  # Airflow 2 logs with the standard library, which prints what Python prints
        return [type(error).__name__] * printed_tracebacks(error)
    trace = extract(type(error), error, error.__traceback__)
    return [stack.exc_type for stack in trace.stacks]


def test_a_wrong_secret_names_the_connection_and_the_field(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], tmp_path: Path
) -> None:
    sb = fresh_sandbox(products=3, customers=1, orders=1)
    conn_id = connect(sb, "simplestore_shop", password="not-the-secret-4711")
    with pytest.raises(SimpleStoreCredentialsError) as raised:
        export(tmp_path, conn_id).execute(context())
    text = str(raised.value)
    assert text.startswith(
        f"SimpleStore connection 'simplestore_shop': Credentials rejected: the token URL {sb.token_url} says the "
        "client id or secret is wrong (invalid_client). Check the Client ID and Client Secret."
    ), text
    assert "not-the-secret-4711" not in text and raised.value.conn_id == "simplestore_shop"
    assert list(tmp_path.iterdir()) == [] and sb.stats()["token_requests"] == 1  # not retried
    assert printed_tracebacks(raised.value) == 1


def test_an_unreachable_api_host_names_the_url_what_was_tried_and_the_field(
    sandbox: Any, closed_port: int, connect: Callable[..., str], tmp_path: Path
) -> None:
    host = f"http://127.0.0.1:{closed_port}"
    conn_id = connect(sandbox, "simplestore_shop", host=host, **FAST_RETRIES)
    with pytest.raises(SimpleStoreTransportError) as raised:
        export(tmp_path, conn_id).execute(context())
    text = str(raised.value)
    assert text.startswith(
        f"SimpleStore connection 'simplestore_shop': Cannot reach the API URL {host}: the connection was refused "
        "or failed. Check the API base URL (the connection's host) and the network. Tried 3 times in "
    ), text
    assert f"; last error: GET /v1/products: cannot connect to 127.0.0.1:{closed_port}" in text
    assert list(tmp_path.iterdir()) == []
    # One traceback printed and one exception logged, not requests', urllib3's and the socket's too;
    # the library's error stays attached for a debugger.
    assert printed_tracebacks(raised.value) == 1
    assert logged_exceptions(raised.value) == ["SimpleStoreTransportError"]
    assert raised.value.__suppress_context__ and type(raised.value.__context__).__module__.startswith("requests")


def test_an_unreachable_token_host_names_the_token_url(
    sandbox: Any, closed_port: int, connect: Callable[..., str], client: Callable[..., Any]
) -> None:
    auth_url = f"http://127.0.0.1:{closed_port}/connect/token"
    c = client(connect(sandbox, "simplestore_shop", auth_url=auth_url, max_retries=1))
    with pytest.raises(SimpleStoreTransportError) as raised:
        c.items("list_orders")
    text = str(raised.value)
    assert text.startswith(
        f"SimpleStore connection 'simplestore_shop': Cannot reach the token URL {auth_url}: the connection was "
        "refused or failed. Check the Token URL (extra auth_url) and the network. Tried 2 times in "
    ), text
    assert printed_tracebacks(raised.value) == 1


def test_an_unreachable_host_in_the_async_hook_prints_one_traceback(
    sandbox: Any, closed_port: int, connect: Callable[..., str], client: Callable[..., Any], flavor: str
) -> None:
    c = client(connect(sandbox, "simplestore_shop", host=f"http://127.0.0.1:{closed_port}", max_retries=0))
    with pytest.raises(SimpleStoreTransportError) as raised:
        c.items("list_products")
    assert str(raised.value).startswith("SimpleStore connection 'simplestore_shop': Cannot reach the API URL ")
    assert printed_tracebacks(raised.value) == 1
    assert logged_exceptions(raised.value) == ["SimpleStoreTransportError"]
    assert type(raised.value.__context__).__module__.split(".")[0] == ("httpx" if flavor == "async" else "requests")


def test_a_web_page_as_the_api_url_is_named_a_wrong_api_url(
    sandbox: Any, web_page: str, connect: Callable[..., str], client: Callable[..., Any]
) -> None:
    c = client(connect(sandbox, "simplestore_shop", host=web_page))
    with pytest.raises(SimpleStoreResponseError) as raised:
        c.items("list_orders")
    assert str(raised.value).startswith(
        f"SimpleStore connection 'simplestore_shop': Wrong API URL: {web_page} does not look like the SimpleStore API ("
    ), str(raised.value)


def test_the_production_token_url_with_the_sandbox_says_to_set_auth_url() -> None:
    """The default Token URL is production's: a connection pasted without auth_url sends the sandbox's
    client there (a dead host here: no request leaves the machine)."""
    from airflow.providers.common.compat.sdk import Connection

    conn = Connection(
        conn_id="simplestore_default",
        conn_type="simplestore",
        host="http://127.0.0.1:8765",
        login="sandbox-client",
        password="sandbox-secret",
    )
    settings = SimpleStoreSettings.from_connection(conn)
    error = SimpleStoreTransportError(
        "POST /connect/token: cannot resolve the host name of auth.simplestore.io",
        reason="dns",
        request_sent=False,
        method="POST",
        path="/connect/token",
    )
    error.token_request = True
    text = str(explain_failure(settings, error, attempts=6, seconds=9.2))
    assert text == (
        "SimpleStore connection 'simplestore_default': Cannot reach the token URL "
        "https://auth.simplestore.io/connect/token: its host name does not resolve. Check the Token URL (extra "
        "auth_url) and the network. The Token URL is the production default while the API URL is "
        "http://127.0.0.1:8765: set the extra auth_url (for the sandbox: http://127.0.0.1:8765/connect/token). "
        "Tried 6 times in 9.2 s; last error: POST /connect/token: cannot resolve the host name of auth.simplestore.io"
    )


def test_a_refused_call_keeps_its_own_message_and_names_the_connection(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any]
) -> None:
    c = client(connect(sandbox, "simplestore_shop"))
    with pytest.raises(SimpleStoreError) as raised:
        c.call("get_product", "no-such-product")
    assert str(raised.value) == (
        "SimpleStore connection 'simplestore_shop': GET /v1/products/no-such-product: "
        "HTTP 404: Not Found - product 'no-such-product' was not found"
    )


def test_the_triggers_error_event_names_the_connection(
    fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    sb = fresh_sandbox(orders=1)
    conn = {**json.loads(sb.connection_json()), "password": "not-the-secret-4711"}
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_SHOP", json.dumps(conn))
    trigger = SimpleStoreOrdersTrigger(simplestore_conn_id="simplestore_shop", since="2026-01-01T00:00:00Z")

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload

    event = asyncio.run(first_event())
    assert event["status"] == "error"
    assert event["message"].startswith("SimpleStore connection 'simplestore_shop': Credentials rejected"), event
    assert "not-the-secret-4711" not in event["message"]
