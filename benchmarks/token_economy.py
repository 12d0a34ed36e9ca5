"""3. Token economy: how many tokens the sandbox grants for 2,000 calls, sequential and concurrent.

Each scenario runs in a fresh interpreter (an empty token cache, and a worker-wide token share of
its own, token_share.py) against one sandbox, and the
grants are read from the sandbox's own stats. Concurrent scenarios start every worker at once on a
cold cache, so a cache that is not single-flight would show up as several grants.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from airflow_provider_simplestore.client.token_share import SHARE_DIR_ENV
from benchmarks.harness import Report, Table, connection_env, exactly, num, run_child, sandbox

NAME = "token_economy"
TITLE = "3. Token economy: token grants per process"
PATH = "/v1/orders"
PARAMS = {"pageSize": 1}
ROUTE = "GET /v1/orders"


@dataclass(frozen=True)
class Scenario:
    """Who makes the calls: sync threads and/or async tasks, sharing one hook of each kind."""

    threads: int = 0
    sync_calls: int = 0  # per thread
    tasks: int = 0
    async_calls: int = 0  # per task
    hook_per_call: bool = False  # sync only: a new SimpleStoreHook for every call, as separate tasks do

    @property
    def calls(self) -> int:
        return self.threads * self.sync_calls + self.tasks * self.async_calls

    def scaled(self, divisor: int) -> Scenario:
        return replace(
            self, sync_calls=max(1, self.sync_calls // divisor), async_calls=max(1, self.async_calls // divisor)
        )

    def describe(self) -> str:
        if self.threads and self.tasks:
            return (
                f"{self.threads} threads x {self.sync_calls:,} + {self.tasks} async tasks x "
                f"{self.async_calls:,} calls, at once"
            )
        if self.tasks:
            return f"{self.tasks} async tasks x {self.async_calls:,} calls, one shared async hook"
        if self.threads > 1:
            return f"{self.threads} threads x {self.sync_calls:,} calls, one shared hook"
        return f"{self.sync_calls:,} calls, " + ("a new hook per call" if self.hook_per_call else "one hook")


# 2,000 calls in every scenario.
SCENARIOS = (
    Scenario(threads=1, sync_calls=2000),
    Scenario(threads=1, sync_calls=2000, hook_per_call=True),
    Scenario(threads=8, sync_calls=250),
    Scenario(tasks=50, async_calls=40),
    Scenario(threads=8, sync_calls=125, tasks=50, async_calls=20),
)
QUICK_DIVISOR = 25


def call_many(threads: int, sync_calls: int, tasks: int, async_calls: int, hook_per_call: bool) -> dict[str, Any]:
    """Child side: make the calls, all workers released at once; count failures instead of stopping."""
    import asyncio
    import threading

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook

    failures: list[str] = []
    barrier = threading.Barrier(threads + (1 if tasks else 0))
    shared = SimpleStoreHook()

    def sync_worker() -> None:
        barrier.wait(timeout=60)
        for _ in range(sync_calls):
            hook = SimpleStoreHook() if hook_per_call else shared
            try:
                hook.request("GET", PATH, params=PARAMS)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                if hook is not shared:
                    hook.close()

    async def async_worker(hook: Any, start: asyncio.Event) -> None:
        await start.wait()
        for _ in range(async_calls):
            try:
                await hook.request("GET", PATH, params=PARAMS)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    async def async_side() -> None:
        async with SimpleStoreAsyncHook() as hook:
            start = asyncio.Event()
            workers = [asyncio.create_task(async_worker(hook, start)) for _ in range(tasks)]
            await asyncio.sleep(0)  # every task is parked on the event before any is released
            await asyncio.to_thread(barrier.wait, 60)
            start.set()
            await asyncio.gather(*workers)

    pool = [threading.Thread(target=sync_worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    if tasks:
        asyncio.run(async_side())
    for thread in pool:
        thread.join(timeout=600)
    elapsed = time.perf_counter() - began
    shared.close()
    return {"elapsed": elapsed, "failures": len(failures), "first_failures": failures[:3]}


def run(quick: bool = False, repeats: int | None = None) -> Report:
    del repeats  # counts, not timings: one run per scenario is the measurement
    table = Table(["scenario", "calls", "failed", "token grants", "calls/s"])
    report = Report(
        NAME,
        TITLE,
        "each scenario in a fresh interpreter (empty token cache), workers released together on a cold cache; "
        "grants read from the sandbox's stats" + (f"; quick: calls / {QUICK_DIVISOR}" if quick else ""),
    )
    with sandbox(seed=13, orders=50, products=20, customers=10) as sb:
        env = connection_env(sb)
        for scenario in SCENARIOS:
            if quick:
                scenario = scenario.scaled(QUICK_DIVISOR)
            calls, description = scenario.calls, scenario.describe()
            before = sb.stats()
            with tempfile.TemporaryDirectory() as share:  # cold: no token left by an earlier scenario
                result = run_child(f"{__name__}:call_many", asdict(scenario), env={**env, SHARE_DIR_ENV: share})
            after = sb.stats()
            grants = after["token_grants"] - before["token_grants"]
            served = after["requests"].get(ROUTE, 0) - before["requests"].get(ROUTE, 0)
            if served < calls - result["failures"]:
                raise AssertionError(f"{description}: the sandbox served {served} of {calls} calls")
            table.add(description, num(calls), num(result["failures"]), num(grants), num(calls / result["elapsed"]))
            report.targets.append(exactly(f"token grants: {description}", grants, 1))
            if result["failures"]:
                report.targets.append(exactly(f"failed calls: {description}", result["failures"], 0))
                report.notes.append(f"{description}: first failures: {result['first_failures']}")
    report.tables.append(("", table))
    return report
