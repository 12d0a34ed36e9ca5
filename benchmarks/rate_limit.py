"""7. Full speed under a rate limit: max_workers="auto" against the limit and against fixed workers.

First the targets: an export with max_workers="auto" (SimpleStoreToObjectStorageOperator.execute,
JSON Lines) against a sandbox that allows 200 requests/s, with a bucket of 20 and of 200, at 0 and
20 ms latency. What a user gets is the whole export: every answered request (the initial burst
included) over the whole of `execute`, token fetch and first page included.

Then, each a full listing of orders through `SimpleStoreHook.paginate_pages` at 20 ms:
- the sandbox limits the client to 200 requests/s (burst one second's worth): "auto" beside
  max_workers=16 and max_workers=1 (throughput, share of requests answered 429);
- no limit: "auto" beside the best of max_workers 1, 2, 4, 8, 16;
- two tasks (two hooks of one connection, in two threads) listing at once against the limit.
Each run starts as a fresh worker process would: empty token cache, no pacing learned, full buckets.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    Report,
    Table,
    Target,
    at_least,
    at_most,
    connection_env,
    environ,
    execute,
    median,
    num,
    ratio,
    sandbox,
)

NAME = "rate_limit"
TITLE = '7. Rate limit: max_workers="auto" against a 200 requests/s limit, and against fixed workers'
LATENCY_MS = 20
LIMIT = 200.0  # requests per second the sandbox allows
FIXED = (1, 2, 4, 8, 16)
BURSTS = (20, 200)  # the sandbox's bucket: tight, and one second's worth (its default)
LATENCIES = (0, 20)  # ms
TARGET_LIMITED = 0.95  # x LIMIT: answered requests over the whole export, burst included
TARGET_EXPORT_429 = 0.01  # most share of the export's requests answered 429
TARGET_429 = 0.02  # most share of a listing's requests answered 429 (the tables after the targets)
TARGET_UNLIMITED = 0.8  # x the best fixed max_workers
SLOW_CAP = 400  # pages timed for max_workers 1 and 2 (a full listing would take 45 s at 1)
TARGET_FAIR = 0.4  # the slower of two tasks gets at least this share of the limit


def _fresh(sb: Any, rate_limit: float | None, burst: int | None = None) -> None:
    from airflow_provider_simplestore.client.oauth import TOKEN_CACHE
    from airflow_provider_simplestore.client.pacing import clear_pacers

    sb.reset()  # stats zeroed
    sb.set_rate_limit(rate_limit, burst)  # full buckets
    clear_pacers()
    TOKEN_CACHE.clear()


def export(sb: Any, conn_id: str, burst: int | None, directory: Path, page_size: int) -> dict[str, Any]:
    """One "auto" export of every order against LIMIT with `burst` (None: no limit); what the sandbox counted."""
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

    operator = SimpleStoreToObjectStorageOperator(
        task_id="export_auto",
        simplestore_conn_id=conn_id,
        resource="orders",
        incremental=False,
        destination=str(directory / f"{conn_id}-{burst}.jsonl"),
        page_size=page_size,
        max_workers="auto",
    )
    _fresh(sb, None if burst is None else LIMIT, burst)
    started = time.perf_counter()
    summary = execute(operator)  # a non-incremental export reads nothing from the context
    seconds = time.perf_counter() - started
    stats = sb.stats()
    requests = sum(stats["requests"].values())
    return {
        "seconds": seconds,
        "records": summary["records"],
        "duplicates": summary["duplicates_dropped"],
        "requests": requests,
        "rate_limited": stats["rate_limited"],
        "answered": requests - stats["rate_limited"],
        "grants": stats["token_grants"],
    }


def exports(orders: int, page_size: int, repeats: int) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Every (burst, latency) condition `repeats` times, interleaved, against two sandboxes."""
    runs: dict[tuple[int, int], list[dict[str, Any]]] = {(b, lat): [] for lat in LATENCIES for b in BURSTS}
    with (
        sandbox(seed=17, orders=orders, latency_ms=LATENCIES[0]) as fast,
        sandbox(seed=17, orders=orders, latency_ms=LATENCIES[1]) as slow,
        environ({**connection_env(fast, "bench_0ms"), **connection_env(slow, "bench_20ms")}),
        tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp,
    ):
        boxes = {LATENCIES[0]: (fast, "bench_0ms"), LATENCIES[1]: (slow, "bench_20ms")}
        for sb, conn_id in boxes.values():  # untimed: the first execute in a process also loads its modules
            export(sb, conn_id, None, Path(tmp), page_size)
        for _ in range(repeats):
            for burst, latency in runs:
                sb, conn_id = boxes[latency]
                runs[burst, latency].append(export(sb, conn_id, burst, Path(tmp), page_size))
    for condition, results in runs.items():
        if any(r["records"] != orders or r["duplicates"] for r in results):
            raise AssertionError(f"every export must write all {orders} distinct orders ({condition}): {results}")
    return runs


