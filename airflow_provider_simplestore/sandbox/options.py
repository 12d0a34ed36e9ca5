"""The sandbox's options: one validated dataclass shared by `run_sandbox(**options)` and the CLI."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_simplestore.sandbox.faults import FaultRule

_COUNTS = ("products", "customers", "orders", "categories", "collections", "specials", "folders")


@dataclass(frozen=True)
class SandboxOptions:
    """Everything that shapes a sandbox. Same options (with an explicit `anchor`) -> same data."""

    seed: int = 1
    products: int = 200
    customers: int = 50
    orders: int = 500
    categories: int = 12
    collections: int = 6
    specials: int = 4
    folders: int = 8
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    token_ttl: float = 3600
    max_page_size: int = 100
    latency_ms: float = 0
    anchor: datetime = field(default_factory=lambda: default_anchor())
    max_body_bytes: int = 1024 * 1024
    request_timeout: float = 10.0  # seconds a connection has to deliver a whole request
    catalog_routes: bool = True
    faults: tuple[FaultRule, ...] = ()
    token_faults: tuple[FaultRule, ...] = ()
    fault_seed: int | None = None
    rate_limit: float | None = None  # requests per second per client id (token bucket); None: no limit
    burst: int | None = None  # bucket size; None: one second's worth (ceil(rate_limit))

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"sandbox option {name}={value!r} must be a non-negative integer")
        if self.orders and not (self.products and self.customers):
            raise ValueError("sandbox option orders>0 needs at least one product and one customer")
        if not self.client_id or not self.client_secret:
            raise ValueError("sandbox options client_id and client_secret must not be empty")
        if not self.token_ttl > 0:
            raise ValueError(f"sandbox option token_ttl={self.token_ttl!r} must be positive seconds")
        if isinstance(self.max_page_size, bool) or not isinstance(self.max_page_size, int):
            raise ValueError(f"sandbox option max_page_size={self.max_page_size!r} must be an integer")
        if self.max_page_size < 1:
            raise ValueError(f"sandbox option max_page_size={self.max_page_size!r} must be at least 1")
        if self.latency_ms < 0:
            raise ValueError(f"sandbox option latency_ms={self.latency_ms!r} must not be negative")
        if not self.request_timeout > 0:
            raise ValueError(f"sandbox option request_timeout={self.request_timeout!r} must be positive seconds")
        if self.max_body_bytes < 1024:
            raise ValueError(f"sandbox option max_body_bytes={self.max_body_bytes!r} must be at least 1024")
        check_rate_limit(self.rate_limit, self.burst)
        object.__setattr__(self, "anchor", parse_anchor(self.anchor))
        object.__setattr__(self, "faults", _rules(self.faults, "faults"))
        object.__setattr__(self, "token_faults", _rules(self.token_faults, "token_faults"))

    @classmethod
    def build(cls, **options: Any) -> SandboxOptions:
        """`SandboxOptions(**options)` that names an unknown option instead of a TypeError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown sandbox option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)

    @property
    def effective_fault_seed(self) -> int:
        return self.seed if self.fault_seed is None else self.fault_seed

    def to_cli_args(self) -> list[str]:
        """The CLI flags that rebuild these options in a child process."""
        args: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            flag = "--" + f.name.replace("_", "-")
            if f.name in ("faults", "token_faults"):
                single = "--fault" if f.name == "faults" else "--token-fault"
                for rule in value:
                    args += [single, _rule_json(rule)]
            elif f.name == "anchor":
                args += [flag, format_anchor(value)]
            elif f.name == "catalog_routes":
                if not value:
                    args.append("--no-catalog-routes")
            elif f.name in ("fault_seed", "rate_limit", "burst"):
                if value is not None:
                    args += [flag, str(value)]
            else:
                args += [flag, str(value)]
        return args


# Bounds of the rate limit: below MIN_RATE a refused client would be told to wait minutes
# (1e-300 made every answer a 429 with a 300-digit Retry-After); above the maxima a limit
# means nothing on one machine.
MIN_RATE, MAX_RATE, MAX_BURST = 0.01, 1_000_000, 1_000_000


def check_rate_limit(rate_limit: Any, burst: Any) -> None:
    """A rate in [MIN_RATE, MAX_RATE] requests/s (or None) and a whole burst in [1, MAX_BURST]
    (or None, only with a rate)."""
    if rate_limit is not None and (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, (int, float))
        or not MIN_RATE <= rate_limit <= MAX_RATE
    ):
        raise ValueError(
            f"sandbox option rate_limit={_short(rate_limit)} must be a number of requests per second "
            f"from {MIN_RATE} to {MAX_RATE}"
        )
    if burst is not None:
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= MAX_BURST:
            raise ValueError(f"sandbox option burst={_short(burst)} must be a whole number from 1 to {MAX_BURST}")
        if rate_limit is None:
            raise ValueError("sandbox option burst needs rate_limit")


def _short(value: Any) -> str:
    """A value for an error message, cut if huge (a 300-digit burst is not worth echoing)."""
    text = repr(value)
    return text if len(text) <= 24 else text[:20] + "..."


def default_anchor() -> datetime:
    """Now, floored to the hour, in UTC: stable for an hour, so restarts usually agree."""
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


def parse_anchor(value: datetime | str | None) -> datetime:
    if value is None:
        return default_anchor()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"sandbox option anchor={value!r} is not an ISO 8601 datetime") from None
    if not isinstance(value, datetime):
        raise ValueError(f"sandbox option anchor={value!r} must be a datetime or an ISO 8601 string")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_anchor(value: datetime) -> str:
    return value.isoformat()


def _rules(value: Iterable[Any], name: str) -> tuple[FaultRule, ...]:
    if isinstance(value, (str, bytes, Mapping)):
        raise ValueError(f"sandbox option {name} must be a list of fault rules")
    rules = []
    for item in value:
        if isinstance(item, FaultRule):
            rules.append(item)
        elif isinstance(item, str):
            rules.append(FaultRule.parse(item))
        else:
            rules.append(FaultRule.from_json(item))
    return tuple(rules)


def _rule_json(rule: FaultRule) -> str:
    import json

    return json.dumps(rule.to_json(), separators=(",", ":"))
