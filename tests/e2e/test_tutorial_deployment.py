"""docs/tutorial.md, as a new user follows it: every command of it, in order, under a real scheduler.

The tutorial's blocks are marked ``<!-- doc-test: tutorial: <step> -->``; this module runs each of
them as written, with two substitutions a reader's machine would not need: the Airflow home is a
fresh one under test-output/e2e/ (the harness's `AirflowHome`) instead of ``~/simplestore-first-hour``,
and the sandbox listens on a free port instead of 8765. Steps:

- ``shell``: bash, in one shell state for the whole tutorial (exported variables carry over);
- ``sandbox``: the sandbox's CLI, left running; what the tutorial shows it printing must be printed;
- ``connection``: pasted from the sandbox's output, then tested (``Connection success!``);
- ``file <path>``: the DAG file, written under the Airflow home;
- ``standalone``: ``airflow standalone``, started through the harness and waited for (health, the DAG);
- ``while-deferred``: run once the sensor of the tutorial's run waits in the triggerer;
- ``after-success``: run once the run succeeded; its output is checked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
from collections.abc import Iterator

import pytest

from airflow_provider_simplestore.compat import AIRFLOW_VERSION
from tests.test_doc_examples import Block, code_blocks

from .harness import AIRFLOW_BIN, OUTPUT_DIR, REPO_ROOT, AirflowHome, Deployment, Redactor, free_port, wait_for

pytestmark = pytest.mark.deployment

TUTORIAL = REPO_ROOT / "docs" / "tutorial.md"
DAG_ID = "simplestore_first_hour"
ROOT = OUTPUT_DIR / f"tutorial-{AIRFLOW_VERSION}"
HOME = ROOT / "airflow_home"
DOCUMENTED_HOME = "~/simplestore-first-hour"
DOCUMENTED_PORT = "8765"


def tutorial_blocks() -> list[Block]:
    blocks = [b for b in code_blocks(TUTORIAL) if b.kind == "tutorial"]
    assert blocks, "docs/tutorial.md has no <!-- doc-test: tutorial: ... --> blocks"
    return blocks


class Reader:
    """The reader's first terminal: one bash state, the tutorial's substitutions, the sandbox's port."""

    def __init__(self, home: AirflowHome) -> None:
        self.home = home
        self.state = ROOT / "shell-state.sh"
        self.state.write_text("", encoding="utf-8")
        self.port = DOCUMENTED_PORT
        # What the reader's shell has: Airflow's CLI and the Python it runs on, first on PATH.
        self.env = {**home.env, "PATH": f"{AIRFLOW_BIN.parent}{os.pathsep}{home.env.get('PATH', '')}"}
        for name in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER"):  # the tutorial's own export sets them
            self.env.pop(name, None)
        self.sandbox: subprocess.Popen[str] | None = None

    def paste(self, code: str) -> str:
        code = code.replace(DOCUMENTED_HOME, str(self.home.path))
        return code.replace(f"--port {DOCUMENTED_PORT}", "--port 0").replace(DOCUMENTED_PORT, self.port)

    def shell(self, block: Block) -> str:
        script = f"source {self.state}\n{self.paste(block.code)}\nexport -p > {self.state}\n"
        proc = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = self.home.redact(proc.stdout + proc.stderr)
        assert proc.returncode == 0, f"{block} exited {proc.returncode}:\n{block.code}\n---\n{output[-4000:]}"
        return output

    def start_sandbox(self, block: Block) -> str:
        """The sandbox's CLI in the background; the URL it serves, once it printed what the block shows."""
        command = self.paste(block.code).splitlines()[0]
        self.sandbox = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        printed: list[str] = []
        assert self.sandbox.stdout is not None
        for line in self.sandbox.stdout:  # each line is flushed as printed, the last one before it serves
            printed.append(line.strip())
            if line.strip().startswith("airflow connections add"):
                break
        served = re.search(r"serving http://127\.0\.0\.1:(\d+)", printed[0] if printed else "")
        assert served, f"{command} printed:\n" + "\n".join(printed)
        self.port = served.group(1)
        shown = [self.paste(line[1:].strip()) for line in block.code.splitlines()[1:] if line.startswith("#")]
        missing = [line for line in shown if line not in printed]
        assert not missing, f"docs/tutorial.md shows {missing}, the sandbox printed:\n" + "\n".join(printed)
        return printed[0]

    def stop_sandbox(self) -> None:
        if self.sandbox is not None and self.sandbox.poll() is None:
            os.killpg(self.sandbox.pid, signal.SIGINT)
            self.sandbox.wait(30)

    def exported(self, name: str) -> str:
        """A variable the reader exported (what `airflow standalone` inherits from their shell)."""
        found = re.search(rf"^declare -x {name}=\"(.*)\"$", self.state.read_text(encoding="utf-8"), re.MULTILINE)
        assert found, f"the tutorial never exports {name}"
        return found.group(1)


@pytest.fixture(scope="module")
def reader() -> Iterator[Reader]:
    home = AirflowHome(ROOT.name, dags_folder=HOME / "dags", api_port=free_port(), redactor=Redactor(), env={})
    assert home.path == HOME
    reader = Reader(home)
    try:
        yield reader
    finally:
        reader.stop_sandbox()


