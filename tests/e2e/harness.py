"""Real Airflow processes for the end-to-end tests.

`AirflowHome` is a fresh AIRFLOW_HOME under test-output/e2e/<name>/ (kept after the run, with the
server logs beside it, for debugging); `AirflowProcess` runs one `airflow` command in its own process
group, its output in a log file; `AirflowApi` is a small REST client for the API server. Every wait
polls a condition and is bounded; every log excerpt goes through a `Redactor` first.

On Airflow 2 the UI is `airflow webserver` (Flask), whose health check is `/health`; a
`Deployment` of the "webserver" component waits on that instead of the 3.x API server's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import requests

from airflow_provider_simplestore.compat import AIRFLOW_RELEASE, AIRFLOW_V_3_0_PLUS

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO_ROOT / "test-output" / "e2e"
AIRFLOW_BIN = Path(sys.executable).parent / "airflow"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
HEALTH_PATH = "/api/v2/monitor/health" if AIRFLOW_V_3_0_PLUS else "/health"
API = "/api/v2" if AIRFLOW_V_3_0_PLUS else "/api/v1"  # 2.11's webserver serves the stable REST API v1
UI_SERVERS = frozenset({"api-server", "webserver"})  # the components that serve the UI on api_port

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redactor:
    """Replaces every registered secret with *** in text a test is about to show."""

    def __init__(self, *secrets: str) -> None:
        self._secrets = {s for s in secrets if s}

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def wait_for(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    abort: Callable[[], str | None] | None = None,
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Poll `condition` until it returns something truthy and return that.

    Fails after `timeout` seconds, or as soon as `abort()` names a reason (a server died), with
    `diagnostics()` (log tails) in the message. Connection errors count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except requests.RequestException as exc:
            last_error = exc
        try:
            reason = abort() if abort else None
        except requests.RequestException as exc:
            last_error, reason = exc, None
        if reason is None and time.monotonic() >= deadline:
            reason = f"timed out after {timeout:g}s"
        if reason is not None:
            detail = f" (last error: {last_error})" if last_error else ""
            extra = f"\n{diagnostics()}" if diagnostics else ""
            raise AssertionError(f"waiting for {what}: {reason}{detail}{extra}")
        time.sleep(interval)


def _clean_environ() -> dict[str, str]:
    """The test runner's environment without its Airflow settings: each deployment sets its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


class AirflowHome:
    """A fresh AIRFLOW_HOME (SQLite) under test-output/e2e/<name>/, with the env every process shares."""

    def __init__(self, name: str, *, dags_folder: Path, api_port: int, redactor: Redactor, env: dict[str, str]) -> None:
        self.root = OUTPUT_DIR / name
        shutil.rmtree(self.root, ignore_errors=True)
        self.path = self.root / "airflow_home"
        self.path.mkdir(parents=True)
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.api_port = api_port
        self.redact = redactor
        self.env = {
            **_clean_environ(),
            "AIRFLOW_HOME": str(self.path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Task supervisors report to the API server we start, not the default localhost:8080.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "NO_COLOR": "1",
            # Executors that start `airflow tasks run ...` (2.11's SequentialExecutor) find this venv's.
            "PATH": f"{AIRFLOW_BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **({} if AIRFLOW_V_3_0_PLUS else {"AIRFLOW__WEBSERVER__WORKERS": "1"}),  # 2.11: one gunicorn worker
            # 3.0 signs its tokens (UI logins, and each task's Execution API token) with `iss: []`
            # when [api_auth] jwt_issuer is unset, which today's PyJWT refuses: every one fails.
            **({"AIRFLOW__API_AUTH__JWT_ISSUER": "airflow-e2e"} if (3, 0) <= AIRFLOW_RELEASE[:2] < (3, 1) else {}),
            **env,
        }

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(AIRFLOW_BIN), *args],
            env=self.env,
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            output = self.redact(f"{proc.stdout}\n{proc.stderr}")[-4000:]
            raise AssertionError(f"airflow {' '.join(args)} failed ({proc.returncode}):\n{output}")
        return proc

    def open_rest_api(self) -> AirflowHome:
        """2.11: the webserver's REST API (v1) lets every caller in as an admin, as 3.x's simple auth
        manager does for every home here (all-admins mode). Call before starting the webserver."""
        if not AIRFLOW_V_3_0_PLUS:
            self.env["AIRFLOW__API__AUTH_BACKENDS"] = "airflow.api.auth.backend.default"
            self.env["AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT"] = "True"  # XCom values as JSON
            (self.path / "webserver_config.py").write_text(
                "from flask_appbuilder.const import AUTH_DB\n\nAUTH_TYPE = AUTH_DB\nAUTH_ROLE_PUBLIC = 'Admin'\n"
            )
        return self

    def migrate(self) -> AirflowHome:
        self.cli("db", "migrate")
        return self

    def process(self, name: str, *args: str, env: dict[str, str] | None = None) -> AirflowProcess:
        """One `airflow` command on this home; `env` adds to (or overrides) the shared environment."""
        return AirflowProcess(name, list(args), {**self.env, **(env or {})}, self.root / f"{name}.log", self.redact)


