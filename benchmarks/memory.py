"""4. Memory: peak RSS of a process that exports 20k and 200k orders with SimpleStoreExportOperator.

Each export runs in a fresh interpreter; the sandbox lives in another process. The child resets
its peak-RSS counter once Airflow and the provider are imported (Linux `clear_refs`; elsewhere it
samples RSS in a thread), so the peak measured is the export's, not an import-time spike. The
peak reached while importing is shown beside it. A streaming export needs the same memory
for 10x the records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, Table, at_most, connection_env, execute, mib, num, run_child, sandbox

NAME = "memory"
TITLE = "4. Memory: peak RSS exporting 20k vs 200k orders"
TARGET_RATIO = 1.2


def peak_rss_kib() -> int:
    """This process's peak resident set size so far (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise OSError("no VmHWM in /proc/self/status")


def current_rss_kib() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss // 1024)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: `5` to /proc/self/clear_refs); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return peak_rss_kib() <= current_rss_kib() + 1024
    except OSError:
        return False


class RssSampler:
    """Fallback where the peak cannot be reset: sample RSS every few milliseconds in a thread."""

    def __init__(self, interval: float = 0.002) -> None:
        import threading

        self.interval, self.peak = interval, current_rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, current_rss_kib())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=5)
        return max(self.peak, current_rss_kib())


def export_in_child(destination: str, page_size: int) -> dict[str, Any]:
    """Child side: export every order to `destination`; RSS before it and the peak during it."""
    import time

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook  # noqa: F401  (loaded before)
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreExportOperator

    operator = SimpleStoreExportOperator(
        task_id="export", resource="orders", incremental=False, destination=destination, page_size=page_size
    )
    before = current_rss_kib()
    try:
        import_peak = peak_rss_kib()
    except OSError:
        import_peak = before
    exact = reset_peak_rss()  # so that import-time spikes do not count as the export's peak
    sampler = None if exact else RssSampler()
    began = time.perf_counter()
    result = execute(operator)  # a non-incremental export reads nothing from the context
    elapsed = time.perf_counter() - began
    peak = peak_rss_kib() if sampler is None else sampler.stop()
    return {
        "records": result["records"],
        "bytes": result["bytes"],
        "elapsed": elapsed,
        "rss_before_kib": before,
        "import_peak_kib": import_peak,
        "export_peak_kib": peak,
        "method": "VmHWM reset via clear_refs" if exact else "RSS sampled every 2 ms",
    }


def mid(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def run(quick: bool = False, repeats: int | None = None) -> Report:
    sizes = (1_000, 10_000) if quick else (20_000, 200_000)
    repeats = repeats or (1 if quick else 2)
    page_size = 100
    table = Table(["export", "peak while importing", "RSS before", "peak during export", "growth", "file",
                   "records/s"])
    peaks: dict[int, float] = {}
    growth: dict[int, float] = {}
    method = ""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        destination = str(Path(tmp) / "orders.jsonl")
        for orders in sizes:
            with sandbox(seed=14, orders=orders, products=200, customers=500) as sb:
                env = connection_env(sb)
                runs = []
                for _ in range(repeats):
                    result = run_child(
                        f"{__name__}:export_in_child", {"destination": destination, "page_size": page_size}, env=env
                    )
                    if result["records"] != orders:
                        raise AssertionError(f"exported {result['records']} of {orders} orders")
                    runs.append(result)
            method = runs[-1]["method"]
            peaks[orders] = mid([r["export_peak_kib"] for r in runs])
            growth[orders] = mid([r["export_peak_kib"] - r["rss_before_kib"] for r in runs])
            table.add(
                f"{num(orders)} orders",
                mib(mid([r["import_peak_kib"] for r in runs])),
                mib(mid([r["rss_before_kib"] for r in runs])),
                mib(peaks[orders]),
                mib(growth[orders]),
                f"{runs[-1]['bytes'] / 2**20:,.1f} MiB",
                num(orders / mid([r["elapsed"] for r in runs])),
            )
    small, large = sizes
    report = Report(
        NAME,
        TITLE,
        f"each export in a fresh interpreter; peak during the export: {method}; JSON Lines, {page_size} per "
        f"page; sandbox in another process; medians of {repeats}",
    )
    report.tables.append(("", table))
    report.targets.append(
        at_most(f"peak RSS during export, {num(large)} / {num(small)} orders", peaks[large] / peaks[small],
                TARGET_RATIO, "x")
    )
    report.notes.append(
        f"the export itself grew RSS by {mib(growth[small])} for {num(small)} and {mib(growth[large])} for "
        f"{num(large)} orders"
    )
    return report
