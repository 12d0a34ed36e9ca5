"""`python -m benchmarks.peers.run [--quick] [--repeats N] [--dlt-python PATH]`: the provider beside its peers.

Every candidate lists the sandbox's orders and writes them out, each run in a fresh interpreter
(`benchmarks.child`), round after round: every candidate once per condition, then the next round,
so drifting machine load spreads over all of them alike. The sandboxes (one per latency) run in
processes of their own; before each run the rate limit is set again (full bucket) and the
sandbox's counters read, after it the difference is the run's requests, 429s and token grants.
Each run starts as a fresh worker would: no token cache, no token file shared with earlier runs.

records/s counts the task's own work (after its imports, before the checks); "process s" is the
whole child, interpreter start and imports included; peak RSS is the child's (ru_maxrss).
`make bench-peers` builds .venv-peers for dlt first; without it the dlt candidates are left out
and the report says so.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    REPO_ROOT,
    BenchmarkError,
    Report,
    Table,
    Target,
    at_least,
    at_most,
    connection_env,
    load_average,
    machine_line,
    median,
    num,
    ratio,
    run_child,
    sandbox,
    spread,
)
from benchmarks.parse_time import bytecode_env
from benchmarks.peers.output import CLIENT_ID_ENV, CLIENT_SECRET_ENV, HTTP_CONN_ID, SQL_CONN_ID, versions

NAME = "peers"
TITLE = "Peers: the provider beside dlt, HttpOperator and a plain requests loop"
PEERS_DIR = Path(__file__).resolve().parent
DEFAULT_DLT_PYTHON = REPO_ROOT / ".venv-peers" / "bin" / "python"
DLT_PACKAGES = ("dlt", "duckdb", "pyarrow", "requests")
PROJECT_PACKAGES = ("apache-airflow", "airflow-provider-simplestore", "apache-airflow-providers-http", "requests")
LIMIT = 200.0
PLAIN = "plain requests loop"


@dataclass(frozen=True)
class Candidate:
    name: str
    function: str  # module:function called in the child
    code: tuple[str, ...]  # file:function of the user's code, counted as lines of user code
    options: dict[str, Any] = field(default_factory=dict)
    dlt: bool = False  # runs in .venv-peers


@dataclass(frozen=True)
class Condition:
    name: str
    latency_ms: int
    rate_limit: float | None = None
    burst: int | None = None


AIRFLOW = "benchmarks.peers.airflow_candidates"
JSONL_WRITER = ("output.py:jsonl_line", "output.py:write_pages")
CANDIDATES = (
    Candidate(PLAIN, "benchmarks.peers.plain:run",
              ("plain.py:fetch_token", "plain.py:order_pages", "plain.py:plain_loop", *JSONL_WRITER)),
    *(Candidate(f"provider export, max_workers={workers!r}", f"{AIRFLOW}:run_export",
                ("airflow_candidates.py:export_task",), {"workers": workers}) for workers in (1, 4, "auto")),
    Candidate("provider SQL load to SQLite, auto", f"{AIRFLOW}:run_sql", ("airflow_candidates.py:sql_task",),
              {"workers": "auto"}),
    Candidate("HttpOperator + pagination_function", f"{AIRFLOW}:run_http",
              ("airflow_candidates.py:http_task", "plain.py:fetch_token", *JSONL_WRITER)),
    Candidate("dlt rest_api to files (jsonl)", "benchmarks.peers.dlt_candidates:run_files",
              ("dlt_candidates.py:orders_source", "dlt_candidates.py:files_task"), dlt=True),
    Candidate("dlt rest_api to duckdb, merge", "benchmarks.peers.dlt_candidates:run_duckdb",
              ("dlt_candidates.py:orders_source", "dlt_candidates.py:duckdb_task"), dlt=True),
)  # fmt: skip

CONDITIONS = (
    Condition("0 ms latency, no limit", 0),
    Condition("20 ms latency, no limit", 20),
    *(
        Condition(f"{LIMIT:g} requests/s, burst {burst}, {latency} ms latency", latency, LIMIT, burst)
        for latency in (0, 20)
        for burst in (20, 200)
    ),
)
QUICK_CONDITIONS = (CONDITIONS[0], CONDITIONS[2])


def code_lines(spec: str) -> int:
    """Lines of `file.py:function` that are code: no blank lines, comments or docstring."""
    file, _, name = spec.partition(":")
    source = (PEERS_DIR / file).read_text()
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)
    skipped: set[int] = set()
    if ast.get_docstring(node) is not None:
        skipped = set(range(node.body[0].lineno, (node.body[0].end_lineno or 0) + 1))
    lines = source.splitlines()[node.lineno - 1 : node.end_lineno]
    return sum(
        1
        for number, line in enumerate(lines, node.lineno)
        if number not in skipped and line.strip() and not line.strip().startswith("#")
    )


@dataclass
class Run:
    """One run of one candidate: what the child measured and what the sandbox counted."""

    seconds: float = 0.0
    records: int = 0
    distinct: int = 0
    sha256: str | None = None
    peak_rss_kib: int = 0
    process: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    token_grants: int = 0
    error: str | None = None

    @property
    def answered_rps(self) -> float:
        return (self.requests - self.rate_limited) / self.seconds if self.seconds else 0.0


def counters(sb: Any) -> tuple[int, int, int]:
    stats = sb.stats()
    return sum(stats["requests"].values()), stats["rate_limited"], stats["token_grants"]


def one_run(sb: Any, candidate: Candidate, condition: Condition, page_size: int, root: Path, dlt_python: Path) -> Run:
    out = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    env = {
        **connection_env(sb),
        f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}": sb.url,
        f"AIRFLOW_CONN_{SQL_CONN_ID.upper()}": json.dumps({"conn_type": "sqlite", "host": str(out / "orders.db")}),
        CLIENT_ID_ENV: sb.client_id,
        CLIENT_SECRET_ENV: sb.client_secret,
        "SIMPLESTORE_TOKEN_SHARE_DIR": str(out / "tokens"),  # no token shared with an earlier run
        **bytecode_env(root / "pycache", write=True),  # bytecode cached across runs, as deployed
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # no telemetry call out of the sandboxed run
        "RUNTIME__LOG_LEVEL": "WARNING",
        "DLT_DATA_DIR": str(out / "dlt"),
    }
    args = {"url": sb.url, "token_url": sb.token_url, "page_size": page_size, "out": str(out), **candidate.options}
    sb.set_rate_limit(condition.rate_limit, condition.burst)  # buckets start full
    requests, limited, grants = counters(sb)
    started = time.perf_counter()
    try:
        result = run_child(candidate.function, args, env=env, python=str(dlt_python) if candidate.dlt else None)
        run = Run(**{key: result[key] for key in ("seconds", "records", "distinct", "sha256", "peak_rss_kib")})
    except BenchmarkError as exc:
        run = Run(error=str(exc).splitlines()[-1][:120])
    run.process = time.perf_counter() - started
    after = counters(sb)
    run.requests, run.rate_limited, run.token_grants = after[0] - requests, after[1] - limited, after[2] - grants
    return run


def check(runs: list[Run], orders: int, plain_sha: str | None) -> str:
    failed = [run.error for run in runs if run.error]
    if failed:
        return f"FAILED {len(failed)}/{len(runs)}: {failed[0]}"
    wrong = [run for run in runs if (run.records, run.distinct) != (orders, orders)]
    if wrong:
        return f"WRONG: {wrong[0].records:,} records, {wrong[0].distinct:,} ids"
    same = plain_sha is not None and all(run.sha256 == plain_sha for run in runs)
    return "ok, same bytes as plain" if same else "ok"


def condition_table(condition: Condition, results: dict[str, list[Run]], orders: int) -> tuple[Table, dict]:
    headers = [
        "candidate",
        "records/s",
        "x plain",
        "min/max",
        "peak RSS",
        "429s",
        "grants",
        "requests",
        "x limit",
        "process s",
        "check (records, distinct ids)",
    ]
    table = Table(headers)
    good = {name: [r for r in runs if not r.error] for name, runs in results.items()}
    plain_runs = good.get(PLAIN) or []
    plain_rate = orders / median([r.seconds for r in plain_runs]) if plain_runs else None
    plain_sha = plain_runs[0].sha256 if plain_runs else None
    summary: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        ok = good[name]
        verdict = check(runs, orders, plain_sha if name != PLAIN else None)
        if not ok:
            table.add(name, *["-"] * (len(headers) - 2), verdict)
            continue
        seconds = [r.seconds for r in ok]
        rate = orders / median(seconds)
        x_limit = median([r.answered_rps for r in ok]) / condition.rate_limit if condition.rate_limit else None
        rss = median([r.peak_rss_kib for r in ok]) / 1024
        limited = median([r.rate_limited for r in ok])
        requests = median([r.requests for r in ok])
        summary[name] = {
            "rate": rate,
            "rss": rss,
            "x_limit": x_limit or 0.0,
            "rps": median([r.answered_rps for r in ok]),
            "share": limited / requests,
            "correct": float(verdict.startswith("ok")),
        }
        table.add(
            name,
            num(rate),
            ratio(rate / plain_rate) if plain_rate else "-",
            spread(seconds),
            f"{rss:,.0f} MiB",
            num(limited),
            num(median([r.token_grants for r in ok])),
            num(requests),
            ratio(x_limit) if x_limit is not None else "-",
            num(median([r.process for r in ok]), 1),
            verdict,
        )
    return table, summary


def targets(summaries: dict[str, dict[str, dict[str, float]]]) -> list[Target]:
    """The goals the provider is measured against here (a miss is a number, not a crash)."""
    found: list[Target] = []

    def get(condition: str, name: str) -> dict[str, float] | None:
        return summaries.get(condition, {}).get(name)

    one, plain = get(CONDITIONS[0].name, "provider export, max_workers=1"), get(CONDITIONS[0].name, PLAIN)
    if one and plain:
        found.append(at_least("export, 1 worker, 0 ms, x plain loop", one["rate"] / plain["rate"], 0.95))
    slow = summaries.get(CONDITIONS[1].name, {})
    auto, plain = slow.get("provider export, max_workers='auto'"), slow.get(PLAIN)
    if auto and plain:
        found.append(at_least("export auto, 20 ms, x plain loop", auto["rate"] / plain["rate"], 4.0))
        peers = [s["rate"] for name, s in slow.items() if not name.startswith("provider")]
        found.append(at_least("export auto, 20 ms, x fastest peer", auto["rate"] / max(peers), 1.0))
    for condition in CONDITIONS[2:]:
        auto = get(condition.name, "provider export, max_workers='auto'")
        if auto:
            found.append(at_least(f"export auto, {condition.name}: x limit", auto["x_limit"], 0.95))
            found.append(at_most(f"export auto, {condition.name}: 429 share", auto["share"] * 100, 1.0, "%"))
            # What this machine can serve at all (pages of 100: CPU-bound near 200/s on 2 cores) caps
            # what the limit can be filled to: the same export with no limit at the same latency.
            free = next((c for c in CONDITIONS[:2] if c.latency_ms == condition.latency_ms), None)
            unlimited = get(free.name, "provider export, max_workers='auto'") if free else None
            if unlimited and condition.rate_limit:
                reachable = min(condition.rate_limit, unlimited["rps"])
                found.append(at_least(f"export auto, {condition.name}: x reachable", auto["rps"] / reachable, 0.95))
    for condition in CONDITIONS[:2]:
        sql, duck = (
            get(condition.name, "provider SQL load to SQLite, auto"),
            get(condition.name, "dlt rest_api to duckdb, merge"),
        )
        if sql and duck:
            found.append(
                at_least(f"SQL load / dlt to duckdb, speed, {condition.name}", sql["rate"] / duck["rate"], 1.0)
            )
            found.append(
                at_most(f"SQL load / dlt to duckdb, peak RSS, {condition.name}", sql["rss"] / duck["rss"], 1.0, "x")
            )
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat, two conditions")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each candidate per condition (default 3)")
    parser.add_argument(
        "--dlt-python",
        type=Path,
        default=DEFAULT_DLT_PYTHON,
        help="python of the venv with dlt (default .venv-peers/bin/python); missing: dlt not run",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Children inherit these (`make` sets the second too): tables, not log lines; no example plugins.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    orders, page_size = (500, 20) if args.quick else (20_000, 100)
    repeats = args.repeats or (1 if args.quick else 3)
    conditions = QUICK_CONDITIONS if args.quick else CONDITIONS
    with_dlt = args.dlt_python.exists()
    candidates = [c for c in CANDIDATES if with_dlt or not c.dlt]
    load_before = load_average()
    print(f"SimpleStore provider beside its peers ({'quick' if args.quick else 'full'}): {machine_line()}", flush=True)
    installed = versions(PROJECT_PACKAGES)
    print("project venv: " + ", ".join(f"{k} {v}" for k, v in installed.items()), flush=True)
    if with_dlt:
        peers = run_child(
            "benchmarks.peers.output:versions", {"names": list(DLT_PACKAGES)}, python=str(args.dlt_python)
        )
        peers.pop("peak_rss_kib", None)
        print(f"dlt venv ({args.dlt_python}): " + ", ".join(f"{k} {v}" for k, v in peers.items()), flush=True)
    print(flush=True)

    started = time.monotonic()
    results: dict[str, dict[str, list[Run]]] = {c.name: {k.name: [] for k in candidates} for c in conditions}
    latencies = sorted({c.latency_ms for c in conditions})
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        root = Path(tmp)
        sandboxes = {}
        with ExitStack() as stack:
            for latency in latencies:
                sandboxes[latency] = stack.enter_context(
                    sandbox(seed=25, orders=orders, products=200, customers=500, latency_ms=latency)
                )
            if not args.quick:  # one untimed round: page cache and bytecode warm for every candidate
                for candidate in candidates:
                    one_run(sandboxes[0], candidate, conditions[0], page_size, root, args.dlt_python)
            for round_ in range(repeats):
                for condition in conditions:
                    print(f"round {round_ + 1}/{repeats}: {condition.name}", file=sys.stderr, flush=True)
                    for candidate in candidates:
                        run = one_run(
                            sandboxes[condition.latency_ms], candidate, condition, page_size, root, args.dlt_python
                        )
                        results[condition.name][candidate.name].append(run)

    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, pages of {page_size} ({-(-orders // page_size)} pages); medians of {repeats} runs per "
        f"candidate and condition, interleaved, each run in a fresh interpreter; sandboxes in their own processes",
    )
    summaries = {}
    for condition in conditions:
        table, summaries[condition.name] = condition_table(condition, results[condition.name], orders)
        report.tables.append((f"{condition.name}:", table))
    lines = Table(["candidate", "venv", "lines of user code", "counted"])
    for candidate in candidates:
        lines.add(
            candidate.name,
            ".venv-peers" if candidate.dlt else ".venv",
            sum(code_lines(spec) for spec in candidate.code),
            ", ".join(candidate.code),
        )
    report.tables.append(("user code per task (imports not counted):", lines))
    report.targets += targets(summaries)
    if not with_dlt:
        report.notes.append(
            f"dlt candidates were not run: {args.dlt_python} is missing "
            "(`make bench-peers` builds .venv-peers from benchmarks/peers/requirements.txt)"
        )
    report.notes += [
        "x plain: records/s over the plain loop's in the same condition; min/max: the fastest and slowest run "
        "around the median",
        f"x limit: requests answered (not 429) per second of the task over the limit ({LIMIT:g}/s); the task's "
        "seconds include its token and start-up, the count the bucket's initial burst",
        "x reachable: requests answered per second over the lower of the limit and the same export's rate "
        "with no limit at that latency (what the machine can serve at all)",
        "429s, grants, requests: the sandbox's own counts for the run (medians); the provider's SQL load writes "
        "SQLite (a file per run; duckdb has no Airflow hook it can use)",
        f"took {time.monotonic() - started:.0f} s; load average before {load_before}, after {load_average()}",
    ]
    print(report.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
