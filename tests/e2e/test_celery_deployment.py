"""The syncs spread over Celery workers: CeleryExecutor for real, on one machine.

One deployment for the module on a fresh AIRFLOW_HOME under test-output/e2e/celery/: a throwaway
PostgreSQL cluster as the metadata database (Airflow 3.3 accepts SQLite with CeleryExecutor, but there
`airflow backfill create` met "database is locked" while the scheduler and API server were busy:
not what a Celery deployment runs on), a redis-server of its own on a free port (broker and result
backend), `airflow
api-server`, `scheduler`, `dag-processor`, `triggerer` and two `airflow celery worker` processes with
distinct Celery host names and two slots each. Each worker stands for a machine of its own: it
records its own name as the task instances' `hostname` (`[core] hostname_callable`,
tests/e2e/worker_identity.py), has its own token share folder (token_share.py: one token per
machine) and fetches tokens through its own counting proxy in front of the sandbox's token
endpoint, so that the token grants can be told apart per worker.

Checked: a 24-hour backfill of the hourly orders-to-SQL DAG (`airflow backfill create`) runs on both
workers and leaves exactly that day's orders in the table; a second backfill of the same hours
changes no row; the token grants stay at most one per worker process; the partitioned export DAG
writes its parts from both workers, each order once, with a manifest that matches. Airflow 3 only
(`airflow backfill create`, the Task SDK's execution API): the matrix does not collect tests/e2e.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.dags.partitioned_export_checks import busiest_day, check_partitioned_export
from tests.local_server import LocalServer, Reply, Seen
from tests.operator_support import listing
from tests.postgres_server import running_postgres

from .harness import OUTPUT_DIR, REPO_ROOT, AirflowHome, AirflowProcess, Deployment, Redactor, free_port, wait_for
from .redis_server import redis_binary, redis_server

pytestmark = pytest.mark.deployment

ROOT = OUTPUT_DIR / "celery"
EXPORTS = ROOT / "exports"
ORDERS_DB = ROOT / "orders.db"
SECRET = f"celery-secret-{secrets.token_hex(12)}"
WORKERS = ("celery-worker-1", "celery-worker-2")
SLOTS = 2  # --concurrency of each worker
SQL_DAG, EXPORT_DAG = "simplestore_orders_to_sql", "simplestore_orders_partitioned_export"
DATA_COLUMNS = "id, version, status, customer_id, created_on_utc, currency_code, total, document"


@dataclass
class Worker:
    name: str
    token_proxy: LocalServer

    def token_grants(self) -> int:
        return sum(1 for seen in self.token_proxy.seen if seen.method == "POST")


def forward_to(token_url: str) -> Any:
    """A token endpoint that passes each request on to the sandbox's and hands its answer back."""

    def respond(seen: Seen) -> Reply:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        answer = requests.post(
            token_url, data=seen.body, timeout=10, headers={"Content-Type": headers.get("content-type", "")}
        )
        return Reply(answer.status_code, answer.json())

    return respond


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    # About one order an hour over 90 days; its own process, off the test runner's GIL.
    with run_sandbox(seed=23, products=10, customers=20, orders=2200, client_secret=SECRET, subprocess=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def workers(store: Any) -> Iterator[list[Worker]]:
    proxies = [LocalServer(forward_to(store.token_url)) for _ in WORKERS]
    for proxy in proxies:
        proxy.__enter__()
    try:
        yield [Worker(name, proxy) for name, proxy in zip(WORKERS, proxies, strict=True)]
    finally:
        for proxy in proxies:
            proxy.__exit__(None, None, None)


def worker_process(home: AirflowHome, worker: Worker, store: Any) -> AirflowProcess:
    return home.process(
        worker.name,
        "celery",
        "worker",
        "--celery-hostname",
        f"{worker.name}@%h",
        "--concurrency",
        str(SLOTS),
        "--skip-serve-logs",
        "--without-mingle",
        "--without-gossip",
        env={
            "SIMPLESTORE_E2E_WORKER": worker.name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e.worker_identity.hostname",
            "PYTHONPATH": str(REPO_ROOT),
            # Each worker stands for a machine of its own: its own token share folder.
            "SIMPLESTORE_TOKEN_SHARE_DIR": str(ROOT / "token-share" / worker.name),
            # Small pages: each task makes several requests on its token.
            "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": store.connection_json(
                page_size=10, auth_url=f"{worker.token_proxy.url}/connect/token"
            ),
        },
    )


def _worker_ready(process: AirflowProcess) -> bool:
    return " ready." in process.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def deployment(store: Any, workers: list[Worker]) -> Iterator[Deployment]:
    redis_binary()  # skip (fail under CI) before anything starts, if there is no redis-server
    started = time.monotonic()
    home = AirflowHome(
        "celery",
        dags_folder=REPO_ROOT / "dags_examples",
        api_port=free_port(),
        redactor=Redactor(SECRET),
        env={
            "AIRFLOW_CONN_SQLITE_DEFAULT": json.dumps({"conn_type": "sqlite", "host": str(ORDERS_DB)}),
            "AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE": f"file://{EXPORTS}",
            "AIRFLOW__CORE__EXECUTOR": "airflow.providers.celery.executors.celery_executor.CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(2 * len(WORKERS) * SLOTS),
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            # Only the runs the tests start (backfills, triggers): no cron runs of the example DAGs.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        },
    )
    with running_postgres("airflow") as postgres, redis_server(ROOT / "redis") as redis_url:
        home.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.uri
        home.env["AIRFLOW__CELERY__BROKER_URL"] = f"{redis_url}/0"
        home.env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"{redis_url}/1"
        running = Deployment(home.migrate())
        try:
            # The workers start first (they take longest to be ready), the rest alongside them.
            processes = [running.add(worker_process(home, worker, store)) for worker in workers]
            running.start()
            for process in processes:
                wait_for(
                    functools.partial(_worker_ready, process),
                    timeout=90,
                    what=f"{process.name} to be ready",
                    abort=running.abort_reason,
                    diagnostics=running.diagnostics,
                )
            print(f"celery deployment up in {time.monotonic() - started:.0f}s")
            yield running
        finally:
            running.stop()
            print(f"celery module wall time {time.monotonic() - started:.0f}s")


@pytest.fixture(scope="module")
def day(store: Any) -> dt.datetime:
    """The day with the most orders: the backfill's 24 hours and the partitioned export's day."""
    return busiest_day(listing(store, "/v1/orders"))


def backfill(deployment: Deployment, dag_id: str, first: dt.datetime, last: dt.datetime, *extra: str) -> None:
    """`airflow backfill create` over runs whose logical dates are first..last, then wait for it to finish."""
    api = deployment.api
    before = {b["id"] for b in api.get("/api/v2/backfills", dag_id=dag_id)["backfills"]}
    deployment.home.cli(
        "backfill",
        "create",
        "--dag-id",
        dag_id,
        "--from-date",
        first.isoformat(),
        "--to-date",
        last.isoformat(),
        "--max-active-runs",
        str(len(WORKERS) * SLOTS),
        *extra,
    )
    [created] = [b for b in api.get("/api/v2/backfills", dag_id=dag_id)["backfills"] if b["id"] not in before]
    wait_for(
        lambda: api.get(f"/api/v2/backfills/{created['id']}")["completed_at"],
        timeout=240,
        interval=1,
        what=f"backfill {created['id']} of {dag_id} to complete",
        abort=lambda: deployment.abort_reason() or _failed_tries(deployment, dag_id),
        diagnostics=deployment.diagnostics,
    )


def task_instances(deployment: Deployment, dag_id: str) -> list[dict[str, Any]]:
    """The task instances of the DAG's backfill runs."""
    found = deployment.api.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances", limit=100)["task_instances"]
    return [ti for ti in found if ti["dag_run_id"].startswith("backfill__")]


def _failed_tries(deployment: Deployment, dag_id: str) -> str | None:
    failed = [
        f"{ti['dag_run_id']}.{ti['task_id']} is {ti['state']}"
        for ti in task_instances(deployment, dag_id)
        if ti["state"] in ("failed", "up_for_retry", "upstream_failed")
    ]
    return "; ".join(failed) or None


def table_rows() -> list[tuple[Any, ...]]:
    with sqlite3.connect(ORDERS_DB) as conn:
        return conn.execute(f"SELECT {DATA_COLUMNS}, synced_at FROM simplestore_orders ORDER BY id").fetchall()


def test_a_24_hour_backfill_runs_on_both_workers_and_a_second_one_changes_no_row(
    deployment: Deployment, store: Any, workers: list[Worker], day: dt.datetime
) -> None:
    deployment.wait_for_dag(SQL_DAG)
    deployment.api.unpause(SQL_DAG)
    window = {
        "CreatedFromUtc": f"{day:%Y-%m-%dT%H:%M:%SZ}",
        "CreatedToUtc": f"{day + dt.timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
    }
    orders = sorted(listing(store, "/v1/orders", **window), key=lambda o: o["orderId"])
    # One run alone first, over an hour long before any order: it creates the table and registers
    # the table's asset. Airflow 3.3.2 creates an alias's asset on its first event; two first
    # events at once (parallel tasks on PostgreSQL) collide on idx_asset_name_uri_unique and the
    # API server fails the task that lost, though its work is done. Later events only refer to it.
    warm_up = deployment.api.trigger(SQL_DAG, logical_date=(day - dt.timedelta(days=365)).isoformat())
    deployment.wait_for_run(SQL_DAG, warm_up)
    assert table_rows() == []
    # The test's own listings take tokens too: the sandbox's count is compared from here.
    grants_before = store.stats()["token_grants"], {w.name: w.token_grants() for w in workers}
    # Hourly runs whose logical dates (data interval starts) are 00:00..23:00: the 24 hours of `day`.
    last_hour = day + dt.timedelta(hours=23)
    started = time.monotonic()
    backfill(deployment, SQL_DAG, day, last_hour)
    first_took = time.monotonic() - started

    runs = deployment.api.get(f"/api/v2/dags/{SQL_DAG}/dagRuns", limit=100, run_type="backfill")["dag_runs"]
    assert sorted(r["data_interval_start"][:13] for r in runs) == sorted(
        (day + dt.timedelta(hours=h)).isoformat()[:13] for h in range(24)
    )
    assert {r["state"] for r in runs} == {"success"}
    hosts = [ti["hostname"] for ti in task_instances(deployment, SQL_DAG)]
    assert len(hosts) == 24 and set(hosts) == set(WORKERS), hosts

    rows = table_rows()
    assert [r[0] for r in rows] == [o["orderId"] for o in orders] and len(rows) > 24
    for row, order in zip(rows, orders, strict=True):
        assert json.loads(row[7]) == order

    # The same hours again (re-running the completed runs): every hour's orders are upserted anew.
    started = time.monotonic()
    backfill(deployment, SQL_DAG, day, last_hour, "--reprocess-behavior", "completed")
    second_took = time.monotonic() - started
    again = table_rows()
    assert [r[:-1] for r in again] == [r[:-1] for r in rows]  # no row added, lost or changed
    assert all(new[-1] > old[-1] for new, old in zip(again, rows, strict=True))  # each one written again
    tis = task_instances(deployment, SQL_DAG)
    assert {ti["try_number"] for ti in tis} == {2} and {ti["state"] for ti in tis} == {"success"}

    # Every task process on a worker shares that worker's token: 49 tasks so far (the warm-up and two
    # backfills), one grant per worker at most.
    grants = {w.name: w.token_grants() for w in workers}
    granted = store.stats()["token_grants"] - grants_before[0]
    per_host = {name: hosts.count(name) for name in WORKERS}
    print(
        f"backfill 1: {first_took:.0f}s, backfill 2: {second_took:.0f}s; tasks per worker (first backfill) "
        f"{per_host}; token grants per worker (49 tasks) {grants}; sandbox grants during the backfills {granted}"
    )
    assert granted == sum(grants.values()) - sum(grants_before[1].values())  # every grant went through a proxy
    assert all(n <= 1 for n in grants.values()), f"token grants per worker: {grants}"
    assert sum(grants.values()) <= len(WORKERS)


def test_partitioned_export_writes_parts_on_both_workers_each_order_once(
    deployment: Deployment, store: Any, workers: list[Worker], day: dt.datetime
) -> None:
    deployment.wait_for_dag(EXPORT_DAG)
    deployment.api.unpause(EXPORT_DAG)
    # A manual run at D+1 00:00 of a daily data-interval timetable covers day D.
    run_id = deployment.api.trigger(EXPORT_DAG, logical_date=(day + dt.timedelta(days=1)).isoformat())
    deployment.wait_for_run(EXPORT_DAG, run_id, timeout=240)

    folder = EXPORTS / "orders" / "partitioned" / day.date().isoformat()
    manifest = check_partitioned_export(folder, listing(store, "/v1/orders"), day)
    parts = [ti for ti in deployment.api.task_instances(EXPORT_DAG, run_id) if ti["task_id"] == "export_part"]
    assert sorted(ti["map_index"] for ti in parts) == list(range(6))
    by_worker = {name: sorted(ti["map_index"] for ti in parts if ti["hostname"] == name) for name in WORKERS}
    print(f"parts per worker {by_worker}; {manifest['records']} orders in {len(manifest['parts'])} parts")
    assert all(by_worker.values()), f"every part ran on one worker: {by_worker}"
    assert deployment.api.xcom(EXPORT_DAG, run_id, "write_manifest")["records"] == manifest["records"]
    assert all(w.token_grants() <= 1 for w in workers)  # still the one token of each worker


def test_no_server_or_task_log_shows_the_client_secret(deployment: Deployment) -> None:
    logs = [p.log_path for p in deployment.processes] + [ROOT / "redis" / "redis.log"]
    logs += [p for p in (deployment.home.path / "logs").rglob("*") if p.is_file()]
    leaking = [str(p) for p in logs if p.exists() and SECRET in p.read_text(errors="replace")]
    assert not leaking, f"the client secret appears in clear in {leaking}"
