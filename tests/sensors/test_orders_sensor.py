"""SimpleStoreOrdersSensor (poke and deferrable) and SimpleStoreOrdersTrigger against the sandbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowSensorTimeout, TaskDeferred

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor
from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger
from airflow_provider_simplestore.utils.timestamps import iso
from tests.operator_support import context, listing, moment

UTC = dt.timezone.utc


def collect(trigger: SimpleStoreOrdersTrigger, timeout: float = 30) -> list[dict[str, Any]]:
    async def events() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(events(), timeout))


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=9, orders=40)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    return sb


def create_orders_after_polls(sb: Any, polls: int, n: int) -> threading.Thread:
    """Create `n` orders once the orders list has been read `polls` times (a waiting client)."""

    def create() -> None:
        deadline = time.monotonic() + 30
        while sb.stats()["requests"].get("GET /v1/orders", 0) < polls and time.monotonic() < deadline:
            time.sleep(0.02)
        sb.create_orders(n)

    thread = threading.Thread(target=create, daemon=True)
    thread.start()
    return thread


def test_trigger_serialises_to_primitives_only() -> None:
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="shop",
        since="2026-01-01T00:00:00Z",
        filters={"status": "Paid"},
        poll_interval=5,
        deadline="2026-01-02T00:00:00Z",
        hook_kwargs={"max_retries": 2, "timeout": 10},
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_simplestore.triggers.orders.SimpleStoreOrdersTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs  # nothing but JSON values
    rebuilt = SimpleStoreOrdersTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    with pytest.raises(TypeError, match="unknown filter 'colour'"):
        SimpleStoreOrdersTrigger(simplestore_conn_id="shop", since="2026-01-01T00:00:00Z", filters={"colour": "red"})


def test_trigger_waits_are_jittered_around_the_poll_interval() -> None:
    trigger = SimpleStoreOrdersTrigger(simplestore_conn_id="s", since="2026-01-01T00:00Z", poll_interval=10, jitter=0.2)
    waits = [trigger._wait() for _ in range(200)]
    assert all(8 <= w <= 12 for w in waits) and len(set(waits)) > 100
    assert min(waits) < 9 and max(waits) > 11  # spread, not lockstep


def test_trigger_polls_until_new_orders_arrive(shop: Any) -> None:
    since = dt.datetime.now(UTC)
    creator = create_orders_after_polls(shop, polls=2, n=2)
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default", since=iso(since), min_count=2, poll_interval=0.1
    )
    events = collect(trigger)
    creator.join(5)

    assert len(events) == 1
    event = events[0]
    assert (event["status"], event["count"], event["since"]) == ("success", 2, iso(since))
    assert shop.stats()["requests"]["GET /v1/orders"] >= 3
    new = [o for o in listing(shop, "/v1/orders") if moment(o["createdOnUtc"]) >= since]
    assert len(new) == 2 and all(moment(o["createdOnUtc"]) < moment(event["checked_at"]) for o in new)


def test_trigger_times_out_with_a_timeout_event(shop: Any) -> None:
    now = dt.datetime.now(UTC)
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default",
        since=iso(now),
        poll_interval=0.1,
        deadline=iso(now + dt.timedelta(seconds=0.5)),
    )
    [event] = collect(trigger)
    assert event["status"] == "timeout" and event["count"] == 0
    assert "0 of 1 orders since" in event["message"]


def test_trigger_reports_persistent_errors_as_one_error_event(shop: Any) -> None:
    shop.set_faults(rules=[{"kind": "503", "probability": 1, "routes": ["/v1/orders"], "retry_after": 0}])
    trigger = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default",
        since=iso(dt.datetime.now(UTC)),
        poll_interval=0.05,
        max_consecutive_errors=3,
    )
    [event] = collect(trigger)
    assert event["status"] == "error" and "3 polls in a row failed" in event["message"]
    assert shop.stats()["faults"]["503"] == 3


def test_trigger_stops_at_once_on_a_permanent_error(fresh_sandbox: Callable[..., Any], monkeypatch: Any) -> None:
    sb = fresh_sandbox(seed=9, orders=1)
    wrong = "not-the-secret-4711"
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json().replace(sb.client_secret, wrong))
    trigger = SimpleStoreOrdersTrigger(simplestore_conn_id="simplestore_default", since=iso(dt.datetime.now(UTC)))
    [event] = collect(trigger)
    assert event["status"] == "error" and wrong not in event["message"]
    assert sb.stats()["token_requests"] >= 1 and not sb.stats()["requests"].get("GET /v1/orders")


def test_trigger_closes_its_client_when_done_or_cancelled(shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The triggerer is long-lived: a trigger run must not leave its HTTP client (and sockets) open."""
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook

    clients: list[Any] = []
    real_get_async_conn = SimpleStoreAsyncHook.get_async_conn

    async def recording(self: SimpleStoreAsyncHook) -> Any:
        client = await real_get_async_conn(self)
        if client not in clients:
            clients.append(client)
        return client

    monkeypatch.setattr(SimpleStoreAsyncHook, "get_async_conn", recording)
    done = SimpleStoreOrdersTrigger(simplestore_conn_id="simplestore_default", since="2000-01-01T00:00:00Z")
    [event] = collect(done)
    assert event["status"] == "success" and len(clients) == 1 and clients[0].is_closed

    waiting = SimpleStoreOrdersTrigger(
        simplestore_conn_id="simplestore_default", since=iso(dt.datetime.now(UTC)), poll_interval=60
    )

    async def cancel_while_waiting() -> None:
        task = asyncio.ensure_future(waiting.run().__anext__())
        deadline = time.monotonic() + 10
        while len(clients) < 2 and time.monotonic() < deadline:  # polled once, now asleep
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())
    assert len(clients) == 2 and clients[1].is_closed


