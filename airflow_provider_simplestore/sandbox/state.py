"""One sandbox's mutable state: the store, issued tokens, fault plan and counters."""

from __future__ import annotations

import math
import secrets
import time
from collections import Counter
from typing import Any

from airflow_provider_simplestore.sandbox.data import seed_store
from airflow_provider_simplestore.sandbox.faults import FAULT_KINDS, FaultPlan, FaultRule
from airflow_provider_simplestore.sandbox.options import SandboxOptions
from airflow_provider_simplestore.sandbox.store import Store


class Tokens:
    """Opaque bearer tokens with a lifetime; `revoke_all` makes every issued token invalid."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._expiry: dict[str, float] = {}
        self._revoked: set[str] = set()

    def issue(self) -> str:
        now = time.monotonic()
        if len(self._expiry) > 10_000:  # forget long-expired tokens so the table stays small
            self._expiry = {t: e for t, e in self._expiry.items() if e > now - 3600}
        token = secrets.token_urlsafe(32)
        self._expiry[token] = now + self.ttl
        return token

    def issued(self) -> list[str]:
        """Every token still on record, for leak checks that grep logs for them."""
        return list(self._expiry)

    def problem(self, token: str | None) -> str | None:
        """Why `token` may not be used, or None when it is live."""
        if not token:
            return "missing bearer token"
        if token in self._revoked:
            return "the access token was revoked"
        expiry = self._expiry.get(token)
        if expiry is None:
            return "unknown access token"
        if time.monotonic() >= expiry:
            return "the access token has expired"
        return None

    def revoke_all(self) -> int:
        count = len(self._expiry)
        self._revoked.update(self._expiry)
        self._expiry.clear()
        return count


class RateLimit:
    """Token buckets, one per client id: `rate` tokens a second, at most `burst` (a sandbox choice)."""

    def __init__(self, rate: float | None, burst: int | None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else (math.ceil(rate) if rate else None)
        self._buckets: dict[str, tuple[float, float]] = {}  # client id -> (tokens, when)

    def take(self, client_id: str) -> tuple[bool, float, float]:
        """(allowed, tokens left, seconds until the next token) for one request of `client_id`."""
        assert self.rate is not None and self.burst is not None
        now = time.monotonic()
        tokens, then = self._buckets.get(client_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[client_id] = (tokens, now)
        return allowed, tokens, 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def to_json(self) -> dict[str, Any]:
        return {"rate_limit": self.rate, "burst": self.burst}


# Why a bearer token was refused (Tokens.problem's words), as counted in the stats.
UNAUTHORIZED_KINDS = {
    "missing bearer token": "missing",
    "the access token was revoked": "revoked",
    "unknown access token": "unknown",
    "the access token has expired": "expired",
}


class Stats:
    def __init__(self) -> None:
        self.token_grants = 0
        self.token_requests = 0
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0  # 429s answered by the rate limit (injected 429s count under faults)
        self.unauthorized: Counter[str] = Counter()  # 401s by UNAUTHORIZED_KINDS (a client replays some)
        self.in_flight = 0  # token and /v1 requests being handled now, and the most at once
        self.in_flight_peak = 0

    def snapshot(self, store: Store) -> dict[str, Any]:
        return {
            "token_grants": self.token_grants,
            "token_requests": self.token_requests,
            "requests": dict(sorted(self.requests.items())),
            "faults": {kind: self.faults[kind] for kind in FAULT_KINDS},
            "rate_limited": self.rate_limited,
            "unauthorized": {kind: self.unauthorized[kind] for kind in UNAUTHORIZED_KINDS.values()},
            "in_flight_peak": self.in_flight_peak,
            "objects": store.counts(),
            "creations": {name: store.creations[name] for name in store.counts()},
        }


class SandboxState:
    """Everything the routes and the middleware share. Single event loop: no locks needed."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.tokens = Tokens(options.token_ttl)
        self.store = self._seeded()
        self.stats = Stats()
        self.faults = FaultPlan(options.faults, options.token_faults, options.effective_fault_seed)
        self.rate_limit = RateLimit(options.rate_limit, options.burst)

    def _seeded(self) -> Store:
        store = Store(self.options.seed)
        seed_store(store, self.options)
        return store

    def reset(self) -> None:
        """Seeded data again, counters zeroed, faults cleared, the start-up rate limit with full
        buckets. Issued tokens stay valid."""
        self.store = self._seeded()
        self.rate_limit = RateLimit(self.options.rate_limit, self.options.burst)
        self.stats = Stats()
        self.faults = FaultPlan((), (), self.options.effective_fault_seed)

    def set_faults(self, rules: list[FaultRule], token_rules: list[FaultRule], seed: int | None) -> None:
        self.faults = FaultPlan(rules, token_rules, self.options.effective_fault_seed if seed is None else seed)
