"""Plain http:// without allow_insecure_http: `localhost` and loopback addresses only.

A name under `.localhost` used to count as loopback whatever it resolved to; the resolver (a
hosts file, DNS search domains) may send it to any host, with the client secret in clear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError


@pytest.mark.parametrize("host", ["api.localhost", "evil.localhost", "a.b.LOCALHOST", "x.localhost."])
@pytest.mark.parametrize("field", ["host", "auth_url"])
def test_a_name_under_localhost_needs_https_or_the_opt_in(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], host: str, field: str
) -> None:
    url = f"http://{host}:8080"
    conn_id = connect(sandbox, host=url) if field == "host" else connect(sandbox, auth_url=url + "/connect/token")
    with pytest.raises(SimpleStoreConfigError, match=rf"field '{field}' uses plain http:// to") as caught:
        client(conn_id).settings()
    assert "a name under .localhost may resolve to any host" in str(caught.value)
    settings = client(connect(sandbox, "simplestore_opted_in", host=url, allow_insecure_http=True)).settings()
    assert settings.base_url == url


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "127.0.0.2", "[::1]", "[::ffff:127.0.0.1]"])
def test_localhost_itself_and_loopback_addresses_need_no_opt_in(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], host: str
) -> None:
    assert client(connect(sandbox, host=f"http://{host}:8080")).settings().base_url == f"http://{host}:8080"
