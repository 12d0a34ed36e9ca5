"""Progress lines for long syncs: pages, records, records per second and ETA, every few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol


class TaskLog(Protocol):
    """A task's logger: a stdlib logger, or the operator's (structlog on Airflow 3)."""

    def info(self, event: Any, *args: Any, **kw: Any) -> Any: ...
    def warning(self, event: Any, *args: Any, **kw: Any) -> Any: ...


class Progress:
    """Logs at most once per ``interval`` seconds, and once more at the end.

    ``total`` (records) may be learned from the first page; without it no ETA is shown.
    """

    def __init__(
        self,
        log: TaskLog,
        what: str,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        unit: str = "pages",
        item: str = "records",
    ) -> None:
        self.unit = unit
        self.item = item
        self.log = log
        self.what = what
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last = self.started
        self.pages = 0
        self.records = 0
        self.total: int | None = None
        self.total_pages: int | None = None

    def page(self, records: int, *, total: int | None = None, total_pages: int | None = None) -> None:
        self.pages += 1
        self.records += records
        if total is not None:
            self.total = total
        if total_pages is not None:
            self.total_pages = total_pages
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self.log.info("%s", self.line(now))

    def rate(self, now: float | None = None) -> float:
        elapsed = (self.clock() if now is None else now) - self.started
        return self.records / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        rate = self.rate(now)
        pages = f"{self.pages}/{self.total_pages}" if self.total_pages is not None else f"{self.pages}"
        records = f"{self.records}/{self.total}" if self.total is not None else f"{self.records}"
        text = f"{self.what}: {pages} {self.unit}, {records} {self.item}, {rate:.0f} {self.item}/s"
        if self.total is not None and rate > 0 and self.records < self.total:
            text += f", ETA {_duration((self.total - self.records) / rate)}"
        return text

    def finish(self, extra: str = "") -> None:
        now = self.clock()
        elapsed = now - self.started
        self.log.info(
            "%s: done, %d %s, %d %s in %s (%.0f %s/s)%s",
            self.what,
            self.pages,
            self.unit,
            self.records,
            self.item,
            _duration(elapsed),
            self.rate(now),
            self.item,
            extra,
        )


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
