"""Every example DAG, run with dag.test(): no client secret and no issued token anywhere it could leak.

Looked at: the task and triggerer output (stdout/stderr at the file-descriptor level, and the
log records pytest captured), every file under AIRFLOW_HOME/logs, and the whole metadata
database (XComs, rendered template fields, trigger rows, task instances...). The sandbox uses a
distinctive client secret and 1-second tokens (so longer runs refresh them); the tokens it
issues are recorded as it issues them.

A new example DAG fails this test until it is given a set-up below.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.support import listing
from tests.support import REPO_ROOT

pytestmark = pytest.mark.chaos

DAGS = REPO_ROOT / "dags_examples"
LOGICAL_DATE = dt.datetime(2026, 3, 4, 6, 0, tzinfo=dt.timezone.utc)
TOKEN_TTL = 1.0  # refreshed every half second: longer runs use several tokens
TOKEN_PREFIX = 16  # characters of a token that count as a leak on their own (a truncated excerpt)


class Run:
    """What one DAG's set-up decided: where inputs and outputs live and which logical date to use."""

    def __init__(self, sb: Any, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sb, self.tmp, self.monkeypatch = sb, tmp, monkeypatch
        self.logical_date = LOGICAL_DATE
        self.threads: list[threading.Thread] = []

    def in_background(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self.threads.append(thread)


def setup_catalog_export(run: Run, dag: Any) -> None:
    run.monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{run.tmp / 'exports'}")


def setup_orders_to_sql(run: Run, dag: Any) -> None:
    db = run.tmp / "orders.db"
    run.monkeypatch.setenv("AIRFLOW_CONN_SQLITE_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    # The most recent hour with orders: the run loads the hour before its logical date.
    newest = max(order["createdOnUtc"] for order in listing(run.sb, "/v1/orders"))
    run.logical_date = dt.datetime.fromisoformat(newest[:13] + ":00:00+00:00") + dt.timedelta(hours=1)


def setup_inventory_import(run: Run, dag: Any) -> None:
    base = run.tmp / "imports"
    run.monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_IMPORT_BASE", f"file://{base}")
    first, second = listing(run.sb, "/v1/products")[:2]
    source = base / "inventory" / f"{run.logical_date:%Y-%m-%d}.csv"
    source.parent.mkdir(parents=True)
    source.write_text(
        "inventory.sku,basePrice.sellPrice,basePrice.currencyCode,inventory.availableQuantity\n"
        f"{first['inventory']['sku']},12.34,AUD,77\n"
        f"{second['inventory']['sku']},5.00,AUD,3\n"
    )


def setup_new_orders_export(run: Run, dag: Any) -> None:
    run.monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{run.tmp / 'exports'}")
    dag.task_dict["wait_for_orders"].poke_interval = 0.3  # the DAG polls every 30 s
    run.logical_date = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def create_orders_once_polled() -> None:
        # Only after the sensor has looked twice, so it defers and its trigger polls too.
        deadline = time.monotonic() + 60
        while run.sb.stats()["requests"].get("GET /v1/orders", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        run.sb.create_orders(2)

    run.in_background(create_orders_once_polled)


def setup_partitioned_export(run: Run, dag: Any) -> None:
    from tests.dags.partitioned_export_checks import busiest_day

    run.monkeypatch.setenv("AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE", f"file://{run.tmp / 'exports'}")
    # A daily data-interval timetable: the run at D+1 00:00 covers day D, the day with most orders.
    run.logical_date = busiest_day(listing(run.sb, "/v1/orders")) + dt.timedelta(days=1)


SETUPS: dict[str, Callable[[Run, Any], None]] = {
    "simplestore_catalog_export": setup_catalog_export,
    "simplestore_orders_to_sql": setup_orders_to_sql,
    "simplestore_inventory_import": setup_inventory_import,
    "simplestore_new_orders_export": setup_new_orders_export,
    "simplestore_orders_partitioned_export": setup_partitioned_export,
}


# Example DAGs that never use the SimpleStore connection, so have nothing to leak, and why.
NO_CONNECTION = {
    "simplestore_new_orders_check": "reads only the files the orders export's asset events name",
}


def example_dag_files() -> list[Path]:
    return sorted(path for path in DAGS.glob("*.py") if not path.name.startswith("_"))


def dag_files_using_the_connection() -> list[str]:
    return [path.name for path in example_dag_files() if load_dag(path).dag_id not in NO_CONNECTION]


def load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"chaos_example_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


@pytest.fixture
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every access token a sandbox started in this test issues, recorded as it is issued.

    The sandbox runs in a thread of this process; this wraps its token table's `issue` (behaviour
    unchanged), because its control routes do not list tokens.
    """
    from airflow_provider_simplestore.sandbox.state import Tokens

    issued: list[str] = []
    issue = Tokens.issue

    def recording_issue(self: Tokens) -> str:
        token = issue(self)
        issued.append(token)
        return token

    monkeypatch.setattr(Tokens, "issue", recording_issue)
    yield issued


def test_every_example_dag_has_a_setup() -> None:
    found = {load_dag(path).dag_id for path in example_dag_files()}
    assert found == set(SETUPS) | set(NO_CONNECTION), "give every example DAG a set-up in this test"
    assert not set(SETUPS) & set(NO_CONNECTION)


def metadata_db() -> sqlite3.Connection:
    """The private AIRFLOW_HOME's SQLite metadata database."""
    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    assert url.startswith("sqlite:///"), f"this test reads a SQLite metadata DB, not {url}"
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def database_text() -> str:
    """Every row of every table, as SQL text."""
    db = metadata_db()
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def rows_for(table: str, dag_run: Any) -> list[tuple[Any, ...]]:
    """The rows of `table` written by this DAG run."""
    db = metadata_db()
    try:
        query = f"SELECT * FROM {table} WHERE dag_id = ? AND run_id = ?"
        return db.execute(query, (dag_run.dag_id, dag_run.run_id)).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("dag_file", dag_files_using_the_connection())
def test_example_dag_leaks_no_secret_and_no_token(
    dag_file: str,
    airflow_db: Path,
    fresh_sandbox: Callable[..., Any],
    issued_tokens: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client_secret = f"chaos-secret-{secrets.token_hex(12)}"
    sb = fresh_sandbox(seed=51, orders=400, client_secret=client_secret, token_ttl=TOKEN_TTL)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    dag = load_dag(DAGS / dag_file)
    for task in dag.tasks:
        task.retries = 0  # a failure should fail the test now, not after dag.test() waits out retry_delay
    run = Run(sb, tmp_path, monkeypatch)
    SETUPS[dag.dag_id](run, dag)

    from airflow_provider_simplestore.compat import dag_test

    dag_run = dag_test(dag, run.logical_date)
    for thread in run.threads:
        thread.join(timeout=60)

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    assert issued_tokens, "the DAG never asked the sandbox for a token"
    assert sb.stats()["token_grants"] == len(issued_tokens)

    out, err = capfd.readouterr()
    logs = {"stdout": out, "stderr": err, "captured log records": caplog.text}
    logs_dir = airflow_db / "logs"
    for path in sorted(logs_dir.rglob("*")) if logs_dir.exists() else []:
        if path.is_file():
            logs[str(path)] = path.read_text(errors="replace")
    logs["metadata database"] = database_text()
    # The haystack is not empty: the tasks' own log lines and results are in it.
    assert any(task_id in out + err + caplog.text for task_id in states), "no task output was captured"
    assert rows_for("xcom", dag_run), "no XCom was written: nothing to check"
    assert rows_for("rendered_task_instance_fields", dag_run), "no rendered fields to check"

    needles = {"client secret": client_secret}
    needles.update({f"token #{i + 1}": token[:TOKEN_PREFIX] for i, token in enumerate(issued_tokens)})
    leaks = [f"{what} in {where}" for where, text in logs.items() for what, needle in needles.items() if needle in text]
    assert leaks == []
