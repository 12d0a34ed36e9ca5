"""The candidates that run on Airflow (the project's .venv): the provider's export and SQL load, and
`HttpOperator` with a `pagination_function`.

Each `*_task` function is what a user writes in a DAG file (the lines counted as user code); `run_*`
is the child side: build the task, time `execute`, check what it wrote. Connections come from
`AIRFLOW_CONN_*` variables set by the parent, as a deployment injects them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import tenacity
from airflow.providers.http.operators.http import HttpOperator

from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from benchmarks.harness import execute
from benchmarks.peers.output import (
    HTTP_CONN_ID,
    ORDER_ID,
    SQL_CONN_ID,
    credentials,
    jsonl_counts,
    table_counts,
    timed,
    write_pages,
)
from benchmarks.peers.plain import fetch_token

TABLE = "orders"


def export_task(path: Path, page_size: int, workers: Any) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(
        task_id="export_orders",
        resource="orders",
        incremental=False,
        destination=str(path),
        page_size=page_size,
        max_workers=workers,
    )


def sql_task(page_size: int, workers: Any) -> SimpleStoreToSqlOperator:
    return SimpleStoreToSqlOperator(
        task_id="load_orders",
        resource="orders",
        incremental=False,
        table=TABLE,
        sql_conn_id=SQL_CONN_ID,
        page_size=page_size,
        max_workers=workers,
    )


def http_task(token_url: str, path: Path, page_size: int) -> HttpOperator:
    client_id, client_secret = credentials()
    token = fetch_token(token_url, client_id, client_secret)

    def next_page(response: Any) -> dict[str, Any] | None:
        body = response.json()
        index = body["pageIndex"] + 1
        return {"data": {"pageIndex": index}} if index < body["totalPages"] else None

    def write(responses: list[Any]) -> int:
        with path.open("wb") as out:
            return write_pages(out, (response.json()["result"] for response in responses))

    return HttpOperator(
        task_id="get_orders",
        http_conn_id=HTTP_CONN_ID,
        method="GET",
        endpoint="v1/orders",
        data={"pageSize": page_size, "pageIndex": 0},
        headers={"Authorization": f"Bearer {token}"},
        pagination_function=next_page,
        response_filter=write,
        # As the HTTP provider's docs show it: without retries a single 429 fails the task.
        retry_args={
            "wait": tenacity.wait_exponential(),
            "stop": tenacity.stop_after_attempt(10),
            "retry": tenacity.retry_if_exception_type(Exception),
        },
    )


# ---- child side: every run_* takes the same arguments (the connections carry the URL) -----------


def as_task_runner() -> None:
    """What a task process has done before `execute`, untimed: it is forked from the supervisor (its
    modules loaded) and runs the task runner, which loads the plugins (listeners)."""
    import airflow.sdk.execution_time.supervisor
    import airflow.sdk.execution_time.task_runner  # noqa: F401
    from airflow.sdk.listener import get_listener_manager

    get_listener_manager()


def run_export(url: str, token_url: str, page_size: int, out: str, workers: Any) -> dict[str, Any]:
    as_task_runner()
    path = Path(out) / "orders.jsonl"
    seconds = timed(lambda: execute(export_task(path, page_size, workers)))
    return {"seconds": seconds, **jsonl_counts([path], ORDER_ID)}


def run_sql(url: str, token_url: str, page_size: int, out: str, workers: Any) -> dict[str, Any]:
    as_task_runner()
    seconds = timed(lambda: execute(sql_task(page_size, workers)))
    with closing(sqlite3.connect(Path(out) / "orders.db")) as conn:
        return {"seconds": seconds, **table_counts(conn, TABLE, "id")}


def run_http(url: str, token_url: str, page_size: int, out: str) -> dict[str, Any]:
    as_task_runner()
    path = Path(out) / "orders.jsonl"
    seconds = timed(lambda: execute(http_task(token_url, path, page_size)))
    return {"seconds": seconds, **jsonl_counts([path], ORDER_ID)}
