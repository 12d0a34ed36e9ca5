"""One venv per supported Airflow besides the default: `.venv-airflow-<version>/`, built and cached.

The default Airflow lives in the project's `.venv` (`make install`). Every other version of MATRIX
gets a venv of its own with that Airflow and the package installed in editable mode, the way
`make install` installs it (the user extras and the `test` dependency group of pyproject.toml), with
the version's constraints. A venv is rebuilt only when what its install reads changes: setup.cfg,
pyproject.toml, the version's constraints file, the interpreter or the install command.

    python scripts/airflow_venvs.py 2.11.2 3.1.8   # build (or reuse) those venvs, print their python
    python scripts/airflow_venvs.py                # every version of MATRIX

Used by `make demo AIRFLOW_VERSION=<version>`, by the version matrix of the tests
(tests/airflow_matrix.py) and by the parse-time benchmark. It imports nothing from tests/.

Airflow's own constraint files cannot be fetched here. Where the resolver picks a release that breaks
one version, `tests/constraints/airflow-<version>.txt` pins it, with the reason in a comment.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO_ROOT / "tests" / "constraints"
DEFAULT_AIRFLOW = "3.3.2"  # the project's own, in .venv
# As `make install`, less the developer-only groups (linters, benchmarks, deployment tests).
EXTRAS = "sandbox,openlineage,parquet"
GROUPS = ("test",)


@dataclass(frozen=True)
class Target:
    airflow: str
    python: str  # the interpreter version the venv is built with (one of the supported 3.10-3.12)
    extras: tuple[str, ...] = ()  # further requirements a real deployment of that version has


# One Python per Airflow, so that the matrix covers the supported Pythons too.
MATRIX = (
    Target("2.11.2", "3.10"),
    # 3.0's API server draws provider connection forms only when Flask-AppBuilder is importable;
    # deployments that show connection forms on 3.0 have the FAB provider.
    Target("3.0.6", "3.11", ("apache-airflow-providers-fab",)),
    Target("3.1.8", "3.12"),
    Target("3.2.2", "3.11"),
)


def venv_dir(airflow: str) -> Path:
    return REPO_ROOT / f".venv-airflow-{airflow}"


def constraints_file(airflow: str) -> Path:
    return CONSTRAINTS / f"airflow-{airflow}.txt"


def find_python(version: str) -> str:
    """An interpreter of `version` (PATH, then pyenv); the running one if there is none."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    print(f"note: no Python {version} found; building with {sys.version.split()[0]} instead", flush=True)
    return sys.executable


def install_arguments(target: Target) -> list[str]:
    """What `pip install` gets: the package with the user extras, the test group, that Airflow."""
    constraints = constraints_file(target.airflow)
    groups = [arg for group in GROUPS for arg in ("--group", f"{REPO_ROOT / 'pyproject.toml'}:{group}")]
    return [
        "-e",
        f"{REPO_ROOT}[{EXTRAS}]",
        *groups,
        f"apache-airflow=={target.airflow}",
        *target.extras,
        *(["-c", str(constraints)] if constraints.exists() else []),
    ]


def fingerprint(target: Target, interpreter: str) -> str:
    """Changes whenever something the install reads changes."""
    digest = hashlib.sha256()
    for path in (REPO_ROOT / "setup.cfg", REPO_ROOT / "pyproject.toml", constraints_file(target.airflow)):
        digest.update(path.read_bytes() if path.exists() else b"-")
    digest.update(repr((target, interpreter, install_arguments(target))).encode())
    return digest.hexdigest()


def ensure_venv(target: Target) -> Path:
    """The version's venv, built or brought up to date; returns its python."""
    venv = venv_dir(target.airflow)
    python = venv / "bin" / "python"
    interpreter = find_python(target.python)
    stamp = venv / ".installed"
    expected = fingerprint(target, interpreter)
    if python.exists() and stamp.exists() and stamp.read_text() == expected:
        return python
    started = time.monotonic()
    print(f"== building {venv.name} (Airflow {target.airflow}, {interpreter})", flush=True)
    if not python.exists():
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip>=25.1"], check=True)  # 25.1 brought --group
    subprocess.run([*pip, *install_arguments(target)], check=True, cwd=REPO_ROOT)
    installed = subprocess.run(
        [str(python), "-c", "import airflow; print(airflow.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if installed != target.airflow:
        raise SystemExit(f"{venv.name}: pip installed Airflow {installed}, not {target.airflow}")
    stamp.write_text(expected)
    print(f"== {venv.name} ready in {time.monotonic() - started:.0f}s", flush=True)
    return python


def targets_named(versions: list[str]) -> list[Target]:
    """The MATRIX entries of `versions` (all of them for none); SystemExit naming an unknown one."""
    known = {t.airflow: t for t in MATRIX}
    unknown = [v for v in versions if v not in known]
    if unknown:
        raise SystemExit(
            f"not a version of the matrix: {', '.join(unknown)} (known: {', '.join(known)}; "
            f"{DEFAULT_AIRFLOW} is the project's own .venv)"
        )
    return [known[v] for v in versions] or list(MATRIX)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="*", help="Airflow versions (default: every one in MATRIX)")
    args = parser.parse_args(argv)
    for target in targets_named(args.versions):
        print(ensure_venv(target), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
