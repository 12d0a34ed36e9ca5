"""client/oauth.py: refresh lead, single-flight across threads and asyncio tasks, invalidate, masking."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from airflow.providers.common.compat.sdk import redact as airflow_redact

from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.client.oauth import Token, TokenCache, refresh_lead, token_form, token_from_response
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreResponseError,
    SimpleStoreServerError,
)
from tests.support import eventually

KEY = ("https://auth.example.com/connect/token", "client-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """Hands out token-1, token-2, ... (long enough for Airflow's masker) and counts the calls."""

    def __init__(self, expires_in: float = 3600, gate: threading.Event | None = None) -> None:
        self.calls = 0
        self.expires_in = expires_in
        self.gate = gate

    def __call__(self) -> Token:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        return Token(f"access-token-{self.calls:04d}", self.expires_in)


@pytest.mark.parametrize(("lifetime", "lead"), [(3600, 360), (300, 60), (100, 50), (3, 1.5), (86400, 8640)])
def test_refresh_lead_scales_with_the_lifetime(lifetime: float, lead: float) -> None:
    assert refresh_lead(lifetime) == lead


def test_cached_until_the_lead_then_refreshed() -> None:
    clock, fetch = Clock(), Fetcher(expires_in=3)
    cache = TokenCache(clock=clock)
    assert cache.get(KEY, fetch) == "access-token-0001"
    clock.now += 1.4
    assert cache.get(KEY, fetch) == "access-token-0001" and fetch.calls == 1
    clock.now += 0.2  # 1.6 s of a 3 s token: past the 1.5 s lead
    assert cache.get(KEY, fetch) == "access-token-0002" and fetch.calls == 2


def test_invalidate_only_drops_the_token_it_names() -> None:
    cache, fetch = TokenCache(), Fetcher()
    first = cache.get(KEY, fetch)
    assert cache.invalidate(KEY, "some-older-token") is False
    assert cache.get(KEY, fetch) == first
    assert cache.invalidate(KEY, first) is True
    assert cache.get(KEY, fetch) == "access-token-0002"
    assert cache.invalidate(KEY, first) is False  # a second 401 on the old token keeps the new one
    assert cache.get(KEY, fetch) == "access-token-0002"


def test_keys_and_secrets_are_separate() -> None:
    cache, fetch = TokenCache(), Fetcher()
    a = cache.get(KEY, fetch, fingerprint="secret-a")
    assert cache.get(("https://other/connect/token", "client-1"), fetch, fingerprint="secret-a") != a
    assert cache.get(KEY, fetch, fingerprint="secret-b") != a  # a changed secret does not reuse a token
    assert fetch.calls == 3


def test_fetched_tokens_are_masked_in_airflow_logs() -> None:
    token = TokenCache().get(KEY, Fetcher())
    assert airflow_redact(f"calling with {token}") == "calling with ***"


def test_single_flight_across_threads() -> None:
    gate = threading.Event()
    cache, fetch = TokenCache(), Fetcher(gate=gate)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(KEY, fetch))) for _ in range(16)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert fetch.calls == 1 and results == ["access-token-0001"] * 16


def test_single_flight_across_asyncio_tasks_and_a_thread() -> None:
    gate = threading.Event()
    cache, fetch = TokenCache(), Fetcher(gate=gate)
    thread_result: list[str] = []
    holder = threading.Thread(target=lambda: thread_result.append(cache.get(KEY, fetch)))
    holder.start()  # the thread fetches and holds the key's lock until the gate opens
    # Only once it is inside fetch() does it hold the lock; a task that took it first would block
    # the event loop in fetch() instead.
    eventually(lambda: fetch.calls, what="the thread to be inside fetch()", timeout=10, interval=0.001)

    async def main() -> list[str]:
        async def afetch() -> Token:
            return fetch()

        tasks = [asyncio.ensure_future(cache.aget(KEY, afetch)) for _ in range(16)]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in tasks)  # waiting, without blocking the loop
        gate.set()
        return list(await asyncio.gather(*tasks))

    results = asyncio.run(main())
    holder.join(10)
    assert fetch.calls == 1 and set(results) == {"access-token-0001"} and thread_result == ["access-token-0001"]


