"""What the hooks take from the environment, as requests and httpx do: proxies (HTTP_PROXY,
NO_PROXY) for every call, the token request too. The sync hook reads it once per host, not on every
call; a ~/.netrc entry for the API host never replaces the bearer token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from tests.local_server import LocalServer, Reply, Seen, page_reply, token_reply

API = "http://localhost:9"  # nothing listens there: only a proxy can answer for it


def answer(request: Seen) -> Reply:
    return token_reply("env-token") if "/connect/token" in request.path else page_reply([], 42)


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    """A forward proxy for plain http://: it gets each request with its absolute URL and answers it."""
    with LocalServer(answer) as server:
        yield server


@pytest.fixture
def client_of(sandbox: Any, connect: Callable[..., str], client: Callable[..., Any]) -> Callable[[str], Any]:
    """client_of(url): a sync or async client whose API and token URL are both at `url`."""
    return lambda url: client(connect(sandbox, host=url, auth_url=url + "/connect/token"))


@pytest.fixture
def quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("quiet_environment")
def test_every_call_goes_through_the_proxy_the_environment_names(
    client_of: Callable[[str], Any], proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    c = client_of(API)
    assert c.call("count", "/v1/products") == 42
    assert c.call("count", "/v1/orders") == 42
    assert [p.split("?")[0] for p in proxy.paths()] == [
        f"POST {API}/connect/token",
        f"GET {API}/v1/products",
        f"GET {API}/v1/orders",
    ]


@pytest.mark.usefixtures("quiet_environment")
def test_no_proxy_sends_the_host_direct(
    client_of: Callable[[str], Any], proxy: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with LocalServer(answer) as api:
        c = client_of(api.url)
        assert c.call("count", "/v1/products") == 42
        assert [p.split("?")[0] for p in api.paths()] == ["POST /connect/token", "GET /v1/products"]
    assert proxy.seen == []


@pytest.mark.usefixtures("quiet_environment")
def test_a_netrc_entry_for_the_host_does_not_replace_the_bearer_token(
    client_of: Callable[[str], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with LocalServer(answer) as api:
        c = client_of(api.url)
        assert c.call("count", "/v1/products") == 42
        call = next(s for s in api.seen if s.method == "GET")
    assert call.headers["Authorization"] == "Bearer env-token"


@pytest.mark.usefixtures("quiet_environment")
def test_the_ca_bundle_variables_apply_where_the_default_bundle_would_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    hook = SimpleStoreHook()
    assert hook._environment("https://api.example.com/v1/orders", True) == ({}, str(bundle))
    assert hook._environment("https://api.example.com/v1/orders", False) == ({}, False)
    assert hook._environment("https://api.example.com/v1/orders", "/etc/own.pem") == ({}, "/etc/own.pem")
