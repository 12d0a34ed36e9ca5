"""10. Redaction: what a hostile error body costs, from 64 KiB to 1 MiB.

A server (or anything between) may answer an error with a huge body built to be expensive to
scrub: a problem `title` of `a.a.a...` made the former URL-password pattern scan from every
position to the end (quadratic: 34-53 s for 125 KiB, about an hour for 1 MiB), on every retry,
and on the triggerer's event loop for the async hook. Now every server-sent text is redacted over
a bounded window (redaction.REDACT_WINDOW_CHARS) with patterns that are linear, so an error costs the
same whatever the body's size, beyond parsing its JSON.

Measured in this process: `error_from_response` on hostile bodies of each size; `redact()` on the
whole text (no window) to show it is linear; the former patterns on small sizes for contrast; and
both hooks against a local server answering 1 MiB hostile problems, with the async hook's longest
event-loop stall (a ticker task runs beside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.harness import Report, Table, Target, at_most, environ, median, ms, num

NAME = "redaction"
TITLE = "10. Redaction: cost of hostile error bodies, 64 KiB to 1 MiB"
KIB = 1024
SECRET = "bench-S3cret-value-77"
TARGET_ERROR_MS = 50.0  # one error from a 1 MiB hostile body
TARGET_LINEAR = 32.0  # redact() of 1 MiB / of 64 KiB: 16 when linear, 256 when quadratic
TARGET_STALL_MS = 100.0  # the async hook's longest event-loop stall while it reads a hostile error
# The pattern redaction used before (scheme unbounded, `\Z`-anchored trailing run): kept here only
# to show what the fix is measured against.
FORMER = {
    "URL password (unbounded scheme)": re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@"),
    "run at the cut (\\Z-anchored)": re.compile(r"[^\s\"',;{}\[\]<>&]*\Z"),
}


def shapes(size: int, window: int) -> dict[str, tuple[int, bytes]]:
    """Hostile bodies of about `size` characters: (status, body). Besides the shapes of the report,
    runs that end with a blank just inside the redaction window: the window is redacted whole
    then (a run cut by the window is dropped unread), so a pattern that is not linear would show."""
    rest = max(0, size - window) // 2

    def problem(field: str, text: str) -> bytes:
        return json.dumps({"title": "Bad", "detail": "x", field: text}).encode()

    def up_to_the_window(unit: str) -> str:
        return unit * (window // len(unit) - 1) + " " + "a." * rest

    return {
        "problem title a.a.a...": (400, problem("title", "a." * (size // 2))),
        "title a.a.a... to the window's end, a blank": (400, problem("title", up_to_the_window("a."))),
        "detail a-a-a... to the window's end, a blank": (400, problem("detail", up_to_the_window("a-"))),
        "errors a://b:a://b:..., a blank": (400, json.dumps({"errors": {"f": [up_to_the_window("a://b:")]}}).encode()),
        "text: a run, a blank at the window's end": (502, ("a" * (window - 1) + " " + "b" * (size - window)).encode()),
        "text: bearer bearer ...": (502, ("bearer " * (size // 7)).encode()),
        "text: JSON-escaped secret echoes": (502, (json.dumps(SECRET)[1:-1] * (size // len(SECRET))).encode()),
    }


def time_call(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Token server and API in one: every API call gets a 1 MiB hostile problem."""

    protocol_version = "HTTP/1.1"
    body = b""

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(200, json.dumps({"access_token": "tok-bench-1", "expires_in": 3600}).encode())

    def do_GET(self) -> None:
        self._answer(400, self.body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def hostile_server(body: bytes) -> Iterator[str]:
    handler = type("Handler", (_Hostile,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def hook_errors(url: str, calls: int) -> dict[str, float]:
    """Seconds per error for each hook, and the async hook's longest event-loop stall."""
    from airflow_provider_simplestore.exceptions import SimpleStoreError
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook

    conn = {
        "conn_type": "simplestore",
        "host": url,
        "login": "bench",
        "password": SECRET,
        "extra": {"auth_url": url + "/connect/token", "max_retries": 0},
    }
    with environ({"AIRFLOW_CONN_SIMPLESTORE_HOSTILE": json.dumps(conn)}):
        sync_times = []
        with SimpleStoreHook("simplestore_hostile") as hook:
            for _ in range(calls + 1):
                start = time.perf_counter()
                try:
                    hook.request("GET", "/v1/products")
                except SimpleStoreError:
                    sync_times.append(time.perf_counter() - start)

        async def measure() -> tuple[list[float], float]:
            stall, done = 0.0, False

            async def ticker() -> None:
                nonlocal stall
                last = time.perf_counter()
                while not done:
                    await asyncio.sleep(0.001)
                    now = time.perf_counter()
                    stall, last = max(stall, now - last - 0.001), now

            times = []
            async with SimpleStoreAsyncHook("simplestore_hostile") as hook:
                # Warm-up: the connection, the HTTP client and the token are set up once, not measured.
                with contextlib.suppress(SimpleStoreError):
                    await hook.request("GET", "/v1/products")
                tick = asyncio.create_task(ticker())
                for _ in range(calls):
                    start = time.perf_counter()
                    try:
                        await hook.request("GET", "/v1/products")
                    except SimpleStoreError:
                        times.append(time.perf_counter() - start)
            done = True
            await tick
            return times, stall

        async_times, stall = asyncio.run(measure())
    if len(sync_times) != calls + 1 or len(async_times) != calls:
        raise AssertionError("every call must end in a SimpleStoreError")
    return {"sync": median(sync_times[1:]), "async": median(async_times), "stall": stall}


def run(quick: bool = False, repeats: int | None = None) -> Report:
    from airflow_provider_simplestore.client import failures, redaction

    sizes = (64 * KIB, 256 * KIB) if quick else (64 * KIB, 256 * KIB, 1024 * KIB)
    former_sizes = (2 * KIB, 4 * KIB) if quick else (4 * KIB, 8 * KIB, 16 * KIB)
    repeats = repeats or (1 if quick else 5)
    largest = sizes[-1]
    report = Report(
        NAME,
        TITLE,
        f"bodies of {', '.join(f'{s // KIB} KiB' for s in sizes)}; redaction window "
        f"{redaction.REDACT_WINDOW_CHARS // KIB} KiB; medians of {repeats}; hooks: {3 if quick else 10} errors each "
        "from a local server answering a hostile problem",
    )

    table = Table(["body", *(f"{s // KIB} KiB" for s in sizes)])
    worst = 0.0
    window = redaction.REDACT_WINDOW_CHARS
    for name in shapes(sizes[0], window):
        cells = []
        for size in sizes:
            status, body = shapes(size, window)[name]
            call = functools.partial(failures.error_from_response, "GET", "/v1/x", status, {}, body, secrets=[SECRET])
            seconds = time_call(call, repeats)
            cells.append(ms(seconds))
            worst = max(worst, seconds) if size == largest else worst
        table.add(name, *cells)
    report.tables.append(("error_from_response (parse, redact, excerpt) per hostile body:", table))

    whole = Table(["text", *(f"{s // KIB} KiB" for s in sizes), f"{largest // KIB} KiB / 64 KiB"])
    ratios = []
    for name, unit in (("a.a.a...", "a."), ("a-a-a...", "a-"), ("a://b:a://b:...", "a://b:")):
        times = [
            time_call(functools.partial(redaction.redact, unit * (s // len(unit)), [SECRET]), repeats) for s in sizes
        ]
        ratios.append(times[-1] / times[0])
        whole.add(name, *map(ms, times), f"{ratios[-1]:.1f}x")
    report.tables.append(("redact() on the whole text, no window (linear: the ratio is the size ratio):", whole))

    former = Table(["former pattern on a.a.a...", *(f"{s // KIB} KiB" for s in former_sizes)])
    for name, pattern in FORMER.items():
        texts = ["a." * (s // 2) if "URL" in name else "a" * s + " " for s in former_sizes]
        former.add(name, *(ms(time_call(functools.partial(pattern.sub, "", text), 1)) for text in texts))
    report.tables.append(("for contrast, the patterns used before (quadratic: 2x the text, 4x the time):", former))

    with hostile_server(shapes(largest, window)["title a.a.a... to the window's end, a blank"][1]) as url:
        hooks = hook_errors(url, 3 if quick else 10)
    hook_table = Table(["hook", "per error", "longest event-loop stall"])
    hook_table.add("SimpleStoreHook", ms(hooks["sync"]), "-")
    hook_table.add("SimpleStoreAsyncHook", ms(hooks["async"]), ms(hooks["stall"]))
    report.tables.append(
        (f"hooks, a {largest // KIB} KiB problem (title a.a.a... to the window's end, a blank) per answer:", hook_table)
    )

    report.targets += [
        at_most(f"error_from_response, worst {largest // KIB} KiB hostile body", worst * 1000, TARGET_ERROR_MS, " ms"),
        at_most(
            f"redact() linear: {largest // KIB} KiB / 64 KiB time, worst text",
            max(ratios),
            TARGET_LINEAR if not quick else 16.0,
            "x",
        ),
        at_most("async hook: longest event-loop stall, hostile error", hooks["stall"] * 1000, TARGET_STALL_MS, " ms"),
        Target(f"{largest // KIB} KiB hostile error through the sync hook", "(measure)", ms(hooks["sync"]), None),
    ]
    report.notes.append(
        f"error bodies are parsed whole (json); only {num(redaction.REDACT_WINDOW_CHARS)} characters "
        "of any title, detail or body are redacted"
    )
    return report
