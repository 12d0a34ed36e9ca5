"""Helpers shared by the tests (importable; no side effects, unlike conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def airflow_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `airflow` CLI of this venv; raises with its output if it fails."""
    proc = subprocess.run(
        [str(VENV_BIN / "airflow"), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"airflow {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def running_in_ci() -> bool:
    """CI sets CI=true: there a missing tool (Chromium, PostgreSQL) fails its tests instead of skipping them."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> NoReturn:
    """A server binary (PostgreSQL, redis-server) cannot be had: skip with the reason, fail under CI."""
    import pytest

    if running_in_ci():
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def cli_json(proc: subprocess.CompletedProcess) -> Any:
    """The JSON document of an `airflow ... --output json` run (3.0 prints log lines, which also
    start with "[", before it)."""
    lines = proc.stdout.splitlines()
    for start, line in enumerate(lines):
        if line.lstrip().startswith(("[", "{")):
            try:
                return json.loads("\n".join(lines[start:]))
            except json.JSONDecodeError:
                continue
    raise AssertionError(f"no JSON document in the output:\n{proc.stdout[-2000:]}")


def eventually(condition: Callable[[], T], *, what: str, timeout: float = 30, interval: float = 0.05) -> T:
    """Poll `condition()` until it returns something truthy, and return that; fail after `timeout`
    seconds naming `what`. For state something else finishes in its own time (a server ending a
    backend after a disconnect, a thread taking a lock, a log another process flushes): a test
    waits for it with a deadline, never samples it once (CI has two busy cores)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last seen: {value!r}")
        time.sleep(interval)


def private_airflow_env(migrated_home: Path, home: Path) -> dict[str, str]:
    """Environment for real `airflow` commands on a home of their own: a copy of the session's migrated
    SQLite database, so that `airflow connections add` writes nowhere another test reads. The venv's
    bin comes first on PATH (`airflow`, `python`), no AIRFLOW_CONN_/AIRFLOW_VAR_ is inherited."""
    import shutil

    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_home / "airflow.db", home / "airflow.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env
