"""Plain http:// is allowed to loopback only: a private network is still a network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError

PRIVATE = [
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.10",
    "[fd00::1]",
    "169.254.169.254",
    "[fe80::1]",
    "100.64.0.1",
]
LOOPBACK = ["127.0.0.1", "127.10.0.1", "[::1]", "localhost"]


@pytest.mark.parametrize("host", PRIVATE)
@pytest.mark.parametrize("field", ["host", "auth_url"])
def test_plain_http_to_a_private_address_is_refused(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], host: str, field: str
) -> None:
    url = f"http://{host}:8080"
    conn_id = connect(sandbox, host=url) if field == "host" else connect(sandbox, auth_url=url + "/connect/token")
    with pytest.raises(SimpleStoreConfigError, match=rf"field '{field}' uses plain http:// to") as caught:
        client(conn_id).settings()
    assert "allow_insecure_http" in str(caught.value)


@pytest.mark.parametrize("host", PRIVATE[:1] + PRIVATE[-3:])
def test_allow_insecure_http_opts_in(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], host: str
) -> None:
    settings = client(connect(sandbox, host=f"http://{host}:8080", allow_insecure_http=True)).settings()
    assert settings.base_url == f"http://{host}:8080"


@pytest.mark.parametrize("host", LOOPBACK)
def test_plain_http_to_loopback_is_allowed(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], host: str
) -> None:
    assert client(connect(sandbox, host=f"http://{host}:8080")).settings().base_url == f"http://{host}:8080"
