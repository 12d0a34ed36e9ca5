"""SimpleStoreOrdersTrigger over many polls: orders that trickle in, errors that come and go."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger
from airflow_provider_simplestore.utils.timestamps import iso
from tests.sensors.test_orders_sensor import collect

UTC = dt.timezone.utc
POLLS = "GET /v1/orders"


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=9, orders=10)
    # max_retries=0: each poll is one request, so each fault the sandbox draws is one failed poll.
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    return sb


def one_order_per_poll(sb: Any, n: int) -> threading.Thread:
    """After the k-th poll (k = 1..n) one new order arrives: the count climbs 0, 1, 2, ... n."""

    def trickle() -> None:
        deadline = time.monotonic() + 30
        for k in range(1, n + 1):
            while sb.stats()["requests"].get(POLLS, 0) < k and time.monotonic() < deadline:
                time.sleep(0.005)
            sb.create_orders(1)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    return thread


def test_trigger_waits_for_min_count_when_orders_arrive_one_at_a_time(shop: Any) -> None:
    since = iso(dt.datetime.now(UTC))
    creator = one_order_per_poll(shop, 3)
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default", since=since, min_count=3, poll_interval=0.05, jitter=0
    )
    [event] = collect(trigger)
    creator.join(10)
    assert (event["status"], event["count"]) == ("success", 3), event
    assert shop.stats()["requests"][POLLS] >= 4  # it saw the count at 0, 1 and 2 first, and went on


# Seed 44 at probability 0.25 draws fault, fault, ok, fault, ... and never three in a row in its
# first 400 draws (the sandbox's draws are deterministic per seed). The test checks the faults it
# relies on really happened, so a change of the draws cannot make it pass vacuously.
INTERMITTENT = {"kind": "503", "probability": 0.25, "routes": ["/v1/orders"], "retry_after": 0}


def test_errors_that_are_not_consecutive_do_not_end_the_wait(shop: Any) -> None:
    shop.set_faults(rules=[INTERMITTENT], seed=44)

    def order_after_three_faults() -> None:  # however slowly a busy machine polls
        deadline = time.monotonic() + 60
        while shop.stats()["faults"]["503"] < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        shop.create_orders(1)

    now = dt.datetime.now(UTC)
    creator = threading.Thread(target=order_after_three_faults, daemon=True)
    creator.start()
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default",
        since=iso(now),
        poll_interval=0.02,
        jitter=0,
        deadline=iso(now + dt.timedelta(seconds=120)),
        max_consecutive_errors=3,
    )
    [event] = collect(trigger, timeout=150)
    creator.join(10)
    stats = shop.stats()
    assert stats["faults"]["503"] >= 3, f"only {stats['faults']} faults: no non-consecutive errors exercised"
    # A 401 and its replay would take one more draw than planned (the fixture's sandbox is fresh and
    # the token cache empty, so the only token is one this sandbox issued).
    assert not any(stats["unauthorized"].values()), stats["unauthorized"]
    assert event["status"] == "success", event  # not "error": no three polls in a row failed


def test_the_wait_between_polls_ends_at_the_deadline(shop: Any) -> None:
    # An hour between polls, the deadline a second away: the timeout event comes at the deadline, not
    # after the poll interval (collect gives up after 30 s, far less than the interval).
    now = dt.datetime.now(UTC)
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default",
        since=iso(now),
        poll_interval=3600,
        jitter=0,
        deadline=iso(now + dt.timedelta(seconds=1)),
    )
    [event] = collect(trigger, timeout=30)
    assert event["status"] == "timeout" and event["count"] == 0, event
    assert dt.datetime.fromisoformat(event["checked_at"].replace("Z", "+00:00")) >= now + dt.timedelta(seconds=1)
