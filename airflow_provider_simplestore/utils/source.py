"""What a sync reads: the resource by name, and the time window of an incremental run.

Shared by the export and SQL operators so both name resources, validate them and turn a
run's data interval into ``createdOnUtc`` filters the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_simplestore.client.resources import CREATED_FILTERS, RESOURCES, Resource, is_template
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreListingIncompleteError
from airflow_provider_simplestore.utils.run_interval import run_interval
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment

# The resources a sync can read: every listable one, in the order the docs list them.
SYNC_RESOURCES = tuple(RESOURCES)
# The window filters a transfer sets itself, from these arguments: in `filters` they would be overwritten.
WINDOW_ARGUMENTS = {
    "created_from": "the operator's created_from argument",
    "created_to": "the operator's created_to argument",
}


ON_INCOMPLETE = ("fail", "warn")


def check_on_incomplete(value: str) -> str:
    if value not in ON_INCOMPLETE:
        raise SimpleStoreConfigError(f"on_incomplete must be one of {', '.join(ON_INCOMPLETE)}, got {value!r}")
    return value


def settle_listing(problems: list[str], on_incomplete: str, what: str) -> None:
    """After a listing: with on_incomplete="fail", its problems (already logged) fail the task."""
    if problems and on_incomplete == "fail":
        raise SimpleStoreListingIncompleteError(
            f"the listing of {what} is incomplete: {'; '.join(problems)}. Re-run, or pass "
            "on_incomplete='warn' to keep what was listed."
        )


def check_resource(name: str) -> str:
    """The resource name, or a clear error listing the valid ones (raised at DAG parse time)."""
    if name not in RESOURCES:
        raise SimpleStoreConfigError(f"unknown resource {name!r}; expected one of: {', '.join(RESOURCES)}")
    return name


def resource_spec(name: str) -> Resource:
    """The row of ``resources.RESOURCES`` for a sync resource (list path, id field, created field)."""
    return RESOURCES[check_resource(name)]


def is_incremental(resource: str, incremental: bool | None) -> bool:
    """Incremental by default where the resource has a creation time; refused elsewhere."""
    supported = resource_spec(resource).created_field is not None
    if incremental is None:
        return supported
    if incremental and not supported:
        timed = ", ".join(r.name for r in RESOURCES.values() if r.created_field)
        raise SimpleStoreConfigError(
            f"resource {resource!r} has no creation time to sync incrementally; only {timed} do"
        )
    return incremental


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC."""

    start: dt.datetime
    end: dt.datetime

    @property
    def empty(self) -> bool:
        return self.start >= self.end

    def __str__(self) -> str:
        return f"[{iso(self.start)}, {iso(self.end)})"


def run_window(context: Mapping[str, Any], created_from: Any = None, created_to: Any = None) -> Window:
    """The window of an incremental run: the explicit bounds, else the run's data interval (see
    ``utils.run_interval`` for runs without a logical date)."""
    interval = run_interval(context)
    start = created_from if created_from not in (None, "") else (interval and interval.start)
    end = created_to if created_to not in (None, "") else (interval and interval.end)
    if start is None or end is None:
        raise SimpleStoreConfigError(
            "an incremental sync needs a time window: this run has no data interval; "
            "pass created_from/created_to or incremental=False"
        )
    window = Window(parse_moment(start, "created_from"), parse_moment(end, "created_to"))
    if window.start > window.end:
        raise SimpleStoreConfigError(f"created_from is after created_to: {window}")
    return window


def created_params(resource: str, window: Window) -> dict[str, Any]:
    """The list filters for the creation time in ``[start, end)``, spelled as the resource table says."""
    start, end = CREATED_FILTERS
    return dict(resource_spec(resource).query({start: window.start, end: window.end}))


def source_filters(resource: str, filters: Any, where: str, *, templated: bool = False) -> dict[str, Any]:
    """A transfer's `filters` as query parameters, checked (`Resource.query`): at DAG parse with
    `templated` (names, and the values already known), and again once rendered, before any request."""
    if filters is None or (templated and is_template(filters)):
        return {}
    if not isinstance(filters, Mapping):
        raise SimpleStoreConfigError(f"{where}: filters must be a dict of filter names and values, got {filters!r}")
    spec = resource_spec(resource)
    params = spec.query(filters, where=where, set_by=WINDOW_ARGUMENTS, templated=templated)
    empty = next((name for name, query in spec.filters.items() if params.get(query) == []), None)
    if empty:  # sent as nothing, it would select everything
        raise SimpleStoreConfigError(
            f"{where}: the filter {empty!r} is an empty list, which selects no {resource}; "
            "leave it out to read them all, or skip the task"
        )
    return params


def check_window_arguments(resource: str, incremental: bool, created_from: Any, created_to: Any, where: str) -> None:
    """A whole-resource sync takes no window: a bound given anyway is a mistake, named at parse time."""
    if not incremental and (created_from not in (None, "") or created_to not in (None, "")):
        raise SimpleStoreConfigError(
            f"{where}: created_from/created_to bound an incremental sync's window, and this one reads "
            f"{resource} whole (incremental=False): drop them, or leave incremental on"
        )


def list_params(
    context: Mapping[str, Any],
    *,
    resource: str,
    incremental: bool,
    filters: Any,
    created_from: Any,
    created_to: Any,
    where: str,
) -> tuple[dict[str, Any], str, Window | None]:
    """A run's list filters, what it reads (for log lines), and its window (incremental runs)."""
    params = source_filters(resource, filters, where)
    if not incremental:
        return params, resource, None
    window = run_window(context, created_from, created_to)
    params.update(created_params(resource, window))
    interval = run_interval(context)
    # Say where the window came from when Airflow gave the run no interval of its own.
    note = interval.describe() if interval and created_from in (None, "") else ""
    return params, f"{resource} created in {window}{note}", window
