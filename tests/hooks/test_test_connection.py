"""SimpleStoreHook.test_connection(): specific messages, no writes, no secrets, bounded time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_simplestore.hooks import connection_check
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

pytestmark = pytest.mark.timeout(120)

SECRET = "sandbox-secret"  # the shared sandbox's client secret


def check(conn_id: str) -> tuple[bool, str, float]:
    started = time.monotonic()
    ok, message = SimpleStoreHook(conn_id).test_connection()
    assert SECRET not in message and "Bearer" not in message
    return ok, message, time.monotonic() - started


def test_a_good_connection(sandbox: Any, connect: Callable) -> None:
    before = sandbox.stats()
    ok, message, _ = check(connect(sandbox))
    after = sandbox.stats()
    assert ok, message
    assert message == (
        f"Connected to SimpleStore at {sandbox.url} as client 'sandbox-client': "
        f"{before['objects']['products']} products visible."
    )
    new_calls = {k: v - before["requests"].get(k, 0) for k, v in after["requests"].items()}
    assert {k: v for k, v in new_calls.items() if v} == {"GET /v1/products": 1}  # one cheap read, no writes
    assert after["creations"] == before["creations"]
    assert after["token_grants"] - before["token_grants"] == 1


def test_rejected_credentials(sandbox: Any, connect: Callable) -> None:
    ok, message, _ = check(connect(sandbox, password="wrong-password-123"))
    assert not ok
    assert message == (
        f"Credentials rejected: the token URL {sandbox.token_url} says the client id or secret is "
        "wrong (invalid_client). Check the Client ID and Client Secret."
    )
    assert "wrong-password-123" not in message


def test_a_flaky_token_server_is_not_retried(fresh_sandbox: Callable, connect: Callable) -> None:
    sb = fresh_sandbox(products=5, customers=1, orders=1)
    sb.set_faults(token_rules=[{"kind": "503", "probability": 1.0, "retry_after": 30}])
    ok, message, elapsed = check(connect(sb))
    assert not ok and message.startswith(f"The token request to the token URL {sb.token_url} failed: HTTP 503")
    assert sb.stats()["token_requests"] == 1 and elapsed < 5


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("/api", "Wrong API URL: {url}/api does not look like the SimpleStore API (HTTP 404"),
        ("/_sandbox", "Wrong API URL: {url}/_sandbox does not look like the SimpleStore API (HTTP 404"),
    ],
)
def test_a_wrong_api_url(sandbox: Any, connect: Callable, suffix: str, expected: str) -> None:
    ok, message, _ = check(connect(sandbox, host=sandbox.url + suffix))
    assert not ok and message.startswith(expected.format(url=sandbox.url)), message
    assert message.endswith("It should be the base URL, e.g. https://api.simplestore.io.")


def test_a_web_site_instead_of_the_api(sandbox: Any, web_page: str, connect: Callable) -> None:
    ok, message, _ = check(connect(sandbox, host=web_page))
    assert not ok and message.startswith(
        f"Wrong API URL: {web_page} does not look like the SimpleStore API "
        "(HTTP 200 with a body that is not JSON (text/html))"
    )


def test_api_and_token_urls_of_different_environments(sandbox: Any, fresh_sandbox: Callable, connect: Callable) -> None:
    other = fresh_sandbox(products=5, customers=1, orders=1)
    ok, message, _ = check(connect(sandbox, host=other.url))
    assert not ok and message.startswith(f"The API URL {other.url} rejected the token from {sandbox.token_url}")


def test_a_wrong_token_url(sandbox: Any, connect: Callable) -> None:
    ok, message, _ = check(connect(sandbox, auth_url=sandbox.url + "/oauth/token"))
    assert not ok
    assert message == (
        f"Wrong token URL: the token URL {sandbox.url}/oauth/token answered 404. Check the Token URL extra."
    )


@pytest.mark.parametrize(
    ("auth_url", "reason"),
    [
        ("https://no-such-host.invalid/connect/token", "its host name does not resolve"),
        ("http://127.0.0.1:{closed}/connect/token", "the connection was refused or failed"),
        ("https://127.0.0.1:{sandbox_port}/connect/token", "the TLS handshake failed"),  # TLS to a plain-HTTP server
    ],
)
def test_network_failures_of_the_token_url(
    sandbox: Any, closed_port: int, connect: Callable, auth_url: str, reason: str
) -> None:
    auth_url = auth_url.format(closed=closed_port, sandbox_port=sandbox.url.rsplit(":", 1)[1])
    ok, message, _ = check(connect(sandbox, auth_url=auth_url))
    assert not ok and message.startswith(f"Cannot reach the token URL {auth_url}: {reason}"), message


def test_a_token_host_that_never_answers_fails_within_10s(sandbox: Any, silent_host: str, connect: Callable) -> None:
    ok, message, elapsed = check(connect(sandbox, auth_url=silent_host + "/connect/token"))
    assert not ok and message == (
        f"Cannot reach the token URL {silent_host}/connect/token: it did not answer in time. "
        "Check the Token URL (extra auth_url) and the network."
    )
    assert elapsed < 10


def test_an_api_host_that_never_answers(sandbox: Any, silent_host: str, connect: Callable) -> None:
    ok, message, elapsed = check(connect(sandbox, host=silent_host, timeout=1))
    assert not ok and message == (
        f"Cannot reach the API URL {silent_host}: it did not answer in time. "
        "Check the API base URL (the connection's host) and the network."
    )
    assert elapsed < 5


def test_the_whole_check_is_bounded_by_its_budget(
    sandbox: Any, silent_host: str, connect: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_check, "BUDGET", 0.5)
    ok, message, elapsed = check(connect(sandbox, auth_url=silent_host + "/connect/token"))
    assert not ok and message.startswith("No answer from SimpleStore within 0.5 s")
    assert elapsed < 2


def test_bad_settings_and_unknown_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SS_BAD",
        json.dumps({"conn_type": "simplestore", "host": "http://shop.example.com", "login": "id", "password": SECRET}),
    )
    ok, message, _ = check("ss_bad")
    assert not ok and "'ss_bad'" in message and "'host'" in message and "in clear" in message
    ok, message, _ = check("ss_missing")
    assert not ok and "ss_missing" in message


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the worker-side test of an unsaved connection is new in 3.3")
def test_airflow_worker_path_with_an_unsaved_connection(sandbox: Any) -> None:
    """3.3's enqueue-test runs `Connection.test_connection()` on a worker: the connection is in
    memory only (a ContextVar), never in the environment or a database."""
    from airflow.providers.common.compat.sdk import Connection

    data = json.loads(sandbox.connection_json())
    conn = Connection(
        conn_id="ss_unsaved_form",
        conn_type="simplestore",
        host=data["host"],
        login=data["login"],
        password=data["password"],
        extra=json.dumps(data["extra"]),
    )
    ok, message = conn.test_connection()
    assert ok, message
    assert message.startswith(f"Connected to SimpleStore at {sandbox.url}")


def test_api_server_path_through_a_connection_uri(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API server's test endpoint puts the form's connection in AIRFLOW_CONN_<ID> as a URI."""
    from airflow.providers.common.compat.sdk import Connection

    data = json.loads(sandbox.connection_json())
    conn = Connection(
        conn_id="ss_uri_form",
        conn_type="simplestore",
        host=data["host"],
        login=data["login"],
        password=data["password"],
        extra=json.dumps(data["extra"]),
    )
    monkeypatch.setenv("AIRFLOW_CONN_SS_URI_FORM", conn.get_uri())
    ok, message, _ = check("ss_uri_form")
    assert ok, message
