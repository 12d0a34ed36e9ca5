"""1. Pagination: a raw requests.Session loop vs SimpleStoreHook.paginate vs HttpHook with a token per call.

The raw loop is the limit on this machine: one session, one token, `pageIndex` 0..totalPages-1,
each record yielded to the caller (as `paginate` does), nothing else. `paginate` adds settings,
retries, error typing and the token cache on top of it. HttpHook (apache-airflow-providers-http)
with a token fetched before every call is what a user would write without this provider. All
three run in this process, round by round, against one sandbox in its own process; each run
starts a new session or hook, as a task would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from benchmarks.harness import (
    Report,
    Table,
    at_least,
    connection_env,
    environ,
    interleaved,
    median,
    ms,
    num,
    ratio,
    sandbox,
    spread,
)

NAME = "pagination"
TITLE = "1. Pagination: raw requests loop vs SimpleStoreHook.paginate vs HttpHook"
PATH = "/v1/orders"
HTTP_CONN_ID = "simplestore_http"
TARGET_RATIO = 0.9


def fetch_token(session: Any, sb: Any) -> str:
    data = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    response = session.post(sb.token_url, data=data, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def raw_records(sb: Any, token: str, page_size: int) -> Iterator[dict[str, Any]]:
    """The least a client can do: one session, pages in order, each record handed on."""
    import requests

    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        index = 0
        while True:
            response = session.get(f"{sb.url}{PATH}", params={"pageSize": page_size, "pageIndex": index}, timeout=30)
            response.raise_for_status()
            body = response.json()
            yield from body["result"]
            index += 1
            if index >= body["totalPages"]:
                return


def raw_loop(sb: Any, token: str, page_size: int) -> int:
    return sum(1 for _ in raw_records(sb, token, page_size))


def hook_paginate(page_size: int) -> int:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    hook = SimpleStoreHook("simplestore_default", page_size=page_size)
    return sum(1 for _ in hook.paginate(PATH))


def http_hook_loop(sb: Any, page_size: int) -> int:
    """What a user writes with the HTTP provider: a token, then HttpHook.run, for every page."""
    import requests
    from airflow.providers.http.hooks.http import HttpHook

    records = 0
    index = 0
    while True:
        token = fetch_token(requests, sb)
        response = HttpHook(method="GET", http_conn_id=HTTP_CONN_ID).run(
            PATH,
            data={"pageSize": page_size, "pageIndex": index},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        records += len(body["result"])
        index += 1
        if index >= body["totalPages"]:
            return records


def run(quick: bool = False, repeats: int | None = None) -> Report:
    import requests

    orders, page_size = (300, 100) if quick else (20_000, 100)
    repeats = repeats or (1 if quick else 7)
    with sandbox(seed=11, orders=orders, products=200, customers=100) as sb:
        conn_env = {**connection_env(sb), f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}": sb.url}
        with environ(conn_env):
            token = fetch_token(requests, sb)
            grants_before = sb.stats()["token_grants"]
            times, counts = interleaved(
                {
                    "raw requests.Session loop": lambda: raw_loop(sb, token, page_size),
                    "SimpleStoreHook.paginate": lambda: hook_paginate(page_size),
                    "HttpHook + token per call": lambda: http_hook_loop(sb, page_size),
                },
                repeats,
                warmup=1,
            )
            grants = sb.stats()["token_grants"] - grants_before
    wrong = {name: count for name, count in counts.items() if count != orders}
    if wrong:
        raise AssertionError(f"expected {orders} records from every client, got {wrong}")

    raw = median(times["raw requests.Session loop"])
    table = Table(["client", "median", "min/max", "records/s", "ratio to raw"])
    for name, values in times.items():
        mid = median(values)
        table.add(name, ms(mid), spread(values), num(orders / mid), ratio(raw / mid))
    report = Report(
        NAME,
        TITLE,
        f"{orders:,} orders, {page_size} per page ({-(-orders // page_size)} pages); sandbox in a child process; "
        f"repeats {repeats}, interleaved",
    )
    report.tables.append(("", table))
    paginate_ratio = raw / median(times["SimpleStoreHook.paginate"])
    report.targets.append(at_least("paginate / raw loop (speed)", paginate_ratio, TARGET_RATIO))
    report.notes.append(f"token grants during the timed runs: {grants} (the HttpHook loop fetches one per page)")
    return report