def start_standalone(deployment: Deployment, reader: Reader, block: Block) -> None:
    assert block.code.strip() == "airflow standalone", f"{block}: the harness starts `airflow standalone` only"
    deployment.add(
        reader.home.process(
            "standalone",
            "standalone",
            env={
                "PATH": reader.env["PATH"],  # it starts its parts as `airflow ...` commands found on PATH
                "AIRFLOW__API__PORT": str(reader.home.api_port),
                "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": reader.exported("AIRFLOW_CONN_SIMPLESTORE_DEFAULT"),
            },
        )
    )
    deployment.start(timeout=240)  # the API server answers
    wait_for(
        lambda: deployment.api.healthy("scheduler", "triggerer", "dag_processor"),
        timeout=240,
        what="airflow standalone's scheduler, triggerer and DAG processor",
        abort=deployment.abort_reason,
        diagnostics=deployment.diagnostics,
    )
    deployment.wait_for_dag(DAG_ID, timeout=180)


def the_run(deployment: Deployment) -> str:
    runs = wait_for(
        lambda: deployment.api.get(f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"],
        timeout=60,
        what=f"the run of {DAG_ID} the tutorial triggered",
        abort=deployment.abort_reason,
    )
    assert len(runs) == 1, runs
    assert runs[0]["logical_date"] is None  # `airflow dags trigger` on Airflow 3: no logical date, no ds
    return str(runs[0]["dag_run_id"])


@pytest.mark.timeout(1200)
def test_the_tutorial_runs_as_written_under_a_scheduler(reader: Reader) -> None:
    blocks = tutorial_blocks()
    steps = [block.note.split()[0] for block in blocks]
    assert steps.count("standalone") == 1 and steps.index("standalone") < steps.index("while-deferred")
    deployment = Deployment(reader.home, components=())  # `airflow standalone` joins it at its step
    started = False
    run_id = ""
    outputs: dict[int, str] = {}
    try:
        for block in blocks:
            step = block.note.split()[0]
            if step == "shell":
                outputs[block.line] = reader.shell(block)
            elif step == "sandbox":
                outputs[block.line] = reader.start_sandbox(block)
            elif step == "connection":
                outputs[block.line] = reader.shell(block)
                assert "Connection success!" in outputs[block.line], outputs[block.line]
            elif step == "file":
                target = reader.home.path / block.note.split()[1]
                target.write_text(block.code + "\n", encoding="utf-8")
                outputs[block.line] = str(target)
            elif step == "standalone":
                start_standalone(deployment, reader, block)
                started = True
                outputs[block.line] = "started"
            elif step == "while-deferred":
                assert started, f"{block}: before `airflow standalone`"
                run_id = the_run(deployment)
                deployment.wait_for_task_state(DAG_ID, run_id, "wait_for_orders", "deferred", timeout=180)
                outputs[block.line] = reader.shell(block)
                deployment.wait_for_run(DAG_ID, run_id, timeout=300)
            elif step == "after-success":
                outputs[block.line] = reader.shell(block)
            else:
                raise AssertionError(f"{block}: unknown tutorial step {step!r}")
        assert sorted(outputs) == [b.line for b in blocks], "every block of the tutorial runs"
        assert run_id
        check_what_landed(deployment, run_id, outputs[blocks[-1].line])
    finally:
        deployment.stop()  # also when it failed to start: nothing may outlive the test
        reader.stop_sandbox()


def check_what_landed(deployment: Deployment, run_id: str, shown: str) -> None:
    """What the tutorial's last step says the reader sees."""
    seen = deployment.api.xcom(DAG_ID, run_id, "wait_for_orders")
    assert seen["count"] == 3, seen
    files = sorted((HOME / "exports").iterdir())
    safe_run = run_id.replace(":", "_")
    assert [f.name for f in files] == [f"orders-{safe_run}.jsonl"], files
    exported = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert len(exported) == 3 and {o["status"] for o in exported} == {"Created"}
    with sqlite3.connect(HOME / "simplestore.db") as db:
        rows = db.execute("SELECT id FROM new_orders").fetchall()
    assert sorted(r[0] for r in rows) == sorted(o["orderId"] for o in exported)
    assert "success" in shown and f"orders-{safe_run}.jsonl" in shown, shown
    assert all(o["orderId"] in shown for o in exported), shown
    assert deployment.api.xcom(DAG_ID, run_id, "export_orders")["records"] == 3


def test_the_tutorial_shows_what_the_sandbox_prints() -> None:
    """The cheap half, without a deployment: the tutorial's connection line is one the sandbox prints."""
    blocks = {b.note.split()[0]: b for b in tutorial_blocks()}
    shown_export = next(
        line[1:].strip() for line in blocks["sandbox"].code.splitlines() if line.startswith("# export ")
    )
    pasted = blocks["connection"].code.splitlines()[0]
    assert pasted == shown_export, "step 3 pastes the line step 2 shows"
