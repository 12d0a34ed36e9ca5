"""Helpers for the sandbox tests (importable, unlike conftest)."""

from __future__ import annotations

from typing import Any

import requests

SMALL: dict[str, Any] = {
    "products": 30,
    "customers": 8,
    "orders": 20,
    "categories": 4,
    "collections": 3,
    "specials": 2,
    "folders": 4,
}


def token_for(sb: Any) -> str:
    response = requests.post(
        sb.token_url,
        data={"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


class Client(requests.Session):
    """A session with a bearer token whose relative paths resolve against the sandbox URL."""

    def __init__(self, sb: Any) -> None:
        super().__init__()
        self.sb = sb
        self.headers["Authorization"] = f"Bearer {token_for(sb)}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        if isinstance(url, str) and url.startswith("/"):
            url = self.sb.url + url
        return super().request(method, url, *args, **kwargs)


def assert_problem(response: requests.Response, status: int, *, detail_contains: str | None = None) -> dict[str, Any]:
    """An RFC 7807 problem body with this status (and, if given, words in its detail)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if detail_contains is not None:
        assert detail_contains.lower() in body["detail"].lower(), body["detail"]
    return dict(body)
