"""Tokens that live 3 s, and a revoke of every token in the middle of a run: no call fails.

The hook refreshes a token ahead of its expiry and, when the server rejects a token anyway (the
revoke), fetches a new one and replays the call once. Both an export (sync hook, 4 workers) and
threads plus async tasks sharing hooks run across several token lifetimes and one revoke.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from tests.chaos.support import hashes_by_id, listing

pytestmark = pytest.mark.chaos

TOKEN_TTL = 3.0


class RevokeWhenBusy:
    """Revoke every token once the sandbox has served `after` requests (a condition, not a sleep)."""

    def __init__(self, sb: Any, route: str, after: int) -> None:
        self.sb, self.route, self.after = sb, route, after
        self.revoked: int | None = None
        self.served_at_revoke = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        while not self._stop.is_set() and time.monotonic() < deadline:
            served = self.sb.stats()["requests"].get(self.route, 0)
            if served >= self.after:
                self.served_at_revoke = served
                self.revoked = self.sb.revoke()
                return
            self._stop.wait(0.05)

    def __enter__(self) -> RevokeWhenBusy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture
def churning_sandbox(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # 40 ms per request, so a run spans several 3 s token lifetimes.
    sb = fresh_sandbox(seed=31, orders=3_000, token_ttl=TOKEN_TTL, latency_ms=40, subprocess=True)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    yield sb


def test_export_across_expiries_and_a_revoke_has_no_failed_call(churning_sandbox: Any, tmp_path: Path) -> None:
    # 300 pages at 40 ms on 2 workers: at least 6 s, two token lifetimes.
    sb = churning_sandbox
    expected = hashes_by_id(listing(sb, "/v1/orders"), "orderId")
    before = sb.stats()
    pages = 3_000 // 10
    destination = tmp_path / "orders.jsonl"
    operator = SimpleStoreToObjectStorageOperator(
        task_id="export_orders",
        resource="orders",
        incremental=False,
        destination=str(destination),
        page_size=10,
        max_workers=2,
    )

    # max_retries=0 (above): any failed call fails the export, so success means zero failed calls.
    started = time.monotonic()
    with RevokeWhenBusy(sb, "GET /v1/orders", before["requests"]["GET /v1/orders"] + pages // 2) as revoker:
        result = operator.execute({})
    elapsed = time.monotonic() - started

    assert result["records"] == 3_000
    got = hashes_by_id([json.loads(line) for line in destination.read_text().splitlines()], "orderId")
    assert got == expected
    stats = sb.stats()
    assert revoker.revoked is not None and revoker.revoked >= 1, "the revoke did not happen during the export"
    assert elapsed > 2 * TOKEN_TTL, f"the export took {elapsed:.1f} s: too short to outlive two tokens"
    grants = stats["token_grants"] - before["token_grants"]
    # One token per lifetime (refreshed ahead of expiry) plus one after the revoke; never one per call.
    assert 2 <= grants <= elapsed / (TOKEN_TTL / 2) + 3, grants
    served = stats["requests"]["GET /v1/orders"] - before["requests"]["GET /v1/orders"]
    refused = {kind: stats["unauthorized"][kind] - before["unauthorized"][kind] for kind in stats["unauthorized"]}
    # A call is repeated only after a 401, once, with a new token: the calls in flight at the revoke
    # (one per worker), and any a busy machine delayed past its token's expiry.
    assert served == pages + sum(refused.values()), f"{served} requests for {pages} pages, 401s {refused}"
    assert refused["revoked"] <= 2 and refused["missing"] == refused["unknown"] == 0, refused


def test_threads_and_async_tasks_sharing_hooks_have_no_failed_call(churning_sandbox: Any) -> None:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook

    sb = churning_sandbox
    before = sb.stats()
    run_for = 2.5 * TOKEN_TTL
    failures: list[str] = []
    calls = {"sync": 0, "async": 0}
    sync_hook = SimpleStoreHook()

    def sync_worker(stop_at: float) -> None:
        while time.monotonic() < stop_at:
            try:
                assert sync_hook.request("GET", "/v1/orders", params={"pageSize": 1})["resultCount"] == 1
                calls["sync"] += 1
            except Exception as exc:
                failures.append(f"sync: {type(exc).__name__}: {exc}")

    async def async_side(stop_at: float) -> None:
        async with SimpleStoreAsyncHook() as hook:

            async def task() -> None:
                while time.monotonic() < stop_at:
                    try:
                        assert (await hook.request("GET", "/v1/orders", params={"pageSize": 1}))["resultCount"] == 1
                        calls["async"] += 1
                    except Exception as exc:
                        failures.append(f"async: {type(exc).__name__}: {exc}")

            await asyncio.gather(*(task() for _ in range(20)))

    stop_at = time.monotonic() + run_for
    threads = [threading.Thread(target=sync_worker, args=(stop_at,)) for _ in range(4)]
    with RevokeWhenBusy(sb, "GET /v1/orders", before["requests"].get("GET /v1/orders", 0) + 150) as revoker:
        for thread in threads:
            thread.start()
        asyncio.run(async_side(stop_at))
        for thread in threads:
            thread.join(timeout=60)

    assert failures == []
    assert revoker.revoked is not None and revoker.revoked >= 1, "the revoke did not happen during the run"
    assert calls["sync"] > 50 and calls["async"] > 50, calls
    grants = sb.stats()["token_grants"] - before["token_grants"]
    assert 2 <= grants <= run_for / (TOKEN_TTL / 2) + 3, grants
