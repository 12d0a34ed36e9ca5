"""SimpleStoreHook (requests) and SimpleStoreAsyncHook (httpx).

Both are thin I/O shells. What they share lives once, in `client/`: connection validation
(`settings`), the token cache (`oauth`), the retry policy (`retry`), rate and concurrency
(`pacing`), request building, decoding and page maths (`wire`), failed exchanges (`failures`),
paths (`resources`); and the typed endpoint methods (`hooks.endpoints`). What is left here is sending
bytes and classifying each library's transport errors.

    hook = SimpleStoreHook("simplestore_default")
    for order in hook.list_orders(created_from=start, created_to=end, max_workers=4):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_simplestore.client import wire
from airflow_provider_simplestore.client.connection_fields import CONN_TYPE, DEFAULT_CONN_ID
from airflow_provider_simplestore.client.failures import transport_error
from airflow_provider_simplestore.client.oauth import (
    TOKEN_CACHE,
    Token,
    TokenCache,
    mark_token_error,
    token_form,
    token_from_response,
)
from airflow_provider_simplestore.client.pacing import (
    AUTO,
    AUTO_CEILING,
    AdaptiveLimit,
    Pacer,
    Turn,
    Workers,
    check_ceiling,
    check_workers,
    pacer_for,
    parse_remaining,
)
from airflow_provider_simplestore.client.redaction import redact
from airflow_provider_simplestore.client.retry import build_async_retrying, build_retrying, parse_retry_after
from airflow_provider_simplestore.client.settings import SimpleStoreSettings
from airflow_provider_simplestore.client.wire import Answer, Call, ListingCheck, Page
from airflow_provider_simplestore.compat import (
    AIRFLOW_RELEASE,
    AirflowNotFoundException,
    BaseHook,
    aget_connection_and_extras,
)
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreError, SimpleStoreTransportError
from airflow_provider_simplestore.hooks.connection_check import explain_failure
from airflow_provider_simplestore.hooks.endpoints import EndpointMethods
from airflow_provider_simplestore.lineage import report_call

if TYPE_CHECKING:
    # `requests` and `httpx` are imported where they are used: each costs 30 ms or more, more than
    # the rest of the provider's operators, sensors and hooks at DAG parse time on Airflow 2.11-3.2
    # (benchmarks/parse_time.py), where Airflow has not imported them already.
    import httpx
    import requests
    from airflow.providers.common.compat.sdk import Connection

__all__ = ["ListingCheck", "Page", "SimpleStoreAsyncHook", "SimpleStoreHook"]

POOL_SIZE = 32  # pooled connections per hook; raised to max_workers when a call asks for more
BODY_CHUNK = 64 * 1024


class _SimpleStoreHookBase(BaseHook):
    """Construction shared by both hooks. No I/O here: the connection is read on first use."""

    conn_name_attr = "simplestore_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "SimpleStore"

    def __init__(
        self,
        simplestore_conn_id: str = default_conn_name,
        *,
        # These four override the connection's extras of the same names (None: the connection's value).
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_deadline: float | None = None,
        page_size: int | None = None,
        sleep: Callable[[float], Any] | None = None,
        token_cache: TokenCache | None = None,
        auto_max_workers: int = AUTO_CEILING,
    ) -> None:
        super().__init__()
        self.sleep = sleep  # how retries wait: a function (sync hook) or a coroutine function (async)
        self.auto_max_workers = check_ceiling(auto_max_workers)
        self.simplestore_conn_id = simplestore_conn_id
        self.overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_deadline": retry_deadline,
            "page_size": page_size,
        }
        self.token_cache = token_cache or TOKEN_CACHE
        self._settings: SimpleStoreSettings | None = None
        self._init_transport()

    def _init_transport(self) -> None:
        """Each hook's own client state (nothing is opened here)."""
        raise NotImplementedError

    def _settings_from(self, conn: Connection, extras: dict[str, Any] | None = None) -> SimpleStoreSettings:
        return SimpleStoreSettings.from_connection(conn, extras, **self.overrides)

    def _missing(self) -> SimpleStoreConfigError:
        """A connection that does not exist is a setup step, said once, not retried."""
        conn_id = self.simplestore_conn_id
        # Airflow 3.1+ hands a task the connections of its database through the API server; elsewhere
        # (a script, a notebook) it reads environment variables and secrets backends only (3.0 and 2.11
        # still read the database there).
        outside = ""
        if AIRFLOW_RELEASE >= (3, 1, 0):
            outside = (
                " Outside a task (a script, a notebook), Airflow 3.1 and later do not read the connections "
                "saved in its database: set the environment variable there."
            )
        return SimpleStoreConfigError(
            f"SimpleStore connection {conn_id!r} is not defined. Create it (type simplestore, login = client id, "
            f"password = client secret) in the UI, with `airflow connections add {conn_id} ...`, or as the "
            f"environment variable AIRFLOW_CONN_{conn_id.upper()}.{outside}"
        )

    def _unreadable(self, exc: Exception) -> SimpleStoreError:
        """Reading the connection failed for another reason than "not found" (a secrets backend, the
        supervisor): say so, so that nobody goes looking for a connection that is there."""
        return SimpleStoreError(
            f"reading SimpleStore connection {self.simplestore_conn_id!r} failed: "
            f"{type(exc).__name__}: {redact(str(exc))[:300]}"
        )

    @staticmethod
    def _paging(settings: SimpleStoreSettings, page_size: int | None, max_workers: Workers) -> tuple[int, Workers]:
        size = settings.page_size if page_size is None else page_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"page_size must be a positive integer, got {page_size!r}")
        return size, check_workers(max_workers)

    @staticmethod
    def _pacer(settings: SimpleStoreSettings) -> Pacer:
        return pacer_for(settings.base_url, settings.client_id, settings.conn_id, settings.max_requests_per_second)

    @staticmethod
    def _observe(settings: SimpleStoreSettings, pacer: Pacer, status: int, headers: Any, turn: Turn) -> None:
        """Report an answer to the pacer; a 429's pause is capped like a retry wait (max_retry_wait)."""
        retry_after = parse_retry_after(headers.get("retry-after")) if status == 429 else None
        remaining = parse_remaining(headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining"))
        pacer.observe(
            status, None if retry_after is None else min(retry_after, settings.retry.max_wait), remaining, turn
        )

    def _auto_limit(self, settings: SimpleStoreSettings, workers: Workers) -> AdaptiveLimit | None:
        """The concurrency controller of an "auto" listing (None for a fixed max_workers)."""
        return AdaptiveLimit(self._pacer(settings), self.auto_max_workers) if workers == AUTO else None

    @staticmethod
    def _lock_wait(settings: SimpleStoreSettings) -> float:
        """How long a caller may wait for another caller's token fetch (and its retries)."""
        return settings.retry.deadline + settings.connect_timeout + settings.timeout


class SimpleStoreHook(EndpointMethods[Any, Iterator[dict[str, Any]]], _SimpleStoreHookBase):
    """Hook for the SimpleStore REST API over `requests` (one pooled Session per hook).

    :param simplestore_conn_id: connection of type ``simplestore`` (login = client id,
        password = client secret, host = API base URL, extras as in the connection form).
    :param timeout: read timeout override, seconds.
    :param max_retries: retries of a transient failure override.
    :param retry_deadline: total seconds one call may spend retrying, override.
    :param page_size: default page size of list calls, override.
    :param sleep: how retries wait (default ``time.sleep``); tests inject a recorder.
    :param token_cache: the token cache (default: the process-wide one).
    """

    def _init_transport(self) -> None:
        self._session: requests.Session | None = None
        self._pool_size = 0
        self._session_lock = threading.Lock()
        self._environments: dict[tuple[str, str, bool | str], tuple[dict[str, str], bool | str]] = {}

    # The connection form for Airflow 2.11's webserver and the 3.0-3.1 API server, which ask the
    # hook class itself (3.2+ read conn-fields from get_provider_info and never call these).
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from airflow_provider_simplestore.hooks.connection_form import connection_form_widgets

        return connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_provider_simplestore.hooks.connection_form import ui_field_behaviour

        return ui_field_behaviour()

    @property
    def settings(self) -> SimpleStoreSettings:
        """The validated connection (read on first use; raises SimpleStoreConfigError)."""
        if self._settings is None:
            try:
                conn = self.get_connection(self.simplestore_conn_id)
            except AirflowNotFoundException:
                raise self._missing() from None
            except Exception as exc:
                raise self._unreadable(exc) from exc
            self._settings = self._settings_from(conn)
        return self._settings

    def get_conn(self, pool_size: int = 0) -> requests.Session:
        """The hook's Session; its pool holds at least `pool_size` connections."""
        import requests
        from requests.adapters import HTTPAdapter

        with self._session_lock:
            if self._session is None:
                self._session = requests.Session()
                self._session.trust_env = False  # the environment is read once per host: _environment
            if self._pool_size == 0 or pool_size > self._pool_size:
                size = max(POOL_SIZE, pool_size)
                # max_retries=0: urllib3 must not retry behind our back (it cannot tell a safe retry).
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0)
                self._session.mount("https://", adapter)
                self._session.mount("http://", adapter)
                self._pool_size = size
            return self._session

    def close(self) -> None:
        with self._session_lock:
            if self._session is not None:
                self._session.close()
            self._session, self._pool_size = None, 0

    def __enter__(self) -> SimpleStoreHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- requests --------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        """Send one API call (retried as retry.py allows); decoded JSON, None for an empty body."""
        settings = self.settings
        call = wire.prepare(settings.base_url, method, path, params, json)
        retrying = build_retrying(settings.retry, method=call.method, path=call.path, sleep=self.sleep)
        started = time.monotonic()
        try:
            answer = retrying(self._authorized, call)
        except SimpleStoreError as exc:
            explain_failure(settings, exc, attempts=_attempts(retrying), seconds=time.monotonic() - started)
            raise
        report_call(self, settings.base_url, call.method, call.path)  # to Airflow's hook lineage
        return answer

    def _authorized(self, call: Call) -> Any:
        settings = self.settings
        pacer = self._pacer(settings)
        token = self._token()
        turn = pacer.wait()
        response = self._send(call, token)
        if response.status_code == wire.REPLAY_STATUS:
            self.token_cache.invalidate(settings.token_key, token, secret=settings.token_share_secret)
            token = self._token()
            turn = pacer.wait()
            response = self._send(call, token)
        self._observe(settings, pacer, response.status_code, response.headers, turn)
        return wire.decode_response(call.method, call.path, response, secrets=(settings.client_secret, token))

    def _send(self, call: Call, token: str, *, timeout: tuple[float, float] | None = None) -> Answer:
        import requests

        try:
            return self._exchange(
                call.method,
                call.url,
                timeout,
                params=call.query,
                data=call.body,
                headers=wire.headers(token, body=call.body is not None),
            )
        except requests.RequestException as exc:
            # `from None`: the message says what failed; the library's chain (requests, urllib3, the
            # socket: four tracebacks) stays attached as __context__ for a debugger, unprinted.
            raise _requests_error(exc, call.method, call.path, call.url) from None

    def _exchange(self, method: str, url: str, timeout: tuple[float, float] | None, **kwargs: Any) -> Answer:
        """One request and its whole body, within a total deadline: `timeout` bounds each socket
        read, so a body trickled a byte at a time would otherwise hold the worker indefinitely."""
        import requests
        from urllib3.exceptions import HTTPError, ReadTimeoutError

        settings = self.settings
        timeout = timeout or (settings.connect_timeout, settings.timeout)
        budget = wire.request_deadline(*timeout)
        deadline = time.monotonic() + budget
        proxies, verify = self._environment(url, settings.verify)
        response = self.get_conn().request(
            method, url, timeout=timeout, verify=verify, proxies=proxies, allow_redirects=False, stream=True, **kwargs
        )
        try:
            chunks = []
            while chunk := response.raw.read1(BODY_CHUNK, decode_content=True):  # one socket read each
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise requests.exceptions.ReadTimeout(f"the whole answer took over {budget:g} s")
        except ReadTimeoutError as exc:  # what requests' own body reading turns them into
            raise requests.exceptions.ReadTimeout(exc) from exc
        except HTTPError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        finally:
            response.close()
        return Answer(response.status_code, response.headers, b"".join(chunks))

    def _environment(self, url: str, verify: bool | str) -> tuple[dict[str, str], bool | str]:
        """What requests takes from the environment for `url`: its proxies (HTTPS_PROXY, ALL_PROXY,
        NO_PROXY...) and, where the default CA bundle would verify, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE.
        Read once per scheme and host: requests reads them on every call, a scan of the whole
        environment each, a tenth of the CPU a page of records costs. (The Session does not trust the
        environment, so a ~/.netrc entry for the host no longer replaces the bearer token.)"""
        key = (*urlsplit(url)[:2], verify)
        found = self._environments.get(key)
        if found is None:
            from requests.utils import get_environ_proxies

            if verify is True:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            found = self._environments[key] = (get_environ_proxies(url), verify)
        return found

    def _token(self) -> str:
        settings = self.settings
        return self.token_cache.get(
            settings.token_key,
            self._fetch_token,
            fingerprint=settings.secret_fingerprint,
            secret=settings.token_share_secret,
            wait_timeout=self._lock_wait(settings),
        )

    def _fetch_token(self, timeout: tuple[float, float] | None = None) -> Token:
        import requests

        settings = self.settings
        path = wire.url_path(settings.auth_url)
        try:
            response = self._exchange(
                "POST",
                settings.auth_url,
                timeout,
                data=token_form(settings.client_id, settings.client_secret),
                headers=wire.token_headers(),
            )
        except requests.RequestException as exc:
            # `from None`: the requests exception holds the form body, i.e. the secret.
            raise mark_token_error(_requests_error(exc, "POST", path, settings.auth_url)) from None
        return token_from_response(
            path, response.status_code, response.headers, response.content, secrets=(settings.client_secret,)
        )

    # ---- pages -----------------------------------------------------------------------------------

    def _page(self, path: str, params: Any, index: int, size: int) -> Page:
        data = self.request("GET", path, params=wire.page_params(params, index, size))
        return wire.parse_page(path, data, requested_index=index, requested_size=size)

    def paginate_pages(
        self,
        path: str,
        params: Any = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        check: ListingCheck | None = None,
    ) -> Iterator[Page]:
        """Pages of a list endpoint, lazily, in order. With `max_workers` > 1 the pages after the
        first are fetched concurrently (at most 2 * max_workers pages held at once); "auto" adapts
        the concurrency up to `auto_max_workers` (pacing.AdaptiveLimit). `check` (made here if not
        given) compares what the listing promised with what it gave; see ListingCheck."""
        size, workers = self._paging(self.settings, page_size, max_workers)
        check = check or ListingCheck(path)
        first = check.add(self._page(path, params, 0, size))
        yield first
        rest = wire.remaining_pages(first)
        with _older_objects_left_out_of_gc():
            if workers == 1:
                yield from map(check.add, (self._page(path, params, index, first.page_size) for index in rest))
            else:
                yield from map(check.add, self._pages_concurrently(path, params, rest, first.page_size, workers))
        check.finish()

    def _pages_concurrently(
        self, path: str, params: Any, indexes: range, size: int, max_workers: Workers
    ) -> Iterator[Page]:
        if not indexes:
            return
        gate = self._auto_limit(self.settings, max_workers)
        workers = gate.ceiling if gate else max_workers
        assert isinstance(workers, int)

        def fetch(index: int) -> Page:
            if gate:
                return gate.run(lambda: self._page(path, params, index, size))
            return self._page(path, params, index, size)

        self.get_conn(pool_size=workers)
        todo = iter(indexes)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simplestore-pages") as pool:
            window: deque[Future[Page]] = deque(pool.submit(fetch, i) for i in itertools.islice(todo, 2 * workers))
            try:
                while window:
                    page = window.popleft().result()
                    window.extend(pool.submit(fetch, i) for i in itertools.islice(todo, 1))
                    yield page
            finally:
                for future in window:
                    future.cancel()

    def paginate(
        self, path: str, params: Any = None, page_size: int | None = None, max_workers: Workers = 1
    ) -> Iterator[dict[str, Any]]:
        """Items of a list endpoint, lazily (one page in memory with max_workers=1)."""
        for page in self.paginate_pages(path, params, page_size, max_workers):
            yield from page.items

    def count(self, path: str, params: Any = None) -> int:
        """totalRecordsFound of a pageSize=1 request."""
        return self._page(path, params, 0, 1).total_records

    def empty(self) -> Iterator[dict[str, Any]]:
        return iter(())

    def test_connection(self) -> tuple[bool, str]:
        """(ok, message) for the UI's Test button: a token fetch and one cheap read; no retries, no
        writes, no secrets, within `connection_check.BUDGET` seconds whatever the network does."""
        from airflow_provider_simplestore.hooks.connection_check import check_connection

        return check_connection(self)


