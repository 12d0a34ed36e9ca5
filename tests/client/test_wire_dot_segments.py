"""Both hooks refuse a path whose segment is `.` or `..` once NFKC-normalised (full-width dots),
before any request; a full-width dot inside a longer segment is an ordinary character."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreNotFoundError, SimpleStorePathError


@pytest.mark.parametrize("segment", ["\uff0e\uff0e", "\u2025", "%EF%BC%8E%EF%BC%8E", "\uff0e"])
def test_a_full_width_dot_segment_is_refused_before_any_request(
    fresh_sandbox: Callable[..., Any], connect: Callable[..., str], client: Callable[..., Any], segment: str
) -> None:
    sb = fresh_sandbox(products=1, customers=1, orders=0)
    c = client(connect(sb))
    with pytest.raises(SimpleStorePathError):
        c.call("request", "GET", f"/v1/products/{segment}/orders")
    assert sum(sb.stats()["requests"].values()) == 0
    with pytest.raises(SimpleStoreNotFoundError):  # not a dot segment: sent, and simply not found
        c.call("request", "GET", f"/v1/products/{segment}x")
