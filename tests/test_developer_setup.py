"""The developers' set-up: what `make demo` runs, and when a venv is reinstalled.

`make demo` (on the default Airflow or another one) runs scripts only, and they import nothing from
tests/. `make install` reinstalls `.venv` when a file its pip install reads changes, and a version's
venv of scripts/airflow_venvs.py is rebuilt likewise.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import airflow_venvs
from tests.support import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_dry_run(*args: str) -> list[str]:
    """The commands `make` would run (`-n`), one per line."""
    proc = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return names


@pytest.mark.parametrize("airflow", [airflow_venvs.DEFAULT_AIRFLOW, airflow_venvs.MATRIX[0].airflow])
def test_make_demo_runs_scripts_that_import_nothing_from_tests(airflow: str) -> None:
    commands = make_dry_run("--always-make", "demo", f"AIRFLOW_VERSION={airflow}")
    assert any("scripts/demo.py" in command for command in commands), commands
    from_tests = [command for command in commands if re.search(r"-m\s+tests\b|\btests/\S+\.py\b", command)]
    assert from_tests == []
    scripts = {REPO_ROOT / match for command in commands for match in re.findall(r"\bscripts/\w+\.py\b", command)}
    for script in sorted(scripts):
        imports = imported_modules(script)
        assert not [name for name in imports if name.split(".")[0] == "tests"], f"{script.name} imports {imports}"


@pytest.mark.parametrize("read", ["setup.cfg", "pyproject.toml", "tests/constraints/airflow-3.3.2.txt"])
def test_make_install_reinstalls_when_a_file_it_reads_changes(read: str) -> None:
    commands = make_dry_run("-W", read, "install")  # -W: as if `read` had just changed
    installs = [command for command in commands if "pip install" in command and " -e " in command]
    assert installs, f"make install would not reinstall after a change to {read}: {commands}"
    assert "--group dev" in installs[0] and "[sandbox,openlineage,parquet]" in installs[0]


def test_a_version_venv_is_rebuilt_when_what_its_install_reads_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = airflow_venvs.MATRIX[0]
    constraints = tmp_path / "tests" / "constraints"
    constraints.mkdir(parents=True)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    (constraints / f"airflow-{target.airflow}.txt").write_text("apache-airflow==0\n")
    monkeypatch.setattr(airflow_venvs, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(airflow_venvs, "CONSTRAINTS", constraints)

    arguments = airflow_venvs.install_arguments(target)
    assert arguments[:4] == [
        "-e",
        f"{tmp_path}[sandbox,openlineage,parquet]",
        "--group",
        f"{tmp_path}/pyproject.toml:test",
    ]
    assert arguments[-2:] == ["-c", str(constraints / f"airflow-{target.airflow}.txt")]

    before = airflow_venvs.fingerprint(target, "python3")
    (tmp_path / "README.md").write_text("not read by pip\n")
    assert airflow_venvs.fingerprint(target, "python3") == before
    for changed in (tmp_path / "setup.cfg", tmp_path / "pyproject.toml", constraints / f"airflow-{target.airflow}.txt"):
        changed.write_text(changed.read_text() + "\n# changed\n")
        after = airflow_venvs.fingerprint(target, "python3")
        assert after != before, f"a change to {changed.name} keeps the venv"
        before = after
    assert airflow_venvs.fingerprint(target, "python3.12") != before  # another interpreter
