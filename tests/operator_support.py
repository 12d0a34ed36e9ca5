"""Helpers for the operator tests: the sandbox's own listings, and a bare task context."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import requests

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


def listing(sb: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list endpoint, read with plain requests (not through the provider)."""
    token = requests.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret},
        timeout=10,
    ).json()["access_token"]
    items: list[dict[str, Any]] = []
    index = 0
    while True:
        page = requests.get(
            sb.url + path,
            params={**params, "pageSize": 100, "pageIndex": index},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        items.extend(page["result"])
        index += 1
        if index >= page["totalPages"]:
            return items


def total_requests(sb: Any) -> int:
    return sum(sb.stats()["requests"].values())


def context(start: dt.datetime | None = None, end: dt.datetime | None = None) -> Context:
    """The part of a task context the operators read."""
    return cast("Context", {"data_interval_start": start, "data_interval_end": end})


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
