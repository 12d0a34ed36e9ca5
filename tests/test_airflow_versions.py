"""The supported Airflow range, and what `compat` does on the Airflow this suite runs on.

`make test` runs this file on every version of the matrix (tests/airflow_matrix.py) as well.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_simplestore import compat

RUNTIME_MODULES = (
    "airflow_provider_simplestore.hooks.simplestore",
    "airflow_provider_simplestore.operators.simplestore",
    "airflow_provider_simplestore.transfers.simplestore_to_storage",
    "airflow_provider_simplestore.transfers.simplestore_to_sql",
    "airflow_provider_simplestore.operators.importer",
    "airflow_provider_simplestore.sensors.orders",
    "airflow_provider_simplestore.triggers.orders",
    "airflow_provider_simplestore.exceptions",
)


def test_the_suite_runs_on_the_airflow_it_was_asked_for() -> None:
    """A matrix venv that quietly resolved another Airflow would prove nothing."""
    import airflow

    expected = os.environ.get("SIMPLESTORE_MATRIX_AIRFLOW")
    if expected:
        assert airflow.__version__ == expected
    assert airflow.__version__ == compat.AIRFLOW_VERSION
    assert compat.AIRFLOW_RELEASE >= compat.MIN_AIRFLOW


def test_metadata_refuses_airflow_older_than_2_11() -> None:
    """pip reads Requires-Dist: an older Airflow cannot be installed beside the package."""
    requires = importlib.metadata.requires("airflow-provider-simplestore") or []
    airflow = [r for r in requires if r.split(";")[0].replace(" ", "").startswith("apache-airflow>")]
    assert [r.replace(" ", "") for r in airflow] == ["apache-airflow>=2.11.0"]
    compat_pins = [r for r in requires if r.startswith("apache-airflow-providers-common-compat")]
    assert compat_pins, requires


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_an_older_airflow_gets_one_clear_error(module: str) -> None:
    """Installed anyway (--no-deps), importing any runtime module names the supported range.

    The old Airflow is simulated by its version string: that is all the check reads, and
    installing Airflow 2.10 only to watch an import fail is not worth a venv."""
    code = f"import airflow\nairflow.__version__ = '2.10.5'\nimport {module}\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("airflow_provider_simplestore.compat.SimpleStoreAirflowVersionError: "), last
    assert "apache-airflow>=2.11.0" in last and "Airflow 2.10.5" in last


@pytest.mark.parametrize(
    ("version", "release"),
    [
        ("2.11.0", (2, 11, 0)),
        ("3.3.2", (3, 3, 2)),
        ("3.1.0rc1", (3, 1, 0)),
        ("2.11.0.dev0", (2, 11, 0)),
        ("3", (3, 0, 0)),
    ],
)
def test_release_parsing(version: str, release: tuple[int, int, int]) -> None:
    assert compat._release(version) == release


def test_amask_secret_masks_on_this_airflow() -> None:
    from airflow.providers.common.compat.sdk import redact

    secret = "matrix-secret-0f3c9a7d2b"
    asyncio.run(compat.amask_secret(secret))
    assert secret not in str(redact(f"token={secret}"))


def test_async_connection_read_does_not_block_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_SS_ASYNC_READ",
        '{"conn_type": "simplestore", "host": "http://127.0.0.1:9", '
        '"login": "id", "password": "pw", "extra": {"page_size": 7}}',
    )

    async def read() -> tuple[str | None, dict[str, object]]:
        hook = SimpleStoreAsyncHook("ss_async_read")
        conn, extras = await compat.aget_connection_and_extras(hook, "ss_async_read")
        return conn.login, extras

    assert asyncio.run(read()) == ("id", {"page_size": 7})


# Airflow modules that moved between 2.11 and 3.3: runtime code reaches them only through compat.
MOVED = (
    "airflow.sdk",
    "airflow.models",
    "airflow.hooks",
    "airflow.sensors",
    "airflow.operators",
    "airflow.exceptions",
    "airflow.utils",
    "airflow.io",
    "airflow.datasets",
    "airflow.timetables",
)


def test_runtime_modules_take_moved_airflow_names_from_compat() -> None:
    root = Path(compat.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] == "sandbox" or relative.name == "compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [
                f"{relative}:{getattr(node, 'lineno', '?')} {name}"
                for name in names
                if any(name == m or name.startswith(m + ".") for m in MOVED)
            ]
    assert offenders == []
