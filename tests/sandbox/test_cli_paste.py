"""The sandbox's CLI prints its connection ready to paste, and each printed line works as pasted:
the environment variable, and the same connection saved with `airflow connections add`, both with
the sandbox's token URL (without it the connection asks the production token server)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import private_airflow_env


@pytest.fixture
def printed() -> Iterator[list[str]]:
    """The CLI's output up to its paste lines, the sandbox still serving."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_simplestore.sandbox", "--port", "0", "--seed", "3", "--orders", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # each line is flushed as printed; the last one comes before serving
            lines.append(line.rstrip("\n"))
            if line.lstrip().startswith("airflow connections add"):
                break
        yield lines
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def paste_line(lines: list[str], start: str) -> str:
    found = [line.strip() for line in lines if line.strip().startswith(start)]
    assert len(found) == 1, f"no single line starting with {start!r} in:\n" + "\n".join(lines)
    return found[0]


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-ec", script], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.timeout(300)
def test_each_printed_connection_works_as_pasted(printed: list[str], airflow_db: Path, tmp_path: Path) -> None:
    url = re.search(r"serving (http://127\.0\.0\.1:\d+)", printed[0]).group(1)  # type: ignore[union-attr]
    export = paste_line(printed, "export AIRFLOW_CONN_SIMPLESTORE_DEFAULT=")
    add = paste_line(printed, "airflow connections add simplestore_default ")
    env = {**private_airflow_env(airflow_db, tmp_path / "home"), "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    for line in (export, add):  # the second reads the connection from the database: no variable is left
        proc = bash(f"{line}\nairflow connections test simplestore_default", env)
        assert "Connection success!" in proc.stdout, f"{line}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert f"@{quote(url, safe='')}?auth_url={quote(url + '/connect/token', safe='')}" in export
    assert f"--conn-host {url} " in add and f'"auth_url": "{url}/connect/token"' in add
    assert os.environ.get("AIRFLOW_CONN_SIMPLESTORE_DEFAULT") is None  # nothing leaked into this process
