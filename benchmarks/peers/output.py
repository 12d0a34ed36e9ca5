"""What the candidates share: the JSON Lines they write, the clock, and the checks of what they wrote.

Standard library only: the dlt candidates import it in .venv-peers, the others in .venv.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

ORDER_ID = "orderId"
# Connections the parent defines for the Airflow candidates (AIRFLOW_CONN_<ID>).
HTTP_CONN_ID = "simplestore_http"  # the sandbox's URL as a plain HTTP connection
SQL_CONN_ID = "peers_sqlite"  # a SQLite file per run
# The sandbox's credentials reach every child in its environment, not on its command line.
CLIENT_ID_ENV, CLIENT_SECRET_ENV = "PEERS_CLIENT_ID", "PEERS_CLIENT_SECRET"


def credentials() -> tuple[str, str]:
    return os.environ[CLIENT_ID_ENV], os.environ[CLIENT_SECRET_ENV]


def jsonl_line(record: Mapping[str, Any]) -> bytes:
    """One record as the provider's export writes it (utils/formats.dumps): compact, non-ASCII kept,
    so that every JSON Lines candidate writes the same bytes."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode()


def write_pages(out: IO[bytes], pages: Iterable[list[dict[str, Any]]]) -> int:
    """Write each page's records as JSON Lines, one write per page; the number of records."""
    records = 0
    for page in pages:
        out.write(b"".join(jsonl_line(record) for record in page))
        records += len(page)
    return records


def timed(work: Callable[[], Any]) -> float:
    """Seconds `work()` took (the candidate's task, after its imports, before the checks)."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def jsonl_counts(paths: Iterable[Path], id_field: str) -> dict[str, Any]:
    """Lines and distinct ids of JSON Lines files (gzipped ones too), and the sha256 of their lines."""
    records, ids, digest = 0, set(), hashlib.sha256()
    for path in sorted(paths):
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as lines:
            for line in lines:
                digest.update(line)
                records += 1
                ids.add(json.loads(line).get(id_field))
    ids.discard(None)
    return {"records": records, "distinct": len(ids), "sha256": digest.hexdigest()}


def table_counts(conn: Any, table: str, id_column: str) -> dict[str, Any]:
    """Rows and distinct ids of a table, through any DB-API connection (sqlite3, duckdb)."""
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT {id_column}) FROM {table}")
        records, distinct = cursor.fetchone()
    finally:
        cursor.close()
    return {"records": int(records), "distinct": int(distinct), "sha256": None}


def versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of `names`, in whichever venv runs this."""
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