def test_sensor_poke_counts_matching_orders(simplestore_conn: Any) -> None:
    orders = sorted(listing(simplestore_conn, "/v1/orders"), key=lambda o: o["createdOnUtc"])
    since = orders[-5]["createdOnUtc"]
    sensor = SimpleStoreOrdersSensor(task_id="wait", since=since, min_count=5)
    result = sensor.poke(context())
    assert result.is_done and result.xcom_value is not None
    assert result.xcom_value["count"] == 5 and result.xcom_value["since"] == since

    paid = [o for o in orders if o["status"] == "Paid"]
    by_status = SimpleStoreOrdersSensor(task_id="w", status="Paid", min_count=len(paid) + 1)
    start = moment(orders[0]["createdOnUtc"])
    not_yet = by_status.poke(context(start=start))  # since defaults to the data interval start
    assert not not_yet.is_done and not_yet.xcom_value is not None and not_yet.xcom_value["count"] == len(paid)


def test_sensor_in_poke_mode_times_out(simplestore_conn: Any) -> None:
    future = iso(dt.datetime.now(UTC) + dt.timedelta(days=1))
    sensor = SimpleStoreOrdersSensor(task_id="wait", since=future, poke_interval=0.05, timeout=0.2)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute(context())


def test_sensor_in_poke_mode_returns_when_orders_arrive(shop: Any) -> None:
    since = iso(dt.datetime.now(UTC))
    creator = create_orders_after_polls(shop, polls=2, n=1)
    sensor = SimpleStoreOrdersSensor(task_id="wait", since=since, poke_interval=0.05, timeout=20)
    result = sensor.execute(context())
    creator.join(5)
    assert result["count"] == 1 and result["since"] == since


def test_deferrable_sensor_hands_a_serialisable_trigger_over(shop: Any) -> None:
    start = dt.datetime.now(UTC)
    sensor = SimpleStoreOrdersSensor(task_id="wait", deferrable=True, status="Paid", poke_interval=7, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context(start=start))
    trigger = deferred.value.trigger
    assert isinstance(trigger, SimpleStoreOrdersTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["since"] == iso(start) and kwargs["filters"] == {"status": "Paid"}
    assert kwargs["poll_interval"] == 7
    deadline = moment(kwargs["deadline"])
    assert start + dt.timedelta(seconds=59) < deadline < dt.datetime.now(UTC) + dt.timedelta(seconds=61)

    done = sensor.execute_complete(
        context(), {"status": "success", "count": 3, "since": "s", "checked_at": "c", "message": "3 orders"}
    )
    assert done == {"count": 3, "since": "s", "checked_at": "c"}
    with pytest.raises(AirflowSensorTimeout, match="0 of 1"):
        sensor.execute_complete(
            context(), {"status": "timeout", "count": 0, "since": "s", "checked_at": "c", "message": "0 of 1"}
        )
    with pytest.raises(AirflowException, match="Waiting for orders failed: HTTP 401"):
        sensor.execute_complete(
            context(), {"status": "error", "count": None, "since": "s", "checked_at": "c", "message": "HTTP 401"}
        )


def test_deferrable_sensor_does_not_defer_when_orders_are_there(simplestore_conn: Any) -> None:
    since = sorted(o["createdOnUtc"] for o in listing(simplestore_conn, "/v1/orders"))[-2]
    sensor = SimpleStoreOrdersSensor(task_id="wait", since=since, deferrable=True, min_count=2)
    assert sensor.execute(context())["count"] == 2


def test_sensor_arguments_are_checked() -> None:
    with pytest.raises(SimpleStoreConfigError, match="min_count must be at least 1"):
        SimpleStoreOrdersSensor(task_id="wait", min_count=0)
    with pytest.raises(SimpleStoreConfigError, match="since is not set and the run has no data interval start"):
        SimpleStoreOrdersSensor(task_id="wait").poke(context())
    with pytest.raises(SimpleStoreConfigError, match="is not an ISO-8601 date-time"):
        SimpleStoreOrdersSensor(task_id="wait", since="yesterday").poke(context())


@pytest.mark.parametrize("configured", ["True", "False", None])
def test_deferrable_defaults_from_airflows_config(configured: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`[operators] default_deferrable` (here through its environment variable, read by Airflow's
    real config) decides when `deferrable` is not given; an explicit value wins."""
    if configured is None:
        monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", configured)
    expected = configured == "True"
    assert SimpleStoreOrdersSensor(task_id="wait").deferrable is expected
    assert SimpleStoreOrdersSensor(task_id="wait", deferrable=not expected).deferrable is (not expected)
