"""Every operator and the sensor close their hook when the task ends (done, failed or deferred):
a worker process runs task after task, and pooled keep-alive sockets must not pile up."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from airflow_provider_simplestore.operators.simplestore import SimpleStoreOperator
from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.timestamps import iso
from tests.hooks.test_close import pooled_sockets
from tests.operator_support import context


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every requests Session a hook hands out during the test (the real one, only recorded)."""
    seen: list[Any] = []
    real_get_conn = SimpleStoreHook.get_conn

    def recording(self: SimpleStoreHook, pool_size: int = 0) -> Any:
        session = real_get_conn(self, pool_size)
        if all(session is not s for s in seen):
            seen.append(session)
        return session

    monkeypatch.setattr(SimpleStoreHook, "get_conn", recording)
    yield seen


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=5, products=8, customers=3, orders=6)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    return sb


def assert_all_closed(sessions: list[Any]) -> None:
    assert sessions, "no hook was used"
    for session in sessions:
        assert not pooled_sockets(session), "a pooled socket outlived the task"
        assert all(not adapter.poolmanager.pools for adapter in session.adapters.values())


def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_DB", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "s.db")}))
    source = tmp_path / "products.jsonl"
    source.write_text(json.dumps({"slug": "closing-mug", "title": "Mug"}) + "\n")
    return {
        "operator": lambda: SimpleStoreOperator(task_id="one", endpoint="/v1/configuration").execute(context()),
        "export": lambda: SimpleStoreToObjectStorageOperator(
            task_id="export", resource="products", destination=str(tmp_path / "p.jsonl")
        ).execute(context()),
        "sql": lambda: SimpleStoreToSqlOperator(
            task_id="load", resource="customers", table="customers", sql_conn_id="sync_db"
        ).execute(context()),
        "import": lambda: SimpleStoreImportOperator(task_id="import", resource="products", source=str(source)).execute(
            context()
        ),
        "sensor": lambda: SimpleStoreOrdersSensor(
            task_id="wait", since="2000-01-01T00:00:00Z", poke_interval=0.05, timeout=10
        ).execute(context()),
    }


@pytest.mark.parametrize("which", ["operator", "export", "sql", "import", "sensor"])
def test_a_finished_task_closes_its_hook(
    shop: Any, sessions: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    tasks(tmp_path, monkeypatch)[which]()
    assert_all_closed(sessions)


def test_a_failed_task_closes_its_hook(shop: Any, sessions: list[Any]) -> None:
    with pytest.raises(AirflowException):
        SimpleStoreOperator(task_id="one", endpoint="/v1/products/no-such-product").execute(context())
    assert_all_closed(sessions)


def test_a_deferring_sensor_closes_its_hook(shop: Any, sessions: list[Any]) -> None:
    future = iso(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    sensor = SimpleStoreOrdersSensor(task_id="wait", since=future, deferrable=True, timeout=60)
    with pytest.raises(TaskDeferred):
        sensor.execute(context())
    assert_all_closed(sessions)
