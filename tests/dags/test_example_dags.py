"""The example DAGs: they parse cleanly and offline, and each runs end to end with dag.test().

Each run goes through real Airflow (task runner, templates, XCom, the in-process triggerer for
the deferrable sensor) against a sandbox on 127.0.0.1, and checks what landed against the
sandbox's own state.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dags.partitioned_export_checks import busiest_day, check_partitioned_export
from tests.operator_support import listing
from tests.support import REPO_ROOT

DAGS = REPO_ROOT / "dags_examples"
DAG_IDS = {
    "simplestore_catalog_export",
    "simplestore_orders_to_sql",
    "simplestore_inventory_import",
    "simplestore_new_orders_export",
    "simplestore_new_orders_check",
    "simplestore_orders_partitioned_export",
}

PARSE_OFFLINE = r"""
import json, socket, sys, time
attempts = []
def refuse(self, address, *args, **kwargs):
    attempts.append(repr(address))
    raise OSError("network access during DAG parsing")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = lambda address, *a, **k: refuse(None, address)
try:
    from airflow.dag_processing.dagbag import DagBag  # 3.2+
except ImportError:
    from airflow.models.dagbag import DagBag  # 2.11-3.1
# What Airflow loads to parse any DAG is not our DAGs' doing (3.0 loads FastAPI for one without
# operators): the baseline is a bag of one empty DAG.
DagBag(dag_folder=sys.argv[2])
baseline = set(sys.modules)
started = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "attempts": attempts,
    "seconds": time.monotonic() - started,
    "loaded": sorted(m for m in set(sys.modules) - baseline
                     if m.split(".")[0] in ("requests", "httpx", "fastapi", "uvicorn", "openlineage", "pyarrow")
                     or m.startswith(("airflow_provider_simplestore.sandbox", "airflow_provider_simplestore.hooks",
                                      "airflow.providers.openlineage", "airflow.providers.common.compat.openlineage"))),
}))
"""


EMPTY_DAG = """
from airflow.providers.common.compat.sdk import DAG

with DAG("baseline_probe", schedule=None):
    pass
