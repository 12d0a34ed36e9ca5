"""What a run of the partitioned orders export must leave behind; shared by the dag.test() test and the
Celery deployment test, which run the same DAG."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

PARTS = 6  # the DAG's


def check_partitioned_export(
    folder: Path, orders: list[dict[str, Any]], day: dt.datetime, at_least: int = PARTS + 1
) -> dict[str, Any]:
    """Every part in the manifest and on disk, each order of the day in exactly one part, in its window
    (and, by default, more orders than parts: a busy day, where a lost part cannot go unseen)."""
    from airflow_provider_simplestore.utils.manifest import split_window

    manifest = json.loads((folder / "manifest.json").read_text())
    windows = split_window(day, day + dt.timedelta(days=1), PARTS)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"] + [f"part-{i:02d}.jsonl" for i in range(PARTS)]
    seen: list[str] = []
    for index, (entry, window) in enumerate(zip(manifest["parts"], windows, strict=True)):
        part = folder / f"part-{index:02d}.jsonl"
        data = part.read_bytes()
        assert entry == {
            **window,
            "path": f"file://{part}",
            "format": "jsonl",
            "records": len(data.splitlines()),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        exported = [json.loads(line) for line in data.decode().splitlines()]
        assert all(window["created_from"] <= o["createdOnUtc"] < window["created_to"] for o in exported)
        seen += [o["orderId"] for o in exported]
    expected = [o["orderId"] for o in orders if o["createdOnUtc"][:10] == day.date().isoformat()]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) >= at_least
    assert manifest["records"] == len(expected)
    return manifest


def busiest_day(orders: list[dict[str, Any]]) -> dt.datetime:
    counts: dict[str, int] = {}
    for order in orders:
        counts[order["createdOnUtc"][:10]] = counts.get(order["createdOnUtc"][:10], 0) + 1
    return dt.datetime.fromisoformat(max(sorted(counts), key=lambda d: counts[d]) + "T00:00:00+00:00")
