"""Both hooks over real HTTP against the sandbox: tokens, retries, errors, pages, secrets.

Each case runs over the sync and the async hook (`flavor`). Retry waits are recorded by an
injected sleep instead of slept; where a retry must succeed, that sleep clears the faults.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_simplestore.client.oauth import TokenCache
from airflow_provider_simplestore.client.wire import Page
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConflictError,
    SimpleStoreError,
    SimpleStoreNotFoundError,
    SimpleStoreRateLimitError,
    SimpleStoreResponseError,
    SimpleStoreServerError,
    SimpleStoreTransportError,
    SimpleStoreValidationError,
)
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook

pytestmark = pytest.mark.timeout(120)

SMALL = {"products": 20, "customers": 5, "orders": 10}
CONFIG = "GET /v1/configuration"


def grants(sb: Any) -> int:
    return int(sb.stats()["token_grants"])


def hits(sb: Any, route: str) -> int:
    return int(sb.stats()["requests"].get(route, 0))


def fault(kind: str, *, methods: list[str] | None = None, routes: list[str] | None = None, **more: Any) -> dict:
    return {"kind": kind, "probability": 1.0, "methods": methods, "routes": routes, **more}


def hammer(c: Any, n: int) -> None:
    """n GET calls: one after another (sync), or 10 at a time (async)."""
    if c.flavor == "sync":
        for _ in range(n):
            c.call("get_configuration")
        return

    async def calls() -> None:
        for _ in range(n // 10):
            await asyncio.gather(*(c.hook.get_configuration() for _ in range(10)))

    c.run(calls())


# ---- tokens ----------------------------------------------------------------------------------------


def test_one_token_grant_for_2000_calls(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    before_grants, before_calls = grants(sandbox), hits(sandbox, CONFIG)
    hammer(c, 2000)
    assert grants(sandbox) - before_grants == 1
    assert hits(sandbox, CONFIG) - before_calls == 2000


def test_refresh_ahead_of_a_3s_expiry_on_an_injected_clock(
    fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(token_ttl=3, **SMALL)
    now = [100.0]
    c = client(connect(sb), token_cache=TokenCache(clock=lambda: now[0]))
    c.call("get_configuration")
    now[0] += 1.4  # the lead of a 3 s token is 1.5 s
    c.call("get_configuration")
    assert grants(sb) == 1
    now[0] += 0.2
    c.call("get_configuration")
    assert grants(sb) == 2 and hits(sb, CONFIG) == 3  # refreshed before use: no 401 and replay


def test_a_3s_token_is_refreshed_before_the_server_expires_it(fresh_sandbox: Callable, connect: Callable) -> None:
    sb = fresh_sandbox(token_ttl=3, **SMALL)
    hook = SimpleStoreHook(connect(sb))
    calls, started = 0, time.monotonic()
    while time.monotonic() - started < 3.6 and calls < 100:  # real clock, past one whole lifetime
        hook.get_configuration()
        calls += 1
        time.sleep(0.1)
    assert hits(sb, CONFIG) == calls  # never a 401 (a replay would add a request)
    assert 2 <= grants(sb) <= 3


def test_a_revoked_token_is_replaced_and_the_call_replayed_once(
    fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    c = client(connect(sb))
    c.call("get_configuration")
    assert sb.revoke() >= 1
    assert c.call("get_configuration")["defaultCurrencyCode"]
    assert grants(sb) == 2 and hits(sb, CONFIG) == 3 and c.sleeps == []


def test_a_second_401_is_an_auth_error(
    sandbox: Any, fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    api = fresh_sandbox(**SMALL)  # trusts none of the tokens the shared sandbox issues
    c = client(connect(api, auth_url=sandbox.token_url))
    before = grants(sandbox)
    with pytest.raises(SimpleStoreAuthError) as info:
        c.call("get_configuration")
    assert (info.value.status, info.value.method, info.value.path) == (401, "GET", "/v1/configuration")
    assert hits(api, CONFIG) == 2 and grants(sandbox) - before == 2 and c.sleeps == []


def test_invalid_client_fails_at_once_without_retries(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox, password="not-the-secret"))
    before = sandbox.stats()["token_requests"]
    with pytest.raises(SimpleStoreAuthError, match="the client id or secret was rejected") as info:
        c.call("get_configuration")
    assert "not-the-secret" not in str(info.value)
    assert sandbox.stats()["token_requests"] - before == 1 and c.sleeps == []


def test_16_threads_and_16_async_tasks_make_one_grant(sandbox: Any, connect: Callable) -> None:
    conn_id = connect(sandbox)
    hook, async_hook = SimpleStoreHook(conn_id), SimpleStoreAsyncHook(conn_id)
    before, start, errors = grants(sandbox), threading.Barrier(17), []

    def worker() -> None:
        try:
            start.wait(10)
            for _ in range(10):
                hook.get_configuration()
        except Exception as exc:  # reported below
            errors.append(exc)

    async def tasks() -> None:
        start.wait(10)
        await asyncio.gather(*(async_hook.get_configuration() for _ in range(16)))
        await async_hook.aclose()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    asyncio.run(tasks())
    for t in threads:
        t.join(30)
    hook.close()
    assert errors == [] and grants(sandbox) - before == 1


def test_tokens_are_masked_for_airflow_logs(sandbox: Any, connect: Callable, client: Callable) -> None:
    from airflow.providers.common.compat.sdk import redact as airflow_redact

    c = client(connect(sandbox))
    c.call("get_configuration")
    settings = c.settings()
    token = c.hook.token_cache.get(
        settings.token_key, lambda: pytest.fail("must be cached"), fingerprint=settings.secret_fingerprint
    )
    assert airflow_redact(f"token {token}") == "token ***"


# ---- retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "429"])
def test_each_retryable_status_is_retried(
    kind: str, fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault(kind, methods=["GET"], routes=["/v1/configuration"], retry_after=2)])
    c = client(connect(sb), on_sleep=lambda _: sb.clear_faults())
    assert c.call("get_configuration")["defaultCurrencyCode"]
    assert hits(sb, CONFIG) == 2 and sb.stats()["faults"][kind] == 1
    if kind in ("429", "503"):  # the sandbox sends Retry-After with these
        assert c.sleeps == [2.0]
    else:
        assert len(c.sleeps) == 1 and 0 <= c.sleeps[0] <= 0.5  # first backoff: full jitter up to 0.5 s


def test_a_retry_after_beyond_max_retry_wait_stops_at_once_saying_what_was_asked(
    fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    # Retrying after the cap (0.2 s) would go against the server's 30 s: stop, saying what it asked.
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault("429", retry_after=30)])
    c = client(connect(sb, max_retry_wait=0.2))
    with pytest.raises(SimpleStoreRateLimitError, match=r"asked to retry after 30 s, longer than max_retry_wait=0.2"):
        c.call("get_configuration")
    assert c.sleeps == []


@pytest.mark.parametrize(
    ("kind", "error"),
    [("429", SimpleStoreRateLimitError), ("503", SimpleStoreServerError), ("500", SimpleStoreServerError)],
)
def test_errors_after_the_retries_run_out(
    kind: str, error: type[SimpleStoreError], fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault(kind, retry_after=0)])
    c = client(connect(sb), max_retries=2)
    with pytest.raises(error) as info:
        c.call("get_configuration")
    assert info.value.status == int(kind) and info.value.path == "/v1/configuration"
    assert len(c.sleeps) == 2 and hits(sb, CONFIG) == 3


def test_a_dropped_connection_is_retried_for_a_get(
    fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault("reset", routes=["/v1/configuration"])])
    c = client(connect(sb), on_sleep=lambda _: sb.clear_faults())
    assert c.call("get_configuration")["defaultCurrencyCode"]
    assert len(c.sleeps) == 1 and hits(sb, CONFIG) == 2


def test_a_read_timeout_is_retried_for_a_get(fresh_sandbox: Callable, connect: Callable, client: Callable) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault("slow", routes=["/v1/configuration"], delay=3)])
    c = client(connect(sb), timeout=0.3, on_sleep=lambda _: sb.clear_faults())
    assert c.call("get_configuration")["defaultCurrencyCode"]
    assert len(c.sleeps) == 1 and hits(sb, CONFIG) == 2


NEW_PRODUCT = {"title": "Retry teapot", "slug": "retry-teapot", "inventory": {"sku": "RETRY-1"}}


@pytest.mark.parametrize(
    ("kind", "phase", "error", "created"),
    [
        ("503", "after", SimpleStoreServerError, 1),  # processed and committed, then a 503
        ("500", "after", SimpleStoreServerError, 1),
        ("504", "after", SimpleStoreServerError, 1),
        ("reset", "after", SimpleStoreTransportError, 1),  # committed, then the connection dropped
        ("reset", "before", SimpleStoreTransportError, 0),  # unknown to us: must not be repeated either
        ("slow", "before", SimpleStoreTransportError, 0),  # read timeout
    ],
)
def test_a_post_is_never_repeated_once_sent(
    kind: str, phase: str, error: type, created: int, fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault(kind, methods=["POST"], routes=["/v1/products"], phase=phase, delay=3)])
    c = client(connect(sb), timeout=0.5)
    with pytest.raises(error) as info:
        c.call("create_product", NEW_PRODUCT)
    if isinstance(info.value, SimpleStoreTransportError):
        assert info.value.request_sent is True
    assert c.sleeps == [] and hits(sb, "POST /v1/products") == 1
    assert sb.stats()["creations"]["products"] == created


def test_a_post_is_retried_on_429(fresh_sandbox: Callable, connect: Callable, client: Callable) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault("429", methods=["POST"], retry_after=1)])
    c = client(connect(sb), on_sleep=lambda _: sb.clear_faults())
    assert set(c.call("create_product", NEW_PRODUCT)) == {"productId", "version"}
    assert c.sleeps == [1.0] and sb.stats()["creations"]["products"] == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_is_retried_even_for_a_post(
    method: str, sandbox: Any, closed_port: int, connect: Callable, client: Callable
) -> None:
    c = client(connect(sandbox, host=f"http://127.0.0.1:{closed_port}"), max_retries=2)
    with pytest.raises(SimpleStoreTransportError) as info:
        c.call("request", method, "/v1/products", json={"title": "x"} if method == "POST" else None)
    assert (info.value.reason, info.value.request_sent) == ("connect", False)
    assert f"; last error: {method} /v1/products: cannot connect to 127.0.0.1:{closed_port}" in str(info.value)
    assert len(c.sleeps) == 2


def test_a_flaky_token_server_is_retried_within_a_post(
    fresh_sandbox: Callable, connect: Callable, client: Callable
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults(token_rules=[fault("503", retry_after=0)])
    c = client(connect(sb), on_sleep=lambda _: sb.clear_faults())
    c.call("create_product", NEW_PRODUCT)
    assert len(c.sleeps) == 1 and sb.stats()["creations"]["products"] == 1 and grants(sb) == 1


def test_retry_log_lines(
    fresh_sandbox: Callable, connect: Callable, client: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    sb = fresh_sandbox(**SMALL)
    sb.set_faults([fault("503", routes=["/v1/configuration"], retry_after=0)])
    c = client(connect(sb), max_retries=1)
    caplog.set_level(logging.WARNING, logger="airflow_provider_simplestore")
    with pytest.raises(SimpleStoreServerError):
        c.call("get_configuration")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("airflow_provider_simplestore")] == [
        "SimpleStore GET /v1/configuration failed (status 503); retry 1 of 1 in 0.00 s"
    ]


# ---- errors ----------------------------------------------------------------------------------------


def test_not_found(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    with pytest.raises(SimpleStoreNotFoundError) as info:
        c.call("get_product", "no-such-product")
    error = info.value
    assert (error.method, error.path, error.status, error.title) == (
        "GET",
        "/v1/products/no-such-product",
        404,
        "Not Found",
    )
    assert error.detail == "product 'no-such-product' was not found"
    assert str(error).startswith("SimpleStore connection '") and str(error).endswith(
        "': GET /v1/products/no-such-product: HTTP 404: Not Found - product 'no-such-product' was not found"
    )
    assert error.body_excerpt and '"status":404' in error.body_excerpt and c.sleeps == []


def test_validation_and_conflict(fresh_sandbox: Callable, connect: Callable, client: Callable) -> None:
    sb = fresh_sandbox(**SMALL)
    c = client(connect(sb))
    with pytest.raises(SimpleStoreValidationError, match=r"POST /v1/products: HTTP 400: Bad Request - .*title"):
        c.call("create_product", {"title": 5})
    created = c.call("create_product", NEW_PRODUCT)
    with pytest.raises(SimpleStoreConflictError, match="slug 'retry-teapot'"):
        c.call("create_product", {**NEW_PRODUCT, "inventory": {"sku": "OTHER"}})
    c.call("update_product", created["productId"], {"title": "New", "version": created["version"]})
    with pytest.raises(SimpleStoreConflictError) as info:
        c.call("update_product", created["productId"], {"title": "Stale", "version": created["version"]})
    assert info.value.status == 409 and info.value.method == "PUT"
    assert sb.stats()["creations"]["products"] == 1 and c.sleeps == []


def test_response_errors(sandbox: Any, web_page: str, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    with pytest.raises(SimpleStoreResponseError, match="not the paged envelope"):
        c.items("paginate", "/v1/configuration")  # an object, not a list envelope
    page = client(connect(sandbox, "simplestore_web", host=web_page))
    with pytest.raises(SimpleStoreResponseError, match=r"HTTP 200 with a body that is not JSON \(text/html\)") as info:
        page.call("request", "GET", "/v1/products")
    assert info.value.body_excerpt == "<html><body>Welcome to our shop</body></html>"


def test_no_secret_or_token_in_logs_or_errors(
    fresh_sandbox: Callable,
    connect: Callable,
    client: Callable,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sb = fresh_sandbox(client_secret="very-secret-client-secret-42", **SMALL)
    seen_tokens: set[str] = set()

    class RecordingCache(TokenCache):
        def get(self, *args: Any, **kwargs: Any) -> str:
            seen_tokens.add(token := super().get(*args, **kwargs))
            return token

        async def aget(self, *args: Any, **kwargs: Any) -> str:
            seen_tokens.add(token := await super().aget(*args, **kwargs))
            return token

    cache = RecordingCache()
    c = client(connect(sb, max_retry_wait=0), max_retries=1, token_cache=cache)
    texts: list[str] = [repr(c.hook), repr(c.settings())]

    def failing(fn: Callable[[], Any]) -> None:
        with pytest.raises(SimpleStoreError) as info:
            fn()
        e = info.value
        texts.extend([str(e), repr(e), str(e.body_excerpt), str(e.detail), str(e.title)])

    c.call("get_configuration")
    sb.revoke()
    c.call("get_configuration")  # 401, replay
    sb.set_faults([fault("503", retry_after=0)], token_rules=[])
    failing(lambda: c.call("get_configuration"))
    sb.clear_faults()
    failing(lambda: c.call("get_product", "nope"))
    failing(lambda: c.call("create_product", {"title": 1}))
    wrong = client(connect(sb, "simplestore_wrong", password="wrong-secret-value-99"), token_cache=cache)
    failing(lambda: wrong.call("get_configuration"))
    dead = client(
        connect(sb, "simplestore_dead", host=f"http://127.0.0.1:{closed_port}", max_retry_wait=0),
        max_retries=1,
        token_cache=cache,
    )
    failing(lambda: dead.call("get_configuration"))
    texts.append(repr(SimpleStoreHook(connect(sb)).settings))

    captured = capfd.readouterr()
    haystack = "\n".join([*texts, caplog.text, captured.out, captured.err])
    assert len(seen_tokens) >= 2 and "retry 1 of 1" in caplog.text
    for secret in ("very-secret-client-secret-42", "wrong-secret-value-99", *seen_tokens):
        assert secret not in haystack


# ---- pages -----------------------------------------------------------------------------------------


def test_paginate_follows_total_pages_and_the_applied_page_size(
    sandbox: Any, connect: Callable, client: Callable
) -> None:
    c = client(connect(sandbox))
    total = c.call("count", "/v1/orders")
    assert total == sandbox.stats()["objects"]["orders"] > 100
    before = hits(sandbox, "GET /v1/orders")
    pages = c.items("paginate_pages", "/v1/orders", page_size=1000)  # the sandbox applies 100
    assert hits(sandbox, "GET /v1/orders") - before == math.ceil(total / 100) == len(pages)
    assert all(isinstance(p, Page) and p.page_size == 100 and p.total_records == total for p in pages)
    assert [p.index for p in pages] == list(range(len(pages)))
    ids = [o["orderId"] for p in pages for o in p.items]
    assert len(ids) == len(set(ids)) == total
    assert [o["orderId"] for o in c.items("list_orders", page_size=37)] == ids


def test_concurrent_pages_come_back_in_order(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    sequential = [o["orderId"] for o in c.items("list_orders", page_size=30)]
    parallel = [o["orderId"] for o in c.items("list_orders", page_size=30, max_workers=4)]
    assert parallel == sequential and len(sequential) == sandbox.stats()["objects"]["orders"]


def test_paginate_is_lazy_and_bounded(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    before = hits(sandbox, "GET /v1/orders")
    if c.flavor == "sync":
        pages = c.hook.paginate_pages("/v1/orders", page_size=10, max_workers=2)
        assert hits(sandbox, "GET /v1/orders") == before  # nothing fetched yet
        first, second = next(pages), next(pages)
        pages.close()
    else:

        async def two_pages() -> tuple[Page, Page]:
            pages = c.hook.paginate_pages("/v1/orders", page_size=10, max_workers=2)
            first, second = await pages.__anext__(), await pages.__anext__()
            await pages.aclose()
            return first, second

        first, second = c.run(two_pages())
    assert (first.index, second.index) == (0, 1) and first.total_pages == 50
    # the first page, then at most 2 * max_workers pages ahead of the one consumed
    assert hits(sandbox, "GET /v1/orders") - before <= 1 + 2 * 2 + 1


def test_filters_and_count(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    orders = c.items("list_orders")
    newest = max(datetime.fromisoformat(o["createdOnUtc"].replace("Z", "+00:00")) for o in orders)
    start, end = newest - timedelta(days=10), newest
    window = c.items("list_orders", created_from=start, created_to=end)
    assert window and all(
        start <= datetime.fromisoformat(o["createdOnUtc"].replace("Z", "+00:00")) < end for o in window
    )
    assert c.call("count", "/v1/orders", {"createdFromUtc": start, "createdToUtc": end}) == len(window)
    status = orders[0]["status"]
    assert c.call("count", "/v1/orders", {"status": status}) == sum(o["status"] == status for o in orders)
    some = [o["orderId"] for o in orders[:3]]
    assert [o["orderId"] for o in c.items("list_orders", order_ids=some)] == some
    before = hits(sandbox, "GET /v1/orders")
    assert c.items("list_orders", order_ids=[]) == [] and hits(sandbox, "GET /v1/orders") == before
    with pytest.raises(ValueError, match="max_workers"):
        c.items("list_orders", max_workers=0)


def test_created_filters_take_aware_datetimes(sandbox: Any, connect: Callable, client: Callable) -> None:
    c = client(connect(sandbox))
    future = datetime.now(timezone.utc) + timedelta(days=3650)
    assert c.items("list_orders", created_from=future) == []


# ---- the async client ------------------------------------------------------------------------------


def test_concurrent_first_calls_share_one_async_client(sandbox: Any, connect: Callable) -> None:
    """The first calls of a fresh async hook race to build its client: one is built, and closed."""
    conn_id = connect(sandbox)

    async def race() -> tuple[list[Any], Any]:
        hook = SimpleStoreAsyncHook(conn_id)
        clients = await asyncio.gather(*(hook.get_async_conn() for _ in range(4)))
        counts = await asyncio.gather(*(hook.count("/v1/orders") for _ in range(4)))
        assert len(set(counts)) == 1
        current = await hook.get_async_conn()
        await hook.aclose()
        return clients, current

    clients, current = asyncio.run(race())
    assert all(c is current for c in clients)
    assert current.is_closed
