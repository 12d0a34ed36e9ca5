"""11. Import memory: peak RSS of an import whose file holds one huge line (300 MB).

The importer used to read each line whole (readline, then decode, then parse), and the file twice:
one 300 MB line raised a task's peak memory by 2.09 GB. It now reads the file once, in 64 KiB
chunks, and rejects a line over `max_line_bytes` (1 MiB by default) without holding it; its
growth should not depend on the line's size.

Each import runs in a fresh interpreter against a sandbox in another process; the child resets its
peak-RSS counter once Airflow and the provider are loaded (benchmarks/memory.py), so the peak is the
import's. Beside it, for contrast, a child reads the same line the way the reader did before
(readline, decode, json.loads) and reports that peak.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, Table, at_most, connection_env, execute, median, mib, run_child, sandbox
from benchmarks.memory import RssSampler, current_rss_kib, peak_rss_kib, reset_peak_rss

NAME = "import_memory"
TITLE = "11. Import memory: a file with one huge line"
MIB = 1 << 20
TARGET_GROWTH_MIB = 64.0  # the import's growth with a 300 MB line in the file
GOOD_ROWS = 50


def write_input(path: Path, line_bytes: int) -> int:
    """GOOD_ROWS product rows, then one row whose title makes its line `line_bytes` long (0: none),
    then GOOD_ROWS more; written in chunks. Returns the file's size."""
    with path.open("wb") as out:
        for i in range(GOOD_ROWS):
            out.write((json.dumps({"slug": f"bench-a-{i}", "title": f"Bench A {i}"}) + "\n").encode())
        if line_bytes:
            head = b'{"slug": "bench-huge", "title": "'
            tail = b'"}\n'
            left = line_bytes - len(head) - len(tail) + 1
            out.write(head)
            while left > 0:
                out.write(b"x" * min(left, 8 * MIB))
                left -= 8 * MIB
            out.write(tail)
        for i in range(GOOD_ROWS):
            out.write((json.dumps({"slug": f"bench-b-{i}", "title": f"Bench B {i}"}) + "\n").encode())
    return path.stat().st_size


def _measured(run: Any) -> dict[str, Any]:
    """Run `run()` with the peak-RSS counter reset first: RSS before, the peak during it, its result."""
    before = current_rss_kib()
    exact = reset_peak_rss()
    sampler = None if exact else RssSampler()
    result = run()
    peak = peak_rss_kib() if sampler is None else sampler.stop()
    return {
        "before_kib": before,
        "peak_kib": peak,
        "result": result,
        "method": "VmHWM reset via clear_refs" if exact else "RSS sampled every 2 ms",
    }


def import_in_child(source: str) -> dict[str, Any]:
    """Child side: import `source` into products; RSS before and the peak during the import."""
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook  # noqa: F401  (loaded before)
    from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator

    operator = SimpleStoreImportOperator(task_id="import", resource="products", source=source, max_error_ratio=1.0)
    return _measured(lambda: execute(operator))


def read_whole_in_child(source: str) -> dict[str, Any]:
    """Child side, for contrast: each line read whole, decoded and parsed, as the reader did before."""

    def read() -> dict[str, int]:
        longest = 0
        with open(source, "rb") as binary:
            for raw in iter(binary.readline, b""):
                text = raw.decode("utf-8")
                json.loads(text)
                longest = max(longest, len(raw))
        return {"longest": longest}

    return _measured(read)


def run(quick: bool = False, repeats: int | None = None) -> Report:
    line = 30 * MIB if quick else 300 * 1000 * 1000
    repeats = repeats or 1
    table = Table(["input", "file", "RSS before", "peak during", "growth", "rows: created / rejected"])
    growth: dict[str, float] = {}
    method = ""
    with (
        tempfile.TemporaryDirectory(prefix="bench-import-") as tmp,
        sandbox(seed=18, products=10, customers=1, orders=0) as sb,
    ):
        inputs = {
            "without the line": (Path(tmp) / "plain.jsonl", 0),
            f"with a {line / 1e6:,.0f} MB line": (Path(tmp) / "huge.jsonl", line),
        }
        for label, (path, size) in inputs.items():
            file_size = write_input(path, size)
            runs = []
            for _ in range(repeats):
                sb.reset()
                runs.append(run_child(f"{__name__}:import_in_child", {"source": str(path)}, env=connection_env(sb)))
            result = runs[-1]["result"]
            if result["created"] != 2 * GOOD_ROWS or result["rejected"] != (1 if size else 0):
                raise AssertionError(f"{label}: expected {2 * GOOD_ROWS} created and the long line rejected: {result}")
            method = runs[-1]["method"]
            growth[label] = median([r["peak_kib"] - r["before_kib"] for r in runs])
            table.add(
                f"import, {label}",
                f"{file_size / MIB:,.1f} MiB",
                mib(median([r["before_kib"] for r in runs])),
                mib(median([r["peak_kib"] for r in runs])),
                mib(growth[label]),
                f"{result['created']} / {result['rejected']}",
            )
        huge_path = inputs[f"with a {line / 1e6:,.0f} MB line"][0]
        whole = run_child(f"{__name__}:read_whole_in_child", {"source": str(huge_path)})
        table.add(
            "for contrast: each line read whole (readline, decode, json.loads)",
            "-",
            mib(whole["before_kib"]),
            mib(whole["peak_kib"]),
            mib(whole["peak_kib"] - whole["before_kib"]),
            "-",
        )

    report = Report(
        NAME,
        TITLE,
        f"{2 * GOOD_ROWS} product rows around one line of {line:,} bytes (max_line_bytes 1 MiB); each import in "
        f"a fresh interpreter; peak during the import: {method}; sandbox in another process; medians of {repeats}",
    )
    report.tables.append(("", table))
    with_line = growth[f"with a {line / 1e6:,.0f} MB line"]
    report.targets.append(
        at_most(f"import growth with a {line / 1e6:,.0f} MB line", with_line / 1024, TARGET_GROWTH_MIB, " MiB")
    )
    report.notes.append(
        f"growth without the line: {mib(growth['without the line'])}; the huge line adds "
        f"{mib(with_line - growth['without the line'])}"
    )
    return report
