"""The plain loop: one `requests.Session`, one token, pages in order, JSON Lines written page by page.

What a data engineer writes with no library: the base line every ratio is taken against. Under a
rate limit it waits what `Retry-After` says (fractional seconds too) and asks for the page again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from benchmarks.peers.output import ORDER_ID, credentials, jsonl_counts, timed, write_pages


def fetch_token(token_url: str, client_id: str, client_secret: str) -> str:
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    response = requests.post(token_url, data=data, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def order_pages(session: requests.Session, url: str, page_size: int) -> Iterator[list[dict[str, Any]]]:
    index, pages = 0, 1
    while index < pages:
        response = session.get(f"{url}/v1/orders", params={"pageSize": page_size, "pageIndex": index}, timeout=30)
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        response.raise_for_status()
        body = response.json()
        yield body["result"]
        index, pages = index + 1, body["totalPages"]


def plain_loop(url: str, token_url: str, page_size: int, path: Path) -> int:
    client_id, client_secret = credentials()
    with requests.Session() as session, path.open("wb") as out:
        session.headers["Authorization"] = f"Bearer {fetch_token(token_url, client_id, client_secret)}"
        return write_pages(out, order_pages(session, url, page_size))


def run(url: str, token_url: str, page_size: int, out: str) -> dict[str, Any]:
    """Child side (`python -m benchmarks.child benchmarks.peers.plain:run ...`)."""
    path = Path(out) / "orders.jsonl"
    seconds = timed(lambda: plain_loop(url, token_url, page_size, path))
    return {"seconds": seconds, **jsonl_counts([path], ORDER_ID)}
