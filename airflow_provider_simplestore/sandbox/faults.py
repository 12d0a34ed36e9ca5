"""Fault rules and the seeded draw that decides, request by request, which fault fires."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

PHASES = ("before", "after")
DEFAULT_RETRY_AFTER = 1.0
DEFAULT_SLOW_DELAY = 10.0


@dataclass(frozen=True)
class FaultKind:
    """What a fault does to the request it hits (the middleware reads nothing else)."""

    status: int | None = None  # answered with this error status (a problem+json body)
    retry_after: bool = False  # the error carries the rule's Retry-After
    reset: bool = False  # the socket is closed with no HTTP answer at all
    # Neither a status nor a reset: `slow`, the request is held the rule's `delay`, then served.


# The one table of fault kinds, in the order `GET /_sandbox/stats` lists them.
FAULT_KINDS: dict[str, FaultKind] = {
    "500": FaultKind(500),
    "502": FaultKind(502),
    "503": FaultKind(503, retry_after=True),
    "504": FaultKind(504),
    "429": FaultKind(429, retry_after=True),
    "reset": FaultKind(reset=True),
    "slow": FaultKind(),
}


class FaultSpecError(ValueError):
    """A fault rule that cannot be understood; the message names the bad part."""


@dataclass(frozen=True)
class FaultRule:
    """One kind of fault, fired with `probability` on the requests its filters select."""

    kind: str
    probability: float
    methods: tuple[str, ...] | None = None
    routes: tuple[str, ...] | None = None
    phase: str = "before"
    retry_after: float = DEFAULT_RETRY_AFTER
    delay: float = DEFAULT_SLOW_DELAY

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultSpecError(f"fault kind {self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise FaultSpecError(f"fault probability {self.probability!r} is not between 0 and 1")
        if self.phase not in PHASES:
            raise FaultSpecError(f"fault phase {self.phase!r} is not 'before' or 'after'")
        if self.retry_after < 0 or self.delay < 0:
            raise FaultSpecError("fault retry_after and delay must not be negative")

    def selects(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.routes is None or any(path.startswith(route) for route in self.routes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("methods", "routes"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from the JSON shape of `POST /_sandbox/faults` (unknown keys are an error)."""
        if not isinstance(data, Mapping):
            raise FaultSpecError(f"a fault rule must be an object, got {type(data).__name__}")
        known = {"kind", "probability", "methods", "routes", "phase", "retry_after", "delay"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultSpecError(f"unknown fault rule field(s): {', '.join(unknown)}")
        if "kind" not in data or "probability" not in data:
            raise FaultSpecError("a fault rule needs 'kind' and 'probability'")
        try:
            return cls(
                kind=str(data["kind"]).lower(),
                probability=_number(data["probability"], "probability"),
                methods=_names(data.get("methods"), "methods", upper=True),
                routes=_names(data.get("routes"), "routes", upper=False),
                phase=str(data.get("phase") or "before"),
                retry_after=_number(data.get("retry_after", DEFAULT_RETRY_AFTER), "retry_after"),
                delay=_number(data.get("delay", DEFAULT_SLOW_DELAY), "delay"),
            )
        except TypeError as exc:
            raise FaultSpecError(str(exc)) from None

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """Parse the CLI form `KIND:PROBABILITY[:key=value,...]` or a JSON object.

        Keys: `phase=before|after`, `methods=GET|POST`, `routes=/v1/orders|/v1/products`,
        `retry_after=SECONDS`, `delay=SECONDS`. Example: `503:0.1:phase=after,methods=POST`.
        """
        spec = spec.strip()
        if spec.startswith("{"):
            try:
                return cls.from_json(json.loads(spec))
            except json.JSONDecodeError as exc:
                raise FaultSpecError(f"fault {spec!r} is not valid JSON: {exc}") from None
        parts = spec.split(":", 2)
        if len(parts) < 2:
            raise FaultSpecError(f"fault {spec!r} is not KIND:PROBABILITY[:key=value,...]")
        data: dict[str, Any] = {"kind": parts[0], "probability": parts[1]}
        if len(parts) == 3 and parts[2]:
            for item in parts[2].split(","):
                key, sep, value = item.partition("=")
                if not sep:
                    raise FaultSpecError(f"fault option {item!r} in {spec!r} is not key=value")
                key = key.strip().replace("-", "_")
                data[key] = value.split("|") if key in ("methods", "routes") else value
        return cls.from_json(data)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise FaultSpecError(f"fault {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FaultSpecError(f"fault {name} must be a number, got {value!r}") from None


def _names(value: Any, name: str, *, upper: bool) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise FaultSpecError(f"fault {name} must be a list of strings or null")
    items = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise FaultSpecError(f"fault {name} must be a list of non-empty strings")
        items.append(item.upper() if upper else item)
    return tuple(items)


class FaultPlan:
    """The active rules and their seeded random streams (API and token draws are independent).

    For each request the rules that select it are tried in order, one draw each, until one fires,
    so a fixed seed and a fixed request sequence give the same faults every run.
    """

    def __init__(self, rules: Iterable[FaultRule] = (), token_rules: Iterable[FaultRule] = (), seed: int = 0) -> None:
        self.rules = tuple(rules)
        self.token_rules = tuple(token_rules)
        self.seed = seed
        self._api_random = random.Random(f"api-faults-{seed}")
        self._token_random = random.Random(f"token-faults-{seed}")

    def draw(self, method: str, path: str, *, token: bool = False) -> FaultRule | None:
        rules = self.token_rules if token else self.rules
        if not rules:
            return None
        rng = self._token_random if token else self._api_random
        for rule in rules:
            if rule.selects(method, path) and rng.random() < rule.probability:
                return rule
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rules": [rule.to_json() for rule in self.rules],
            "token_rules": [rule.to_json() for rule in self.token_rules],
        }
