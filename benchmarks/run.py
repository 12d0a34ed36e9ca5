"""`python -m benchmarks.run [--quick] [--only NAME ...] [--repeats N]`: run the benchmarks, print their tables.

`make bench` runs the full sizes (a few minutes); `--quick` runs tiny sizes once (the smoke test).
Exit status 1 when a benchmark crashed; a missed target is a number, not a crash (see `--strict`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence

from benchmarks.harness import Report, Table, load_average, machine_line

BENCHMARKS = (
    "pagination",
    "parallel_export",
    "export_speed",
    "token_economy",
    "memory",
    "parse_time",
    "sandbox_throughput",
    "rate_limit",
    "redaction",
    "import_memory",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: checks that everything runs")
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, metavar="NAME", help="run only NAME (repeatable)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="override each benchmark's number of repeats")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Operators log every page at INFO; the tables are the output. Set before Airflow is imported
    # (children inherit it).
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    names = args.only or list(BENCHMARKS)
    print(f"SimpleStore provider benchmarks ({'quick' if args.quick else 'full'}): {machine_line()}", flush=True)
    print(flush=True)
    reports: list[Report] = []
    crashed: list[str] = []
    started = time.monotonic()
    for name in names:
        began = time.monotonic()
        try:
            report = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick, repeats=args.repeats)
        except Exception:
            crashed.append(name)
            print(f"== {name}: CRASHED ==\n{traceback.format_exc()}", flush=True)
            continue
        report.notes.append(f"took {time.monotonic() - began:.1f} s")
        reports.append(report)
        print(report.render(), flush=True)

    summary = Table(["benchmark", "target", "goal", "measured", "verdict"], left=3)
    for report in reports:
        for target in report.targets:
            summary.add(report.name, target.what, target.goal, target.measured, target.verdict)
    for name in crashed:
        summary.add(name, "(crashed)", "-", "-", "CRASHED")
    print("== Summary ==")
    print(summary.render())
    print(f"\ntotal {time.monotonic() - started:.1f} s; load average after: {load_average()}", flush=True)
    missed = any(target.met is False for report in reports for target in report.targets)
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
