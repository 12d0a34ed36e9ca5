"""`max_requests_per_second` is bounded: 0.1 to 10000 requests per second.

Each paced request waits 1/rate seconds before it is sent, outside the retry deadline: a cap of
0.001 or 1e-9 made the second request wait 17 minutes or 30 years, and the task hung until its
execution_timeout. Out-of-range values are a config error naming the connection and the field,
before any request; the connection form declares the same bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.get_provider_info import get_provider_info
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


@pytest.mark.parametrize("value", ["0.001", 1e-9, 0.099, "1e-300", 10_000.5, "1e9", "inf", "nan"])
def test_a_rate_cap_out_of_bounds_is_a_config_error(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], value: Any
) -> None:
    c = client(connect(sandbox, "simplestore_slow", max_requests_per_second=value))
    with pytest.raises(SimpleStoreConfigError) as caught:
        c.call("get_configuration")
    message = str(caught.value)
    assert "'simplestore_slow'" in message and "'max_requests_per_second'" in message, message
    assert "between 0.1 and 10000" in message, message


@pytest.mark.parametrize("value", ["0.1", 0.1, 1, "2.5", 10_000])
def test_a_rate_cap_within_bounds_is_kept(sandbox: Any, connect: Callable[..., str], value: Any) -> None:
    settings = SimpleStoreHook(connect(sandbox, max_requests_per_second=value)).settings
    assert settings.max_requests_per_second == float(value)


def test_the_connection_form_declares_the_bounds() -> None:
    (connection,) = get_provider_info()["connection-types"]
    schema = connection["conn-fields"]["max_requests_per_second"]["schema"]
    assert (schema.get("minimum"), schema.get("maximum"), schema.get("exclusiveMinimum")) == (0.1, 10_000, None)