def _export_table(runs: dict[tuple[int, int], list[dict[str, Any]]]) -> tuple[Table, list[Target]]:
    table = Table(
        [
            "burst",
            "latency",
            "answered",
            "seconds",
            "requests/s",
            "x limit",
            "min",
            "x attainable",
            "429s",
            "429 share",
            "token grants",
            "records",
        ]
    )
    targets: list[Target] = []
    for (burst, latency), results in runs.items():
        rates = [r["answered"] / r["seconds"] / LIMIT for r in results]
        # What the bucket could have given over that time: the burst plus LIMIT a second.
        attainable = median([r["answered"] / (burst + LIMIT * r["seconds"]) for r in results])
        share = median([r["rate_limited"] / r["requests"] for r in results])
        table.add(
            f"{burst}",
            f"{latency} ms",
            num(median([r["answered"] for r in results])),
            num(median([r["seconds"] for r in results]), 2),
            num(median([r["answered"] / r["seconds"] for r in results])),
            ratio(median(rates)),
            ratio(min(rates)),
            ratio(attainable),
            num(median([r["rate_limited"] for r in results])),
            f"{share * 100:.2f}%",
            num(max(r["grants"] for r in results)),
            num(median([r["records"] for r in results])),
        )
        where = f"auto export, burst {burst}, {latency} ms"
        targets += [
            at_least(f"{where}: x limit", median(rates), TARGET_LIMITED),
            at_most(f"{where}: 429 share", share * 100, TARGET_EXPORT_429 * 100, "%"),
        ]
    return table, targets


def listing(page_size: int, workers: Any, out: dict[str, Any] | None = None, cap: int | None = None) -> dict[str, Any]:
    """List the orders (the first `cap` pages, if given); pages, records and seconds."""
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    out = {} if out is None else out
    with SimpleStoreHook(page_size=page_size) as hook:
        started = time.perf_counter()
        pages = records = 0
        for page in hook.paginate_pages("/v1/orders", max_workers=workers):
            pages += 1
            records += len(page.items)
            if pages == cap:
                break
        out.update(pages=pages, records=records, seconds=time.perf_counter() - started)
    return out


def measured(sb: Any, page_size: int, workers: Any, rate_limit: float | None) -> dict[str, Any]:
    _fresh(sb, rate_limit)
    result = listing(page_size, workers, cap=SLOW_CAP if workers in (1, 2) else None)
    stats = sb.stats()
    result["requests"] = sum(stats["requests"].values())
    result["rate_limited"] = stats["rate_limited"]
    result["rps"] = result["pages"] / result["seconds"]
    return result


def unpaced(sb: Any, page_size: int) -> str:
    """max_workers=16 with the pacer deaf to 429s (each thread only retries after Retry-After, as
    before pacing.py): how far it gets. One run; informational."""
    from airflow_provider_simplestore.client.pacing import Pacer
    from airflow_provider_simplestore.exceptions import SimpleStoreRateLimitError

    _fresh(sb, LIMIT)
    out: dict[str, Any] = {}
    observe, Pacer.observe = Pacer.observe, lambda self, *answer: None  # type: ignore[method-assign]
    try:
        listing(page_size, 16, out)
        outcome = f"finished in {out['seconds']:.2f} s"
    except SimpleStoreRateLimitError:
        outcome = "failed: a page was still refused after 5 retries"
    finally:
        Pacer.observe = observe  # type: ignore[method-assign]
    stats = sb.stats()
    requests = sum(stats["requests"].values())
    return f"{outcome}; {stats['rate_limited']} of {requests} requests answered 429"


