"""close()/aclose() really release the pooled connections (a worker runs many tasks in one process)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook


def pooled_sockets(session: Any) -> list[Any]:
    """The open sockets idling in a requests Session's connection pools."""
    sockets = []
    for adapter in session.adapters.values():
        for key in list(adapter.poolmanager.pools.keys()):
            pool = adapter.poolmanager.pools.get(key)
            for conn in list(pool.pool.queue) if pool is not None and pool.pool is not None else ():
                if conn is not None and conn.sock is not None:
                    sockets.append(conn.sock)
    return sockets


def test_close_empties_the_session_pool(sandbox: Any, connect: Callable[..., str]) -> None:
    hook = SimpleStoreHook(connect(sandbox))
    assert hook.count("/v1/products") > 0
    session = hook.get_conn()
    sockets = pooled_sockets(session)
    assert sockets and all(s.fileno() != -1 for s in sockets)  # a keep-alive connection is pooled

    hook.close()

    assert all(s.fileno() == -1 for s in sockets), "close() left pooled sockets open"
    assert not pooled_sockets(session) and all(not a.poolmanager.pools for a in session.adapters.values())  # type: ignore[attr-defined]  # HTTPAdapters
    assert hook.count("/v1/products") > 0  # a closed hook opens a new session on next use
    assert hook.get_conn() is not session
    hook.close()


def test_aclose_closes_the_client(sandbox: Any, connect: Callable[..., str]) -> None:
    async def run() -> Any:
        hook = SimpleStoreAsyncHook(connect(sandbox))
        assert await hook.count("/v1/products") > 0
        client = await hook.get_async_conn()
        assert not client.is_closed
        await hook.aclose()
        return client

    assert asyncio.run(run()).is_closed