"""


def test_dags_parse_without_errors_and_without_network(airflow_db: Path, tmp_path: Path) -> None:
    # A migrated database, as every DAG processor has: 2.11 resolves a DatasetAlias schedule in it.
    (tmp_path / "baseline_probe.py").write_text(EMPTY_DAG)
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_OFFLINE, str(DAGS), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert set(report["dags"]) == DAG_IDS
    assert report["attempts"] == []
    # Parsing loads neither the sandbox nor the HTTP stacks: hooks are imported when tasks run.
    assert [m for m in report["loaded"] if "sandbox" in m or m.split(".")[0] in ("fastapi", "uvicorn")] == []
    assert not [m for m in report["loaded"] if m.startswith("airflow_provider_simplestore.hooks")]
    assert not [m for m in report["loaded"] if m.split(".")[0] == "pyarrow"]  # Parquet's: loaded when one runs
    # Nor OpenLineage: the operators import it only when its listener asks them for lineage. (Airflow
    # 3.0 reads every provider's info when a DAG names an asset: that discovery module is Airflow's.)
    discovery = ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info")
    assert not [m for m in report["loaded"] if "openlineage" in m and m not in discovery]


def load_dag(file_name: str) -> Any:
    path = DAGS / file_name
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def run(dag: Any, logical_date: dt.datetime) -> Any:
    from airflow_provider_simplestore.compat import dag_test

    started = time.monotonic()
    dag_run = dag_test(dag, logical_date)
    print(f"dag.test({dag.dag_id}) took {time.monotonic() - started:.1f}s")
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    return dag_run


@pytest.fixture
def export_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "exports"
    monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{base}")
    return base


def test_catalog_export_dag(airflow_db: Path, sandbox: Any, simplestore_conn: Any, export_base: Path) -> None:
    logical_date = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.timezone.utc)
    run(load_dag("simplestore_catalog_export.py"), logical_date=logical_date)

    folder = export_base / "catalog" / "2026-03-04"
    assert sorted(p.name for p in folder.iterdir()) == [
        "categories.csv",
        "categories.jsonl",
        "products.csv",
        "products.jsonl",
    ]
    for resource, id_field in (("products", "productId"), ("categories", "categoryId")):
        expected = listing(sandbox, f"/v1/{resource}")
        lines = (folder / f"{resource}.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == expected
        with (folder / f"{resource}.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [row[id_field] for row in rows] == [item[id_field] for item in expected]
    product = listing(sandbox, "/v1/products")[0]
    with (folder / "products.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    assert float(first["basePrice.sellPrice"]) == product["basePrice"]["sellPrice"]
    assert first["inventory.sku"] == product["inventory"]["sku"]


def busiest_hour(orders: list[dict[str, Any]]) -> dt.datetime:
    counts: dict[str, int] = {}
    for order in orders:
        counts[order["createdOnUtc"][:13]] = counts.get(order["createdOnUtc"][:13], 0) + 1
    hour = max(sorted(counts), key=lambda h: counts[h])
    return dt.datetime.fromisoformat(hour + ":00:00+00:00")


def test_orders_to_sql_dag_is_incremental_and_safe_to_rerun(
    airflow_db: Path, sandbox: Any, simplestore_conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "orders.db"
    monkeypatch.setenv("AIRFLOW_CONN_SQLITE_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    orders = listing(sandbox, "/v1/orders")
    hour = busiest_hour(orders)
    expected = {o["orderId"]: o for o in orders if hour.isoformat()[:13] == o["createdOnUtc"][:13]}
    assert expected

    dag = load_dag("simplestore_orders_to_sql.py")
    # A run at hh+1:00 loads the hour [hh:00, hh+1:00); running it twice must not duplicate.
    run(dag, logical_date=hour + dt.timedelta(hours=1))
    run(dag, logical_date=hour + dt.timedelta(hours=1))

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, status, created_on_utc, total, document FROM simplestore_orders").fetchall()
    assert sorted(r[0] for r in rows) == sorted(expected)
    for order_id, status, created, total, document in rows:
        order = expected[order_id]
        assert (status, created, total) == (order["status"], order["createdOnUtc"], order["total"])
        assert json.loads(document) == order


def test_inventory_import_dag(
    airflow_db: Path, fresh_sandbox: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=3, products=30)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    base = tmp_path / "imports"
    monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_IMPORT_BASE", f"file://{base}")
    products = listing(sb, "/v1/products")
    first, second = products[0], products[1]
    source = base / "inventory" / "2026-03-04.csv"
    source.parent.mkdir(parents=True)
    source.write_text(
        "inventory.sku,basePrice.sellPrice,basePrice.retailPrice,basePrice.currencyCode,inventory.availableQuantity\n"
        f"{first['inventory']['sku']},12.34,15.00,AUD,77\n"
        f"{second['inventory']['sku']},{second['basePrice']['sellPrice']},{second['basePrice']['retailPrice']},"
        f"{second['basePrice']['currencyCode']},{second['inventory']['availableQuantity']}\n"
    )

    dag = load_dag("simplestore_inventory_import.py")
    run(dag, logical_date=dt.datetime(2026, 3, 4, 5, 30, tzinfo=dt.timezone.utc))

    after = {p["productId"]: p for p in listing(sb, "/v1/products")}
    assert len(after) == len(products)
    changed = after[first["productId"]]
    assert changed["basePrice"]["sellPrice"] == 12.34
    assert changed["basePrice"]["retailPrice"] == 15.0
    assert changed["inventory"]["availableQuantity"] == 77
    assert after[second["productId"]] == second  # its row matched what was there: unchanged
    assert sb.stats()["requests"].get("PUT /v1/products/{productId}") == 1
    assert not (source.parent / "2026-03-04.csv.rejected.jsonl").exists()


@pytest.fixture
def orders_when_polled(request: pytest.FixtureRequest) -> Iterator[Callable[[Any, int], None]]:
    """Create orders once the sensor has polled at least twice (so it had to wait)."""
    threads: list[threading.Thread] = []

    def start(sb: Any, n: int) -> None:
        def create() -> None:
            deadline = time.monotonic() + 60
            while sb.stats()["requests"].get("GET /v1/orders", 0) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            sb.create_orders(n)

        thread = threading.Thread(target=create, daemon=True)
        thread.start()
        threads.append(thread)

    yield start
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.parametrize("mode", ["deferrable", "reschedule"])
def test_new_orders_dag_waits_then_exports_them(
    airflow_db: Path,
    fresh_sandbox: Callable[..., Any],
    export_base: Path,
    monkeypatch: pytest.MonkeyPatch,
    orders_when_polled: Callable[[Any, int], None],
    mode: str,
) -> None:
    from airflow_provider_simplestore.compat import AIRFLOW_RELEASE

    if mode == "reschedule" and AIRFLOW_RELEASE[:2] == (3, 0):
        pytest.skip(
            "Airflow 3.0's dag.test() hands a rescheduled sensor its first start date as a string "
            "(in-process supervisor; TaskRescheduleStartDate.model_construct): any reschedule sensor fails "
            "there, in dag.test() only"
        )
    sb = fresh_sandbox(seed=5, orders=50)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    dag = load_dag("simplestore_new_orders_export.py")
    sensor = dag.task_dict["wait_for_orders"]
    sensor.poke_interval = 0.3  # the DAG polls every 30 s
    if mode == "reschedule":  # the same DAG with the sensor giving its slot back between checks
        sensor.deferrable, sensor.mode, sensor.poke_interval = False, "reschedule", 1
    orders_when_polled(sb, 3)

    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    dag_run = run(dag, logical_date=started)

    new = {o["orderId"]: o for o in listing(sb, "/v1/orders") if o["createdOnUtc"] >= started.isoformat()[:19]}
    assert len(new) == 3
    files = list((export_base / "orders" / "new").iterdir())
    assert len(files) == 1 and files[0].suffix == ".jsonl"
    exported = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert {o["orderId"] for o in exported} == set(new)
    assert sb.stats()["requests"]["GET /v1/orders"] >= 3  # first poke, trigger polls, export
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"wait_for_orders": "success", "export_new_orders": "success"}


def test_orders_partitioned_export_dag_writes_every_part_and_a_matching_manifest(
    airflow_db: Path, sandbox: Any, simplestore_conn: Any, export_base: Path
) -> None:
    orders = listing(sandbox, "/v1/orders")
    day = busiest_day(orders)
    dag = load_dag("simplestore_orders_partitioned_export.py")
    # A daily data-interval timetable: a run at D+1 00:00 covers day D, [D 00:00, D+1 00:00).
    dag_run = run(dag, logical_date=day + dt.timedelta(days=1))

    folder = export_base / "orders" / "partitioned" / day.date().isoformat()
    check_partitioned_export(folder, orders, day)
    mapped = [ti for ti in dag_run.get_task_instances() if ti.task_id == "export_part"]
    assert sorted(ti.map_index for ti in mapped) == list(range(6))
