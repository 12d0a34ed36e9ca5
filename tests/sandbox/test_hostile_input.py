"""The sandbox answers hostile input with 4xx problems, closes connections that
never finish a request, and warns when it listens beyond loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.timestamps import parse_moment
from tests.sandbox.helpers import SMALL, Client, assert_problem

REQUEST_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[Any, Client]]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    with (
        run_sandbox(**SMALL, request_timeout=REQUEST_TIMEOUT, latency_ms=3 * REQUEST_TIMEOUT * 1000) as sb,
        Client(sb) as client,
    ):
        yield sb, client


@pytest.mark.parametrize("nest", [('{"a":', "}"), ("[", "]")])
def test_deeply_nested_json_is_a_400(shop: tuple[Any, Client], nest: tuple[str, str]) -> None:
    sb, client = shop
    depth = 20000
    body = '{"emailAddress":"deep@example.com","attributes":{"x":' + nest[0] * depth + "1" * (nest[0] != "[")
    body += nest[1] * depth + "}}"
    before = sb.stats()["objects"]
    response = client.post("/v1/customers", data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, detail_contains="nested too deeply")
    assert sb.stats()["objects"] == before


@pytest.mark.parametrize(
    "query", ["CreatedToUtc=9999-12-31T23:59:59-14:00", "CreatedFromUtc=0001-01-01T00:00:00%2B14:00"]
)
def test_out_of_range_dates_are_a_400(shop: tuple[Any, Client], query: str) -> None:
    _, client = shop
    assert_problem(client.get("/v1/orders?" + query), 400, detail_contains="out of range")


def test_the_provider_window_refuses_out_of_range_dates_clearly() -> None:
    with pytest.raises(SimpleStoreConfigError, match="created_to: '9999-12-31T23:59:59-14:00' is out of range"):
        parse_moment("9999-12-31T23:59:59-14:00", "created_to")


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (None if it stayed open for `seconds`)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        data = sock.recv(1024)
    except TimeoutError:
        return None
    except ConnectionResetError:
        data = b""
    return time.monotonic() - started if data == b"" else None


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"GET /v1/orders HTTP/1.1\r\nHost: x\r\n",
        b'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a"',
    ],
)
def test_idle_and_half_sent_connections_are_closed(shop: tuple[Any, Client], sent: bytes) -> None:
    sb, _ = shop
    host, port = sb.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        if sent:
            sock.sendall(sent)
        waited = closed_within(sock, 10 * REQUEST_TIMEOUT)
    assert waited is not None and waited < 4 * REQUEST_TIMEOUT


def test_a_slow_answer_to_a_whole_request_is_not_cut(shop: tuple[Any, Client]) -> None:
    _, client = shop  # the answer takes 3 request timeouts (latency): the request itself was complete
    assert client.get("/v1/orders").status_code == 200


def test_listening_beyond_loopback_warns(capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_simplestore.sandbox.__main__ import is_loopback, main

    assert [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::", "192.0.2.1")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    # 192.0.2.1 (TEST-NET) is no address of this machine: the bind fails right after the warning,
    # so nothing is ever exposed by this test.
    with pytest.raises(OSError):
        main(["--host", "192.0.2.1", "--port", "0", "--products", "1", "--customers", "1", "--orders", "0"])
    assert "WARNING: the sandbox listens on 192.0.2.1" in capsys.readouterr().err