@contextlib.contextmanager
def _older_objects_left_out_of_gc() -> Iterator[None]:
    """While a listing runs, the garbage collector's full passes look only at what it made.

    A listing makes thousands of dicts and lists a page, and pages waiting their turn survive long
    enough to trigger full collections; in a task process each full pass also walked the whole heap
    of Airflow's imports (76 ms a pass: a sixth of a 20,000-record export at 20 ms latency). Objects
    older than the listing are frozen (`gc.freeze`, O(1)) and given back (`gc.unfreeze`) when it
    ends; they are still freed by reference counting meanwhile. Two listings at once in one process
    only lose the saving: the first to end gives everything back."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class SimpleStoreAsyncHook(EndpointMethods[Awaitable[Any], AsyncIterator[dict[str, Any]]], _SimpleStoreHookBase):
    """The same hook on `httpx.AsyncClient`, for triggers and async tasks.

    Same constructor, same settings, token cache, retry policy and errors; ``await`` the calls
    (``await hook.request(...)``, ``await hook.count(...)``, ``await hook.get_order(...)``) and
    ``async for`` the lists (``hook.paginate(...)``, ``hook.list_orders(...)``).
    :param sleep: how retries wait (default ``asyncio.sleep``).
    """

    def _init_transport(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    async def get_settings(self) -> SimpleStoreSettings:
        """The validated connection, read without blocking the event loop on first use."""
        if self._settings is None:
            try:
                conn, extras = await aget_connection_and_extras(self, self.simplestore_conn_id)
            except AirflowNotFoundException:
                raise self._missing() from None
            except Exception as exc:
                raise self._unreadable(exc) from exc
            self._settings = self._settings_from(conn, extras)
        return self._settings

    async def get_async_conn(self) -> httpx.AsyncClient:
        """The hook's client for the running event loop (a client cannot outlive its loop)."""
        import httpx

        # Settings first: no await between the check and the assignment, so concurrent first
        # calls share one client instead of each building one (and leaking all but the last).
        settings = await self.get_settings()
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                verify=_ssl_verify(settings.verify),
                limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
                follow_redirects=False,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client, self._client_loop = None, None

    async def __aenter__(self) -> SimpleStoreAsyncHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---- requests --------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        """Send one API call (retried as retry.py allows); decoded JSON, None for an empty body."""
        settings = await self.get_settings()
        call = wire.prepare(settings.base_url, method, path, params, json)
        retrying = build_async_retrying(settings.retry, method=call.method, path=call.path, sleep=self.sleep)
        started = time.monotonic()
        try:
            return await retrying(self._authorized, call)
        except SimpleStoreError as exc:
            explain_failure(settings, exc, attempts=_attempts(retrying), seconds=time.monotonic() - started)
            raise

    async def _authorized(self, call: Call) -> Any:
        settings = await self.get_settings()
        pacer = self._pacer(settings)
        token = await self._token()
        turn = await pacer.await_turn()
        response = await self._send(call, token)
        if response.status_code == wire.REPLAY_STATUS:
            self.token_cache.invalidate(settings.token_key, token, secret=settings.token_share_secret)
            token = await self._token()
            turn = await pacer.await_turn()
            response = await self._send(call, token)
        self._observe(settings, pacer, response.status_code, response.headers, turn)
        return wire.decode_response(call.method, call.path, response, secrets=(settings.client_secret, token))

    async def _send(self, call: Call, token: str) -> httpx.Response:
        import httpx

        client = await self.get_async_conn()
        try:
            return await self._exchange(
                client.request(
                    call.method,
                    call.url,
                    params=call.query,
                    content=call.body,
                    headers=wire.headers(token, body=call.body is not None),
                )
            )
        except httpx.HTTPError as exc:
            raise _httpx_error(exc, call.method, call.path, call.url) from None  # as in the sync hook

    async def _exchange(self, request: Awaitable[httpx.Response]) -> httpx.Response:
        """`request` within the total deadline (httpx's timeouts bound each socket read only)."""
        import httpx

        settings = await self.get_settings()
        budget = wire.request_deadline(settings.connect_timeout, settings.timeout)
        try:
            # wait_for, not asyncio.timeout: Python 3.10 is supported. Its TimeoutError is asyncio's.
            return await asyncio.wait_for(request, budget)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(f"the whole answer took over {budget:g} s") from None

    async def _token(self) -> str:
        settings = await self.get_settings()
        return await self.token_cache.aget(
            settings.token_key,
            self._fetch_token,
            fingerprint=settings.secret_fingerprint,
            secret=settings.token_share_secret,
            wait_timeout=self._lock_wait(settings),
        )

    async def _fetch_token(self) -> Token:
        import httpx

        settings = await self.get_settings()
        client = await self.get_async_conn()
        path = wire.url_path(settings.auth_url)
        try:
            response = await self._exchange(
                client.post(
                    settings.auth_url,
                    data=token_form(settings.client_id, settings.client_secret),
                    headers=wire.token_headers(),
                )
            )
        except httpx.HTTPError as exc:
            raise mark_token_error(_httpx_error(exc, "POST", path, settings.auth_url)) from None
        return token_from_response(
            path, response.status_code, response.headers, response.content, secrets=(settings.client_secret,)
        )

    # ---- pages -----------------------------------------------------------------------------------

    async def _page(self, path: str, params: Any, index: int, size: int) -> Page:
        data = await self.request("GET", path, params=wire.page_params(params, index, size))
        return wire.parse_page(path, data, requested_index=index, requested_size=size)

    async def paginate_pages(
        self,
        path: str,
        params: Any = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        check: ListingCheck | None = None,
    ) -> AsyncIterator[Page]:
        """As `SimpleStoreHook.paginate_pages`, with up to `max_workers` requests in flight."""
        size, workers = self._paging(await self.get_settings(), page_size, max_workers)
        check = check or ListingCheck(path)
        first = check.add(await self._page(path, params, 0, size))
        yield first
        rest = wire.remaining_pages(first)
        pages = (
            self._pages_in_turn(path, params, rest, first.page_size)
            if workers == 1
            else self._pages_concurrently(path, params, rest, first.page_size, workers)
        )
        async for page in pages:
            yield check.add(page)
        check.finish()

    async def _pages_in_turn(self, path: str, params: Any, indexes: range, size: int) -> AsyncIterator[Page]:
        for index in indexes:
            yield await self._page(path, params, index, size)

    async def _pages_concurrently(
        self, path: str, params: Any, indexes: range, size: int, max_workers: Workers
    ) -> AsyncIterator[Page]:
        adaptive = self._auto_limit(await self.get_settings(), max_workers)
        workers = adaptive.ceiling if adaptive else max_workers
        assert isinstance(workers, int)
        gate = asyncio.Semaphore(workers)

        async def fetch(index: int) -> Page:
            if adaptive:
                return await adaptive.arun(lambda: self._page(path, params, index, size))
            async with gate:
                return await self._page(path, params, index, size)

        todo = iter(indexes)
        window = deque(asyncio.ensure_future(fetch(index)) for index in itertools.islice(todo, 2 * workers))
        try:
            while window:
                page = await window.popleft()
                window.extend(asyncio.ensure_future(fetch(index)) for index in itertools.islice(todo, 1))
                yield page
        finally:
            for task in window:
                task.cancel()
            await asyncio.gather(*window, return_exceptions=True)

    async def paginate(
        self, path: str, params: Any = None, page_size: int | None = None, max_workers: Workers = 1
    ) -> AsyncIterator[dict[str, Any]]:
        async for page in self.paginate_pages(path, params, page_size, max_workers):
            for item in page.items:
                yield item

    async def count(self, path: str, params: Any = None) -> int:
        return (await self._page(path, params, 0, 1)).total_records

    async def empty(self) -> AsyncIterator[dict[str, Any]]:
        return
        yield  # an async generator that yields nothing