def two_tasks(sb: Any, page_size: int) -> list[dict[str, Any]]:
    _fresh(sb, LIMIT)
    results: list[dict[str, Any]] = [{}, {}]
    threads = [threading.Thread(target=listing, args=(page_size, "auto", out)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = sb.stats()
    for result in results:
        result["rps"] = result["pages"] / result["seconds"]
    results[0]["requests"] = sum(stats["requests"].values())
    results[0]["rate_limited"] = stats["rate_limited"]
    return results


def _workers(name: str) -> Any:
    return name if name == "auto" else int(name)


def _row(table: Table, name: str, runs: list[dict[str, Any]]) -> dict[str, float]:
    rps = median([r["rps"] for r in runs])
    share = median([r["rate_limited"] / r["requests"] for r in runs])
    table.add(
        name,
        num(median([r["pages"] for r in runs])),
        num(rps),
        ratio(rps / LIMIT),
        num(median([r["rate_limited"] for r in runs])),
        f"{share * 100:.1f}%",
        num(median([r["seconds"] for r in runs]), 2),
    )
    return {"rps": rps, "share": share}


def run(quick: bool = False, repeats: int | None = None) -> Report:
    orders, page_size = (300, 10) if quick else (20_000, 10)
    export_repeats = repeats or (1 if quick else 3)
    repeats = repeats or 1
    pages = -(-orders // page_size)
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, {page_size} per page ({pages} requests a listing), limit {LIMIT:g} requests/s where "
        f'limited; the export: max_workers="auto", bursts {" and ".join(map(str, BURSTS))}, latency '
        f"{' and '.join(map(str, LATENCIES))} ms, {export_repeats} runs each, interleaved; the listings: "
        f"SimpleStoreHook.paginate_pages at {LATENCY_MS} ms, burst {LIMIT:g}, repeats {repeats}; each run starts "
        f"with no token, nothing learned and a full bucket",
    )
    export_table, export_targets = _export_table(exports(orders, page_size, export_repeats))
    caption = f'the export with max_workers="auto" under --rate-limit {LIMIT:g} (medians):'
    report.tables.append((caption, export_table))
    report.targets += export_targets

    with sandbox(seed=17, orders=orders, latency_ms=LATENCY_MS) as sb, environ(connection_env(sb)):
        limited: dict[str, list[dict[str, Any]]] = {"auto": [], "16": [], "1": []}
        pairs: list[list[dict[str, Any]]] = []
        for _ in range(repeats):
            for name in limited:
                limited[name].append(measured(sb, page_size, _workers(name), LIMIT))
            pairs.append(two_tasks(sb, page_size))
        blind = unpaced(sb, page_size)
        free: dict[str, list[dict[str, Any]]] = {"auto": [], **{str(n): [] for n in FIXED}}
        for _ in range(repeats):
            for name in free:
                free[name].append(measured(sb, page_size, _workers(name), None))
    for runs in (*limited.values(), *free.values(), *([p[0], p[1]] for p in pairs)):
        if any(r["records"] != min(orders, r["pages"] * page_size) for r in runs):
            raise AssertionError(f"every listing must return all {orders} orders: {runs}")

    headers = ["max_workers", "pages", "pages/s", "x limit", "429s", "429 share", "seconds"]
    table = Table(headers)
    rows = {name: _row(table, name, runs) for name, runs in limited.items()}
    report.tables.append((f"listings with --rate-limit {LIMIT:g} (burst {LIMIT:g}), {LATENCY_MS} ms:", table))
    report.notes.append(f"max_workers=16 with a pacer deaf to 429s (per-thread Retry-After only): {blind}")

    free_table = Table(headers)
    free_rows = {name: _row(free_table, name, runs) for name, runs in free.items()}
    report.tables.append((f"listings with no limit, {LATENCY_MS} ms:", free_table))
    best = max(FIXED, key=lambda n: free_rows[str(n)]["rps"])

    fair = Table(["task", "pages/s", "x limit", "seconds"])
    for index in (0, 1):
        rps = median([p[index]["rps"] for p in pairs])
        seconds = median([p[index]["seconds"] for p in pairs])
        fair.add(f"task {index + 1}", num(rps), ratio(rps / LIMIT), num(seconds, 2))
    together = median([(p[0]["pages"] + p[1]["pages"]) / max(p[0]["seconds"], p[1]["seconds"]) for p in pairs])
    pair_share = median([p[0]["rate_limited"] / p[0]["requests"] for p in pairs])
    slower = median([min(p[0]["rps"], p[1]["rps"]) for p in pairs])
    fair.add("together", num(together), ratio(together / LIMIT), "-")
    report.tables.append(("two tasks, one connection, one process, auto, against the limit:", fair))

    report.targets += [
        at_most("auto listing under the limit, 429 share", rows["auto"]["share"] * 100, TARGET_429 * 100, "%"),
        Target("max_workers=16 listing under the limit, 429 share", "-", f"{rows['16']['share'] * 100:.1f}%", None),
        at_least(
            f"auto without limit vs best fixed ({best})",
            free_rows["auto"]["rps"] / free_rows[str(best)]["rps"],
            TARGET_UNLIMITED,
        ),
        Target("two tasks together, x limit", "-", ratio(together / LIMIT), None),
        at_least("two tasks: slower task, x limit", slower / LIMIT, TARGET_FAIR),
        at_most("two tasks, 429 share", pair_share * 100, TARGET_429 * 100, "%"),
    ]
    report.notes += [
        "the export: answered = requests the sandbox answered (not 429), first page included; x limit = answered "
        f"/ seconds of execute() / {LIMIT:g}, the initial burst counted: what a user's task gets from start to end; "
        "x attainable = answered / (burst + limit x seconds), the most the bucket could give in that time; "
        "min = the slowest run; 429s and token grants are the sandbox's own counts",
        "listings: pages/s counts answered pages (200s); x limit includes the bucket's initial burst",
        f"max_workers 1 and 2 are timed over their first {SLOW_CAP} pages",
    ]
    return report
