"""The import's rejects report: one JSON line per rejected row, collected in a local file while the
import runs and published next to the input (atomically) when it ends, even when the task fails.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from airflow_provider_simplestore.utils.formats import dumps
from airflow_provider_simplestore.utils.progress import TaskLog
from airflow_provider_simplestore.utils.storage import atomic_write, remove_if_exists

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import ObjectStoragePath


REPORT_INPUT_CHARS = 4096  # raw input kept per report line (a 50 MB bad line must not be copied whole)
REPORT_REASON_CHARS = 1024


def publish_report(rejects: IO[bytes], report: ObjectStoragePath, rejected: int, log: TaskLog) -> str | None:
    """`rejects` copied to `report` (its URL returned); without rejected rows, a stale report removed."""
    if not rejected:
        if remove_if_exists(report):
            log.info("Removed the stale rejects report %s", report)
        return None
    rejects.seek(0)
    with atomic_write(report) as out:
        while chunk := rejects.read(1 << 16):
            out.write(chunk)
    log.warning("%d rejected rows written to %s", rejected, report)
    return str(report)


def write_rejected(
    out: IO[bytes], line: int, reason: str, *, raw: str | None = None, row: Any = None, status: int | None = None
) -> None:
    entry: dict[str, Any] = {"line": line}
    if status is not None:
        entry["status"] = status
    entry["reason"] = reason if len(reason) <= REPORT_REASON_CHARS else reason[:REPORT_REASON_CHARS] + "..."
    if row is not None and len(dumps(row)) <= REPORT_INPUT_CHARS:
        entry["row"] = row
    else:
        text = dumps(row) if row is not None else raw
        if text is not None:
            entry["raw"] = text if len(text) <= REPORT_INPUT_CHARS else text[:REPORT_INPUT_CHARS]
            if len(text) > REPORT_INPUT_CHARS:
                entry["truncated"] = f"{len(text)} characters, the first {REPORT_INPUT_CHARS} kept"
    out.write((dumps(entry) + "\n").encode())
