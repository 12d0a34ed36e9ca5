"""utils/timestamps.py: the provider's one UTC formatter and parser."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from airflow_provider_simplestore.client import wire
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment, utcnow

UTC = dt.timezone.utc


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process time zone other than UTC, so that a naive moment read as local time shows."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_timestamps_keep_their_precision_and_need_a_zone() -> None:
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "2026-01-02T03:04:05.120Z"
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)) == "2026-01-02T03:04:05.123456Z"
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert parse_moment("2026-01-02T05:04:05+02:00", "x") == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_moment(dt.datetime(2026, 1, 2, 5, tzinfo=plus_two), "x").tzinfo == UTC
    with pytest.raises(SimpleStoreConfigError, match="created_to: '2026-01-02' has no time zone"):
        parse_moment("2026-01-02", "created_to")


def test_fixed_digits_sort_as_text() -> None:
    """The SQL rows' synced_at: always six digits, so that text order is time order."""
    moments = [dt.datetime(2026, 1, 2, 3, 4, 5, micro, tzinfo=UTC) for micro in (0, 120000, 5, 999999)]
    texts = [iso(moment, timespec="microseconds") for moment in moments]
    assert texts[0] == "2026-01-02T03:04:05.000000Z" and texts[2] == "2026-01-02T03:04:05.000005Z"
    assert sorted(texts) == [iso(moment, timespec="microseconds") for moment in sorted(moments)]


def test_a_naive_moment_is_utc_whatever_the_local_zone(local_time_not_utc: None) -> None:
    naive = dt.datetime(2026, 3, 1, 1, 2, 3)
    assert iso(naive) == "2026-03-01T01:02:03Z"
    assert iso(naive.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))) == "2026-03-01T06:02:03Z"


def test_query_values_keep_milliseconds_as_the_platform_does() -> None:
    """wire.format_value writes moments through `iso`, cut to milliseconds."""
    assert wire.format_value(dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)) == "2026-01-02T03:04:05.123Z"
    assert wire.format_value(dt.datetime(2026, 1, 2, 3, 4, 5, 500, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"
    assert wire.format_value(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_utcnow_is_aware_and_utc() -> None:
    before = dt.datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo == UTC and before <= now <= dt.datetime.now(UTC)
