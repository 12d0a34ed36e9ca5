"""Redirects are never followed: a redirected API call or token request is an error naming the
new address, and the address redirected to gets nothing (no token, no client secret)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreResponseError
from tests.local_server import LocalServer, Reply, Seen, page_reply, token_reply


@pytest.fixture
def elsewhere() -> Iterator[LocalServer]:
    """Where redirects point: it would answer well, so a client that follows would succeed."""

    def respond(request: Seen) -> Reply:
        return token_reply("elsewhere-token") if request.path.startswith("/connect/token") else page_reply([], 42)

    with LocalServer(respond) as server:
        yield server


@pytest.fixture(params=[301, 302, 303, 307, 308])
def redirector(request: pytest.FixtureRequest, elsewhere: LocalServer) -> Iterator[LocalServer]:
    status = request.param
    with LocalServer(lambda seen: Reply(status, "", {"Location": elsewhere.url + seen.path})) as server:
        yield server


def test_a_redirected_api_call_is_an_error_and_not_followed(
    sandbox: Any,
    connect: Callable[..., str],
    client: Callable[..., Any],
    redirector: LocalServer,
    elsewhere: LocalServer,
) -> None:
    c = client(connect(sandbox, host=redirector.url))  # the token comes from the sandbox
    with pytest.raises(SimpleStoreResponseError, match=r"redirect to http://127\.0\.0\.1:\d+/v1/products") as caught:
        c.call("count", "/v1/products")
    assert caught.value.status in range(300, 400)
    assert [s.split("?")[0] for s in redirector.paths()] == ["GET /v1/products"]  # once: a redirect is final
    assert elsewhere.seen == []


def test_a_redirected_token_request_is_an_error_and_not_followed(
    sandbox: Any,
    connect: Callable[..., str],
    client: Callable[..., Any],
    redirector: LocalServer,
    elsewhere: LocalServer,
) -> None:
    c = client(connect(sandbox, auth_url=redirector.url + "/connect/token", max_retries=0))
    with pytest.raises(SimpleStoreResponseError, match="redirect to") as caught:
        c.call("count", "/v1/products")
    assert caught.value.token_request and sandbox.client_secret not in str(caught.value)
    assert redirector.paths() == ["POST /connect/token"]
    assert elsewhere.seen == []  # a followed 307/308 would have re-sent the client secret there
