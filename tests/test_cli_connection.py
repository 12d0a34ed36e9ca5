"""The real `airflow connections test` CLI against the sandbox: the path users take first."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support import VENV_BIN


def _connections_test(conn_json: str, *, enabled: bool = True) -> subprocess.CompletedProcess:
    env = {
        "AIRFLOW_CONN_SIMPLESTORE_CLI": conn_json,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled" if enabled else "Disabled",
    }
    return subprocess.run(
        [str(VENV_BIN / "airflow"), "connections", "test", "simplestore_cli"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(300)
def test_cli_connection_test_succeeds_then_reports_a_rejected_secret(airflow_db, sandbox):
    ok = _connections_test(sandbox.connection_json())
    assert "Connection success!" in ok.stdout, ok.stdout + ok.stderr

    wrong = json.loads(sandbox.connection_json())
    wrong["password"] = "definitely-not-the-secret-42"
    failed = _connections_test(json.dumps(wrong))
    output = failed.stdout + failed.stderr
    assert "Connection success!" not in output
    assert "rejected" in output.lower()
    assert "definitely-not-the-secret-42" not in output
    assert sandbox.client_secret not in output
