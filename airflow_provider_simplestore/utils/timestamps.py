"""Moments in time as the platform writes them: ISO-8601 in UTC with a ``Z``.

The one formatter (``iso``) and parser (``parse_moment``) of the provider: query values, the
sensor's and trigger's payloads, incremental windows and the SQL rows' ``synced_at`` all use them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError


def utcnow() -> dt.datetime:
    """Now, in UTC (the one clock of the sensor and trigger; tests may replace it)."""
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime, *, timespec: str | None = None) -> str:
    """UTC ISO-8601 with a ``Z``. A naive moment is UTC, as everywhere in Airflow.

    ``timespec`` None writes only the sub-second digits the moment needs (none, 3 or 6); else it
    is ``datetime.isoformat``'s (fixed digits, e.g. "microseconds" so that text sorts by time).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc)
    if timespec is None:
        micro = moment.microsecond
        timespec = "seconds" if not micro else "milliseconds" if not micro % 1000 else "microseconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


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
