"""`make demo`: a sandbox, the catalog export and hourly orders DAGs run end to end, and what landed.

Starts a seeded sandbox in this process, points the `simplestore_default` connection at it
(an AIRFLOW_CONN_ environment variable, as users do), migrates the Airflow metadata database if
needed, and runs two example DAGs with `dag.test()`:

1. `simplestore_catalog_export`: products and categories to JSON Lines and CSV files;
2. `simplestore_orders_to_sql`: three hourly runs (a catch-up), then the last hour again, into
   a SQLite table, to show that runs are incremental and re-runs change nothing.

Then it prints the files (records, bytes) and the table (rows per hour, a few rows). Everything
lands under `$AIRFLOW_HOME/simplestore_demo/`. Development only: it needs the repository's
`dags_examples/` folder and the sandbox extra.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO_ROOT / "dags_examples"
SANDBOX: dict[str, Any] = {"seed": 42, "products": 200, "customers": 50, "orders": 4000}
CATCH_UP_HOURS = 3


def say(text: str = "") -> None:
    print(text, flush=True)


def configure_environment() -> Path:
    """Airflow reads its configuration at import: set it before anything imports Airflow."""
    os.environ.setdefault("AIRFLOW_HOME", str(REPO_ROOT / ".airflow_home"))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    # dag.test() runs no scheduler, so every asset event through an alias meets an asset Airflow has
    # not activated yet, and Airflow warns twice per event (README, "Known issues"): not shown here.
    os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow.assets.manager.AssetManager=ERROR")
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def migrate_database() -> None:
    """`airflow db migrate` (idempotent: quick when the schema is current)."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    say(f"  metadata database ready ({time.monotonic() - started:.1f}s)")


def load_dag(file_name: str) -> Any:
    path = DAGS_FOLDER / file_name
    spec = importlib.util.spec_from_file_location(f"simplestore_demo_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def run_dag(dag: Any, logical_date: dt.datetime, label: str) -> None:
    from airflow_provider_simplestore.compat import dag_test

    started = time.monotonic()
    dag_run = dag_test(dag, logical_date)
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    if dag_run.state != "success":
        raise SystemExit(f"{dag.dag_id} failed: {states}")
    say(f"  {label}: {dag_run.state} in {time.monotonic() - started:.1f}s ({len(states)} tasks)")


def human(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def records_in(path: Path) -> int:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return sum(1 for _ in csv.DictReader(handle))
    return path.read_bytes().count(b"\n")


def main() -> int:
    home = configure_environment()
    # Deprecations inside Airflow's in-process API (Starlette's TestClient): not ours, not news.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r".*starlette\.testclient.*")
    out = home / "simplestore_demo"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    database = out / "orders.db"
    if not DAGS_FOLDER.is_dir():
        raise SystemExit(f"the demo needs the repository's dags_examples/ folder ({DAGS_FOLDER} is missing)")

    from airflow_provider_simplestore.sandbox import run_sandbox

    began = time.monotonic()
    from airflow_provider_simplestore.compat import AIRFLOW_VERSION

    say(f"SimpleStore provider demo on Airflow {AIRFLOW_VERSION} (Python {sys.version.split()[0]})")
    say(f"  AIRFLOW_HOME {home}")
    migrate_database()
    logging.getLogger("airflow").setLevel(logging.WARNING)

    with run_sandbox(**SANDBOX) as sandbox:
        say(
            f"  sandbox {sandbox.url} (seed {SANDBOX['seed']}: {SANDBOX['products']} products, "
            f"{SANDBOX['orders']} orders over 90 days)"
        )
        # URIs, as the sandbox prints them: Airflow 3.1-3.2 warn on JSON in AIRFLOW_CONN_* in every task.
        os.environ["AIRFLOW_CONN_SIMPLESTORE_DEFAULT"] = sandbox.connection_uri()
        os.environ["AIRFLOW_CONN_SQLITE_DEFAULT"] = f"sqlite://{quote(str(database), safe='')}"
        os.environ["AIRFLOW_VAR_SIMPLESTORE_EXPORT_BASE"] = f"file://{out / 'exports'}"

        now = dt.datetime.now(dt.timezone.utc)
        say()
        say("DAG simplestore_catalog_export")
        run_dag(load_dag("simplestore_catalog_export.py"), now, f"run for {now:%Y-%m-%d}")
        for path in sorted((out / "exports").rglob("*.*")):
            say(f"    file://{path}  {records_in(path)} records, {human(path.stat().st_size)}")

        say()
        say("DAG simplestore_orders_to_sql (hourly, incremental)")
        this_hour = now.replace(minute=0, second=0, microsecond=0)
        orders_dag = load_dag("simplestore_orders_to_sql.py")
        hours = [this_hour - dt.timedelta(hours=n) for n in range(CATCH_UP_HOURS - 1, -1, -1)]
        for end in hours:
            run_dag(orders_dag, end, f"run for [{end - dt.timedelta(hours=1):%H:%M}, {end:%H:%M}) UTC")
        with sqlite3.connect(database) as conn:
            before = conn.execute("SELECT count(*), max(synced_at) FROM simplestore_orders").fetchone()
        run_dag(orders_dag, hours[-1], "re-run of the last hour")
        with sqlite3.connect(database) as conn:
            after = conn.execute("SELECT count(*), max(synced_at) FROM simplestore_orders").fetchone()
            per_hour = conn.execute(
                "SELECT substr(created_on_utc, 1, 13), count(*), round(sum(total), 2) FROM simplestore_orders "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
            sample = conn.execute(
                "SELECT id, status, created_on_utc, currency_code, total FROM simplestore_orders "
                "ORDER BY created_on_utc LIMIT 5"
            ).fetchall()
        say(
            f"    table simplestore_orders in {database}: {after[0]} rows "
            f"(re-run: {before[0]} -> {after[0]} rows, refreshed at {after[1]})"
        )
        for hour, count, total in per_hour:
            say(f"      {hour}:00Z  {count} orders, total {total}")
        for row in sample:
            say("      " + " | ".join(str(value) for value in row))
        stats = sandbox.stats()
        say()
        say(f"  sandbox saw {sum(stats['requests'].values())} API requests, {stats['token_grants']} token grant(s)")
    say(f"Done in {time.monotonic() - began:.0f}s. Output under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
