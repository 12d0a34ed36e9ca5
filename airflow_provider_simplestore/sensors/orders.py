"""SimpleStoreOrdersSensor: wait for new orders, in poke, reschedule or deferrable mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.compat import (
    AirflowException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.arguments import at_least
from airflow_provider_simplestore.utils.run_interval import run_interval
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook, task_label
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment, utcnow

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
    from airflow_provider_simplestore.triggers.orders import OrdersEvent


class SimpleStoreOrdersSensor(BaseSensorOperator):
    """Wait until at least ``min_count`` orders matching the filters were created since ``since``.

    Works in the three sensor modes: ``poke`` (the worker sleeps between checks), ``reschedule``
    (the slot is freed between checks) and deferrable (``deferrable=True``: one check on the
    worker, then ``SimpleStoreOrdersTrigger`` waits in the triggerer without holding a slot).
    ``poke_interval`` and ``timeout`` mean the same in all three; on timeout the task fails (or is
    skipped with ``soft_fail``).

    Returns (to XCom) ``{"count", "since", "checked_at"}``: orders with ``createdOnUtc`` in
    ``[since, checked_at)`` include the ones counted, so a downstream export can take exactly
    that window.

    :param since: orders created at or after this moment count (templated; ISO-8601 with a zone,
        or a datetime). Default: the run's ``data_interval_start``; for a manual run without a
        logical date (Airflow 3), the moment it was triggered (its ``run_after``), or the start of the
        interval its schedule gives a run then.
    :param status: only orders with this status (templated).
    :param customer_id: only this customer's orders (templated).
    :param min_count: how many orders to wait for.
    :param deferrable: wait in the triggerer. Default: Airflow's ``[operators] default_deferrable``
        (false unless configured).
    :param jitter: deferrable mode: random spread of each wait, as a share of ``poke_interval``.
    :param simplestore_conn_id: the SimpleStore connection (templated).
    """

    template_fields: Sequence[str] = ("simplestore_conn_id", "since", "status", "customer_id")
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        since: Any = None,
        status: str | None = None,
        customer_id: str | None = None,
        min_count: int = 1,
        deferrable: bool | None = None,
        jitter: float = 0.1,
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.simplestore_conn_id = simplestore_conn_id
        self.since, self.status, self.customer_id = since, status, customer_id  # which orders count
        # The same filter check as every operator's: values known now are checked now, templates once rendered.
        RESOURCES["orders"].query(self._filters(), where=task_label(self), templated=True)
        self.min_count = at_least("min_count", min_count, 1)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.jitter = jitter

    @cached_property
    def hook(self) -> SimpleStoreHook:
        return new_hook(self.simplestore_conn_id)

    def _filters(self) -> dict[str, Any]:
        return {name: value for name in ("status", "customer_id") if (value := getattr(self, name)) not in (None, "")}

    def _since(self, context: Context) -> str:
        """``since``, else the start of the run's interval (for a manual run without a logical date,
        the interval its schedule gives a run at the moment it was triggered: that moment itself for
        a DAG with no schedule)."""
        if self.since not in (None, ""):
            return iso(parse_moment(self.since, "since"))
        interval = run_interval(context)
        if interval is None or interval.start is None:
            raise SimpleStoreConfigError(
                "since is not set and the run has no data interval start, nor a trigger time; pass since="
            )
        return iso(parse_moment(interval.start, "since"))

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_simplestore.triggers.orders import orders_query

        since = self._since(context)
        params = orders_query(self._filters(), since, where=task_label(self))
        count = self.hook.count(RESOURCES["orders"].list_path, params=params)
        checked_at = iso(utcnow())
        self.log.info("%d orders created since %s (waiting for %d)", count, since, self.min_count)
        return PokeReturnValue(
            is_done=count >= self.min_count,
            xcom_value={"count": count, "since": since, "checked_at": checked_at},
        )

    @closes_hook
    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger

        deadline = utcnow() + dt.timedelta(seconds=self.timeout)
        self.defer(
            trigger=SimpleStoreOrdersTrigger(
                simplestore_conn_id=self.simplestore_conn_id,
                since=self._since(context),
                filters=self._filters(),
                min_count=self.min_count,
                poll_interval=self.poke_interval,
                deadline=iso(deadline),
                jitter=self.jitter,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: OrdersEvent) -> dict[str, Any]:
        if event["status"] == "success":
            self.log.info("%s", event["message"])
            return {"count": event["count"], "since": event["since"], "checked_at": event["checked_at"]}
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"Sensor timed out: {event['message']}")
        raise AirflowException(f"Waiting for orders failed: {event['message']}")
