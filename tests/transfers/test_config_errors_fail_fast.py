"""Configuration errors fail the task at once (no retries), saying how to fix them;
the SQL example needs no setup on a fresh Airflow."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreCredentialsError
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from tests.operator_support import context


def test_a_missing_simplestore_connection_fails_at_once_saying_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SIMPLESTORE_NOWHERE", raising=False)
    operator = SimpleStoreToObjectStorageOperator(
        task_id="export",
        resource="products",
        destination=str(tmp_path / "p.jsonl"),
        simplestore_conn_id="simplestore_nowhere",
    )
    with pytest.raises(AirflowFailException) as info:
        operator.execute(context())
    assert isinstance(info.value, SimpleStoreConfigError)
    assert "'simplestore_nowhere' is not defined" in str(info.value)
    assert "AIRFLOW_CONN_SIMPLESTORE_NOWHERE" in str(info.value)


def test_a_bad_field_fails_at_once(
    fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sb = fresh_sandbox(products=2, customers=1, orders=1)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(timeout="soon"))
    with pytest.raises(AirflowFailException, match="field 'timeout' must be a number"):
        SimpleStoreToObjectStorageOperator(
            task_id="export", resource="products", destination=str(tmp_path / "p.jsonl")
        ).execute(context())


def test_rejected_credentials_fail_at_once_without_retrying(
    fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    sb = fresh_sandbox(products=2, customers=1, orders=1)
    conn = json.loads(sb.connection_json())
    conn["password"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", json.dumps(conn))
    with pytest.raises(AirflowFailException, match="Check the Client ID and Client Secret") as info:
        SimpleStoreToObjectStorageOperator(
            task_id="export", resource="products", destination=str(tmp_path / "p.jsonl")
        ).execute(context())
    assert isinstance(info.value, SimpleStoreCredentialsError)
    assert sb.stats()["token_requests"] == 1


def test_an_undefined_sql_connection_fails_at_once(simplestore_conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_PG_NOWHERE", raising=False)
    operator = SimpleStoreToSqlOperator(
        task_id="load", resource="categories", table="categories", sql_conn_id="pg_nowhere"
    )
    with pytest.raises(AirflowFailException, match="sql_conn_id 'pg_nowhere' is not defined"):
        operator.execute(context())


def test_without_sqlite_default_the_load_goes_to_an_embedded_file_under_airflow_home(
    simplestore_conn: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SQLITE_DEFAULT", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    operator = SimpleStoreToSqlOperator(task_id="load", resource="categories", table="categories")
    written = operator.execute(context())
    database = tmp_path / "simplestore.db"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM categories").fetchone()[0] == written > 0
    out, err = capfd.readouterr()  # task logs go through structlog to the console
    assert f"using the embedded SQLite database {database}" in out + err


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: SimpleStoreToObjectStorageOperator(task_id="export", destination="/tmp/x.jsonl", **kw),
        lambda **kw: SimpleStoreToSqlOperator(task_id="load", table="t", **kw),
    ],
    ids=["export", "sql"],
)
def test_both_transfers_check_their_source_arguments_when_built(make: Callable[..., Any]) -> None:
    """The reading half the export and SQL transfers share (utils/source.SyncSourceMixin)."""
    bad = {
        "on_incomplete": ("skip", "on_incomplete must be one of fail, warn, got 'skip'"),
        "max_workers": (0, "max_workers"),
        "resource": ("product", "unknown resource 'product'"),
        "incremental": (True, "only orders do"),
    }
    for name, (value, message) in bad.items():
        arguments = {"resource": "products", name: value}
        with pytest.raises(SimpleStoreConfigError, match=message):
            make(**arguments)
    operator = make(
        resource="orders",
        filters={"status": "Paid"},
        page_size=7,
        max_workers="auto",
        on_incomplete="warn",
        created_from="2026-01-01T00:00:00Z",
        progress_interval=3,
    )
    assert (operator.resource, operator.incremental, operator.on_incomplete) == ("orders", True, "warn")
    assert (operator.filters, operator.page_size, operator.max_workers) == ({"status": "Paid"}, 7, "auto")
    assert (operator.created_from, operator.created_to, operator.progress_interval) == ("2026-01-01T00:00:00Z", None, 3)
