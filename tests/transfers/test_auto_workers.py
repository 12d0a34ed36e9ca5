"""max_workers="auto" through the export and SQL operators, against a rate-limited sandbox."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from tests.operator_support import context, listing


@pytest.fixture
def limited(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(orders=300, rate_limit=60, burst=2, latency_ms=5)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def test_export_with_auto_writes_the_same_bytes_as_one_worker(limited: Any, tmp_path: Path) -> None:
    summaries = [
        SimpleStoreToObjectStorageOperator(
            task_id=f"export_{n}",
            resource="orders",
            incremental=False,
            page_size=10,
            destination=str(tmp_path / f"orders-{n}.jsonl"),
            max_workers=n,
        ).execute(context())
        for n in (1, "auto")
    ]
    assert summaries[0]["sha256"] == summaries[1]["sha256"] and summaries[1]["records"] == 300
    lines = (tmp_path / "orders-auto.jsonl").read_text().splitlines()
    limited.set_rate_limit(None)  # the reference listing below does not retry
    assert [json.loads(line) for line in lines] == listing(limited, "/v1/orders")


def test_sql_load_with_auto_upserts_every_record(limited: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "sync.db"
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_DB", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    written = SimpleStoreToSqlOperator(
        task_id="load",
        sql_conn_id="sync_db",
        resource="orders",
        table="orders",
        incremental=False,
        page_size=10,
        max_workers="auto",
    ).execute(context())
    assert written == 300
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM orders ORDER BY rowid")]
    limited.set_rate_limit(None)
    assert ids == [order["orderId"] for order in listing(limited, "/v1/orders")]


@pytest.mark.parametrize("value", [0, "many", "Auto", 1.5])
def test_operators_refuse_other_worker_counts(value: Any) -> None:
    with pytest.raises(SimpleStoreConfigError, match="max_workers"):
        SimpleStoreToObjectStorageOperator(
            task_id="e", resource="orders", destination="/tmp/x.jsonl", max_workers=value
        )
    with pytest.raises(SimpleStoreConfigError, match="max_workers"):
        SimpleStoreToSqlOperator(task_id="s", resource="orders", table="t", max_workers=value)


def test_an_auto_export_against_a_tight_bucket_refuses_few_and_gives_up_on_none(
    fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """200 requests/s with a bucket of 20, a tenth of a second's worth: "auto" grows to 16 pages in
    flight before the first 429, then the pacer learns the rate and every page waits its turn. What
    is checked is counts: every record, one token, no page given up after its retries, few
    requests refused. How close it comes to the limit is timing: benchmarks/rate_limit.py."""
    sb = fresh_sandbox(orders=8000, rate_limit=200, burst=20)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    summary = SimpleStoreToObjectStorageOperator(
        task_id="export",
        resource="orders",
        incremental=False,
        page_size=10,
        max_workers="auto",
        destination=str(tmp_path / "orders.jsonl"),
    ).execute(context())
    stats = sb.stats()
    requests = stats["requests"]["GET /v1/orders"]
    assert summary["records"] == 8000 and summary["duplicates_dropped"] == 0
    assert stats["token_grants"] == 1
    # The first 429s are the pages already in flight when the bucket ran dry (up to 16); after that
    # one in a few hundred. Without pacing a page was refused six times running and the export failed.
    assert stats["rate_limited"] <= 0.05 * requests, (stats["rate_limited"], requests)
