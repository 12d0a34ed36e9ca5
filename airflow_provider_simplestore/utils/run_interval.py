"""The span of time a run covers, on every Airflow, also for runs that have no logical date.

Airflow 3 lets a manual run (``airflow dags trigger ID``, the UI's trigger without a date) have no
logical date, and then no data interval: ``data_interval_start``, ``ds`` and ``ts_nodash`` are not
in its context. For such a run the sync operators and the sensor take the interval the DAG's
timetable gives a manual run at the moment it was triggered (``run_after``), which is what the run
would have covered with ``--logical-date`` set to that moment: the last whole hour of an hourly
data-interval schedule, the single moment ``run_after`` of a DAG with no schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow_provider_simplestore.compat import manual_run_interval
from airflow_provider_simplestore.utils.timestamps import iso


class RunInterval(NamedTuple):
    start: dt.datetime | None  # None only where Airflow gave one bound and not the other
    end: dt.datetime | None
    inferred_at: dt.datetime | None  # run_after, when the run had no data interval of its own

    def describe(self) -> str:
        """A note for log lines when the interval was inferred; empty otherwise."""
        if self.inferred_at is None:
            return ""
        return (
            f" (the run has no logical date: the interval its schedule gives a run triggered at "
            f"{iso(self.inferred_at)})"
        )


def run_interval(context: Mapping[str, Any]) -> RunInterval | None:
    """The run's data interval; without one, the timetable's interval at ``run_after``; else None."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None or end is not None:
        return RunInterval(start, end, None)
    run_after = getattr(context.get("dag_run"), "run_after", None)  # Airflow 3 only
    dag = context.get("dag")
    if run_after is None or dag is None:
        return None
    start, end = manual_run_interval(dag, run_after)
    return RunInterval(start, end, run_after)
