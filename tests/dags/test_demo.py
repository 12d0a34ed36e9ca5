"""`make demo` as a user runs it: a fresh AIRFLOW_HOME, its own sandbox, DAGs 1 and 2, a report."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support import REPO_ROOT


def test_demo_runs_both_dags_and_reports_what_landed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env["AIRFLOW_HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "scripts/demo.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    demo = tmp_path / "home" / "simplestore_demo"
    for name in ("products.jsonl", "products.csv", "categories.jsonl", "categories.csv"):
        assert re.search(rf"{name}  \d+ records, [\d.]+ (B|KiB|MiB)", out), name
    assert "products.jsonl  200 records" in out
    assert (demo / "exports" / "catalog").is_dir()
    rows = re.search(r"table simplestore_orders in .*: (\d+) rows \(re-run: (\d+) -> (\d+) rows", out)
    assert rows and rows.group(2) == rows.group(3) == rows.group(1)
    with sqlite3.connect(demo / "orders.db") as conn:
        assert conn.execute("SELECT count(*) FROM simplestore_orders").fetchone()[0] == int(rows.group(1))
    assert re.search(r"Done in \d+s", out)
    # A healthy run is quiet: no warning of ours, nor one of Airflow's that we cause (asset events of
    # dag.test() runs, JSON connections); README "Known issues" says what Airflow itself prints.
    noisy = [line for line in (out + proc.stderr).splitlines() if re.search(r"warn|deprecat", line, re.IGNORECASE)]
    assert noisy == [], "\n".join(noisy[:10])
