"""2. Parallel export: SimpleStoreToObjectStorageOperator.execute with 1, 2, 4 and 8 workers, 20 ms per request.

With a server that takes 20 ms per request, one worker waits most of the time; `max_workers`
fetches pages concurrently (in order). The operator's `execute` is called directly, in this
process, writing JSON Lines to a temporary directory; every run must give the same bytes.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
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

NAME = "parallel_export"
TITLE = "2. Parallel export: 1, 2, 4, 8 workers at 20 ms sandbox latency"
LATENCY_MS = 20
WORKERS = (1, 2, 4, 8)
TARGET_AT_4 = 3.0


def export(directory: Path, workers: int, page_size: int) -> dict[str, Any]:
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

    operator = SimpleStoreToObjectStorageOperator(
        task_id=f"export_{workers}",
        resource="orders",
        incremental=False,
        destination=str(directory / f"orders-{workers}.jsonl"),
        page_size=page_size,
        max_workers=workers,
    )
    return execute(operator)  # a non-incremental export reads nothing from the context


def run(quick: bool = False, repeats: int | None = None) -> Report:
    orders, page_size = (400, 50) if quick else (10_000, 100)
    repeats = repeats or (1 if quick else 3)
    with (
        sandbox(seed=12, orders=orders, latency_ms=LATENCY_MS) as sb,
        environ(connection_env(sb)),
        tempfile.TemporaryDirectory(prefix="bench-export-") as tmp,
    ):
        directory = Path(tmp)
        times, results = interleaved(
            {f"{n} worker{'s' if n > 1 else ''}": functools.partial(export, directory, n, page_size) for n in WORKERS},
            repeats,
            warmup=1,
        )
    digests = {result["sha256"] for result in results.values()}
    records = {result["records"] for result in results.values()}
    if records != {orders} or len(digests) != 1:
        raise AssertionError(f"every export must hold the same {orders} records: {results}")

    one = median(times["1 worker"])
    table = Table(["workers", "median", "min/max", "records/s", "speed-up vs 1"])
    speedups = {}
    for name, values in times.items():
        mid = median(values)
        speedups[name] = one / mid
        table.add(name, ms(mid), spread(values), num(orders / mid), ratio(one / mid))
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, {page_size} per page ({-(-orders // page_size)} pages), sandbox latency "
        f"{LATENCY_MS} ms; SimpleStoreToObjectStorageOperator.execute to JSON Lines; repeats {repeats}, interleaved",
    )
    report.tables.append(("", table))
    report.targets.append(at_least("export speed-up at 4 workers", speedups["4 workers"], TARGET_AT_4))
    report.notes.append("all runs wrote byte-identical files (same sha256): order is kept at every worker count")
    return report