def test_async_fetch_is_single_flight_too() -> None:
    cache = TokenCache()
    calls: list[int] = []

    async def afetch() -> Token:
        calls.append(1)
        await asyncio.sleep(0.02)
        return Token("async-token-0001", 60)

    async def main() -> set[str]:
        return set(await asyncio.gather(*(cache.aget(KEY, afetch) for _ in range(20))))

    assert asyncio.run(main()) == {"async-token-0001"} and len(calls) == 1


def test_a_failed_refresh_falls_back_on_the_still_valid_token() -> None:
    clock = Clock()
    cache = TokenCache(clock=clock)
    first = cache.get(KEY, Fetcher(expires_in=100))

    def down() -> Token:
        raise error_from_response("POST", "/connect/token", 503, {}, b"")

    clock.now += 60  # past the refresh point (50 s), before expiry (100 s)
    assert cache.get(KEY, down) == first
    clock.now += 50  # expired: no fallback
    with pytest.raises(SimpleStoreServerError):
        cache.get(KEY, down)


def test_rejected_credentials_never_fall_back() -> None:
    clock = Clock()
    cache = TokenCache(clock=clock)
    cache.get(KEY, Fetcher(expires_in=100))
    clock.now += 60

    def rejected() -> Token:
        raise SimpleStoreAuthError("rejected")

    with pytest.raises(SimpleStoreAuthError):
        cache.get(KEY, rejected)


def test_waiting_for_another_fetch_is_bounded() -> None:
    gate = threading.Event()
    cache, fetch = TokenCache(), Fetcher(gate=gate)
    holder = threading.Thread(target=lambda: cache.get(KEY, fetch))
    holder.start()
    try:
        for _ in range(5000):  # until the holder is inside fetch() (bounded)
            if fetch.calls:
                break
            threading.Event().wait(0.001)
        with pytest.raises(Exception, match=r"timed out after 0\.05 s waiting"):
            cache.get(KEY, fetch, wait_timeout=0.05)
    finally:
        gate.set()
        holder.join(10)


def test_token_form() -> None:
    assert token_form("id", "pw") == {"grant_type": "client_credentials", "client_id": "id", "client_secret": "pw"}


@pytest.mark.parametrize(
    ("status", "body", "check"),
    [
        (
            200,
            b'{"access_token": "tok-abcdef", "expires_in": 60, "token_type": "Bearer"}',
            lambda t: t == Token("tok-abcdef", 60),
        ),
        (200, b'{"access_token": "tok-abcdef"}', lambda t: t.expires_in == 3600),
    ],
)
def test_token_from_a_good_answer(status: int, body: bytes, check: Callable[[Token], bool]) -> None:
    assert check(token_from_response("/connect/token", status, {}, body))


def test_invalid_client_says_the_credentials_were_rejected() -> None:
    with pytest.raises(SimpleStoreAuthError, match=r"client id or secret was rejected \(invalid_client\)") as info:
        token_from_response("/connect/token", 400, {}, b'{"error": "invalid_client"}', secrets=["pw-123456"])
    assert info.value.token_request and info.value.status == 400


@pytest.mark.parametrize("body", [b"<html>login</html>", b'{"token": "x"}', b'{"access_token": ""}', b"[]"])
def test_a_200_without_a_token_is_a_response_error(body: bytes) -> None:
    with pytest.raises(SimpleStoreResponseError, match="token"):
        token_from_response("/connect/token", 200, {}, body)


def test_token_server_errors_are_marked_as_token_requests() -> None:
    with pytest.raises(SimpleStoreServerError) as info:
        token_from_response("/connect/token", 503, {"Retry-After": "2"}, b"")
    assert info.value.token_request and info.value.retry_after == 2
