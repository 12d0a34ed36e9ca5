"""Blocking Airflow calls made from an event loop (a trigger's connection read, its secret masking).

On Airflow 3.0-3.2 the triggerer's channel to its supervisor relays a worker thread's request through
the event loop (`async_to_sync`) only when that thread is asgiref's `sync_to_async` thread; from a
plain worker thread `async_to_sync` runs the request on a new loop of its own, the answers cross, and
the trigger runner dies ("Response read out of order"). So what runs in `compat.run_blocking` must
find its way back to the calling loop; and the hook's connection reads and `amask_secret` go there.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import async_to_sync

from airflow_provider_simplestore import compat


def test_async_to_sync_inside_run_blocking_runs_on_the_calling_loop() -> None:
    async def current_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def main() -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop, bool]:
        outer = asyncio.get_running_loop()
        # What the 3.0-3.2 triggerer's `send()` does from the thread a blocking read runs on.
        inner, off_loop_thread = await compat.run_blocking(
            lambda: (async_to_sync(current_loop)(), threading.current_thread() is not threading.main_thread())
        )
        return outer, inner, off_loop_thread

    outer, inner, off_loop_thread = asyncio.run(main())
    assert off_loop_thread, "the blocking call must not run on the event loop's thread"
    assert inner is outer, "a request relayed from the blocking call must run on the caller's event loop"


def test_the_async_hook_and_masking_read_through_run_blocking(monkeypatch: Any) -> None:
    """Before 3.3 every blocking read of a trigger goes through run_blocking (3.3 reads asynchronously)."""
    calls: list[str] = []
    real = compat.run_blocking

    async def recording(func: Any, /, *args: Any) -> Any:
        calls.append(getattr(func, "__name__", "?"))
        return await real(func, *args)

    monkeypatch.setattr(compat, "run_blocking", recording)
    connection = '{"conn_type": "simplestore", "login": "a", "password": "b"}'
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_RUN_BLOCKING", connection)

    async def main() -> None:
        from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook

        hook = SimpleStoreAsyncHook("simplestore_run_blocking")
        await compat.aget_connection_and_extras(hook, "simplestore_run_blocking")
        await compat.amask_secret("not-a-real-secret")

    asyncio.run(main())
    expected = [] if compat.AIRFLOW_V_3_3_PLUS else ["get_connection", "<lambda>", "mask_secret"]
    assert calls == expected