class AirflowProcess:
    """One `airflow ...` command in its own process group, stdout and stderr in `log_path`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path, redact: Redactor) -> None:
        self.name, self.args, self.env, self.log_path, self.redact = name, args, env, log_path, redact
        self.popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> AirflowProcess:
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [str(AIRFLOW_BIN), *self.args],
            env=self.env,
            cwd=self.env["AIRFLOW_HOME"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches workers and task runners
        )
        return self

    def exit_reason(self) -> str | None:
        """None while running, else a sentence saying it exited (for `wait_for(abort=...)`)."""
        if self.popen is None or self.popen.poll() is None:
            return None
        return f"{self.name} exited with code {self.popen.returncode}"

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the process group, SIGKILL whatever outlives `timeout`, then wait for the group."""
        if self.popen is None:
            return
        group = self.popen.pid
        _signal_group(group, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
            self.popen.wait(10)
        # Children (executor workers, task supervisors) share the group and may outlive the leader.
        deadline = time.monotonic() + 10
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(group, signal.SIGKILL)
        if self._log is not None:
            self._log.close()

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"--- {self.name}: no log ({exc}) ---"
        # Request access lines stay in the file; in an error message they would drown the rest.
        kept = [line for line in text.splitlines() if "[http.access]" not in line]
        body = "\n".join(kept[-lines:])
        return self.redact(f"--- {self.name} (last {lines} lines of {self.log_path}) ---\n{body}")


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class AirflowApi:
    """The public REST API of one API server (the simple auth manager's all-admins mode), or of 2.11's
    webserver (API v1 with the `default` auth backend, which lets every call in: `AirflowHome` sets it).

    3.3 answers such a server's REST calls without a login; before it, the API wants a token, which
    that mode hands out to anyone at `GET /auth/token`: taken on the first 401. The few shapes that
    differ between v1 and v2 (XCom values, logs, asset events) are read the same way here.
    """

    def __init__(self, base_url: str, timeout: float = 15) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call, with the all-admins token taken on the first 401; any status comes back."""
        response = self.session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        if response.status_code == 401 and "Authorization" not in self.session.headers:
            token = self.session.get(f"{self.base_url}/auth/token", timeout=self.timeout)
            if token.ok:
                self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
                response = self.session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def health(self) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}{HEALTH_PATH}", timeout=5)
        return response.json() if response.ok else {}

    def healthy(self, *components: str) -> bool:
        health = self.health()
        return bool(health) and all(
            (health.get(c) or {}).get("status") == "healthy" for c in ("metadatabase", *components)
        )

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG, or None while the DAG processor has not stored it yet."""
        response = self.request("GET", f"{API}/dags/{dag_id}")
        return response.json() if response.ok else None

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self.get(f"{API}/importErrors")["import_errors"])

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.call("PATCH", f"{API}/dags/{dag_id}", json={"is_paused": paused})

    def unpause(self, dag_id: str) -> None:
        self.set_paused(dag_id, False)

    def trigger(self, dag_id: str, *, logical_date: str | None) -> str:
        """A manual run; `logical_date=None` is a run without one (Airflow 3 only)."""
        if logical_date is None and not AIRFLOW_V_3_0_PLUS:
            raise ValueError("Airflow 2 runs always have a logical date")
        body = {"logical_date": logical_date}
        return str(self.call("POST", f"{API}/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"{API}/dags/{dag_id}/dagRuns")["dag_runs"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"{API}/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        ti = self.get(f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        return ti.get("state")

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        if AIRFLOW_V_3_0_PLUS:
            return self.get(path)["value"]
        # v1 gives str(value) unless asked for the deserialized value, which it then sends as JSON
        return self.get(path, deserialize="true", stringify="false")["value"]

    def asset_events(self, source_dag_id: str) -> list[dict[str, Any]]:
        """The asset (2.11: dataset) events a DAG emitted, each as {uri, extra, source_run_id}."""
        if AIRFLOW_V_3_0_PLUS:
            events = self.get(f"{API}/assets/events", source_dag_id=source_dag_id)["asset_events"]
            return [{"uri": e["uri"], "extra": e["extra"], "source_run_id": e["source_run_id"]} for e in events]
        events = self.get(f"{API}/datasets/events", source_dag_id=source_dag_id)["dataset_events"]
        return [{"uri": e["dataset_uri"], "extra": e["extra"], "source_run_id": e["source_run_id"]} for e in events]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        path = f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        accept = "application/x-ndjson" if AIRFLOW_V_3_0_PLUS else "text/plain"
        response = self.request("GET", path, params={"full_content": "true"}, headers={"Accept": accept})
        lines = []
        for line in response.text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                lines.append(line)
                continue
            lines.append(f"{record.get('level', '')} {record.get('event', '')}")
            for error in record.get("error_detail") or ():
                lines.append(f"  {error.get('exc_type')}: {error.get('exc_value')}")
        return "\n".join(lines)

    def run_report(self, dag_id: str, run_id: str, redact: Redactor, log_lines: int = 30) -> str:
        """Task states, and the log tail of every task that did not succeed, for an assertion message."""
        lines = []
        try:
            instances = self.task_instances(dag_id, run_id)
        except (AssertionError, requests.RequestException) as exc:
            return f"(no task instances: {exc})"
        for ti in instances:
            lines.append(f"{ti['task_id']}: {ti['state']} (try {ti.get('try_number')})")
            if ti["state"] not in ("success", "skipped") and ti.get("try_number"):
                log = self.task_log(dag_id, run_id, ti["task_id"], ti["try_number"])
                lines.append("\n".join(log.splitlines()[-log_lines:]))
        return redact("\n".join(lines))


class Deployment:
    """API server, scheduler (LocalExecutor unless the env says otherwise), DAG processor and triggerer
    on one AirflowHome; `add()` starts more processes (Celery workers) into the same lifecycle."""

    COMMANDS: dict[str, tuple[str, ...]] = {
        "api-server": ("api-server", "--host", "127.0.0.1"),
        "webserver": ("webserver", "--hostname", "127.0.0.1"),  # Airflow 2's UI and REST API
        # Task and trigger logs are files in AIRFLOW_HOME that the API server reads itself; the log
        # servers would listen on every interface, so they stay off.
        "scheduler": ("scheduler", "--skip-serve-logs"),
        "dag-processor": ("dag-processor",),
        "triggerer": ("triggerer", "--skip-serve-logs"),
    }

    # A whole Airflow 3 deployment; "webserver" is 2.11's UI only, named when wanted.
    DEPLOYMENT = ("api-server", "scheduler", "dag-processor", "triggerer")

    def __init__(self, home: AirflowHome, components: Iterable[str] = DEPLOYMENT) -> None:
        self.home = home
        self.api = AirflowApi(home.api_url)
        self.processes: list[AirflowProcess] = []
        for name in components:
            args = self.COMMANDS[name]
            if name in UI_SERVERS:
                args = (*args, "--port", str(home.api_port))
            self.processes.append(home.process(name, *args))

    def start(self, timeout: float = 150) -> Deployment:
        for process in self.processes:
            if process.popen is None:  # add()ed ones are running already
                process.start()
        components = [
            p.name.replace("-", "_") for p in self.processes if p.name in self.COMMANDS and p.name not in UI_SERVERS
        ]
        wait_for(
            lambda: self.api.healthy(*components),
            timeout=timeout,
            what=f"{self.home.api_url}{HEALTH_PATH} to report {components} healthy",
            abort=self.abort_reason,
            diagnostics=self.diagnostics,
        )
        return self

    def add(self, process: AirflowProcess) -> AirflowProcess:
        """Start one more process (a Celery worker) that is stopped, watched and reported with the rest."""
        self.processes.append(process.start())
        return process

    def stop(self) -> None:
        # Everything but the API server at once (each stop waits up to half a minute for its process
        # group), then the API server: running tasks report to it until they have been stopped.
        others = [p for p in self.processes if p.name not in UI_SERVERS]
        with ThreadPoolExecutor(max_workers=max(1, len(others))) as pool:
            list(pool.map(AirflowProcess.stop, others))
        for process in self.processes:
            if process.name in UI_SERVERS:
                process.stop()

    def abort_reason(self) -> str | None:
        return next((r for r in (p.exit_reason() for p in self.processes) if r), None)

    def diagnostics(self, lines: int = 30) -> str:
        return "\n".join(p.tail(lines) for p in self.processes)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        dag = wait_for(
            lambda: self.api.dag(dag_id),
            timeout=timeout,
            what=f"DAG {dag_id} to be parsed",
            abort=self.abort_reason,
            diagnostics=lambda: f"import errors: {self.api.import_errors()}\n{self.diagnostics()}",
        )
        assert dag is not None  # wait_for returns a truthy value
        return dag

    def wait_for_task_state(self, dag_id: str, run_id: str, task_id: str, state: str, timeout: float = 120) -> None:
        wait_for(
            lambda: self.api.task_state(dag_id, run_id, task_id) == state,
            timeout=timeout,
            what=f"{dag_id}.{task_id} to be {state}",
            abort=lambda: self.abort_reason() or self._failing_task(dag_id, run_id),
            diagnostics=lambda: self._report(dag_id, run_id),
        )

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        """Wait for a terminal run state; fail with task states and logs unless it is success.

        A task that failed a try ends the wait at once: the DAGs retry after minutes, and a failed
        try is a bug here anyway.
        """
        run = wait_for(
            lambda: (r := self.api.dag_run(dag_id, run_id))["state"] in TERMINAL_RUN_STATES and r,
            timeout=timeout,
            what=f"run {run_id} of {dag_id} to finish",
            interval=1,
            abort=lambda: self.abort_reason() or self._failing_task(dag_id, run_id),
            diagnostics=lambda: self._report(dag_id, run_id),
        )
        assert run, "wait_for returns a truthy value"
        assert run["state"] == "success", f"{dag_id} run {run_id} ended {run['state']}:\n{self._report(dag_id, run_id)}"
        return run

    def _failing_task(self, dag_id: str, run_id: str) -> str | None:
        failing = [
            f"{ti['task_id']} is {ti['state']}"
            for ti in self.api.task_instances(dag_id, run_id)
            if ti["state"] in ("failed", "up_for_retry", "upstream_failed")
        ]
        return "; ".join(failing) or None

    def _report(self, dag_id: str, run_id: str) -> str:
        return f"{self.api.run_report(dag_id, run_id, self.home.redact)}\n{self.diagnostics()}"
