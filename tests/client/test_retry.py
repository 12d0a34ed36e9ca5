"""retry.py: the predicate, the waits, the stops and the log line, for Retrying and AsyncRetrying."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from airflow_provider_simplestore.client.failures import error_from_response, transport_error
from airflow_provider_simplestore.client.retry import (
    RETRY_STATUSES,
    RetrySettings,
    backoff_wait,
    build_async_retrying,
    build_retrying,
    is_retryable,
    parse_retry_after,
    wait_for,
)
from airflow_provider_simplestore.exceptions import SimpleStoreError, SimpleStoreNotFoundError, SimpleStoreServerError
from tests.local_server import LocalServer, Reply, Seen, page_reply, token_reply

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def http_error(status: int, retry_after: float | None = None) -> SimpleStoreError:
    return error_from_response("GET", "/v1/orders", status, {}, b"", retry_after=retry_after)


def sent_error(reason: str, sent: bool) -> SimpleStoreError:
    return transport_error("POST", "/v1/products", "h:1", reason=reason, request_sent=sent)


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    # RFC 9110: an invalid value is ignored (None: the normal backoff), never read as "retry now".
    for invalid in ("-4", "-0", "+3", "1e3", "inf", "nan", "\u0663", "1.", ".5"):
        assert parse_retry_after(invalid) is None, invalid
    assert parse_retry_after(format_datetime(NOW + timedelta(seconds=30), usegmt=True), now=NOW) == 30.0
    assert parse_retry_after(format_datetime(NOW - timedelta(seconds=30), usegmt=True), now=NOW) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None and parse_retry_after(None) is None


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
def test_retryable_statuses_by_method(status: int, method: str) -> None:
    expected = method != "POST" or status == 429  # a POST may have been processed
    assert is_retryable(http_error(status), idempotent=method != "POST") is expected


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501, 505])
def test_other_statuses_are_final(status: int) -> None:
    assert not is_retryable(http_error(status), idempotent=True)


@pytest.mark.parametrize(
    ("reason", "sent", "post_retries", "get_retries"),
    [
        ("connect", False, True, True),
        ("dns", False, True, True),
        ("connect_timeout", False, True, True),
        ("pool_timeout", False, True, True),
        ("read_timeout", True, False, True),
        ("connection_lost", True, False, True),
        ("write_timeout", True, False, True),
        ("tls", False, False, False),  # configuration, not bad luck
    ],
)
def test_transport_failures(reason: str, sent: bool, post_retries: bool, get_retries: bool) -> None:
    assert is_retryable(sent_error(reason, sent), idempotent=False) is post_retries
    assert is_retryable(sent_error(reason, sent), idempotent=True) is get_retries


def test_a_failed_token_request_is_retried_even_within_a_post() -> None:
    error = error_from_response("POST", "/connect/token", 503, {}, b"")
    assert not is_retryable(error, idempotent=False)
    error.token_request = True
    assert is_retryable(error, idempotent=False)


def test_unrelated_exceptions_are_not_retried() -> None:
    assert not is_retryable(ValueError("x"), idempotent=True)


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    settings = RetrySettings(initial_wait=1, max_wait=5)
    top = random.Random()
    top.uniform = lambda a, b: b  # type: ignore[method-assign]
    assert [backoff_wait(n, settings, top) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    waits = [backoff_wait(3, settings, random.Random(seed)) for seed in range(200)]
    assert min(waits) >= 0 and max(waits) <= 4 and min(waits) < 0.5 and max(waits) > 3.5


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    settings = RetrySettings(max_wait=10)
    assert wait_for(http_error(503, retry_after=3), 1, settings) == 3
    assert wait_for(http_error(429, retry_after=120), 1, settings) == 10
    assert wait_for(http_error(429, retry_after=0), 4, settings) == 0


def test_retry_settings_are_plain_data() -> None:
    settings = RetrySettings(max_retries=2, deadline=9.5, max_wait=1, initial_wait=0.1)
    assert RetrySettings.from_dict(settings.to_dict()) == settings
    assert all(isinstance(v, (int, float)) for v in settings.to_dict().values())
    with pytest.raises(ValueError):
        RetrySettings(max_retries=-1)


class Flaky:
    """Fails with the given errors in turn, then returns "ok"; counts the attempts."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def run_sync(settings: RetrySettings, fn: Callable[[], Any], method: str = "GET", **kw: Any) -> tuple[Any, list]:
    sleeps: list[float] = []
    return build_retrying(settings, method=method, path="/v1/orders", sleep=sleeps.append, **kw)(fn), sleeps


