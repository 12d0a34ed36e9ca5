"""12. Export speed at one worker: SimpleStoreToObjectStorageOperator.execute vs a plain requests loop, same file.

With no latency and one worker the client's own CPU time is the whole cost, so this is where the
operator's work between the page and the file shows. The plain loop is the least a user could
write for the same JSON Lines: one session, the token fetched once, pages in order, each record
written as compact JSON (non-ASCII kept), one write per page. The operator also checks the
listing, drops duplicate ids, hashes what it writes (sha256), fsyncs and renames the file into
place. Both run in this process, round by round, against one sandbox in its own process; the
operator reuses the process's cached token, as the loop reuses the one fetched before timing, so
neither asks for a token while timed. Every run's file must hold the same records and ids, and the
two must be byte-identical (same sha256).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    BenchmarkError,
    Report,
    Table,
    at_least,
    connection_env,
    environ,
    execute,
    interleaved,
    median,
    ms,
    num,
    ratio,
    sandbox,
    spread,
)
from benchmarks.pagination import fetch_token

NAME = "export_speed"
TITLE = "12. Export at one worker, 0 ms: SimpleStoreToObjectStorageOperator vs a plain requests loop"
PATH = "/v1/orders"
TARGET_RATIO = 0.95
PLAIN = "plain requests.Session loop"
OPERATOR = "export operator, max_workers=1"
WARMUP = 1


def plain_loop(sb: Any, token: str, page_size: int, target: Path) -> Path:
    """Pages in order, each written as the JSON Lines the operator writes."""
    import requests

    with requests.Session() as session, target.open("wb") as out:
        session.headers["Authorization"] = f"Bearer {token}"
        index = 0
        while True:
            response = session.get(f"{sb.url}{PATH}", params={"pageSize": page_size, "pageIndex": index}, timeout=30)
            response.raise_for_status()
            body = response.json()
            out.write(
                "".join(
                    json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n" for record in body["result"]
                ).encode()
            )
            index += 1
            if index >= body["totalPages"]:
                return target


def export(page_size: int, target: Path) -> Path:
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

    operator = SimpleStoreToObjectStorageOperator(
        task_id="export_speed",
        resource="orders",
        incremental=False,
        destination=str(target),
        page_size=page_size,
        max_workers=1,
    )
    execute(operator)  # a non-incremental export reads nothing from the context
    return target


def cpu_timed(fn: Callable[[], Path], spent: list[float]) -> Callable[[], Path]:
    """`fn`, adding the CPU seconds this process spent in each call to `spent` (the sandbox's are its own)."""

    def timed() -> Path:
        start = time.process_time()
        try:
            return fn()
        finally:
            spent.append(time.process_time() - start)

    return timed


def contents(path: Path) -> tuple[int, int, str]:
    """(records, distinct order ids, sha256) of a JSON Lines file."""
    data = path.read_bytes()
    ids = {json.loads(line)["orderId"] for line in data.splitlines()}
    return data.count(b"\n"), len(ids), hashlib.sha256(data).hexdigest()


def run(quick: bool = False, repeats: int | None = None) -> Report:
    import requests

    orders, page_size = (300, 100) if quick else (20_000, 100)
    repeats = repeats or (1 if quick else 7)
    with (
        sandbox(seed=13, orders=orders, products=200, customers=100) as sb,
        environ(connection_env(sb)),
        tempfile.TemporaryDirectory(prefix="bench-export-speed-") as tmp,
    ):
        directory = Path(tmp)
        token = fetch_token(requests, sb)
        export(page_size, directory / "warm.jsonl")  # caches the operator's token before counting grants
        grants_before = sb.stats()["token_grants"]
        cpu: dict[str, list[float]] = {PLAIN: [], OPERATOR: []}
        times, files = interleaved(
            {
                PLAIN: cpu_timed(lambda: plain_loop(sb, token, page_size, directory / "plain.jsonl"), cpu[PLAIN]),
                OPERATOR: cpu_timed(lambda: export(page_size, directory / "operator.jsonl"), cpu[OPERATOR]),
            },
            repeats,
            warmup=WARMUP,
        )
        grants = sb.stats()["token_grants"] - grants_before
        written = {name: contents(path) for name, path in files.items()}
    if {(records, ids) for records, ids, _ in written.values()} != {(orders, orders)}:
        raise BenchmarkError(f"both files must hold the {orders} orders once each: (records, ids, sha256) {written}")
    if len({digest for _, _, digest in written.values()}) != 1:
        raise BenchmarkError(f"the operator's file and the plain loop's differ: {written}")

    plain = median(times[PLAIN])
    plain_cpu = median(cpu[PLAIN][WARMUP:])  # the warm-up round left out, as from the times
    table = Table(["client", "median", "min/max", "records/s", "ratio to plain", "client CPU", "CPU ratio"])
    for name, values in times.items():
        mid, mid_cpu = median(values), median(cpu[name][WARMUP:])
        table.add(
            name,
            ms(mid),
            spread(values),
            num(orders / mid),
            ratio(plain / mid),
            ms(mid_cpu),
            ratio(plain_cpu / mid_cpu),
        )
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, {page_size} per page ({-(-orders // page_size)} pages), 0 ms latency, sandbox in a "
        f"child process; JSON Lines to a local file; repeats {repeats}, interleaved",
    )
    report.tables.append(("", table))
    report.targets.append(
        at_least("export at 1 worker / plain loop (speed)", plain / median(times[OPERATOR]), TARGET_RATIO)
    )
    report.notes.append(
        "client CPU: this process's CPU time per run (the sandbox's is not counted), a steadier "
        "measure of the client's own work than wall time on a loaded machine; CPU ratio = plain / this"
    )
    report.notes.append(
        f"both files: {orders:,} records, {orders:,} distinct ids, the same sha256; token grants while timed: {grants}"
    )
    return report
