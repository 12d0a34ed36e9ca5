"""The retry deadline counts the wait about to be slept: no call sleeps past `retry_deadline`.

The clock is injected and only the retry sleep moves it, so a stop rule that looks at the time
spent so far but not at the coming wait lets the last sleep overshoot, and these tests see it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.client.retry import RetrySettings, build_async_retrying, build_retrying
from airflow_provider_simplestore.exceptions import SimpleStoreServerError
from airflow_provider_simplestore.hooks import simplestore as hook_module


class Clock:
    """Monotonic time that passes only when a retry sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


SETTINGS = RetrySettings(max_retries=100, deadline=10, max_wait=30)


def always_503(attempts: list[float], clock: Clock) -> Callable[[], Any]:
    def call() -> Any:
        attempts.append(clock.now)
        raise error_from_response("GET", "/v1/orders", 503, {}, b"", retry_after=4)

    return call


def test_sync_retrying_never_sleeps_past_the_deadline() -> None:
    clock, attempts = Clock(), list[float]()
    retrying = build_retrying(SETTINGS, method="GET", path="/v1/orders", sleep=clock.sleep, clock=clock)
    with pytest.raises(SimpleStoreServerError):
        retrying(always_503(attempts, clock))
    # attempts at 0, 4, 8; a third wait of 4 s would end at 12 > 10: stop instead of sleeping
    assert (attempts, clock.sleeps) == ([0, 4, 8], [4, 4])


def test_async_retrying_never_sleeps_past_the_deadline() -> None:
    clock, attempts = Clock(), list[float]()
    retrying = build_async_retrying(SETTINGS, method="GET", path="/v1/orders", sleep=clock.asleep, clock=clock)
    failing = always_503(attempts, clock)

    async def call() -> Any:
        return failing()

    with pytest.raises(SimpleStoreServerError):
        asyncio.run(retrying(call))
    assert (attempts, clock.sleeps) == ([0, 4, 8], [4, 4])


def test_hooks_stop_before_a_wait_that_would_pass_the_deadline(
    fresh_sandbox: Callable[..., Any],
    connect: Callable[..., str],
    client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both hooks against a sandbox that answers 503 Retry-After: 4 to every orders read."""
    sb = fresh_sandbox(products=5, customers=2, orders=3)
    sb.set_faults(rules=[{"kind": "503", "probability": 1, "routes": ["/v1/orders"], "retry_after": 4}])
    clock = Clock()
    # Only the clock is replaced; the retry policy, the hook and the HTTP are the real ones.
    monkeypatch.setattr(hook_module, "build_retrying", functools.partial(build_retrying, clock=clock))
    monkeypatch.setattr(hook_module, "build_async_retrying", functools.partial(build_async_retrying, clock=clock))
    c = client(connect(sb, max_retries=100, retry_deadline=10, max_retry_wait=30), on_sleep=clock.sleep)

    with pytest.raises(SimpleStoreServerError):
        c.call("count", "/v1/orders")
    assert clock.now <= 10 and c.sleeps == [4, 4]
    assert sb.stats()["faults"]["503"] == 3