def run_async(settings: RetrySettings, fn: Callable[[], Any], method: str = "GET", **kw: Any) -> tuple[Any, list]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def call() -> Any:
        return fn()

    retrying = build_async_retrying(settings, method=method, path="/v1/orders", sleep=sleep, **kw)
    return asyncio.run(retrying(call)), sleeps


RUNNERS = pytest.mark.parametrize("run", [run_sync, run_async], ids=["sync", "async"])


@RUNNERS
def test_retries_then_succeeds_honouring_retry_after(run: Callable[..., tuple[Any, list]]) -> None:
    flaky = Flaky(http_error(503, retry_after=2), http_error(429, retry_after=1))
    result, sleeps = run(RetrySettings(max_retries=5), flaky)
    assert (result, flaky.attempts, sleeps) == ("ok", 3, [2, 1])


@RUNNERS
def test_stops_after_max_retries_and_reraises_the_last_error(run: Callable[..., tuple[Any, list]]) -> None:
    flaky = Flaky(*(http_error(502) for _ in range(10)))
    with pytest.raises(SimpleStoreServerError):
        run(RetrySettings(max_retries=3, initial_wait=0.01), flaky)
    assert flaky.attempts == 4


@RUNNERS
def test_a_final_error_is_not_retried(run: Callable[..., tuple[Any, list]]) -> None:
    flaky = Flaky(http_error(404))
    with pytest.raises(SimpleStoreNotFoundError):
        run(RetrySettings(), flaky)
    assert flaky.attempts == 1


@RUNNERS
def test_a_post_is_not_retried_after_sending(run: Callable[..., tuple[Any, list]]) -> None:
    flaky = Flaky(http_error(503), http_error(503))
    with pytest.raises(SimpleStoreServerError):
        run(RetrySettings(), flaky, method="POST")
    assert flaky.attempts == 1
    flaky = Flaky(sent_error("connect", False), http_error(429, retry_after=0))
    assert run(RetrySettings(), flaky, method="POST")[0] == "ok" and flaky.attempts == 3


@RUNNERS
def test_stops_at_the_deadline_on_an_injected_clock(run: Callable[..., tuple[Any, list]]) -> None:
    now = [0.0]

    def failing() -> str:
        now[0] += 4.0  # every attempt takes 4 s
        raise http_error(503, retry_after=1)

    attempts: list[int] = []

    def counted() -> str:
        attempts.append(1)
        return failing()

    with pytest.raises(SimpleStoreServerError):
        run(RetrySettings(max_retries=100, deadline=10), counted, clock=lambda: now[0])
    # 4 s, +1 wait, 8 s, +1 wait -> 9 s; the third attempt ends at 12 s > 10: stop
    assert len(attempts) == 3


@RUNNERS
def test_one_log_line_per_retry_without_secrets(
    run: Callable[..., tuple[Any, list]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="airflow_provider_simplestore")
    # No pattern redacts these two: only the rule "the retry line names the status, never the
    # body or the error text" keeps them out of the log.
    body = b'{"title": "echo", "detail": "you sent sekrit-token-1 and hunter2-long"}'
    error = error_from_response("GET", "/v1/orders", 503, {}, body, retry_after=0.25)
    assert "sekrit-token-1" in str(error)  # the error text carries them: the log line must not
    flaky = Flaky(error, transport_error("GET", "/v1/orders", "h:1", reason="read_timeout", request_sent=True))
    run(RetrySettings(initial_wait=0), flaky)
    assert "sekrit" not in caplog.text and "hunter2" not in caplog.text
    lines = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_simplestore.client.retry"]
    assert lines == [
        "SimpleStore GET /v1/orders failed (status 503); retry 1 of 5 in 0.25 s",
        "SimpleStore GET /v1/orders failed (read_timeout); retry 2 of 5 in 0.00 s",
    ]


@pytest.mark.parametrize("header", ["-5", "-0.5", "-1e3"])
def test_an_invalid_retry_after_gets_the_normal_backoff_not_an_instant_retry(
    sandbox: Any, connect: Callable[..., str], client: Callable[..., Any], header: str
) -> None:
    answers = iter([Reply(429, {"title": "slow down"}, {"Retry-After": header}), page_reply([{"orderId": 1}], 1)])

    def respond(seen: Seen) -> Reply:
        return token_reply("tok-retry-after-1") if seen.method == "POST" else next(answers)

    with LocalServer(respond) as server:
        conn = connect(
            sandbox,
            "shop_retry_after",
            host=server.url,
            auth_url=server.url + "/connect/token",
            max_retries=1,
            max_retry_wait=0.2,
        )
        c = client(conn)
        assert c.call("count", "/v1/orders") == 1
    # Read as "retry now" it would be 0; ignored, the backoff draws from (0, 0.2].
    assert len(c.sleeps) == 1 and 0 < c.sleeps[0] <= 0.2
