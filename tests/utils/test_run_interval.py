"""The span a run covers, also for a manual run without a logical date (Airflow 3 allows one: its
context has no data interval, no `ds`, only the run's `run_after`)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest

from airflow_provider_simplestore.compat import cron_data_interval_timetable
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.run_interval import run_interval
from airflow_provider_simplestore.utils.source import run_window

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

UTC = dt.timezone.utc
TRIGGERED = dt.datetime(2026, 3, 4, 14, 23, 5, tzinfo=UTC)


def _dag(schedule: Any) -> Any:
    from airflow.providers.common.compat.sdk import DAG

    return DAG("run_interval_test", schedule=schedule, start_date=dt.datetime(2025, 1, 1, tzinfo=UTC))


def _undated(dag: Any) -> Context:
    """What a 3.x task's context holds for a run triggered without a logical date."""
    return cast("Context", {"dag": dag, "dag_run": SimpleNamespace(run_after=TRIGGERED, logical_date=None)})


def test_a_run_with_a_data_interval_covers_it() -> None:
    start, end = dt.datetime(2026, 3, 4, 13, tzinfo=UTC), dt.datetime(2026, 3, 4, 14, tzinfo=UTC)
    interval = run_interval({"data_interval_start": start, "data_interval_end": end, **_undated(None)})
    assert interval is not None and (interval.start, interval.end, interval.inferred_at) == (start, end, None)
    assert interval.describe() == ""


def test_an_undated_run_of_an_hourly_schedule_covers_the_last_whole_hour_before_it_was_triggered() -> None:
    context = _undated(_dag(cron_data_interval_timetable("0 * * * *")))
    interval = run_interval(context)
    assert interval is not None and interval.start is not None
    hour = dt.datetime(2026, 3, 4, 13, tzinfo=UTC)
    assert (interval.start, interval.end) == (hour, hour + dt.timedelta(hours=1))
    assert "the run has no logical date" in interval.describe()
    window = run_window(context)
    assert (window.start, window.end) == (interval.start, interval.end)


def test_an_undated_run_of_an_unscheduled_dag_starts_when_it_was_triggered() -> None:
    from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor

    sensor = SimpleStoreOrdersSensor(task_id="wait")
    assert sensor._since(_undated(_dag(None))) == "2026-03-04T14:23:05Z"


def test_without_any_moment_the_window_and_the_sensor_say_what_they_need() -> None:
    from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor

    with pytest.raises(SimpleStoreConfigError, match="created_from/created_to"):
        run_window({})
    with pytest.raises(SimpleStoreConfigError, match="pass since="):
        SimpleStoreOrdersSensor(task_id="wait")._since({})
