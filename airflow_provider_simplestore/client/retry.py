"""When to retry a SimpleStore call, how long to wait, when to stop: one policy, sync and async.

`RetrySettings` is plain data (a trigger can carry it as a dict). `retry_kwargs` builds the
predicate, wait, stop and log hook once; `build_retrying` and `build_async_retrying` only pick
the tenacity class and the sleep function.

A retry never duplicates a write: GET, PUT and DELETE retry on every transient failure; a POST
retries only when the request provably never reached the server (the connection could not be
opened) or on 429 (the server refused it without processing).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, Retrying

from airflow_provider_simplestore.client.connection_fields import CONNECTION_EXTRA_DEFAULTS
from airflow_provider_simplestore.exceptions import SimpleStoreError, SimpleStoreTransportError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Transport failures worth another attempt (a TLS failure is configuration, not luck).
RETRY_REASONS = frozenset(
    {"dns", "connect", "connect_timeout", "read_timeout", "write_timeout", "connection_lost", "pool_timeout"}
)
# RFC 9110 delay-seconds: ASCII digits (float() would also take "-4", "1e3", "inf" or Arabic-Indic
# digits); a fraction is tolerated, as some servers (and the sandbox) send milliseconds.
_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class RetrySettings:
    """How hard to retry. Plain, serialisable data: `to_dict()` / `from_dict()`."""

    max_retries: int = CONNECTION_EXTRA_DEFAULTS["max_retries"]
    deadline: float = CONNECTION_EXTRA_DEFAULTS["retry_deadline"]
    max_wait: float = CONNECTION_EXTRA_DEFAULTS["max_retry_wait"]
    initial_wait: float = 0.5

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.deadline <= 0 or self.max_wait < 0 or self.initial_wait < 0:
            raise ValueError(f"invalid retry settings: {self!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrySettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date); None if absent or invalid.

    RFC 9110 says to ignore an invalid value, so a negative, signed or exponent number, "inf" or
    "nan" is None (the normal backoff applies), never "retry now". A date in the past is 0."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def is_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """The one retry predicate. `idempotent`: the request may safely be repeated."""
    if not isinstance(exc, SimpleStoreError):
        return False
    safe = idempotent or exc.token_request  # asking for a token twice creates nothing
    if isinstance(exc, SimpleStoreTransportError):
        return exc.reason in RETRY_REASONS and (safe or not exc.request_sent)
    if exc.status in RETRY_STATUSES:
        return safe or exc.status == 429
    return False


def backoff_wait(attempt: int, settings: RetrySettings, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform(0, min(max_wait, initial * 2**(attempt-1)))."""
    ceiling = min(settings.max_wait, settings.initial_wait * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(0, ceiling)


def wait_for(
    exc: BaseException | None, attempt: int, settings: RetrySettings, rng: random.Random | None = None
) -> float:
    """The server's Retry-After when it sent one (capped), else backoff."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return min(float(retry_after), settings.max_wait)
    return backoff_wait(attempt, settings, rng)


def _asks_too_long(exc: BaseException, settings: RetrySettings) -> bool:
    """A Retry-After beyond max_wait: retrying sooner would go against the server, so stop now and
    say what it asked for (the error's message gains that, once)."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is None or retry_after <= settings.max_wait:
        return False
    note = (
        f"; the server asked to retry after {retry_after:g} s, longer than max_retry_wait="
        f"{settings.max_wait:g} s, so it was not retried"
    )
    if exc.args and isinstance(exc.args[0], str) and note not in exc.args[0]:
        exc.args = (exc.args[0] + note, *exc.args[1:])
    return True


def outcome_summary(exc: BaseException | None) -> str:
    """`status 503` or `connect`/`read_timeout`...: what failed, never a body or a secret."""
    if isinstance(exc, SimpleStoreTransportError):
        return exc.reason
    if isinstance(exc, SimpleStoreError) and exc.status is not None:
        return f"status {exc.status}"
    return type(exc).__name__


def retry_kwargs(
    settings: RetrySettings,
    *,
    method: str,
    path: str,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    logger: logging.Logger = log,
) -> dict[str, Any]:
    """tenacity keyword arguments shared by `Retrying` and `AsyncRetrying` (build one per call)."""
    idempotent = is_idempotent(method)
    started = clock()

    def exception(state: RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome is not None else None

    def retry(state: RetryCallState) -> bool:
        exc = exception(state)
        return exc is not None and is_retryable(exc, idempotent=idempotent) and not _asks_too_long(exc, settings)

    def wait(state: RetryCallState) -> float:
        return wait_for(exception(state), state.attempt_number, settings, rng)

    def stop(state: RetryCallState) -> bool:
        # tenacity computes the upcoming wait before asking whether to stop.
        out_of_attempts = state.attempt_number > settings.max_retries
        past_deadline = clock() - started + state.upcoming_sleep > settings.deadline
        return out_of_attempts or past_deadline

    def before_sleep(state: RetryCallState) -> None:
        exc = exception(state)
        # The failed request's own method/path (the token request is reported as itself).
        where_method = getattr(exc, "method", None) or method
        where_path = getattr(exc, "path", None) or path
        logger.warning(
            "SimpleStore %s %s failed (%s); retry %d of %d in %.2f s",
            where_method,
            where_path,
            outcome_summary(exc),
            state.attempt_number,
            settings.max_retries,
            state.upcoming_sleep,
        )

    return {"retry": retry, "wait": wait, "stop": stop, "before_sleep": before_sleep, "reraise": True}


def build_retrying(
    settings: RetrySettings,
    *,
    method: str,
    path: str,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Retrying:
    return Retrying(sleep=sleep or time.sleep, **retry_kwargs(settings, method=method, path=path, clock=clock))


def build_async_retrying(
    settings: RetrySettings,
    *,
    method: str,
    path: str,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncRetrying:
    kwargs = retry_kwargs(settings, method=method, path=path, clock=clock)
    if sleep is None:
        return AsyncRetrying(**kwargs)
    return AsyncRetrying(sleep=sleep, **kwargs)
