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


@pytest.mark.timeout(300)
def test_a_connection_saved_in_the_database_is_not_read_outside_a_task_and_the_error_says_so(
    airflow_db, sandbox, tmp_path
):
    """Airflow 3 reads connections saved with `airflow connections add` only inside a task: a script
    (hooks.md's example) meets "not defined", and the error says why and what to do instead."""
    from tests.support import private_airflow_env

    env = private_airflow_env(airflow_db, tmp_path / "home")
    add = [
        "airflow",
        "connections",
        "add",
        "simplestore_saved",
        "--conn-type",
        "simplestore",
        "--conn-host",
        sandbox.url,
        "--conn-login",
        sandbox.client_id,
        "--conn-password",
        sandbox.client_secret,
        "--conn-extra",
        json.dumps({"auth_url": sandbox.token_url}),
    ]
    assert subprocess.run(add, env=env, capture_output=True, text=True, timeout=120).returncode == 0
    script = (
        "from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook\n"
        "print(next(iter(SimpleStoreHook('simplestore_saved').list_products()))['productId'])\n"
    )
    proc = subprocess.run(["python", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    from airflow_provider_simplestore.compat import AIRFLOW_RELEASE

    if AIRFLOW_RELEASE < (3, 1, 0):  # 2.11 and 3.0 read their database anywhere
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    assert proc.returncode != 0
    assert "SimpleStore connection 'simplestore_saved' is not defined." in proc.stderr
    assert (
        "Outside a task (a script, a notebook), Airflow 3.1 and later do not read the connections saved in its "
        "database: set the environment variable there."
    ) in proc.stderr, proc.stderr[-2000:]
