"""The example DAGs on a real local deployment, the way users run them.

One deployment for the module, on a fresh AIRFLOW_HOME under test-output/e2e/deployment/ with
dags_examples/ as the DAG folder: `airflow api-server`, `scheduler`, `dag-processor` and
`triggerer` as separate processes, a sandbox, and the connections and Variables in their
environment. Each test triggers one DAG through the REST API, waits for the run's state and checks
what landed as tests/dags does with dag.test().

Executor: LocalExecutor on SQLite. Airflow 3.3 has no SequentialExecutor any more; LocalExecutor
is the default, `airflow standalone` uses it with SQLite too, and it runs reliably here. The
scheduler's cron schedules are off (`use_job_schedule`), so unpausing a DAG starts no run of its
own besides the ones the tests trigger.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.resources import RESOURCES

from .harness import OUTPUT_DIR, REPO_ROOT, AirflowHome, Deployment, Redactor, free_port, wait_for

pytestmark = pytest.mark.deployment

DAGS_FOLDER = REPO_ROOT / "dags_examples"
DAG_IDS = (
    "simplestore_catalog_export",
    "simplestore_orders_to_sql",
    "simplestore_inventory_import",
    "simplestore_new_orders_export",
    "simplestore_new_orders_check",
)
ROOT = OUTPUT_DIR / "deployment"
EXPORTS = ROOT / "exports"
IMPORTS = ROOT / "imports"
ORDERS_DB = ROOT / "orders.db"
SECRET = f"deployment-secret-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    with run_sandbox(seed=21, products=60, customers=10, orders=400, client_secret=SECRET) as sb:
        yield sb


@pytest.fixture(scope="module")
def deployment(store: Any) -> Iterator[Deployment]:
    home = AirflowHome(
        "deployment",
        dags_folder=DAGS_FOLDER,
        api_port=free_port(),
        redactor=Redactor(SECRET),
        env={
            "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": store.connection_json(),
            "AIRFLOW_CONN_SQLITE_DEFAULT": json.dumps({"conn_type": "sqlite", "host": str(ORDERS_DB)}),
            "AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE": f"file://{EXPORTS}",
            "AIRFLOW_VAR_SIMPLESTORE_IMPORT_BASE": f"file://{IMPORTS}",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
        },
    ).migrate()
    running = Deployment(home)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def store_hook(store: Any) -> Iterator[Any]:
    """The sandbox's own view of the data, to compare the DAGs' outputs with."""
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_SIMPLESTORE_E2E_ORACLE", store.connection_json())
        yield SimpleStoreHook(simplestore_conn_id="simplestore_e2e_oracle")


def run_dag(deployment: Deployment, dag_id: str, logical_date: dt.datetime, timeout: float = 180) -> str:
    """Unpause, trigger through the REST API, wait for success; the run id."""
    deployment.wait_for_dag(dag_id)
    deployment.api.unpause(dag_id)
    run_id = deployment.api.trigger(dag_id, logical_date=logical_date.isoformat())
    deployment.wait_for_run(dag_id, run_id, timeout=timeout)
    return run_id


def test_the_dag_processor_parses_every_example_dag(deployment: Deployment) -> None:
    for dag_id in DAG_IDS:
        assert deployment.wait_for_dag(dag_id)["is_stale"] is False
    assert deployment.api.import_errors() == []


def test_catalog_export(deployment: Deployment, store_hook: Any) -> None:
    dag_id = "simplestore_catalog_export"
    run_id = run_dag(deployment, dag_id, dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.timezone.utc))

    folder = EXPORTS / "catalog" / "2026-03-04"
    assert sorted(p.name for p in folder.iterdir()) == [
        "categories.csv", "categories.jsonl", "products.csv", "products.jsonl"
    ]
    for resource, id_field in (("products", "productId"), ("categories", "categoryId")):
        expected = list(store_hook.paginate(RESOURCES[resource].list_path))
        lines = (folder / f"{resource}.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == expected
        with (folder / f"{resource}.csv").open(newline="") as handle:
            assert [row[id_field] for row in csv.DictReader(handle)] == [item[id_field] for item in expected]
        summary = deployment.api.xcom(dag_id, run_id, f"export_{resource}_jsonl")
        assert summary["records"] == len(expected)


def test_orders_to_sql(deployment: Deployment, store_hook: Any) -> None:
    orders = list(store_hook.list_orders())
    by_hour: dict[str, int] = {}
    for order in orders:
        by_hour[order["createdOnUtc"][:13]] = by_hour.get(order["createdOnUtc"][:13], 0) + 1
    busiest = max(sorted(by_hour), key=lambda hour: by_hour[hour])
    hour = dt.datetime.fromisoformat(f"{busiest}:00:00+00:00")
    expected = {o["orderId"]: o for o in orders if o["createdOnUtc"][:13] == busiest}

    # A run at hh+1:00 covers [hh:00, hh+1:00): the hour with the most orders.
    run_dag(deployment, "simplestore_orders_to_sql", hour + dt.timedelta(hours=1))

    with sqlite3.connect(ORDERS_DB) as conn:
        rows = conn.execute("SELECT id, status, created_on_utc, total, document FROM simplestore_orders").fetchall()
    assert sorted(r[0] for r in rows) == sorted(expected)
    for order_id, status, created, total, document in rows:
        order = expected[order_id]
        assert (status, created, total) == (order["status"], order["createdOnUtc"], order["total"])
        assert json.loads(document) == order


CSV_COLUMNS = (
    "inventory.sku", "basePrice.sellPrice", "basePrice.retailPrice", "basePrice.currencyCode",
    "inventory.availableQuantity",
)


def _csv_values(product: dict[str, Any]) -> list[Any]:
    values = []
    for column in CSV_COLUMNS:
        group, name = column.split(".")
        values.append((product.get(group) or {}).get(name))
    return values


def test_inventory_import(deployment: Deployment, store: Any, store_hook: Any) -> None:
    products = list(store_hook.list_products())
    # Two products whose CSV columns all have a value (some seeded prices are null).
    first, second = [p for p in products if None not in _csv_values(p)][:2]
    source = IMPORTS / "inventory" / "2026-03-04.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        ",".join(CSV_COLUMNS),
        f"{first['inventory']['sku']},12.34,15.00,AUD,77",
        ",".join(str(v) for v in _csv_values(second)),  # what it already is: nothing to write
    ]
    source.write_text("\n".join(rows) + "\n")
    puts_before = store.stats()["requests"].get("PUT /v1/products/{productId}", 0)

    dag_id = "simplestore_inventory_import"
    run_id = run_dag(deployment, dag_id, dt.datetime(2026, 3, 4, 5, 30, tzinfo=dt.timezone.utc))

    after = {p["productId"]: p for p in store_hook.list_products()}
    assert len(after) == len(products)
    changed = after[first["productId"]]
    assert (changed["basePrice"]["sellPrice"], changed["basePrice"]["retailPrice"]) == (12.34, 15.0)
    assert changed["inventory"]["availableQuantity"] == 77
    assert after[second["productId"]] == second  # its row matched what was there: unchanged
    assert store.stats()["requests"].get("PUT /v1/products/{productId}", 0) - puts_before == 1
    counts = deployment.api.xcom(dag_id, run_id, "import_inventory")
    assert (counts["updated"], counts["unchanged"], counts["rejected"]) == (1, 1, 0)
    assert not (source.parent / "2026-03-04.csv.rejected.jsonl").exists()


def test_new_orders_sensor_defers_to_the_triggerer_then_exports(deployment: Deployment, store: Any) -> None:
    dag_id, sensor = "simplestore_new_orders_export", "wait_for_orders"
    deployment.wait_for_dag(dag_id)
    deployment.api.unpause(dag_id)
    polls_before = _order_listings(store)
    # The run's interval starts now: no order in the sandbox is that new, so the sensor must wait.
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_id = deployment.api.trigger(dag_id, logical_date=started.isoformat())

    # Deferred: the worker slot is free and the trigger polls from the triggerer process. Orders
    # come only after the trigger's own first poll found none, so it has to keep waiting there.
    deployment.wait_for_task_state(dag_id, run_id, sensor, "deferred", timeout=120)
    wait_for(
        lambda: _order_listings(store) - polls_before >= 2,  # the worker's first poke, the trigger's
        timeout=60,
        what="the trigger's first poll of the sandbox",
        abort=deployment.abort_reason,
        diagnostics=deployment.diagnostics,
    )
    assert deployment.api.task_state(dag_id, run_id, sensor) == "deferred"
    new_ids = store.create_orders(3)
    # The trigger polls every 30 s (with jitter), as the DAG says.
    deployment.wait_for_run(dag_id, run_id, timeout=180)

    task_logs = deployment.home.path / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={sensor}"
    # The triggerer process writes its log in its own time, maybe after the run finished: wait for it.
    wait_for(
        lambda: any("Trigger fired event" in log.read_text(errors="replace")
                    for log in task_logs.glob("attempt=1.log.trigger.*.log")),
        timeout=60,
        what=f"the triggerer's log of {sensor} in {task_logs} to say 'Trigger fired event'",
        abort=deployment.abort_reason,
        diagnostics=deployment.diagnostics,
    )
    assert "Pausing task as DEFERRED" in (task_logs / "attempt=1.log").read_text()

    seen = deployment.api.xcom(dag_id, run_id, sensor)
    assert seen["count"] == 3 and seen["since"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))
    files = list((EXPORTS / "orders" / "new").iterdir())
    assert len(files) == 1 and files[0].suffix == ".jsonl"
    exported = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert sorted(o["orderId"] for o in exported) == sorted(new_ids)


def _order_listings(store: Any) -> int:
    return int(store.stats()["requests"].get("GET /v1/orders", 0))


def test_no_server_or_task_log_shows_the_client_secret(deployment: Deployment) -> None:
    logs = [p.log_path for p in deployment.processes]
    logs += [p for p in (deployment.home.path / "logs").rglob("*") if p.is_file()]
    leaking = [str(p) for p in logs if SECRET in p.read_text(errors="replace")]
    assert not leaking, f"the client secret appears in clear in {leaking}"
