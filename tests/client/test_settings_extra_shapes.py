"""An `extra` that is not a JSON object is a config error, never "all defaults"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.compat import AIRFLOW_RELEASE
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError

BROKEN_EXTRAS = {
    "missing quote": '{"auth_url": "http://127.0.0.1:1/connect/token, "timeout": 5}',
    "a list": '[["auth_url", "http://127.0.0.1:1/connect/token"]]',
    "a string": '"auth_url=http://127.0.0.1:1/connect/token"',
    "a number": "5",
}


@pytest.mark.parametrize("extra", list(BROKEN_EXTRAS.values()), ids=list(BROKEN_EXTRAS))
def test_a_broken_extra_is_refused_before_any_request(
    fresh_sandbox: Callable[..., Any], client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    sb = fresh_sandbox(products=3, customers=1, orders=1)
    conn = json.loads(sb.connection_json())
    conn["extra"] = extra
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_BROKEN", json.dumps(conn))
    c = client("simplestore_broken")
    with pytest.raises(SimpleStoreConfigError) as info:
        c.call("get_configuration")
    message = str(info.value)
    assert "'simplestore_broken'" in message
    if "is not defined" in message:  # Airflow 3.0-3.1 itself drops a connection whose extra it cannot read
        assert (3, 0) <= AIRFLOW_RELEASE[:2] <= (3, 1), message
    else:
        assert "'extra'" in message
    assert sb.client_secret not in message
    assert sb.stats()["token_requests"] == 0


def test_an_empty_extra_still_means_defaults(
    fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    sb = fresh_sandbox(products=3, customers=1, orders=1)
    conn = json.loads(sb.connection_json())
    conn["extra"] = ""
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_EMPTY", json.dumps(conn))
    assert SimpleStoreHook("simplestore_empty").settings.auth_url == "https://auth.simplestore.io/connect/token"
