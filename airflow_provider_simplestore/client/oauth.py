"""OAuth2 client-credentials tokens: one cache per process, one fetch at a time per client.

Across the processes of one worker the cache is backed by `token_share.py` (a file per client,
encrypted with its secret, and a lock per client): on Airflow 3 every task is a process of its
own, and without it each task would cost a token grant.

The cache is keyed by (auth URL, client id) and shared by every hook instance, thread and the
async hook. A per-key `threading.Lock` makes the fetch single-flight for threads and asyncio
tasks alike: threads block on it (bounded), tasks poll it without blocking their event loop,
and both re-check the cache once they hold it. The HTTP call itself is the hook's: it is passed
in as a callable, so this logic exists once.

Tokens are refreshed ahead of expiry by a lead that scales with their lifetime, measured on a
monotonic clock, and are handed to Airflow's secret masker the moment they are fetched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from airflow_provider_simplestore.client.failures import describe, request_id_from
from airflow_provider_simplestore.client.token_share import TokenShare, TokenSlot
from airflow_provider_simplestore.client.wire import Answer, error_for
from airflow_provider_simplestore.compat import amask_secret, mask_secret
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreCredentialsError,
    SimpleStoreError,
    SimpleStoreResponseError,
)

log = logging.getLogger(__name__)

TokenKey = tuple[str, str]  # (auth_url, client_id)
DEFAULT_EXPIRES_IN = 3600.0  # documented lifetime, used when the server omits expires_in
MIN_REFRESH_LEAD = 60.0
REFRESH_LEAD_FRACTION = 0.1
ASYNC_LOCK_POLL = 0.005  # seconds between an async waiter's tries of the per-key lock
SHARE_LOCK_POLL = 0.01  # seconds between tries of another process's lock on the shared token
# OAuth error codes (RFC 6749 5.2) that no retry can fix, each with what to do about it.
_REJECTED = {  # code -> (what happened, what to do)
    "invalid_client": (
        "the client id or secret was rejected",
        "check the connection's Client ID and Client Secret (login and password)",
    ),
    "unauthorized_client": (
        "the client id and secret are right, but this client may not use the client_credentials grant",
        "allow that grant for the client in the SimpleStore portal",
    ),
    "invalid_grant": ("the token server refused the grant", "check the client is active in the SimpleStore portal"),
    "access_denied": ("the token server denied access to this client", "ask its owner in the SimpleStore portal"),
    "invalid_scope": ("the token server refused the scope for this client", "check the client in the portal"),
    "unsupported_grant_type": (
        "the token server does not offer the client_credentials grant",
        "is the token URL (extra auth_url) right?",
    ),
}


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_in: float


@dataclass(frozen=True)
class _Entry:
    value: str = field(repr=False)
    refresh_at: float
    expires_at: float
    fingerprint: str


def refresh_lead(lifetime: float) -> float:
    """max(60 s, 10 %) of the lifetime, but never more than half of it (a 3 s token still caches)."""
    return min(max(MIN_REFRESH_LEAD, REFRESH_LEAD_FRACTION * lifetime), lifetime / 2)


def token_form(client_id: str, client_secret: str) -> dict[str, str]:
    """The form body of a client-credentials grant."""
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}


def token_from_response(
    path: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secrets: Iterable[str | None] = (),
) -> Token:
    """A `Token` from the token server's answer, or the typed error (marked as a token request)."""
    if status == 200:
        try:
            data = json.loads(content)
            value, expires_in = data["access_token"], float(data.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (ValueError, TypeError, KeyError):
            raise mark_token_error(
                SimpleStoreResponseError(
                    describe(
                        "POST",
                        path,
                        "the token server's answer has no access_token; check the token URL",
                        request_id=request_id_from(headers, secrets),
                    ),
                    method="POST",
                    path=path,
                    status=status,
                )
            ) from None
        if not isinstance(value, str) or not value or expires_in <= 0:
            raise mark_token_error(
                SimpleStoreResponseError(
                    describe("POST", path, "the token server sent an unusable token"),
                    method="POST",
                    path=path,
                    status=status,
                )
            )
        token_type = data.get("token_type")
        if token_type is not None and (not isinstance(token_type, str) or token_type.lower() != "bearer"):
            raise mark_token_error(
                SimpleStoreResponseError(
                    describe(
                        "POST",
                        path,
                        f"the token server issued a token of type {str(token_type)[:40]!r}; "
                        "only Bearer tokens are supported",
                    ),
                    method="POST",
                    path=path,
                    status=status,
                )
            )
        return Token(value, expires_in)
    error = error_for("POST", path, Answer(status, headers, content), secrets=secrets)
    if status in (400, 401) and (error.title in _REJECTED or status == 401):
        what, fix = _REJECTED.get(error.title or "", _REJECTED["invalid_client"])
        error = SimpleStoreCredentialsError(
            describe("POST", path, f"{what} ({error.title or f'HTTP {status}'}); {fix}", request_id=error.request_id),
            method="POST",
            path=path,
            status=status,
            title=error.title,
            detail=error.detail,
            request_id=error.request_id,
            body_excerpt=error.body_excerpt,
        )
    raise mark_token_error(error)


def oauth_advice(code: str | None) -> str | None:
    """What happened and what to do, for an OAuth error code no retry can fix (None for other codes)."""
    what_fix = _REJECTED.get(code or "")
    return f"{what_fix[0]}; {what_fix[1]}" if what_fix else None


def mark_token_error(error: SimpleStoreError) -> SimpleStoreError:
    """Mark an error as the token request's: retry.py may repeat that POST (it creates nothing)."""
    error.token_request = True
    return error


class TokenCache:
    """Process-wide cache of access tokens, backed by a worker-wide `share`; see the module docstring.

    Callers pass `secret` to use the share (it opens the shared file); without it, or without a
    share, tokens stay in this process.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, share: TokenShare | None = None) -> None:
        self.clock = clock
        self.share = share
        self._entries: dict[TokenKey, _Entry] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, key: TokenKey) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _slot(self, key: TokenKey, secret: str | None) -> TokenSlot | None:
        return self.share.slot(key, secret) if self.share is not None and secret else None

    def _fresh(self, key: TokenKey, fingerprint: str) -> str | None:
        entry = self._entries.get(key)
        if entry is not None and entry.fingerprint == fingerprint and self.clock() < entry.refresh_at:
            return entry.value
        return None

    def _adopt(self, key: TokenKey, slot: TokenSlot | None, fingerprint: str) -> str | None:
        """The token another process of this worker fetched, if it is not due for refresh."""
        shared = slot.load() if slot is not None else None
        if shared is None:
            return None
        remaining = shared.expires_at - time.time()
        if remaining <= refresh_lead(shared.lifetime):
            return None
        self._store(key, Token(shared.value, remaining), fingerprint, lifetime=shared.lifetime)
        return shared.value

    def _usable_after_failure(self, key: TokenKey, fingerprint: str, error: BaseException) -> str | None:
        """A refresh that failed transiently may fall back on the old token while it is still valid."""
        entry = self._entries.get(key)
        if isinstance(error, SimpleStoreAuthError) or entry is None or entry.fingerprint != fingerprint:
            return None
        if self.clock() < entry.expires_at:
            log.warning(
                "SimpleStore token refresh failed (%s); using the current token until it expires", type(error).__name__
            )
            return entry.value
        return None

    def _store(self, key: TokenKey, token: Token, fingerprint: str, *, lifetime: float | None = None) -> None:
        now = self.clock()
        entry = _Entry(
            token.value,
            refresh_at=now + token.expires_in - refresh_lead(lifetime or token.expires_in),
            expires_at=now + token.expires_in,
            fingerprint=fingerprint,
        )
        with self._locks_guard:  # invalidate() compares and deletes under the same guard
            self._entries[key] = entry

    def _keep(self, key: TokenKey, token: Token, fingerprint: str, slot: TokenSlot | None) -> str:
        self._store(key, token, fingerprint)
        if slot is not None:
            slot.save(token.value, token.expires_in)
        return token.value

    def _lock_timeout(self, key: TokenKey, wait_timeout: float) -> SimpleStoreError:
        return SimpleStoreError(f"timed out after {wait_timeout:g} s waiting for another token request to {key[0]}")

    def get(
        self,
        key: TokenKey,
        fetch: Callable[[], Token],
        *,
        fingerprint: str = "",
        secret: str | None = None,
        wait_timeout: float = 300,
    ) -> str:
        """The cached token, or one fetched by `fetch()` (one caller at a time per key)."""
        if (value := self._fresh(key, fingerprint)) is not None:
            return value
        deadline = time.monotonic() + wait_timeout
        lock = self._lock(key)
        if not lock.acquire(timeout=wait_timeout):
            raise self._lock_timeout(key, wait_timeout)
        slot = None
        try:
            if (value := self._fresh(key, fingerprint)) is not None:
                return value  # another caller fetched it while we waited
            slot = self._slot(key, secret)  # not before: opening it derives a key and checks a folder
            while slot is not None and not slot.try_lock():  # another process is fetching it
                if time.monotonic() >= deadline:
                    raise self._lock_timeout(key, wait_timeout)
                time.sleep(SHARE_LOCK_POLL)
            if (value := self._adopt(key, slot, fingerprint)) is not None:
                mask_secret(value)
                return value
            try:
                token = fetch()
            except SimpleStoreError as exc:
                if (fallback := self._usable_after_failure(key, fingerprint, exc)) is not None:
                    return fallback
                raise
            mask_secret(token.value)
            return self._keep(key, token, fingerprint, slot)
        finally:
            if slot is not None:
                slot.unlock()
            lock.release()

    async def aget(
        self,
        key: TokenKey,
        fetch: Callable[[], Awaitable[Token]],
        *,
        fingerprint: str = "",
        secret: str | None = None,
        wait_timeout: float = 300,
    ) -> str:
        """`get` for asyncio: waits for the per-key locks without blocking the event loop."""
        if (value := self._fresh(key, fingerprint)) is not None:
            return value
        lock = self._lock(key)
        deadline = time.monotonic() + wait_timeout
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise self._lock_timeout(key, wait_timeout)
            await asyncio.sleep(ASYNC_LOCK_POLL)
            if (value := self._fresh(key, fingerprint)) is not None:
                return value
        slot = None
        try:
            if (value := self._fresh(key, fingerprint)) is not None:
                return value
            slot = self._slot(key, secret)
            while slot is not None and not slot.try_lock():
                if time.monotonic() >= deadline:
                    raise self._lock_timeout(key, wait_timeout)
                await asyncio.sleep(SHARE_LOCK_POLL)
            if (value := self._adopt(key, slot, fingerprint)) is not None:
                await amask_secret(value)
                return value
            try:
                token = await fetch()
            except SimpleStoreError as exc:
                if (fallback := self._usable_after_failure(key, fingerprint, exc)) is not None:
                    return fallback
                raise
            await amask_secret(token.value)
            return self._keep(key, token, fingerprint, slot)
        finally:
            if slot is not None:
                slot.unlock()
            lock.release()

    def put(self, key: TokenKey, token: Token, *, fingerprint: str = "", secret: str | None = None) -> None:
        """Store a token fetched outside `get` (test_connection fetches one explicitly)."""
        mask_secret(token.value)
        self._keep(key, token, fingerprint, self._slot(key, secret))

    def invalidate(self, key: TokenKey, token: str, *, secret: str | None = None) -> bool:
        """Drop `token` if it is still the cached one (a newer token stays). True if dropped."""
        if (slot := self._slot(key, secret)) is not None:
            slot.discard(token)
        with self._locks_guard:
            entry = self._entries.get(key)
            if entry is not None and entry.value == token:
                del self._entries[key]
                return True
        return False

    def clear(self) -> None:
        with self._locks_guard:
            self._entries.clear()
        if self.share is not None:
            self.share.clear()


TOKEN_CACHE = TokenCache(share=TokenShare())
