"""Every code example of docs/ and the README runs, so that none can rot.

Each ```python and ```bash block carries a marker on the line before its fence (an HTML comment,
invisible on GitHub) saying what the suite does with it:

- ``<!-- doc-test: run -->``: run against a sandbox, with ``AIRFLOW_CONN_SIMPLESTORE_DEFAULT`` pointing
  at the page's. Python blocks run in-process, one namespace per page; bash blocks run in bash, one
  shell state per page (exported variables carry over), with ``airflow`` and ``python`` of this venv
  and an Airflow home of the page's own (a copy of the migrated database; DAGs in ``dags/``).
- ``<!-- doc-test: file: <path> -->``: a python block written to ``<path>`` in the page's working
  folder (a DAG file for a later ``airflow dags test``), checked to compile.
- ``<!-- doc-test: connection -->``: a bash block that defines a connection (``export AIRFLOW_CONN_...``
  or ``airflow connections add``), run on its own and then tested with ``airflow connections test``:
  it must say "Connection success!".
- ``<!-- doc-test: background -->``: a bash block that starts the sandbox's CLI; it runs until the page
  is done, and the output its ``# ...`` comment lines show must be what the CLI prints.
- ``<!-- doc-test: tutorial -->``: docs/tutorial.md only; run by tests/e2e/test_tutorial_deployment.py
  under a real scheduler.
- ``<!-- doc-test: skip: <reason> -->``: not run, for the reason given (an install, a fragment of a
  class, the suite itself).

Pasting against the sandbox: the production URLs, the placeholders for the client id and secret and
the sandbox's documented port 8765 are replaced by the page sandbox's, as a reader would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import REPO_ROOT, private_airflow_env

DOCS = REPO_ROOT / "docs"
PAGES = sorted([REPO_ROOT / "README.md", *DOCS.glob("*.md"), *DOCS.glob("*/*.md")])
RUNNABLE_LANGUAGES = ("python", "bash")
KINDS = ("run", "connection", "background", "file", "tutorial", "skip")
_MARKER = re.compile(r"^<!--\s*doc-test:\s*(\w+)\s*(?::\s*(.*?))?\s*-->\s*$")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)")
SANDBOX: dict[str, Any] = {"seed": 5, "products": 30, "customers": 10, "orders": 60}
DOCUMENTED_SANDBOX = "http://127.0.0.1:8765"  # the URL docs/sandbox.md and the tutorial show


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    kind: str | None
    note: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line} ({self.language}, {self.kind})"


def code_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a markdown page, each with the doc-test marker of the line before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, language = opening.groups()
        end = next(j for j in range(index + 1, len(lines)) if lines[j].strip() == fence)
        marker = _MARKER.match(lines[index - 1].strip()) if index else None
        blocks.append(
            Block(
                page,
                index + 1,
                language,
                "\n".join(lines[index + 1 : end]),
                marker.group(1) if marker else None,
                (marker.group(2) or "") if marker else "",
            )
        )
        index = end + 1
    return blocks


def runnable_blocks(page: Path) -> list[Block]:
    return [b for b in code_blocks(page) if b.language in RUNNABLE_LANGUAGES]


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_example_says_whether_it_runs(page: Path) -> None:
    problems = []
    for block in runnable_blocks(page):
        if block.kind not in KINDS:
            problems.append(f"{block}: no <!-- doc-test: run|connection|background|skip: reason --> before it")
        elif block.kind == "skip" and not block.note:
            problems.append(f"{block}: a skipped example needs a reason (<!-- doc-test: skip: why -->)")
        elif block.kind == "tutorial" and page.name != "tutorial.md":
            problems.append(f"{block}: 'tutorial' examples are docs/tutorial.md's")
        elif block.kind in ("connection", "background") and block.language != "bash":
            problems.append(f"{block}: a {block.kind} example is a bash block")
        elif block.kind == "file" and (block.language != "python" or not block.note):
            problems.append(f"{block}: a file example is a python block with its path (<!-- doc-test: file: path -->)")
    assert not problems, "\n".join(problems)


def test_the_pages_have_examples_that_run() -> None:
    kinds = [b.kind for page in PAGES for b in runnable_blocks(page)]
    assert kinds.count("run") >= 20 and kinds.count("connection") >= 5, kinds


def test_code_blocks_reads_markers_and_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n<!-- doc-test: skip: a fragment -->\n```python\nx = 1\n```\n\n```bash\necho hi\n```\n```json\n{}\n```\n",
        encoding="utf-8",
    )
    blocks = code_blocks(page)
    assert [(b.line, b.language, b.kind, b.note, b.code) for b in blocks] == [
        (3, "python", "skip", "a fragment", "x = 1"),
        (7, "bash", None, "", "echo hi"),
        (10, "json", None, "", "{}"),
    ]


# --- running them -------------------------------------------------------------------------------


class PageRun:
    """One page's examples, in order, against one sandbox, in one Airflow home and one shell state."""

    def __init__(
        self, page: Path, tmp_path: Path, airflow_db: Path, stack: ExitStack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from airflow_provider_simplestore.sandbox import run_sandbox

        self.page, self.stack, self.monkeypatch = page, stack, monkeypatch
        self.sandbox = stack.enter_context(run_sandbox(**SANDBOX))
        self.url = self.sandbox.url  # the sandbox the examples talk to (a background one takes over)
        self.work = tmp_path / "work"
        (self.work / "dags").mkdir(parents=True)
        self.state = tmp_path / "state.sh"
        self.state.write_text("", encoding="utf-8")
        self.env = {
            **private_airflow_env(airflow_db, tmp_path / "home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.work / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "CLIENT_ID": self.sandbox.client_id,
            "CLIENT_SECRET": self.sandbox.client_secret,
            "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": self.sandbox.connection_uri(),
        }
        self.namespace: dict[str, Any] = {"__name__": "doc_example"}

    def paste(self, code: str) -> str:
        """The example as a reader pastes it against the sandbox."""
        sb, url = self.sandbox, self.url
        replacements = [
            ("https://auth.simplestore.io/connect/token", url + "/connect/token"),
            (quote("https://auth.simplestore.io/connect/token", safe=""), quote(url + "/connect/token", safe="")),
            ("https://api.simplestore.io", url),
            (quote("https://api.simplestore.io", safe=""), quote(url, safe="")),
            (DOCUMENTED_SANDBOX, url),
            (quote(DOCUMENTED_SANDBOX, safe=""), quote(url, safe="")),
            ("CLIENT_ID:URL_ENCODED_SECRET", f"{quote(sb.client_id, safe='')}:{quote(sb.client_secret, safe='')}"),
            ("<client id>", sb.client_id),
            ("<client secret>", sb.client_secret),
        ]
        for old, new in replacements:
            code = code.replace(old, new)
        return code

    def bash(self, code: str, *, keep_state: bool = True, env: dict[str, str] | None = None) -> str:
        script = (f"source {self.state}\n{code}\nexport -p > {self.state}\n") if keep_state else code
        proc = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.work,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"exit {proc.returncode}:\n{code}\n--- output ---\n{output[-4000:]}"
        return output

    def run(self, block: Block) -> None:
        code = self.paste(block.code)
        if block.kind == "connection":
            self.connection(code)
        elif block.kind == "file":
            target = self.work / block.note
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code + "\n", encoding="utf-8")
            compile(code, str(target), "exec")
        elif block.kind == "background":
            self.background(block, code)
        elif block.language == "bash":
            self.bash(code)
        else:
            self.python(block, code)

    def connection(self, code: str) -> None:
        """Run on its own (no state before or after, no sandbox connection given: only the example's
        own may pass), then test the connection it defines."""
        named = re.search(r"AIRFLOW_CONN_(\w+)=", code) or re.search(r"connections add (\w+)", code)
        assert named, f"the example defines no connection:\n{code}"
        conn_id = named.group(1).lower()
        test = "" if "connections test" in code else f"\nairflow connections test {conn_id}"
        output = self.bash(
            f"unset AIRFLOW_CONN_{conn_id.upper()}\n{code}{test}",
            keep_state=False,
            env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
        )
        assert "Connection success!" in output, f"{code}\n--- output ---\n{output[-3000:]}"

    def background(self, block: Block, code: str) -> None:
        """Start the command; wait for the output its comment lines show, and compare."""
        command = code.splitlines()[0].replace("--port 8765", "--port 0")
        shown = [line[1:].strip() for line in block.code.splitlines()[1:] if line.startswith("#")]
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=self.work,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.stack.callback(_stop, proc)
        printed: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:  # the CLI flushes each line; its last one is printed before it serves
            printed.append(line.strip())
            if line.strip().startswith("airflow connections add"):
                break
        served = re.search(r"serving (http://127\.0\.0\.1:\d+)", printed[0] if printed else "")
        assert served, f"{command} printed:\n" + "\n".join(printed)
        self.url = served.group(1)
        port = self.url.rsplit(":", 1)[1]
        expected = [line.replace("8765", port) for line in shown]
        missing = [line for line in expected if line not in printed]
        assert not missing, f"{block}: shown but not printed: {missing}\nprinted:\n" + "\n".join(printed)

    def python(self, block: Block, code: str) -> None:
        self.monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", self.sandbox.connection_uri())
        self.monkeypatch.chdir(self.work)
        exec(compile(code, f"{block.page}:{block.line}", "exec"), self.namespace)  # the docs' own code


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


RUN_KINDS = ("run", "connection", "background", "file")
PAGES_THAT_RUN = [page for page in PAGES if any(b.kind in RUN_KINDS for b in runnable_blocks(page))]


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", PAGES_THAT_RUN, ids=page_id)
def test_the_examples_of_a_page_run(
    page: Path, tmp_path: Path, airflow_db: Path, stack: ExitStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = PageRun(page, tmp_path, airflow_db, stack, monkeypatch)
    for block in runnable_blocks(page):
        if block.kind in RUN_KINDS:
            try:
                run.run(block)
            except Exception as exc:
                raise AssertionError(f"{block} failed: {type(exc).__name__}: {exc}") from exc
