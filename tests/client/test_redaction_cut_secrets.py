"""A secret or token straddling the excerpt's cut must not leak in part.

Bodies are redacted before they are cut; no 4-character run of a secret survives in an error's
message, title, detail or excerpt, nor in test_connection()'s message. Real HTTP: a tiny server
on 127.0.0.1 answers with the hostile bodies.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.client import failures, redaction
from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.exceptions import SimpleStoreError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

SECRET = "Zq7Xk9Wv3Rt2Yp8Ln4Mb6Hc1"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.Qw5Er7Ty9Ui2Op4As6Df8Gh0Jk.Lz3Xc5Vb7Nm9"


def fragments(secret: str) -> set[str]:
    return {secret[i : i + 4] for i in range(len(secret) - 3)}


def leaked(text: str, *secrets: str) -> set[str]:
    return {part for secret in secrets for part in fragments(secret) if part in text}


def straddling(secret: str, cut: int, *, field: str | None = None) -> bytes:
    """A body of blanks (which collapse to nothing in an excerpt) with `secret` across byte `cut`."""
    lead = f'"{field}": "' if field else ""
    pad = cut - len(lead) - len(secret) // 2
    return (" " * pad + lead + secret + ('"' if field else "") + " tail").encode()


@pytest.mark.parametrize("cut", [1200, 1201, 1210, redaction.REDACT_WINDOW_CHARS, redaction.REDACT_WINDOW_CHARS * 4])
@pytest.mark.parametrize("field", [None, "access_token", "client_secret"])
def test_a_secret_across_the_cut_leaves_no_fragment(cut: int, field: str | None) -> None:
    for secret in (SECRET, TOKEN):
        body = straddling(secret, cut, field=field)
        secrets = (secret,) if field is None else ()  # field values are found by name, not by value
        error = error_from_response("GET", "/v1/orders", 502, {}, body, secrets=secrets)
        text = " ".join(str(v) for v in (error, error.title, error.detail, error.body_excerpt))
        assert not leaked(text, secret), (cut, field, text)


def test_a_long_detail_is_redacted_whole_then_shortened() -> None:
    detail = "x" * (failures.PROBLEM_FIELD_CHARS - 5) + " " + SECRET
    error = error_from_response("POST", "/v1/products", 400, {}, json.dumps({"detail": detail}), secrets=[SECRET])
    assert not leaked(f"{error} {error.detail}", SECRET)
    assert error.detail is not None and len(error.detail) <= failures.PROBLEM_FIELD_CHARS + 3


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Token server and API in one: its answers echo the secret or the token across the cut."""

    token_status = 400

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.token_status == 200:
            self._answer(200, json.dumps({"access_token": TOKEN, "expires_in": 3600}).encode())
        else:
            self._answer(self.token_status, straddling(SECRET, 1200))

    def do_GET(self) -> None:
        self._answer(500, straddling(TOKEN, 1200))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], str]]:
    """hostile(token_status) -> conn_id of a connection to a server echoing secrets in its errors."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(token_status: int) -> str:
        handler = type("Handler", (_Hostile,), {"token_status": token_status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        conn = {
            "conn_type": "simplestore",
            "host": url,
            "login": "client",
            "password": SECRET,
            "extra": {"auth_url": url + "/connect/token", "max_retries": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_HOSTILE", json.dumps(conn))
        return "simplestore_hostile"

    yield start
    for server in servers:
        server.shutdown()
        with contextlib.suppress(OSError):
            server.server_close()


def test_test_connection_message_has_no_fragment_of_the_secret(hostile: Callable[[int], str]) -> None:
    ok, message = SimpleStoreHook(hostile(500)).test_connection()
    assert not ok and not leaked(message, SECRET), message


def test_an_api_error_has_no_fragment_of_the_token(hostile: Callable[[int], str]) -> None:
    with SimpleStoreHook(hostile(200)) as hook, pytest.raises(SimpleStoreError) as info:
        hook.request("GET", "/v1/orders")
    e = info.value
    text = " ".join(str(v) for v in (e, repr(e), e.body_excerpt, e.detail, e.title))
    assert e.status == 500 and not leaked(text, TOKEN, SECRET), text
