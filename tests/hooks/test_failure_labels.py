"""Each failure is named for what it is, on both hooks: a stalled or trickled body is a read timeout
within its deadline, `unauthorized_client` is not called wrong credentials, a token that is not Bearer
is refused, a bad `verify` or a `ca_bundle` that is not PEM is a config error naming the field.

The misbehaving servers are real sockets on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConfigError,
    SimpleStoreResponseError,
    SimpleStoreTransportError,
)
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

TIMEOUT = 0.5  # the connection's read and connect timeouts in these tests
Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


def token(handler: http.server.BaseHTTPRequestHandler, body: dict[str, Any], status: int = 200) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def good_token(handler: http.server.BaseHTTPRequestHandler) -> None:
    token(handler, {"access_token": "labels-token", "expires_in": 3600, "token_type": "Bearer"})


def stall_mid_body(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    handler.wfile.write(b'{"result": [')
    handler.wfile.flush()
    time.sleep(TIMEOUT * 6)  # silent well past the read timeout, then gone


def trickle(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    for _ in range(80):  # a byte every 0.1 s: each read is well within the read timeout
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.1)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """server(get=..., post=..., **extras) -> conn_id of a connection to a scripted server."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(*, get: Behaviour | None = None, post: Behaviour = good_token, **extras: Any) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with contextlib.suppress(OSError):
                    (get or good_token)(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with contextlib.suppress(OSError):
                    post(self)

            def log_message(self, *args: Any) -> None:
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        conn = {
            "conn_type": "simplestore",
            "host": url,
            "login": "client",
            "password": "labels-secret",
            "extra": {
                "auth_url": url + "/connect/token",
                "max_retries": 0,
                "timeout": TIMEOUT,
                "connect_timeout": TIMEOUT,
                **extras,
            },
        }
        monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_LABELS", json.dumps(conn))
        return "simplestore_labels"

    yield start
    for srv in servers:
        srv.shutdown()
        with contextlib.suppress(OSError):
            srv.server_close()


def test_a_stall_mid_body_is_a_read_timeout_on_both_hooks(server: Callable[..., str], client: Callable) -> None:
    c = client(server(get=stall_mid_body))
    with pytest.raises(SimpleStoreTransportError) as info:
        c.call("request", "GET", "/v1/products")
    assert info.value.reason == "read_timeout" and info.value.request_sent


def test_a_trickled_body_cannot_outlive_its_deadline(server: Callable[..., str], client: Callable) -> None:
    c = client(server(get=trickle))
    started = time.monotonic()
    with pytest.raises(SimpleStoreTransportError) as info:
        c.call("request", "GET", "/v1/products")
    elapsed = time.monotonic() - started
    assert info.value.reason == "read_timeout"
    assert elapsed < 4 * TIMEOUT + 1, f"held {elapsed:.1f} s with a {TIMEOUT} s timeout"


def test_unauthorized_client_is_not_called_wrong_credentials(server: Callable[..., str], client: Callable) -> None:
    conn_id = server(post=lambda h: token(h, {"error": "unauthorized_client"}, status=400))
    with pytest.raises(SimpleStoreAuthError) as info:
        client(conn_id).call("request", "GET", "/v1/products")
    message = str(info.value)
    assert "client_credentials grant" in message and "secret was rejected" not in message
    ok, text = SimpleStoreHook(conn_id).test_connection()
    assert not ok and "client_credentials grant" in text and "secret is wrong" not in text


def test_a_token_that_is_not_bearer_is_refused(server: Callable[..., str], client: Callable) -> None:
    conn_id = server(post=lambda h: token(h, {"access_token": "mac-token", "token_type": "mac"}))
    with pytest.raises(SimpleStoreResponseError, match="type 'mac'; only Bearer"):
        client(conn_id).call("request", "GET", "/v1/products")


def test_a_bad_verify_names_verify(server: Callable[..., str], client: Callable) -> None:
    with pytest.raises(SimpleStoreConfigError, match=r"field 'verify' must be true, false or the path"):
        client(server(verify="maybe")).settings()


def test_a_ca_bundle_that_is_not_pem_is_a_config_error_on_both_hooks(
    server: Callable[..., str], client: Callable, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("this is not a certificate\n")
    with pytest.raises(SimpleStoreConfigError, match=r"field 'ca_bundle'.*no usable PEM"):
        client(server(ca_bundle=str(bundle))).call("request", "GET", "/v1/products")
