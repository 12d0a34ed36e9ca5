"""No secret or token leaks even from a server that echoes them back.

The other leak tests talk to a sandbox that never repeats a secret, so they pass with redaction
removed. Here a small platform on 127.0.0.1 issues a token and then echoes the client secret and
that token (bare and as `Bearer ...`) in error bodies, non-JSON bodies, response headers, redirect
locations and token-server errors. Every error (text, repr, fields), every log record and every
test_connection message must come out scrubbed, and must still show that something was scrubbed
(`***`), so the test cannot pass by dropping the echo.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from tests.local_server import LocalServer, Reply, Seen, token_reply

SECRET = "echo-S3cret-value-9f2c71"
TOKEN = "tok-7d1e5c0a9b4f3e2d"
# Each API route answers with the secret and the token echoed somewhere different.
API_ROUTES = {
    "/v1/problem-400": lambda auth: Reply(
        400, {"title": f"token {TOKEN} refused", "detail": f"Authorization was {auth}; secret {SECRET}"}
    ),
    "/v1/text-500": lambda auth: Reply(500, f"{TOKEN} upstream echo: {auth} / {SECRET}"),
    "/v1/html-200": lambda auth: Reply(200, f"<html>{TOKEN} {SECRET} {auth}</html>", {"Content-Type": "text/html"}),
    "/v1/redirect": lambda auth: Reply(302, "", {"Location": f"http://127.0.0.1:9/login?t={TOKEN}&s={SECRET}"}),
    "/v1/headers-503": lambda auth: Reply(503, "", {"X-Request-Id": f"{TOKEN}-{SECRET}", "Retry-After": "0"}),
    "/v1/content-type-200": lambda auth: Reply(200, "not json", {"Content-Type": f"text/plain; t={TOKEN}; s={SECRET}"}),
}
# Token routes (the auth_url of the connection): each fails while echoing what it was sent.
TOKEN_ROUTES = {
    "/connect/token-400": lambda form: Reply(
        400, {"error": "invalid_client", "error_description": f"{SECRET} does not match"}
    ),
    "/connect/token-500": lambda form: Reply(500, f"could not handle {form}"),
    "/connect/token-401-text": lambda form: Reply(401, f"{SECRET}: {form}"),
}


@pytest.fixture
def echo() -> Iterator[LocalServer]:
    def respond(request: Seen) -> Reply:
        path = request.path.split("?")[0]
        if path == "/connect/token":
            return token_reply(TOKEN)
        if path in TOKEN_ROUTES:
            return TOKEN_ROUTES[path](request.body.decode())
        auth = request.headers.get("Authorization", "")
        return API_ROUTES[path](auth) if path in API_ROUTES else Reply(404, {"title": "Not Found"})

    with LocalServer(respond) as server:
        yield server


@pytest.fixture
def echo_conn(echo: LocalServer, sandbox: Any, connect: Callable[..., str]) -> Callable[..., str]:
    def make(auth_path: str = "/connect/token", **extras: Any) -> str:
        return connect(sandbox, host=echo.url, password=SECRET, auth_url=echo.url + auth_path, **extras)

    return make


def capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Everything at INFO, the provider's own loggers at DEBUG. (httpcore's DEBUG trace prints raw
    response headers, an echoed Location included: a library's debug output we do not control.)"""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="airflow_provider_simplestore")


def leaked(*texts: str) -> list[str]:
    return [text for text in texts if SECRET in text or TOKEN in text]


def error_texts(error: BaseException) -> list[str]:
    fields = {k: v for k, v in vars(error).items() if isinstance(v, str)}
    return [str(error), repr(error), json.dumps(fields), *map(str, error.args)]


def assert_scrubbed(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = error_texts(error)
    assert not leaked(*texts, caplog.text), leaked(*texts, caplog.text)
    assert "***" in "".join(texts), f"nothing was scrubbed, the echo was dropped: {texts[0]}"


@pytest.mark.parametrize("route", sorted(API_ROUTES))
def test_api_errors_echoing_secrets_are_scrubbed(
    echo_conn: Callable[..., str], client: Callable[..., Any], caplog: pytest.LogCaptureFixture, route: str
) -> None:
    capture_logs(caplog)
    c = client(echo_conn(max_retries=1))
    with pytest.raises(SimpleStoreError) as caught:
        c.call("request", "GET", route)
    assert_scrubbed(caught.value, caplog)


@pytest.mark.parametrize("route", sorted(TOKEN_ROUTES))
def test_token_errors_echoing_the_secret_are_scrubbed(
    echo_conn: Callable[..., str], client: Callable[..., Any], caplog: pytest.LogCaptureFixture, route: str
) -> None:
    capture_logs(caplog)
    c = client(echo_conn(route, max_retries=1))
    with pytest.raises(SimpleStoreError) as caught:
        c.call("request", "GET", "/v1/products")
    assert_scrubbed(caught.value, caplog)


def test_test_connection_scrubs_an_echoing_token_server(
    echo_conn: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 is the token answer whose text test_connection shows (a 400/401 gets a fixed message)."""
    capture_logs(caplog)
    ok, message = SimpleStoreHook(echo_conn("/connect/token-500")).test_connection()
    assert not ok and not leaked(message, caplog.text), message
    assert "***" in message


def test_test_connection_scrubs_an_echoing_api(
    echo: LocalServer, echo_conn: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    """The probe reads products; here that route echoes like /v1/problem-400."""
    capture_logs(caplog)
    API_ROUTES["/v1/products"] = API_ROUTES["/v1/problem-400"]
    try:
        ok, message = SimpleStoreHook(echo_conn()).test_connection()
    finally:
        del API_ROUTES["/v1/products"]
    assert not ok and not leaked(message, caplog.text), message
    assert "***" in message
