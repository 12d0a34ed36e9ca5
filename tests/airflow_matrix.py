"""The Airflow version matrix of `make test`: the core of the suite on every other supported Airflow.

The main run (`make test`) uses the default Airflow in `.venv`. Each other version runs the core of
the suite in its own venv, `.venv-airflow-<version>/` (built and cached by scripts/airflow_venvs.py,
which `make demo AIRFLOW_VERSION=<version>` uses as well), in its own process. Each version's
result is printed with its counts and time, and a failure names the version.

    python -m tests.airflow_matrix                 # every version in MATRIX
    python -m tests.airflow_matrix 2.11.2 3.1.8    # some of them
    python -m tests.airflow_matrix -- -x -k sensor # arguments after -- go to pytest
    python scripts/airflow_venvs.py 2.11.2         # only build (or reuse) that venv, print its python
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scripts.airflow_venvs import DEFAULT_AIRFLOW, REPO_ROOT, Target, ensure_venv, targets_named

OUTPUT = REPO_ROOT / "test-output" / "matrix"
PRINT_LOCK = threading.Lock()

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
    "tests/test_deprecated_paths.py",
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
# Proven on the main run: Postgres, S3 (the deploy dependency group: moto, s3fs), and the resource
# table's agreement with every layer (no Airflow version changes it).
CORE_DESELECT = (
    "tests/transfers/test_sql_postgres.py",
    "tests/transfers/test_storage_s3.py",
    "tests/operators/test_import_s3.py",
    "tests/client/test_resources.py",
)


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


SUMMARY = re.compile(
    r"^=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected|warnings?|xfailed|xpassed)"
    r"(?:, \d+ \w+)*|no tests ran) in [\d.]+s"
)


def run_core(target: Target, python: Path, pytest_args: list[str]) -> Outcome:
    """The core suite on one version, its output in test-output/matrix/airflow-<version>.log."""
    version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["SIMPLESTORE_MATRIX_AIRFLOW"] = target.airflow
    command = [
        str(python),
        "-m",
        "pytest",
        *CORE_TESTS,
        "-p",
        "no:cacheprovider",
        *(f"--deselect={path}" for path in CORE_DESELECT),
        f"--junitxml={OUTPUT / f'airflow-{target.airflow}.xml'}",
        *pytest_args,
    ]
    log = OUTPUT / f"airflow-{target.airflow}.log"
    started = time.monotonic()
    with log.open("w") as out:
        returncode = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    text = log.read_text(errors="replace")
    summaries = [m.group(1) for line in text.splitlines() if (m := SUMMARY.match(line.strip()))]
    outcome = Outcome(
        target,
        version,
        returncode,
        summaries[-1] if summaries else f"pytest exited {returncode}",
        time.monotonic() - started,
    )
    # One version's whole output at a time, so that parallel runs do not interleave.
    with PRINT_LOCK:
        print(
            f"\n== Airflow {target.airflow} (Python {version}): core suite ({log.relative_to(REPO_ROOT)})\n{text}",
            flush=True,
        )
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="*", help="Airflow versions (default: every one in MATRIX)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("MATRIX_JOBS", "2")),
        help="versions run at once (default 2, or $MATRIX_JOBS): the suites mostly wait on I/O",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, pytest_args = parser.parse_args(argv[:split]), argv[split + 1 :]
    targets = targets_named(args.versions)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pythons = {target: ensure_venv(target) for target in targets}  # one pip at a time
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda t: run_core(t, pythons[t], pytest_args), targets))
    lines = [
        f"Airflow version matrix (main run: Airflow {DEFAULT_AIRFLOW} in .venv), "
        f"{time.monotonic() - started:.0f}s in all:"
    ]
    for o in outcomes:
        verdict = "ok" if o.ok else "FAILED"
        lines.append(
            f"  Airflow {o.target.airflow:<7} Python {o.python_version:<8} {verdict:<6} {o.summary} ({o.seconds:.0f}s)"
        )
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
