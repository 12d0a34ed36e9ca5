"""Fixtures of the tests that drive the hooks (tests/hooks, tests/client; each conftest imports them):
connections injected as AIRFLOW_CONN_* env vars, and one client API that drives either hook (sync or
async) so the same case runs over both."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.client.oauth import TOKEN_CACHE
from airflow_provider_simplestore.client.pacing import clear_pacers
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook


@pytest.fixture(autouse=True)
def _empty_token_cache() -> Iterator[None]:
    """Each test starts without cached tokens or learned pacing (a new sandbox may reuse an old port)."""
    TOKEN_CACHE.clear()
    clear_pacers()
    yield
    TOKEN_CACHE.clear()
    clear_pacers()


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """connect(sb, conn_id="simplestore_test", *, host=, login=, password=, **extras) -> conn_id.

    The sandbox's `connection_json`, optionally with other fields, injected as users do it."""

    def make(
        sb: Any,
        conn_id: str = "simplestore_test",
        *,
        host: str | None = None,
        login: str | None = None,
        password: str | None = None,
        **extras: Any,
    ) -> str:
        data = json.loads(sb.connection_json(**extras))
        for field, value in (("host", host), ("login", login), ("password", password)):
            if value is not None:
                data[field] = value
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(data))
        return conn_id

    return make


class SyncClient:
    """Drives a SimpleStoreHook; `sleeps` records each retry wait (nothing really sleeps)."""

    flavor = "sync"
    hook: Any  # a SimpleStoreHook here, a SimpleStoreAsyncHook in AsyncClient

    def __init__(self, conn_id: str, on_sleep: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep
        self.hook = SimpleStoreHook(conn_id, sleep=self._sleep, **kwargs)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)

    def settings(self) -> Any:
        return self.hook.settings

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.hook, name)(*args, **kwargs)

    def items(self, name: str, /, *args: Any, **kwargs: Any) -> list[Any]:
        return list(getattr(self.hook, name)(*args, **kwargs))

    def close(self) -> None:
        self.hook.close()


class AsyncClient(SyncClient):
    """Drives a SimpleStoreAsyncHook on a private event loop, with the same interface."""

    flavor = "async"

    def __init__(self, conn_id: str, on_sleep: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        self.sleeps = []
        self.on_sleep = on_sleep
        self.loop = asyncio.new_event_loop()
        self.hook = SimpleStoreAsyncHook(conn_id, sleep=self._asleep, **kwargs)

    async def _asleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def settings(self) -> Any:
        return self.run(self.hook.get_settings())

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.hook, name)(*args, **kwargs))

    def items(self, name: str, /, *args: Any, **kwargs: Any) -> list[Any]:
        async def collect() -> list[Any]:
            return [item async for item in getattr(self.hook, name)(*args, **kwargs)]

        return self.run(collect())

    def close(self) -> None:
        self.run(self.hook.aclose())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def client(flavor: str) -> Iterator[Callable[..., SyncClient]]:
    """client(conn_id, on_sleep=None, **hook_kwargs): a sync or async client, per `flavor`."""
    made: list[SyncClient] = []

    def make(conn_id: str, on_sleep: Callable[[float], None] | None = None, **kwargs: Any) -> SyncClient:
        cls = AsyncClient if flavor == "async" else SyncClient
        made.append(cls(conn_id, on_sleep, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.close()