def _attempts(retrying: Any) -> int:
    """How many times the failed call was sent (tenacity's count of its last run)."""
    return int(retrying.statistics.get("attempt_number", 1))


# ---- transport errors: each library's exceptions, classified once -------------------------------


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _requests_error(exc: requests.RequestException, method: str, path: str, url: str) -> SimpleStoreTransportError:
    import requests
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    inner = exc.args[0] if exc.args else None
    cause = getattr(inner, "reason", inner)  # MaxRetryError.reason is the urllib3 error
    if not isinstance(cause, BaseException):
        cause = exc
    if isinstance(exc, requests.exceptions.SSLError):
        reason, sent = "tls", False
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        reason, sent = "connect_timeout", False
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        reason, sent = "read_timeout", True
    elif isinstance(cause, NameResolutionError):
        reason, sent = "dns", False
    elif isinstance(cause, NewConnectionError):
        reason, sent = "connect", False
    else:  # reset or dropped after the request went out (ProtocolError, ChunkedEncodingError, ...)
        reason, sent = "connection_lost", True
    return transport_error(method, path, _host(url), reason=reason, request_sent=sent, cause=cause)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _httpx_error(exc: httpx.HTTPError, method: str, path: str, url: str) -> SimpleStoreTransportError:
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        reason, sent = "connect_timeout", False
    elif isinstance(exc, httpx.PoolTimeout):
        reason, sent = "pool_timeout", False
    elif isinstance(exc, httpx.ReadTimeout):
        reason, sent = "read_timeout", True
    elif isinstance(exc, httpx.WriteTimeout):
        reason, sent = "write_timeout", True
    elif isinstance(exc, httpx.ConnectError):
        sent = False
        reason = "tls" if _caused_by(exc, ssl.SSLError) else "dns" if _caused_by(exc, socket.gaierror) else "connect"
    else:
        reason, sent = "connection_lost", True
    return transport_error(method, path, _host(url), reason=reason, request_sent=sent, cause=exc)


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx wants an SSLContext for a CA bundle (a path string is deprecated)."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
