"""Lineage of the example DAGs, for real: each DAG runs with dag.test() in a child process with
the OpenLineage provider's file transport on, against a sandbox on 127.0.0.1. The test then reads
the OpenLineage events file (START and COMPLETE of each task, with the expected namespaces and
names, schema and output statistics) and the asset events in Airflow's SQLite database (URI,
extra, the alias they went through).

A child process, because the OpenLineage provider reads its configuration once per process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.dags.test_example_dags import DAGS, busiest_hour, load_dag
from tests.operator_support import listing
from tests.support import REPO_ROOT, running_in_ci

RUN_DAG = r"""
import datetime as dt, importlib.util, sys
from airflow_provider_simplestore.compat import dag_test
spec = importlib.util.spec_from_file_location("example_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for task in module.dag.tasks:  # a failure shows at once, not after the DAG's retry delays
    task.retries = 0
run = dag_test(module.dag, dt.datetime.fromisoformat(sys.argv[2]))
states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
assert str(run.state) == "success", states
"""


def openlineage_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("airflow.providers.openlineage") is not None


@pytest.fixture
def lineage_run(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., list[dict[str, Any]]]:
    """`lineage_run(dag_file, logical_date)`: runs the DAG (an example's file name, or the Path of a
    test's own DAG file); returns the OpenLineage events it wrote."""
    if not openlineage_installed():
        if running_in_ci():
            pytest.fail("apache-airflow-providers-openlineage is not installed (`make install` brings it)")
        pytest.skip("apache-airflow-providers-openlineage is not installed")
    events_file = tmp_path / "openlineage.jsonl"
    monkeypatch.setenv(
        "AIRFLOW__OPENLINEAGE__TRANSPORT",
        json.dumps({"type": "file", "log_file_path": str(events_file), "append": True}),
    )
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "simplestore-tests")
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__EXECUTION_TIMEOUT", "60")

    def run(dag_file: str | Path, logical_date: dt.datetime) -> list[dict[str, Any]]:
        path = dag_file if isinstance(dag_file, Path) else DAGS / dag_file  # a Path: a DAG of the test's own
        env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(path.parent)}
        proc = subprocess.run(
            [sys.executable, "-c", RUN_DAG, str(path), logical_date.isoformat()],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=REPO_ROOT,
            env=env,
        )
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        assert events_file.exists(), "no OpenLineage event was written: " + proc.stderr[-3000:]
        return [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]

    return run


def task_events(events: list[dict[str, Any]], dag_id: str, task_id: str) -> dict[str, dict[str, Any]]:
    """The task's OpenLineage events by type (START, COMPLETE)."""
    found = {e["eventType"]: e for e in events if e["job"]["name"] == f"{dag_id}.{task_id}"}
    assert set(found) >= {"START", "COMPLETE"}, sorted(found)
    return found


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in datasets]


def schema(dataset: dict[str, Any]) -> list[str]:
    return [field["name"] for field in dataset["facets"]["schema"]["fields"]]


