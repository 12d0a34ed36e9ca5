"""4. Memory: peak RSS of a process that exports 20k and 200k orders with SimpleStoreToObjectStorageOperator,
to a local file and to S3 (a moto server on 127.0.0.1, one multipart upload), and to a
local Parquet file, against the JSON Lines one in the same run (the goal: within 1.2x).

Each export runs in a fresh interpreter; the sandbox and the S3 server live in other processes.
The child resets its peak-RSS counter once Airflow and the provider are imported (and, for S3, the
filesystem resolved, which loads s3fs and aiobotocore) (Linux `clear_refs`; elsewhere it samples
RSS in a thread), so the peak measured is the export's, not an import-time spike. The peak reached
while importing is shown beside it. A streaming export needs the same memory for 10x the records,
to either store; the S3 one holds about one upload part (utils/storage.py UPLOAD_PART_SIZE) more.
The Parquet export also holds pyarrow's libraries (imported when its task runs; the child imports them
before the reset and says how much they took) and at most one row group (utils/parquet.py).
Without the deploy dependency group (moto, s3fs) only the file exports run; without pyarrow, no Parquet export.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    Report,
    Table,
    Target,
    at_most,
    connection_env,
    execute,
    mib,
    num,
    run_child,
    sandbox,
)

NAME = "memory"
TITLE = "4. Memory: peak RSS exporting 20k vs 200k orders, to a file and to S3, as JSON Lines and Parquet"
TARGET_RATIO = 1.2
S3_BUCKET = "bench"
S3_CONN_ID = "aws_bench"


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


def export_in_child(destination: str, page_size: int, storage_conn_id: str | None = None) -> dict[str, Any]:
    """Child side: export every order to `destination`; RSS before it and the peak during it."""
    import time

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook  # noqa: F401  (loaded before)
    from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
    from airflow_provider_simplestore.utils.storage import storage_path

    operator = SimpleStoreToObjectStorageOperator(
        task_id="export",
        resource="orders",
        incremental=False,
        destination=destination,
        page_size=page_size,
        storage_conn_id=storage_conn_id,
    )
    storage_path(destination, conn_id=storage_conn_id, role="destination")  # loads the filesystem (cached)
    library = current_rss_kib()
    if destination.endswith(".parquet"):  # pyarrow, as the export loads it, measured apart
        from airflow_provider_simplestore.utils.parquet import ParquetEncoder

        ParquetEncoder("orders")
    library = current_rss_kib() - library
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
        "library_kib": library,
        "import_peak_kib": import_peak,
        "export_peak_kib": peak,
        "method": "VmHWM reset via clear_refs" if exact else "RSS sampled every 2 ms",
    }


def mid(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def run(quick: bool = False, repeats: int | None = None) -> Report:
    from tests.s3_server import missing_package, running_s3_server

    sizes = (1_000, 10_000) if quick else (20_000, 200_000)
    repeats = repeats or (1 if quick else 2)
    page_size = 100
    table = Table(["export", "peak while importing", "RSS before", "peak during export", "growth", "file", "records/s"])
    peaks: dict[tuple[str, int], float] = {}
    growth: dict[tuple[str, int], float] = {}
    library: dict[int, float] = {}
    method = ""
    without_s3 = missing_package()
    without_parquet = find_spec("pyarrow") is None
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, ExitStack() as stack:
        # name -> (environment, destination, the destination's connection id)
        stores: dict[str, tuple[dict[str, str], str, str | None]] = {
            "file": ({}, str(Path(tmp) / "orders.jsonl"), None)
        }
        if not without_parquet:
            stores["Parquet file"] = ({}, str(Path(tmp) / "orders.parquet"), None)
        if without_s3 is None:
            s3 = stack.enter_context(running_s3_server())
            s3.client().create_bucket(Bucket=S3_BUCKET)
            stores["S3"] = (
                {f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": s3.connection_json()},
                f"s3://{S3_BUCKET}/orders.jsonl",
                S3_CONN_ID,
            )
        for orders in sizes:
            runs: dict[str, list[dict[str, Any]]] = {store: [] for store in stores}
            with sandbox(seed=14, orders=orders, products=200, customers=500) as sb:
                for _ in range(repeats):
                    for store, (store_env, destination, conn_id) in stores.items():  # interleaved
                        result = run_child(
                            f"{__name__}:export_in_child",
                            {"destination": destination, "page_size": page_size, "storage_conn_id": conn_id},
                            env={**connection_env(sb), **store_env},
                        )
                        if result["records"] != orders:
                            raise AssertionError(f"exported {result['records']} of {orders} orders to {store}")
                        runs[store].append(result)
            library[orders] = mid([r["library_kib"] for r in runs.get("Parquet file", [])] or [0])
            for store, results in runs.items():
                method = results[-1]["method"]
                peaks[store, orders] = mid([r["export_peak_kib"] for r in results])
                growth[store, orders] = mid([r["export_peak_kib"] - r["rss_before_kib"] for r in results])
                table.add(
                    f"{num(orders)} orders, {store}",
                    mib(mid([r["import_peak_kib"] for r in results])),
                    mib(mid([r["rss_before_kib"] for r in results])),
                    mib(peaks[store, orders]),
                    mib(growth[store, orders]),
                    f"{results[-1]['bytes'] / 2**20:,.1f} MiB",
                    num(orders / mid([r["elapsed"] for r in results])),
                )
    small, large = sizes
    report = Report(
        NAME,
        TITLE,
        f"each export in a fresh interpreter; peak during the export: {method}; JSON Lines (and Parquet), "
        f"{page_size} per page; sandbox and S3 server (moto) in other processes; medians of {repeats}",
    )
    report.tables.append(("", table))
    for store in stores:
        label = "" if store == "file" else f" to {store}"
        report.targets.append(
            at_most(
                f"peak RSS during export{label}, {num(large)} / {num(small)} orders",
                peaks[store, large] / peaks[store, small],
                TARGET_RATIO,
                "x",
            )
        )
        report.notes.append(
            f"the export{label} itself grew RSS by {mib(growth[store, small])} for {num(small)} and "
            f"{mib(growth[store, large])} for {num(large)} orders"
        )
    if without_s3 is None:
        report.targets.append(
            Target(
                f"peak RSS during export, S3 / file, {num(large)} orders",
                "(measure)",
                f"{peaks['S3', large] / peaks['file', large]:.2f}x",
                None,
            )
        )
    else:
        report.notes.append(f"no S3 export: {without_s3}")
    if without_parquet:
        report.notes.append("no Parquet export: pyarrow is not installed (the parquet extra)")
    else:
        report.targets.append(
            at_most(
                f"peak RSS, Parquet / JSON Lines file export, {num(large)} orders",
                peaks["Parquet file", large] / peaks["file", large],
                TARGET_RATIO,
                "x",
            )
        )
        report.targets.append(
            Target(
                f"peak RSS, Parquet less pyarrow's libraries / JSON Lines, {num(large)} orders",
                "(measure)",
                f"{(peaks['Parquet file', large] - library[large]) / peaks['file', large]:.2f}x",
                None,
            )
        )
        report.notes.append(
            f"of the Parquet export's peak, {mib(library[large])} is pyarrow's libraries (resident "
            f"from its import, whatever the size)"
        )
    return report
