"""7. Full speed under a rate limit: max_workers="auto" against fixed workers, 20 ms sandbox latency.

Three settings, each a full listing of orders through `SimpleStoreHook.paginate_pages`, in this
process, against a sandbox in its own process:
- the sandbox limits the client to 200 requests/s (token bucket, burst one second's worth):
  "auto" beside max_workers=16 and max_workers=1 (throughput, share of requests answered 429);
- no limit: "auto" beside the best of max_workers 1, 2, 4, 8, 16;
- two tasks (two hooks of one connection, in two threads) listing at once against the limit.
Each run starts as a fresh worker process would: empty token cache, no pacing learned, full buckets.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.harness import (
    Report,
    Table,
    Target,
    at_least,
    at_most,
    connection_env,
    environ,
    median,
    num,
    ratio,
    sandbox,
)

NAME = "rate_limit"
TITLE = '7. Rate limit: max_workers="auto" vs fixed, 20 ms sandbox latency'
LATENCY_MS = 20
LIMIT = 200.0  # requests per second the sandbox allows
FIXED = (1, 2, 4, 8, 16)
TARGET_LIMITED = 0.9  # x LIMIT sustained by auto
TARGET_429 = 0.02  # most share of auto's requests answered 429
TARGET_UNLIMITED = 0.8  # x the best fixed max_workers
SLOW_CAP = 400  # pages timed for max_workers 1 and 2 (a full listing would take 45 s at 1)
TARGET_FAIR = 0.4  # the slower of two tasks gets at least this share of the limit


def _fresh(sb: Any, rate_limit: float | None) -> None:
    from airflow_provider_simplestore.client.oauth import TOKEN_CACHE
    from airflow_provider_simplestore.client.pacing import clear_pacers

    sb.reset()  # stats zeroed
    sb.set_rate_limit(rate_limit)  # full buckets
    clear_pacers()
    TOKEN_CACHE.clear()


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
    observe, Pacer.observe = Pacer.observe, lambda self, status, retry_after: None  # type: ignore[method-assign]
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


def _row(table: Table, name: str, runs: list[dict[str, Any]], burst: int) -> dict[str, float]:
    rps = median([r["rps"] for r in runs])
    # Without the burst the bucket starts with: what a long listing sustains.
    steady = median([max(0, r["pages"] - burst) / r["seconds"] for r in runs])
    share = median([r["rate_limited"] / r["requests"] for r in runs])
    table.add(
        name,
        num(median([r["pages"] for r in runs])),
        num(rps),
        ratio(rps / LIMIT),
        ratio(steady / LIMIT) if burst else "-",
        num(median([r["rate_limited"] for r in runs])),
        f"{share * 100:.1f}%",
        num(median([r["seconds"] for r in runs]), 2),
    )
    return {"rps": rps, "share": share, "steady": steady}


def run(quick: bool = False, repeats: int | None = None) -> Report:
    orders, page_size = (300, 10) if quick else (20_000, 10)
    repeats = repeats or 1
    pages = -(-orders // page_size)
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, {page_size} per page ({pages} requests a listing), sandbox latency {LATENCY_MS} ms, "
        f"limit {LIMIT:g} requests/s (burst {LIMIT:g}) where limited; SimpleStoreHook.paginate_pages; "
        f"repeats {repeats}, interleaved; each run starts with no token and nothing learned",
    )
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

    headers = ["max_workers", "pages", "pages/s", "x limit", "steady x limit", "429s", "429 share", "seconds"]
    table = Table(headers)
    rows = {name: _row(table, name, runs, int(LIMIT)) for name, runs in limited.items()}
    report.tables.append((f"with --rate-limit {LIMIT:g}:", table))
    report.notes.append(f"max_workers=16 with a pacer deaf to 429s (per-thread Retry-After only): {blind}")

    free_table = Table(headers)
    free_rows = {name: _row(free_table, name, runs, 0) for name, runs in free.items()}
    report.tables.append(("with no limit:", free_table))
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

    auto = rows["auto"]
    report.targets += [
        at_least("auto under the limit, steady x limit", auto["steady"] / LIMIT, TARGET_LIMITED),
        at_most("auto under the limit, 429 share", auto["share"] * 100, TARGET_429 * 100, "%"),
        Target("max_workers=16 under the limit, 429 share", "-", f"{rows['16']['share'] * 100:.1f}%", None),
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
        "pages/s counts answered pages (200s); 429s are the sandbox's own count of refused requests",
        f"steady x limit leaves out the {LIMIT:g} requests of the bucket's initial burst: what a long listing sustains",
        f"max_workers 1 and 2 are timed over their first {SLOW_CAP} pages",
    ]
    return report
