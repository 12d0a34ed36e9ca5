"""What every benchmark shares: interleaved timing, plain-text tables, targets, child processes, sandboxes.

Standard library only at import time: the parse-time benchmark runs in a child that imports this
package, and must not find Airflow, requests or the sandbox already loaded.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULT_MARKER = "BENCH-RESULT "


class BenchmarkError(RuntimeError):
    """A benchmark could not produce its numbers (a child failed, a count did not match)."""


# ---- timing --------------------------------------------------------------------------------------


def interleaved(
    candidates: Mapping[str, Callable[[], Any]], repeats: int, warmup: int = 1
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Time each candidate `repeats` times, one round of all candidates after another.

    Interleaving spreads changes in machine load over every candidate alike, so their ratios hold
    even when the absolute times drift. Returns (seconds per candidate, last value per candidate).
    """
    values: dict[str, Any] = {}
    for _ in range(warmup):
        for name, fn in candidates.items():
            values[name] = fn()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - start)
    return times, values


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """min..max as a percentage around the median: how noisy a row was."""
    mid = median(values)
    if not mid:
        return "-"
    return f"{(min(values) - mid) / mid * 100:+.0f}%/{(max(values) - mid) / mid * 100:+.0f}%"


# ---- formatting ----------------------------------------------------------------------------------


def num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def mib(kib: float) -> str:
    return f"{kib / 1024:,.1f} MiB"


@dataclass
class Table:
    """A plain-text table: the first `left` columns (text) left-aligned, the others (numbers) right-aligned."""

    headers: Sequence[str]
    left: int = 1
    rows: list[Sequence[str]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f"row {cells!r} has {len(cells)} cells, the table has {len(self.headers)} columns")
        self.rows.append([str(cell) for cell in cells])

    def render(self) -> str:
        widths = [max(len(str(row[i])) for row in [self.headers, *self.rows]) for i in range(len(self.headers))]

        def line(cells: Sequence[str]) -> str:
            parts = [
                cell.ljust(width) if index < self.left else cell.rjust(width)
                for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.rows)])


@dataclass
class Target:
    """One target (RESULTS.md, "Targets"): its goal and what this run measured (`met` None: informational)."""

    what: str
    goal: str
    measured: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "info"}[self.met]


def at_least(what: str, value: float, bound: float, unit: str = "x") -> Target:
    return Target(what, f">= {bound:g}{unit}", f"{value:.2f}{unit}", value >= bound)


def at_most(what: str, value: float, bound: float, unit: str = "") -> Target:
    return Target(what, f"<= {bound:g}{unit}", f"{value:.2f}{unit}", value <= bound)


def exactly(what: str, value: int, expected: int) -> Target:
    return Target(what, f"= {expected}", str(value), value == expected)


@dataclass
class Report:
    """What a benchmark prints: a setup line, its tables, its targets and short notes."""

    name: str
    title: str
    setup: str
    tables: list[tuple[str, Table]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [f"== {self.title} ==", self.setup, ""]
        for caption, table in self.tables:
            if caption:
                out.append(caption)
            out += [table.render(), ""]
        if self.targets:
            targets = Table(["target", "goal", "measured", "verdict"], left=2)
            for target in self.targets:
                targets.add(target.what, target.goal, target.measured, target.verdict)
            out += [targets.render(), ""]
        out += [f"note: {note}" for note in self.notes]
        return "\n".join(out).rstrip() + "\n"


# ---- the machine ---------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line() -> str:
    try:
        from importlib.metadata import version

        airflow = version("apache-airflow")
    except Exception:  # not installed: still describe the machine
        airflow = "not installed"
    return (
        f"date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({cpu_model()}); "
        f"Python {platform.python_version()}; Airflow {airflow}; load average {load_average()}"
    )


# ---- child processes -----------------------------------------------------------------------------


def run_child(
    function: str,
    args: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    python: str | None = None,
) -> dict[str, Any]:
    """Call `module:function(**args)` in a fresh interpreter (`python -m benchmarks.child`).

    `python` is another venv's interpreter (another Airflow version); default: this one.

    The function returns a JSON-able dict; the child adds `peak_rss_kib`, its own peak resident
    set size (getrusage RUSAGE_SELF ru_maxrss), measured after the function returned.
    """
    command = [python or sys.executable, "-m", "benchmarks.child", function, json.dumps(dict(args or {}))]
    try:
        proc = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"child {function} did not finish within {timeout:g} s") from exc
    results = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or not results:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
        raise BenchmarkError(f"child {function} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(results[-1][len(RESULT_MARKER) :])


def child_main(argv: Sequence[str]) -> None:
    """Entry of `python -m benchmarks.child MODULE:FUNCTION JSON_ARGS`."""
    import importlib

    module_name, _, function_name = argv[0].partition(":")
    args = json.loads(argv[1]) if len(argv) > 1 else {}
    result = getattr(importlib.import_module(module_name), function_name)(**args)
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(RESULT_MARKER + json.dumps(result), flush=True)


# ---- sandboxes and connections -------------------------------------------------------------------


@contextmanager
def sandbox(**options: Any) -> Iterator[Any]:
    """A sandbox in its own process, so its CPU time never counts against the client we measure."""
    from airflow_provider_simplestore.sandbox import run_sandbox

    with run_sandbox(subprocess=True, **options) as sb:
        yield sb


def connection_env(sb: Any, conn_id: str = "simplestore_default", **extra: Any) -> dict[str, str]:
    """The environment variable that defines `conn_id` for this sandbox, the way users inject it."""
    return {f"AIRFLOW_CONN_{conn_id.upper()}": sb.connection_json(**extra)}


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---- operators -----------------------------------------------------------------------------------


def execute(operator: Any, context: Mapping[str, Any] | None = None) -> Any:
    """`operator.execute(context)` as the Task Runner calls it (with its sentinel, so no
    "called outside of the Task Runner" warning), for measuring an operator without a scheduler."""
    from airflow.sdk.bases.operator import ExecutorSafeguard

    sentinel = {f"{type(operator).__name__}__sentinel": ExecutorSafeguard.sentinel_value}
    return operator.execute(dict(context or {}), **sentinel)
