"""A listing knows what it promised; short listings are never silent.

A small misbehaving platform on 127.0.0.1 (real HTTP) serves 30 products in pages that fall short
in the ways real servers do; the sandbox itself always answers correctly.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreListingIncompleteError

TOTAL = 30
RECORDS = [{"productId": f"p{i:02}", "slug": f"slug-{i}", "title": f"Product {i}"} for i in range(TOTAL)]

# scenario(index, size) -> (items, totalRecordsFound, totalPages, echoed pageSize)
Scenario = Callable[[int, int], tuple[list[dict[str, Any]], int, int, int]]


def honest(index: int, size: int) -> tuple[list[dict[str, Any]], int, int, int]:
    return RECORDS[index * size : (index + 1) * size], TOTAL, -(-TOTAL // size), size


def empty_second_page(index: int, size: int) -> tuple[list[dict[str, Any]], int, int, int]:
    items, total, pages, echoed = honest(index, size)
    return ([] if index == 1 else items), total, pages, echoed


def unechoed_cap(index: int, size: int) -> tuple[list[dict[str, Any]], int, int, int]:
    items, total, pages, echoed = honest(index, size)
    return items[:5], total, pages, echoed  # applies 5 a page, says `size`


def insert_during_listing(index: int, size: int) -> tuple[list[dict[str, Any]], int, int, int]:
    if index == 0:
        return honest(index, size)
    shifted = [{"productId": "new", "slug": "new", "title": "New"}, *RECORDS]  # inserted first
    return shifted[index * size : (index + 1) * size], TOTAL + 1, -(-TOTAL // size), size


class _Platform(http.server.BaseHTTPRequestHandler):
    scenario: Scenario = honest

    def _json(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json({"access_token": "short-listing-token", "expires_in": 3600, "token_type": "Bearer"})

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        size, index = int(query["pageSize"][0]), int(query["pageIndex"][0])
        items, total, pages, echoed = type(self).scenario(index, size)
        self._json(
            {"result": items, "pageSize": echoed, "pageIndex": index, "totalRecordsFound": total, "totalPages": pages}
        )

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Scenario], str]]:
    """platform(scenario) -> conn_id of a connection to a server behaving as `scenario` says."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(scenario: Scenario) -> str:
        handler = type("Handler", (_Platform,), {"scenario": staticmethod(scenario)})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        conn = {
            "conn_type": "simplestore",
            "host": url,
            "login": "client",
            "password": "secret-of-the-test",
            "extra": {"auth_url": url + "/connect/token", "max_retries": 0, "page_size": 10},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", json.dumps(conn))
        return "simplestore_default"

    yield start
    for server in servers:
        server.shutdown()
        with contextlib.suppress(OSError):
            server.server_close()


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["productId"] for item in items]


@pytest.mark.parametrize(
    ("scenario", "expected", "numbers"),
    [
        (
            empty_second_page,
            [f"p{i:02}" for i in (*range(10), *range(20, 30))],
            ["page 1 of 3 held 0 of 10 records", "20 of the 30 records"],
        ),
        (
            unechoed_cap,
            [f"p{i:02}" for i in (*range(5), *range(10, 15), *range(20, 25))],
            ["page 0 of 3 held 5 of 10", "15 of the 30 records"],
        ),
    ],
)
def test_sequential_and_parallel_give_the_same_records_and_say_what_is_missing(
    platform: Callable[[Scenario], str],
    client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    scenario: Scenario,
    expected: list[str],
    numbers: list[str],
) -> None:
    c = client(platform(scenario))
    for workers in (1, 3):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert ids(c.items("paginate", "/v1/products", max_workers=workers)) == expected
        warnings = " ".join(r.getMessage() for r in caplog.records if "incomplete" in r.getMessage())
        assert all(number in warnings for number in numbers), warnings


def test_an_honest_listing_says_nothing(
    platform: Callable[[Scenario], str], client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    c = client(platform(honest))
    with caplog.at_level(logging.WARNING):
        assert ids(c.items("paginate", "/v1/products")) == ids(RECORDS)
    assert not [r for r in caplog.records if "incomplete" in r.getMessage()]


def export(tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

    return SimpleStoreToObjectStorageOperator(
        task_id="export", resource="products", destination=str(tmp_path / "products.jsonl"), **kwargs
    ).execute({})


def test_the_export_fails_on_a_short_listing_by_default_and_keeps_it_on_warn(
    platform: Callable[[Scenario], str], tmp_path: Path
) -> None:
    platform(empty_second_page)
    with pytest.raises(SimpleStoreListingIncompleteError, match="20 of the 30 records"):
        export(tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    summary = export(tmp_path, on_incomplete="warn")
    assert summary["records"] == 20 and (tmp_path / "products.jsonl").read_text().count("\n") == 20


def test_the_export_writes_each_record_once_when_an_insert_shifts_the_pages(
    platform: Callable[[Scenario], str], tmp_path: Path
) -> None:
    platform(insert_during_listing)
    with pytest.raises(SimpleStoreListingIncompleteError, match="the total went from 30 to 31"):
        export(tmp_path)
    summary = export(tmp_path, on_incomplete="warn")
    lines = [json.loads(line)["productId"] for line in (tmp_path / "products.jsonl").read_text().splitlines()]
    # Page 1 starts one record early (p09 again); the last record slid past the planned pages.
    assert len(lines) == len(set(lines)) == summary["records"] == TOTAL - 1
    assert summary["duplicates_dropped"] == 1


def test_the_sql_load_fails_on_a_short_listing_by_default(
    platform: Callable[[Scenario], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator

    platform(unechoed_cap)
    monkeypatch.setenv("AIRFLOW_CONN_SQLITE_SHORT", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "s.db")}))
    load: dict[str, Any] = {
        "task_id": "load",
        "resource": "products",
        "table": "products",
        "sql_conn_id": "sqlite_short",
    }
    with pytest.raises(SimpleStoreListingIncompleteError, match="15 of the 30 records"):
        SimpleStoreToSqlOperator(**load).execute({})
    assert SimpleStoreToSqlOperator(**load, on_incomplete="warn").execute({}) == 15
