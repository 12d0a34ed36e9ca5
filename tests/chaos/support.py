"""Helpers for the chaos suite: fault mixes, connection extras, and the sandbox's own listings."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

# Read timeout far below the `slow` fault's delay, and short waits, so faults cost little time.
# The sandbox sends Retry-After in whole seconds (HTTP delta-seconds); max_retry_wait caps what
# the client waits for it.
FAST_RETRY_EXTRAS: dict[str, Any] = {
    "timeout": 0.5,
    "connect_timeout": 2,
    "max_retries": 10,
    "max_retry_wait": 0.25,
    "retry_deadline": 120,
}
SLOW_DELAY = 1.5  # seconds a `slow` fault holds a request: three times the read timeout


def fault_mix(shares: dict[str, float], **rule: Any) -> list[dict[str, Any]]:
    """Rules that fault these shares of all requests (e.g. {"503": 0.10, "reset": 0.02}).

    The sandbox tries rules in order, one draw each, until one fires; so each rule's probability
    is its share divided by what the earlier rules left over.
    """
    rules, left = [], 1.0
    for kind, share in shares.items():
        extra: dict[str, Any] = {}
        if kind in ("429", "503"):
            # The sandbox sends whole seconds (0.1 would go out as 1, beyond max_retry_wait, and a
            # Retry-After beyond the cap now stops the retries): 0 means "retry at once".
            extra["retry_after"] = 0
        if kind == "slow":
            extra["delay"] = SLOW_DELAY
        rules.append({"kind": kind, "probability": share / left, **extra, **rule})
        left -= share
    return rules


def canonical(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def content_hash(record: Any) -> str:
    return hashlib.sha256(canonical(record).encode()).hexdigest()


def sandbox_token(sb: Any) -> str:
    data = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    response = requests.post(sb.token_url, data=data, timeout=10)
    response.raise_for_status()
    return str(response.json()["access_token"])


def listing(sb: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    """The sandbox's own view of a list endpoint, read with plain requests and no provider code.

    Call it while no faults are set."""
    headers = {"Authorization": f"Bearer {sandbox_token(sb)}"}
    items: list[dict[str, Any]] = []
    for index in range(100_000):
        response = requests.get(
            sb.url + path, params={**params, "pageSize": 100, "pageIndex": index}, headers=headers, timeout=10
        )
        response.raise_for_status()
        page = response.json()
        items.extend(page["result"])
        if index + 1 >= page["totalPages"]:
            break
    return items


def hashes_by_id(records: list[dict[str, Any]], id_field: str) -> dict[str, str]:
    """id -> content hash; fails on a duplicate id."""
    out: dict[str, str] = {}
    for record in records:
        key = record[id_field]
        assert key not in out, f"{id_field} {key} appears twice"
        out[key] = content_hash(record)
    return out
