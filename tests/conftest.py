"""Shared fixtures: a private AIRFLOW_HOME, a migrated SQLite DB, and sandboxes on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.s3_server import s3, s3_server  # noqa: F401 - one moto server per session
from tests.support import REPO_ROOT, airflow_cli

# Set before anything imports Airflow: Airflow reads its configuration at import time.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="simplestore-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags_examples")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", None)
# Tokens shared between processes (token_share.py) stay in this session's folder; every process
# the tests start inherits it.
os.environ["SIMPLESTORE_TOKEN_SHARE_DIR"] = os.path.join(_AIRFLOW_HOME, "token-share")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return Path(_AIRFLOW_HOME)


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """The private AIRFLOW_HOME with its SQLite database migrated."""
    airflow_cli("db", "migrate")
    return airflow_home


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """One seeded sandbox for the session. Use it read-only; write in `fresh_sandbox`."""
    from airflow_provider_simplestore.sandbox import run_sandbox

    # A child process: the session-long server must not share a GIL and import locks with the
    # clients under test (Airflow initialises its providers from hook threads).
    with run_sandbox(seed=7, subprocess=True) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[Callable[..., Any]]:
    """Factory: `fresh_sandbox(**options)` starts a private sandbox, stopped after the test."""
    from airflow_provider_simplestore.sandbox import run_sandbox

    with ExitStack() as stack:

        def start(**options: Any) -> Any:
            from airflow_provider_simplestore.client.oauth import TOKEN_CACHE
            from airflow_provider_simplestore.client.pacing import clear_pacers

            # A new sandbox may reuse an old port: nothing learned from another one, and no token it
            # issued (a stale token costs a 401 and a replay, one more request than the test planned).
            clear_pacers()
            TOKEN_CACHE.clear()
            return stack.enter_context(run_sandbox(**options))

        yield start


@pytest.fixture
def simplestore_conn(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`simplestore_default` pointing at the shared sandbox, injected the way users do it: the URI the
    sandbox prints (Airflow 3.1-3.2 log a deprecation warning in every task for the JSON form)."""
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sandbox.connection_uri())
    return sandbox
