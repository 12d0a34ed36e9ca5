"""Partitioned exports: a run's window cut into parts, and the manifest that lists the parts.

A partitioned export maps ``SimpleStoreExportOperator`` over ``split_window(...)`` (one task, one
part file per window, on any worker), then ``write_manifest(...)`` checks that the parts tile the
whole window (no gap, no overlap: each record in exactly one part), re-hashes every part against
what its task reported, and writes the manifest all at once. See docs/partitioned-export.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from airflow_provider_simplestore.errors import SimpleStoreConfigError
from airflow_provider_simplestore.utils.source import Window
from airflow_provider_simplestore.utils.storage import atomic_write, check_destination, storage_path
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment

MANIFEST_VERSION = 1
# What each part's export summary (its XCom) must carry for the manifest.
PART_FIELDS = ("destination", "records", "bytes", "sha256", "created_from", "created_to")


class ManifestError(SimpleStoreConfigError):
    """The parts do not make a whole export (missing fields, a gap, an overlap, a changed file)."""


def split_window(start: Any, end: Any, parts: int) -> list[dict[str, str]]:
    """``[start, end)`` cut into ``parts`` contiguous windows of equal length (to the microsecond).

    Each is ``{"created_from", "created_to"}`` as ISO-8601 UTC strings: the keyword arguments of one
    mapped export (``.expand_kwargs(split_window(...))``).
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise SimpleStoreConfigError(f"parts must be a positive integer, got {parts!r}")
    window = Window(parse_moment(start, "window start"), parse_moment(end, "window end"))
    if window.empty:
        raise SimpleStoreConfigError(f"cannot split the empty or reversed window {window}")
    span = window.end - window.start
    bounds = [window.start + span * i / parts for i in range(parts)] + [window.end]
    # Integer microseconds: a bound that rounds onto its neighbour would make an empty part.
    if len(set(bounds)) != len(bounds):
        raise SimpleStoreConfigError(f"the window {window} is too short for {parts} parts")
    return [{"created_from": iso(a), "created_to": iso(b)} for a, b in pairwise(bounds)]


def _part_entry(index: int, part: Any) -> dict[str, Any]:
    if not isinstance(part, Mapping):
        raise ManifestError(f"part {index}: expected an export summary (a dict), got {type(part).__name__}")
    missing = [name for name in PART_FIELDS if part.get(name) in (None, "")]
    if missing:
        raise ManifestError(
            f"part {index} ({part.get('destination', '?')}): its export summary lacks {', '.join(missing)} "
            "(only an incremental orders export reports its window)"
        )
    return {
        "path": str(part["destination"]),
        "created_from": iso(parse_moment(part["created_from"], f"part {index} created_from")),
        "created_to": iso(parse_moment(part["created_to"], f"part {index} created_to")),
        "records": int(part["records"]),
        "bytes": int(part["bytes"]),
        "sha256": str(part["sha256"]),
    }


def _check_tiling(entries: list[dict[str, Any]], window: Window) -> None:
    """The parts, sorted by start, cover ``window`` edge to edge: each record falls in exactly one."""
    edge = iso(window.start)
    for entry in entries:
        if entry["created_from"] != edge:
            problem = "a gap" if entry["created_from"] > edge else "an overlap"
            raise ManifestError(f"{problem} before the part {entry['path']}: it starts at {entry['created_from']}, "
                                f"the previous part ends at {edge}")
        edge = entry["created_to"]
    if edge != iso(window.end):
        raise ManifestError(f"the parts end at {edge}, the window {window} at {iso(window.end)}")


def _check_file(entry: dict[str, Any], storage_conn_id: str | None) -> None:
    """The part on storage is still what its task wrote: same size and sha256 (streamed)."""
    digest, size = hashlib.sha256(), 0
    try:
        with storage_path(entry["path"], conn_id=storage_conn_id, role="part").open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise ManifestError(f"the part {entry['path']} is missing") from None
    if (size, digest.hexdigest()) != (entry["bytes"], entry["sha256"]):
        raise ManifestError(f"the part {entry['path']} changed after its export: {size} bytes, sha256 "
                            f"{digest.hexdigest()} (export: {entry['bytes']} bytes, {entry['sha256']})")


def write_manifest(
    destination: str,
    parts: Iterable[Any],
    *,
    window_start: Any,
    window_end: Any,
    resource: str = "orders",
    storage_conn_id: str | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """Check the parts and write ``destination`` (JSON) atomically; its summary for XCom.

    ``parts`` are the export summaries of the mapped tasks (their XCom, in any order). Nothing is
    written when a part is missing a field, the parts leave a gap or overlap in
    ``[window_start, window_end)``, or (``verify``) a part file is missing or differs from its
    summary. The manifest lists the parts by start, each with its window, records, bytes, sha256.
    """
    window = Window(parse_moment(window_start, "window_start"), parse_moment(window_end, "window_end"))
    entries = sorted((_part_entry(i, p) for i, p in enumerate(parts)), key=lambda e: e["created_from"])
    if not entries:
        raise ManifestError("no parts to list: the mapped export produced no summaries")
    _check_tiling(entries, window)
    if verify:
        for entry in entries:
            _check_file(entry, storage_conn_id)
    path = storage_path(destination, conn_id=storage_conn_id, role="manifest")
    check_destination(path, role="manifest")
    records = sum(e["records"] for e in entries)
    document = {
        "version": MANIFEST_VERSION,
        "resource": resource,
        "created_from": iso(window.start),
        "created_to": iso(window.end),
        "records": records,
        "parts": entries,
    }
    with atomic_write(path) as out:
        out.write(json.dumps(document, indent=2).encode() + b"\n")
    return {"destination": str(path), "parts": len(entries), "records": records, "sha256": out.sha256}
