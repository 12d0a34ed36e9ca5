"""Data-aware scheduling on a real local deployment: after `simplestore_new_orders_export` writes a
file, the scheduler itself starts `simplestore_new_orders_check` (scheduled on the export's asset
alias), seen through the REST API.

A deployment of its own (see harness.py), because asset-triggered runs need the scheduler's job
schedule, which test_example_dags_deployment.py turns off to keep the cron DAGs from starting runs
of their own. Here the cron DAGs stay paused (as new DAGs are) and only the two DAGs under test are
unpaused: the export has no schedule, the check DAG only the asset one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import OUTPUT_DIR, REPO_ROOT, AirflowHome, Deployment, Redactor, free_port, wait_for

pytestmark = pytest.mark.deployment

ROOT = OUTPUT_DIR / "assets"
EXPORTS = ROOT / "exports"
SECRET = f"assets-secret-{secrets.token_hex(12)}"
EXPORT_DAG, CHECK_DAG = "simplestore_new_orders_export", "simplestore_new_orders_check"


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    with run_sandbox(seed=22, orders=120, client_secret=SECRET) as sb:
        yield sb


@pytest.fixture(scope="module")
def deployment(store: Any) -> Iterator[Deployment]:
    home = AirflowHome(
        "assets",
        dags_folder=REPO_ROOT / "dags_examples",
        api_port=free_port(),
        redactor=Redactor(SECRET),
        env={
            "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": store.connection_json(),
            "AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE": f"file://{EXPORTS}",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__PARALLELISM": "4",
        },
    ).migrate()
    running = Deployment(home)
    try:
        yield running.start()
    finally:
        running.stop()


def test_the_scheduler_starts_the_check_dag_after_the_orders_export(deployment: Deployment, store: Any) -> None:
    from tests.operator_support import listing

    api = deployment.api
    for dag_id in (EXPORT_DAG, CHECK_DAG):
        deployment.wait_for_dag(dag_id)
        api.unpause(dag_id)
    # The run's interval starts before the three newest orders: the sensor finds them at once.
    third_newest = sorted(o["createdOnUtc"] for o in listing(store, "/v1/orders"))[-3]
    since = dt.datetime.fromisoformat(third_newest.replace("Z", "+00:00")).replace(microsecond=0)
    run_id = api.trigger(EXPORT_DAG, logical_date=since.isoformat())
    deployment.wait_for_run(EXPORT_DAG, run_id, timeout=180)
    exported = EXPORTS / "orders" / "new" / f"{since.strftime('%Y%m%dT%H%M%S')}.jsonl"
    assert len(exported.read_text().splitlines()) >= 3

    # Nobody triggers the check DAG: the scheduler starts it on the export's asset event.
    [started] = wait_for(
        lambda: api.get(f"/api/v2/dags/{CHECK_DAG}/dagRuns")["dag_runs"],
        timeout=120,
        what=f"the scheduler to start {CHECK_DAG} after the export",
        abort=deployment.abort_reason,
        diagnostics=deployment.diagnostics,
    )
    run = deployment.wait_for_run(CHECK_DAG, started["dag_run_id"])
    assert run["run_type"] == "asset_triggered"
    checked = api.xcom(CHECK_DAG, run["dag_run_id"], "check_exports")
    assert checked == [{"uri": f"file://{exported}", "records": len(exported.read_text().splitlines())}]

    events = api.get("/api/v2/assets/events", source_dag_id=EXPORT_DAG)["asset_events"]
    [event] = [e for e in events if e["uri"] == f"file://{exported}"]
    assert event["source_run_id"] == run_id
    assert event["extra"]["records"] == checked[0]["records"] and len(event["extra"]["sha256"]) == 64
