"""The Airflow version matrix of `make test`: the core of the suite on every other supported Airflow.

The main run (`make test`) uses the default Airflow in `.venv`. For each other version this builds a
venv of its own, `.venv-airflow-<version>/` (cached: rebuilt only when the package's metadata or the
version's constraints change), with that Airflow and the package installed in editable mode, and
runs the core of the suite there in its own process. Each version's result is printed with its
counts and time, and a failure names the version.

    python -m tests.airflow_matrix                 # every version in MATRIX
    python -m tests.airflow_matrix 2.11.2 3.1.8    # some of them
    python -m tests.airflow_matrix -- -x -k sensor # arguments after -- go to pytest
    python -m tests.airflow_matrix --ensure 2.11.2 # only build (or reuse) that venv, print its python

Airflow's own constraint files cannot be fetched here. Where the resolver picks a release that breaks
one version, `tests/constraints/airflow-<version>.txt` pins it, with the reason in a comment.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO_ROOT / "tests" / "constraints"
DEFAULT_AIRFLOW = "3.3.2"  # the main run's, in .venv
OUTPUT = REPO_ROOT / "test-output" / "matrix"
PRINT_LOCK = threading.Lock()


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

# The core of the suite: hooks and their client machinery, operators, sensors and triggers, the
# example DAGs (and their assets and lineage), provider registration and form metadata, the CLI, and
# the connection form in a real browser.
CORE_TESTS = (
    "tests/hooks",
    "tests/client",
    "tests/operators",
    "tests/transfers",
    "tests/sensors",
    "tests/triggers",
    "tests/utils",
    "tests/test_exceptions.py",
    "tests/dags/test_example_dags.py",
    "tests/dags/test_example_dags_lineage.py",
    "tests/dags/test_hook_lineage_dag.py",
    "tests/test_provider_info.py",
    "tests/test_cli_connection.py",
    "tests/test_airflow_versions.py",
    "tests/test_compat_run_blocking.py",
    "tests/test_filter_vocabulary.py",
    "tests/e2e/test_connection_ui.py",
    "tests/e2e/test_example_dags_deployment.py",
)
# Proven on the main run: Postgres, S3 (the deploy extra: moto, s3fs), and the resource table's
# agreement with every layer (no Airflow version changes it).
CORE_DESELECT = (
    "tests/transfers/test_sql_postgres.py", "tests/transfers/test_storage_s3.py", "tests/operators/test_import_s3.py",
    "tests/client/test_resources.py",
)


def venv_dir(airflow: str) -> Path:
    return REPO_ROOT / f".venv-airflow-{airflow}"


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


def _fingerprint(target: Target, python: str) -> str:
    digest = hashlib.sha256()
    for path in (REPO_ROOT / "setup.cfg", REPO_ROOT / "pyproject.toml", constraints_file(target.airflow)):
        digest.update(path.read_bytes() if path.exists() else b"-")
    digest.update(repr((target, python)).encode())
    return digest.hexdigest()


def constraints_file(airflow: str) -> Path:
    return CONSTRAINTS / f"airflow-{airflow}.txt"


def ensure_venv(target: Target) -> Path:
    """The version's venv, built or brought up to date; returns its python."""
    venv = venv_dir(target.airflow)
    python = venv / "bin" / "python"
    interpreter = find_python(target.python)
    stamp = venv / ".installed"
    fingerprint = _fingerprint(target, interpreter)
    if python.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return python
    started = time.monotonic()
    print(f"== building {venv.name} (Airflow {target.airflow}, {interpreter})", flush=True)
    if not python.exists():
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    constraints = constraints_file(target.airflow)
    subprocess.run(
        [*pip, "-e", f"{REPO_ROOT}[test]", f"apache-airflow=={target.airflow}", *target.extras,
         *(["-c", str(constraints)] if constraints.exists() else [])],
        check=True,
        cwd=REPO_ROOT,
    )
    installed = subprocess.run([str(python), "-c", "import airflow; print(airflow.__version__)"],
                               capture_output=True, text=True, check=True).stdout.strip()
    if installed != target.airflow:
        raise SystemExit(f"{venv.name}: pip installed Airflow {installed}, not {target.airflow}")
    stamp.write_text(fingerprint)
    print(f"== {venv.name} ready in {time.monotonic() - started:.0f}s", flush=True)
    return python


@dataclass
class Outcome:
    target: Target
    python_version: str
    returncode: int
    summary: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected|warnings?|xfailed|xpassed)"
                     r"(?:, \d+ \w+)*|no tests ran) in [\d.]+s")


def run_core(target: Target, python: Path, pytest_args: list[str]) -> Outcome:
    """The core suite on one version, its output in test-output/matrix/airflow-<version>.log."""
    version = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["SIMPLESTORE_MATRIX_AIRFLOW"] = target.airflow
    command = [str(python), "-m", "pytest", *CORE_TESTS, "-p", "no:cacheprovider",
               *(f"--deselect={path}" for path in CORE_DESELECT),
               f"--junitxml={OUTPUT / f'airflow-{target.airflow}.xml'}", *pytest_args]
    log = OUTPUT / f"airflow-{target.airflow}.log"
    started = time.monotonic()
    with log.open("w") as out:
        returncode = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    text = log.read_text(errors="replace")
    summaries = [m.group(1) for line in text.splitlines() if (m := SUMMARY.match(line.strip()))]
    outcome = Outcome(target, version, returncode, summaries[-1] if summaries else f"pytest exited {returncode}",
                      time.monotonic() - started)
    # One version's whole output at a time, so that parallel runs do not interleave.
    with PRINT_LOCK:
        print(f"\n== Airflow {target.airflow} (Python {version}): core suite ({log.relative_to(REPO_ROOT)})\n{text}",
              flush=True)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="*", help="Airflow versions (default: every one in MATRIX)")
    parser.add_argument("--ensure", action="store_true", help="only build the venvs and print their python")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MATRIX_JOBS", "2")),
                        help="versions run at once (default 2, or $MATRIX_JOBS): the suites mostly wait on I/O")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, pytest_args = parser.parse_args(argv[:split]), argv[split + 1:]
    known = {t.airflow: t for t in MATRIX}
    unknown = [v for v in args.versions if v not in known]
    if unknown:
        parser.error(f"not in the matrix: {', '.join(unknown)} (known: {', '.join(known)})")
    targets = [known[v] for v in args.versions] or list(MATRIX)
    if args.ensure:
        for target in targets:
            print(ensure_venv(target))
        return 0

    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pythons = {target: ensure_venv(target) for target in targets}  # one pip at a time
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda t: run_core(t, pythons[t], pytest_args), targets))
    lines = [f"Airflow version matrix (main run: Airflow {DEFAULT_AIRFLOW} in .venv), "
             f"{time.monotonic() - started:.0f}s in all:"]
    for o in outcomes:
        verdict = "ok" if o.ok else "FAILED"
        lines.append(f"  Airflow {o.target.airflow:<7} Python {o.python_version:<8} {verdict:<6} "
                     f"{o.summary} ({o.seconds:.0f}s)")
    report = "\n".join(lines)
    print("\n" + report, flush=True)
    (OUTPUT / "summary.txt").write_text(report + "\n")
    failed = [o.target.airflow for o in outcomes if not o.ok]
    if failed:
        print(f"\nThe core suite FAILED on Airflow {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
