"""SimpleStoreOrdersTrigger: waits, without blocking the triggerer, for orders created since a time.

Polls ``GET /v1/orders`` (a one-record page: its ``totalRecordsFound`` is the count) through
``SimpleStoreAsyncHook``, whose retries honour ``Retry-After``. Waits between polls are
jittered so many deferred sensors do not poll in lockstep. Ends with exactly one event whose
payload is an ``OrdersEvent``: ``success`` (enough orders), ``timeout`` (the deadline passed)
or ``error`` (a permanent error, or transient ones ``max_consecutive_errors`` times in a row).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.exceptions import (
    SimpleStoreError,
    SimpleStoreRateLimitError,
    SimpleStoreServerError,
    SimpleStoreTransportError,
)
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment, utcnow

if TYPE_CHECKING:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook

TRANSIENT_ERRORS = (SimpleStoreServerError, SimpleStoreRateLimitError, SimpleStoreTransportError)


class OrdersEvent(TypedDict):
    """The one payload the trigger sends and the sensor reads (and returns on success)."""

    status: Literal["success", "timeout", "error"]
    count: int | None
    since: str
    checked_at: str
    message: str


def orders_query(
    filters: Mapping[str, Any] | None, since: str, where: str = "SimpleStoreOrdersTrigger"
) -> dict[str, Any]:
    """Query parameters for orders matching ``filters`` (python names) created at or after ``since``;
    names and values checked (`Resource.query`), `where` names the caller in an error."""
    orders = RESOURCES["orders"]
    return {
        **orders.query(filters or {}, where=where, set_by={"created_from": "the since argument"}),
        **orders.query({"created_from": since}, where=where),
    }


class SimpleStoreOrdersTrigger(BaseTrigger):
    """Fire when at least ``min_count`` orders matching ``filters`` were created since ``since``.

    Every argument is a primitive, so the trigger serialises as is.

    :param since: ISO-8601 date-time with a time zone; orders with ``createdOnUtc >= since`` count.
    :param filters: orders list filters by python name: ``status``, ``customer_id``, ``order_ids``,
        ``created_to`` (``created_from`` is ``since``); a misspelt name fails here, not in the triggerer.
    :param min_count: orders needed to succeed.
    :param poll_interval: seconds between polls (before jitter).
    :param deadline: ISO-8601 date-time after which the trigger sends ``timeout`` (None: never).
    :param jitter: each wait is ``poll_interval`` times a random factor in ``[1 - jitter, 1 + jitter]``.
    :param max_consecutive_errors: transient failures (after the hook's own retries) tolerated in a row.
    :param hook_kwargs: ``SimpleStoreAsyncHook`` settings (timeout, max_retries, retry_deadline).
    """

    def __init__(
        self,
        *,
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        since: str,
        filters: dict[str, Any] | None = None,
        min_count: int = 1,
        poll_interval: float = 60.0,
        deadline: str | None = None,
        jitter: float = 0.1,
        max_consecutive_errors: int = 3,
        hook_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        parse_moment(since, "since")
        if deadline is not None:
            parse_moment(deadline, "deadline")
        orders_query(filters, since)  # unknown filter names fail here, not in the triggerer
        self.simplestore_conn_id = simplestore_conn_id
        self.since = since
        self.filters = dict(filters or {})
        self.min_count = min_count
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.jitter = float(jitter)
        self.max_consecutive_errors = max_consecutive_errors
        self.hook_kwargs = dict(hook_kwargs or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "simplestore_conn_id": self.simplestore_conn_id,
                "since": self.since,
                "filters": self.filters,
                "min_count": self.min_count,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "jitter": self.jitter,
                "max_consecutive_errors": self.max_consecutive_errors,
                "hook_kwargs": self.hook_kwargs,
            },
        )

    def _event(self, status: Literal["success", "timeout", "error"], count: int | None, message: str) -> TriggerEvent:
        payload: OrdersEvent = {
            "status": status,
            "count": count,
            "since": self.since,
            "checked_at": iso(utcnow()),
            "message": message,
        }
        return TriggerEvent(dict(payload))

    def _wait(self) -> float:
        spread = max(0.0, min(self.jitter, 1.0))
        return self.poll_interval * random.uniform(1 - spread, 1 + spread)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook

        # `async with`: the triggerer lives on, so the hook's client and its sockets must not outlive
        # this run, also when it is cancelled.
        async with SimpleStoreAsyncHook(simplestore_conn_id=self.simplestore_conn_id, **self.hook_kwargs) as hook:
            yield await self._poll(hook)

    async def _poll(self, hook: SimpleStoreAsyncHook) -> TriggerEvent:
        """Poll until an outcome; the one event of this run."""
        params = orders_query(self.filters, self.since)
        deadline = parse_moment(self.deadline, "deadline") if self.deadline else None
        errors = 0
        count: int | None = None
        while True:
            try:
                count = await hook.count(RESOURCES["orders"].list_path, params=params)
                errors = 0
            except TRANSIENT_ERRORS as exc:
                errors += 1
                self.log.warning("Polling orders failed (%d in a row): %s", errors, exc)
                if errors >= self.max_consecutive_errors:
                    return self._event("error", count, f"{errors} polls in a row failed; last error: {exc}")
            except SimpleStoreError as exc:
                return self._event("error", count, str(exc))
            if count is not None and count >= self.min_count:
                return self._event("success", count, f"{count} orders created since {self.since}")
            wait = self._wait()
            if deadline is not None:
                left = (deadline - utcnow()).total_seconds()
                if left <= 0:
                    message = f"{count or 0} of {self.min_count} orders since {self.since} by {self.deadline}"
                    return self._event("timeout", count, message)
                wait = min(wait, left)
            self.log.info("%s orders since %s (need %d); next poll in %.1fs", count, self.since, self.min_count, wait)
            await asyncio.sleep(wait)
