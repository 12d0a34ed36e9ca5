"""The built wheel installs into a clean venv and registers with Airflow there.

Its metadata offers users the `sandbox`, `openlineage` and `parquet` extras only: the developers' tools
(pytest, moto, ruff, ...) are pyproject.toml's dependency groups, which no wheel publishes.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from airflow_provider_simplestore import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent
USER_EXTRAS = {"sandbox", "openlineage", "parquet"}
# Developer-only requirements (the dependency groups) that must not reach a user's install.
DEVELOPER_ONLY = (
    "pytest",
    "moto",
    "ruff",
    "mypy",
    "playwright",
    "jsonschema",
    "psycopg",
    "pre-commit",
    "apache-airflow-providers-amazon",
    "apache-airflow-providers-celery",
    "celery",
    "apache-airflow-providers-http",
    "apache-airflow-providers-postgres",
)

DISCOVERY = """
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
info = pm.providers["airflow-provider-simplestore"]
hook = pm.hooks["simplestore"]
print("RESULT", info.version, hook.hook_class_name if hook else None)
"""


def _run(*cmd: str, timeout: float = 900) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.timeout(1200)
def test_wheel_installs_into_a_clean_venv_and_registers(tmp_path: Path):
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO_ROOT))
    (wheel,) = (tmp_path / "dist").glob("airflow_provider_simplestore-*.whl")
    assert f"-{__version__}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "airflow_provider_simplestore/py.typed" in names
    assert "airflow_provider_simplestore/sandbox/README.md" in names  # the table of sandbox choices
    assert not [n for n in names if n.startswith(("tests/", "dags_examples/", "benchmarks/", "scripts/"))]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "apache_airflow_provider" in zipfile.ZipFile(wheel).read(entry_points).decode()
    metadata_file = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(zipfile.ZipFile(wheel).read(metadata_file).decode())
    assert set(metadata.get_all("Provides-Extra") or []) == USER_EXTRAS
    required = [Requirement(line).name.lower() for line in metadata.get_all("Requires-Dist") or []]
    assert not [name for name in required if name in DEVELOPER_ONLY], required

    venv = tmp_path / "clean-venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    _run(python, "-m", "pip", "install", "-q", str(wheel))
    out = _run(python, "-c", DISCOVERY).splitlines()
    result = [line.split()[1:] for line in out if line.startswith("RESULT ")]
    assert result == [[__version__, "airflow_provider_simplestore.hooks.simplestore.SimpleStoreHook"]]