def asset_events(home: Path, dag_id: str) -> list[dict[str, Any]]:
    """Asset events (Dataset events on 2.11) the DAG's tasks emitted, with the aliases they went through."""
    with sqlite3.connect(home / "airflow.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        kind = "asset" if "asset_event" in tables else "dataset"
        rows = conn.execute(
            f"SELECT e.id, a.uri, e.extra, e.source_task_id FROM {kind}_event e JOIN {kind} a ON a.id = e.{kind}_id "
            "WHERE e.source_dag_id = ? ORDER BY e.id",
            (dag_id,),
        ).fetchall()
        aliases = conn.execute(
            f"SELECT x.event_id, l.name FROM {kind}_alias_{kind}_event x JOIN {kind}_alias l ON l.id = x.alias_id"
        ).fetchall()
    through: dict[Any, list[str]] = {}
    for event_id, alias in aliases:
        through.setdefault(event_id, []).append(alias)
    return [
        {"uri": uri, "extra": json.loads(extra or "{}"), "task_id": task, "aliases": through.get(i, [])}
        for i, uri, extra, task in rows
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_catalog_export_lineage(
    lineage_run: Callable[..., Any],
    airflow_db: Path,
    sandbox: Any,
    simplestore_conn: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = tmp_path / "exports"
    monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{base}")
    events = lineage_run("simplestore_catalog_export.py", dt.datetime(2026, 3, 5, 2, tzinfo=dt.timezone.utc))

    api = "simplestore://" + sandbox.url.split("://", 1)[1]
    folder = base / "catalog" / "2026-03-05"
    emitted = {
        e["task_id"]: e
        for e in asset_events(airflow_db, "simplestore_catalog_export")
        if e["uri"].startswith(f"file://{folder}/")
    }
    for resource in ("products", "categories"):
        expected = listing(sandbox, f"/v1/{resource}")
        for fmt in ("jsonl", "csv"):
            task_id = f"export_{resource}_{fmt}"
            file = folder / f"{resource}.{fmt}"
            ol = task_events(events, "simplestore_catalog_export", task_id)
            for event in ol.values():
                assert names(event["inputs"]) == [(api, resource)]
                assert names(event["outputs"]) == [("file", str(file))]
            complete = ol["COMPLETE"]
            assert complete["inputs"][0]["facets"]["schema"]["fields"][0]["name"] in ("productId", "categoryId")
            stats = complete["outputs"][0]["outputFacets"]["outputStatistics"]
            assert (stats["rowCount"], stats["size"]) == (len(expected), file.stat().st_size)
            # The asset event of the file (a templated destination: through the export's alias).
            event = emitted[task_id]
            assert event["uri"] == f"file://{file}"
            assert event["aliases"] == [f"simplestore-export-{resource}"]
            extra = event["extra"]
            assert (extra["resource"], extra["format"], extra["records"]) == (resource, fmt, len(expected))
            assert (extra["bytes"], extra["sha256"]) == (file.stat().st_size, sha256(file))
            assert "data_interval_start" in extra and "data_interval_end" in extra


def test_orders_to_sql_lineage(
    lineage_run: Callable[..., Any],
    airflow_db: Path,
    sandbox: Any,
    simplestore_conn: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "orders.db"
    monkeypatch.setenv("AIRFLOW_CONN_SQLITE_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    orders = listing(sandbox, "/v1/orders")
    hour = busiest_hour(orders)
    expected = [o for o in orders if o["createdOnUtc"][:13] == hour.isoformat()[:13]]
    end = hour + dt.timedelta(hours=1)
    events = lineage_run("simplestore_orders_to_sql.py", end)

    api = "simplestore://" + sandbox.url.split("://", 1)[1]
    ol = task_events(events, "simplestore_orders_to_sql", "load_orders")
    for event in ol.values():
        assert names(event["inputs"]) == [(api, "orders")]
        assert names(event["outputs"]) == [(f"sqlite://localhost{db}", "main.simplestore_orders")]
    output = ol["COMPLETE"]["outputs"][0]
    assert schema(output)[:2] == ["id", "version"] and "created_on_utc" in schema(output)
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == len(expected)

    # (other tests load the same hour into tables of their own: this one's is in its tmp_path)
    [event] = [
        e
        for e in asset_events(airflow_db, "simplestore_orders_to_sql")
        if e["uri"] == f"sqlite://localhost{db}/main/simplestore_orders"
    ]
    assert event["extra"]["data_interval_end"] == end.isoformat()
    assert event["aliases"] == ["simplestore-sql-orders"]
    assert event["extra"]["rows"] == len(expected)
    assert event["extra"]["data_interval_start"] == hour.isoformat()
    assert (event["extra"]["resource"], event["extra"]["table"]) == ("orders", "simplestore_orders")


def test_inventory_import_lineage(
    lineage_run: Callable[..., Any],
    airflow_db: Path,
    fresh_sandbox: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb = fresh_sandbox(seed=4, products=10)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    base = tmp_path / "imports"
    monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_IMPORT_BASE", f"file://{base}")
    first = listing(sb, "/v1/products")[0]
    source = base / "inventory" / "2026-03-06.csv"
    source.parent.mkdir(parents=True)
    source.write_text(
        f"inventory.sku,title,inventory.availableQuantity\n{first['inventory']['sku']},,5\nSKU-NEW-1,New product,3\n"
    )
    events = lineage_run("simplestore_inventory_import.py", dt.datetime(2026, 3, 6, 5, 30, tzinfo=dt.timezone.utc))

    api = "simplestore://" + sb.url.split("://", 1)[1]
    ol = task_events(events, "simplestore_inventory_import", "import_inventory")
    for event in ol.values():
        assert names(event["inputs"]) == [("file", str(source))]
        assert names(event["outputs"]) == [(api, "products")]
    output = ol["COMPLETE"]["outputs"][0]
    assert "inventory.sku" in schema(output)
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2  # one updated, one created

    [event] = [
        e
        for e in asset_events(airflow_db, "simplestore_inventory_import")
        if e["extra"].get("source") == f"file://{source}"
    ]
    assert event["uri"] == f"{api}/products"
    assert event["aliases"] == ["simplestore-import-products"]
    assert {k: event["extra"][k] for k in ("rows", "created", "updated", "unchanged", "rejected")} == {
        "rows": 2,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": 0,
    }


def test_new_orders_export_lineage_feeds_the_check_dag(
    lineage_run: Callable[..., Any],
    airflow_db: Path,
    fresh_sandbox: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb = fresh_sandbox(seed=6, orders=40)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    base = tmp_path / "exports"
    monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{base}")
    orders = listing(sb, "/v1/orders")
    since = dt.datetime.fromisoformat(sorted(o["createdOnUtc"] for o in orders)[-5].replace("Z", "+00:00"))
    since = since.replace(microsecond=0)
    # The sensor finds orders created since the run's start at its first check: no waiting.
    events = lineage_run("simplestore_new_orders_export.py", since)

    api = "simplestore://" + sb.url.split("://", 1)[1]
    [file] = list((base / "orders" / "new").iterdir())
    ol = task_events(events, "simplestore_new_orders_export", "export_new_orders")
    assert names(ol["COMPLETE"]["inputs"]) == [(api, "orders")]
    assert names(ol["COMPLETE"]["outputs"]) == [("file", str(file))]

    [event] = [e for e in asset_events(airflow_db, "simplestore_new_orders_export") if e["uri"] == f"file://{file}"]
    assert event["extra"]["records"] == len(file.read_text().splitlines()) >= 5
    assert event["extra"]["created_from"].startswith(since.isoformat()[:19])

    # The check DAG is scheduled on the very alias the export emits through.
    check = example_module("simplestore_new_orders_check.py")
    export = load_dag("simplestore_new_orders_export.py").task_dict["export_new_orders"]
    assert event["aliases"] == [export.asset_alias] == [check.ORDERS_EXPORT.name]
    timetable = check.dag.timetable
    condition = getattr(timetable, "asset_condition", None) or timetable.dataset_condition
    # (2.11 resolves the alias as the DAG is built: to the dataset the export has just emitted)
    assert check.ORDERS_EXPORT.name in [getattr(item, "name", None) for item in condition.objects]

    # What the check DAG's task does with that event: the file is what the export reported ...
    assert check.check_export(event["uri"], event["extra"]) == {
        "uri": event["uri"],
        "records": event["extra"]["records"],
    }
    # ... and a file changed after the export is caught.
    with file.open("a") as handle:
        handle.write('{"orderId": "forged"}\n')
    with pytest.raises(ValueError, match="not what the export wrote"):
        check.check_export(event["uri"], event["extra"])


def example_module(file_name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{Path(file_name).stem}", DAGS / file_name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
