"""Each benchmark runs once at tiny sizes (`--quick`) and prints its table and its targets.

Only that it runs and reports is checked here, never its timings: numbers belong to
`make bench` and benchmarks/RESULTS.md, not to a test on a shared machine.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import benchmarks
from benchmarks.run import BENCHMARKS
from tests.support import REPO_ROOT

SUPPORT_MODULES = {"harness", "child", "run"}


def test_every_benchmark_module_is_run() -> None:
    modules = {info.name for info in pkgutil.iter_modules(benchmarks.__path__)} - SUPPORT_MODULES
    assert modules == set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_and_prints_its_table(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", name],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
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
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "no_such_benchmark" in proc.stderr and "invalid choice" in proc.stderr
