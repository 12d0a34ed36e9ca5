"""What a sync reads: the resource by name, and the time window of an incremental run.

Shared by the export and SQL operators so both name resources, validate them and turn a
run's data interval into ``createdOnUtc`` filters the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_simplestore.errors import SimpleStoreConfigError, SimpleStoreListingIncompleteError
from airflow_provider_simplestore.resources import CREATED_FILTERS, RESOURCES, Resource

# The resources a sync can read: every listable one, in the order the docs list them.
SYNC_RESOURCES = tuple(RESOURCES)


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


def iso(moment: dt.datetime) -> str:
    """UTC ISO-8601 with a ``Z`` as the platform writes it; sub-second digits only as many as needed."""
    moment = moment.astimezone(dt.timezone.utc)
    spec = "seconds" if not moment.microsecond else "milliseconds" if not moment.microsecond % 1000 else "microseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_moment(value: Any, what: str) -> dt.datetime:
    """A timezone-aware datetime from a datetime or an ISO-8601 string (a rendered template)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise SimpleStoreConfigError(f"{what}: {value!r} is not an ISO-8601 date-time") from None
    else:
        raise SimpleStoreConfigError(f"{what}: expected a date-time, got {value!r}")
    if moment.tzinfo is None:
        raise SimpleStoreConfigError(f"{what}: {value!r} has no time zone; give UTC explicitly (e.g. a trailing Z)")
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last date Python can hold in UTC
        raise SimpleStoreConfigError(f"{what}: {value!r} is out of range once converted to UTC") from None


def run_window(context: Mapping[str, Any], created_from: Any = None, created_to: Any = None) -> Window:
    """The window of an incremental run: the explicit bounds, else the run's data interval."""
    start = created_from if created_from not in (None, "") else context.get("data_interval_start")
    end = created_to if created_to not in (None, "") else context.get("data_interval_end")
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
