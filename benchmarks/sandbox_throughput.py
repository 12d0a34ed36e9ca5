"""6. Sandbox throughput: requests/s and records/s the sandbox serves to a plain requests client.

This is the ceiling every other benchmark runs under (the client and the sandbox share this
machine's CPUs). Small requests measure per-request cost; full pages measure record encoding.
"""

from __future__ import annotations

import threading
from typing import Any

from benchmarks.harness import Report, Table, Target, interleaved, median, ms, num, sandbox, spread

NAME = "sandbox_throughput"
TITLE = "6. Sandbox throughput"
PATH = "/v1/orders"


def token_for(sb: Any) -> str:
    import requests

    data = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    response = requests.post(sb.token_url, data=data, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def get_many(sb: Any, token: str, count: int, page_size: int, pages: int = 1, threads: int = 1) -> int:
    """`count` GETs of pages 0..pages-1 in turn, split over `threads` sessions; returns the records received."""
    import requests

    received = [0] * threads

    def worker(slot: int) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            for i in range(slot, count, threads):
                params = {"pageSize": page_size, "pageIndex": i % pages}
                response = session.get(f"{sb.url}{PATH}", params=params, timeout=30)
                response.raise_for_status()
                received[slot] += len(response.json()["result"])

    pool = [threading.Thread(target=worker, args=(slot,)) for slot in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=600)
    return sum(received)


def run(quick: bool = False, repeats: int | None = None) -> Report:
    small, pages, orders = (50, 10, 1_000) if quick else (2_000, 200, 20_000)
    repeats = repeats or (1 if quick else 3)
    with sandbox(seed=16, orders=orders) as sb:
        token = token_for(sb)
        full = orders // 100
        cases = {
            f"{small} GETs, pageSize=1, 1 client": (small, lambda: get_many(sb, token, small, 1)),
            f"{small} GETs, pageSize=1, 4 clients": (small, lambda: get_many(sb, token, small, 1, threads=4)),
            f"{pages} GETs, pageSize=100, 1 client": (pages, lambda: get_many(sb, token, pages, 100, full)),
            f"{pages} GETs, pageSize=100, 4 clients": (pages, lambda: get_many(sb, token, pages, 100, full, 4)),
        }
        times, records = interleaved({name: fn for name, (_, fn) in cases.items()}, repeats, warmup=1)
    table = Table(["workload", "median", "min/max", "requests/s", "records/s", "per request"])
    rates = {}
    for name, (requests_made, _) in cases.items():
        mid = median(times[name])
        rates[name] = (requests_made / mid, records[name] / mid)
        table.add(
            name,
            ms(mid),
            spread(times[name]),
            num(requests_made / mid),
            num(records[name] / mid),
            ms(mid / requests_made),
        )
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders; plain requests.Session clients (threads) in this process, sandbox in a child "
        f"process; repeats {repeats}, interleaved",
    )
    report.tables.append(("", table))
    small_rate = max(rates[name][0] for name in rates if "pageSize=1," in name)
    page_rate = max(rates[name][1] for name in rates if "pageSize=100" in name)
    report.targets += [
        Target("sandbox requests/s (pageSize=1, best of 1 or 4 clients)", "(measure)", num(small_rate), None),
        Target("sandbox records/s (pageSize=100, best of 1 or 4 clients)", "(measure)", num(page_rate), None),
    ]
    return report
