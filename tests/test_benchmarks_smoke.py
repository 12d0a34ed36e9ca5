"""Each benchmark runs once at tiny sizes (`--quick`) and prints its table and its targets.

Only that it runs and reports is checked here, never its timings: numbers belong to
`make bench` and benchmarks/RESULTS.md, not to a test on a shared machine.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks
from benchmarks.run import BENCHMARKS
from tests.support import REPO_ROOT

SUPPORT_MODULES = {"harness", "child", "run", "peers"}  # peers: its own entry, `make bench-peers`


def test_every_benchmark_module_is_run() -> None:
    modules = {info.name for info in pkgutil.iter_modules(benchmarks.__path__)} - SUPPORT_MODULES
    assert modules == set(BENCHMARKS)


def run_quietly(module: str, *arguments: str, timeout: float) -> str:
    """`python -m module arguments` from the repository; its standard output, once it exited 0."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *arguments], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_and_prints_its_table(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    out = run_quietly("benchmarks.run", "--quick", "--only", name, timeout=300)
    assert "CRASHED" not in out
    report, _, summary = out.partition("== Summary ==")
    assert f"== {module.TITLE} ==" in report
    # A table: a header row, its rule of dashes, then rows.
    lines = report.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("---") and set(line) <= {"-", " "}]
    assert rules and all(lines[i + 1].strip() for i in rules), report
    # Every target of this benchmark is in the summary with a verdict.
    rows = [line for line in summary.splitlines() if line.startswith(name)]
    assert rows, summary
    assert all(line.rstrip().endswith(("met", "MISSED", "info")) for line in rows), summary


def test_unknown_benchmark_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--only", "no_such_benchmark"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no_such_benchmark" in proc.stderr and "invalid choice" in proc.stderr


def test_peers_run_without_dlt_and_check_every_output(tmp_path: Path) -> None:
    """The peers benchmark, quick, with no dlt venv (the case of `make test`): every other candidate
    runs in every condition and its output checks out; the report says dlt was left out."""
    from benchmarks.peers.run import CANDIDATES, QUICK_CONDITIONS

    missing = tmp_path / "no-venv" / "bin" / "python"
    out = run_quietly("benchmarks.peers.run", "--quick", "--dlt-python", str(missing), timeout=600)
    assert f"dlt candidates were not run: {missing} is missing" in out
    sections = out.split("\n\n")
    for condition in QUICK_CONDITIONS:
        table = next(section for section in sections if section.startswith(f"{condition.name}:"))
        rows = {
            c.name: next((line for line in table.splitlines() if line.startswith(c.name)), None) for c in CANDIDATES
        }
        for candidate in CANDIDATES:
            if candidate.dlt:
                assert rows[candidate.name] is None, table
            else:
                row = rows[candidate.name]
                assert row is not None and row.rstrip().endswith(("ok", "ok, same bytes as plain")), table
        # The export writes the same JSON Lines as the plain loop, byte for byte.
        export = rows["provider export, max_workers=1"]
        assert export is not None and export.rstrip().endswith("same bytes as plain"), table


def test_peers_table_shows_a_wrong_count_as_a_failure() -> None:
    """A candidate that wrote too few records, or an id twice, or crashed, is marked in its row."""
    from benchmarks.peers.run import CONDITIONS, PLAIN, Run, condition_table

    right = Run(seconds=1.0, records=100, distinct=100, sha256="a", peak_rss_kib=1024, requests=2)
    results = {
        PLAIN: [right],
        "short": [Run(seconds=1.0, records=99, distinct=99, peak_rss_kib=1024, requests=2)],
        "twice": [Run(seconds=1.0, records=100, distinct=99, peak_rss_kib=1024, requests=2)],
        "crashed": [right, Run(error="child failed (exit 1)")],
    }
    table, summary = condition_table(CONDITIONS[0], results, orders=100)
    rows = {row[0]: row[-1] for row in table.rows}
    assert rows == {
        PLAIN: "ok",
        "short": "WRONG: 99 records, 99 ids",
        "twice": "WRONG: 100 records, 99 ids",
        "crashed": "FAILED 1/2: child failed (exit 1)",
    }
    assert summary[PLAIN]["correct"] == 1.0 and summary["short"]["correct"] == 0.0
