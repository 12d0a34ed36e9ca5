"""Lineage outside the sync operators, for real: a `@task` that uses SimpleStoreHook directly shows up
in OpenLineage through Airflow's hook lineage collector, and an export to a fixed destination emits
its asset event on its static outlet (no alias). One run of a small DAG of the test's own, in a child
process with the OpenLineage file transport (see test_example_dags_lineage.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore import compat
from tests.dags.test_example_dags_lineage import asset_events, lineage_run, names, task_events  # noqa: F401
from tests.operator_support import listing

DAG_FILE = """
from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

with DAG("simplestore_lineage_probe", schedule=None, start_date=datetime(2025, 1, 1, tzinfo=timezone.utc)) as dag:

    @task
    def use_hook() -> int:
        from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

        with SimpleStoreHook() as hook:
            orders = sum(1 for _ in hook.list_orders(page_size=5))  # six pages
            hook.create_customer({"emailAddress": "lineage@example.com", "firstName": "Lin"})
        return orders

    use_hook() >> SimpleStoreToObjectStorageOperator(task_id="export_fixed", resource="categories",
                                            destination="{destination}")
"""


@pytest.mark.skipif(
    compat.AIRFLOW_RELEASE[:2] == (3, 0),
    reason=(
        "Airflow 3.0's dag.test() refuses an outlet asset that no DAG processor registered "
        "(AirflowInactiveAssetInInletOrOutletException); deployments register it when they parse the DAG"
    ),
)
def test_hook_lineage_and_a_static_outlet(
    lineage_run: Callable[..., Any],  # noqa: F811 - the fixture, imported above
    airflow_db: Path,
    fresh_sandbox: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    sb = fresh_sandbox(seed=8, orders=30, categories=6)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    destination = tmp_path / "out" / "categories.jsonl"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "lineage_probe.py").write_text(DAG_FILE.replace("{destination}", str(destination)))
    events = lineage_run(dags / "lineage_probe.py", dt.datetime(2026, 3, 7, tzinfo=dt.timezone.utc))

    api = "simplestore://" + sb.url.split("://", 1)[1]
    complete = task_events(events, "simplestore_lineage_probe", "use_hook")["COMPLETE"]
    assert names(complete["inputs"]) == [(api, "orders")]  # one input, however many pages
    assert names(complete["outputs"]) == [(api, "customers")]

    [event] = [e for e in asset_events(airflow_db, "simplestore_lineage_probe") if e["task_id"] == "export_fixed"]
    assert event["uri"] == f"file://{destination}" and event["aliases"] == []
    assert event["extra"]["records"] == len(listing(sb, "/v1/categories"))
    assert event["extra"]["sha256"] == hashlib.sha256(destination.read_bytes()).hexdigest()
