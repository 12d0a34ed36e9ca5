"""Partitioned exports: a run's window cut into parts, and the manifest that lists the parts.

A partitioned export maps ``SimpleStoreToObjectStorageOperator`` over ``split_window(...)`` (one task, one
part file per window, on any worker), then ``write_manifest(...)`` checks that the parts tile the
whole window (no gap, no overlap: each record in exactly one part), re-hashes every part against
what its task reported, and writes the manifest all at once. See docs/partitioned-export.md.

The summaries come from XCom, so nothing in them is trusted: counts must be non-negative
integers, a sha256 64 hex digits, and (verifying) each part's size, sha256 and records are
measured on storage. The manifest may not be one of the parts, nor two parts one file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import EXPORT_FORMATS, FORMATS, format_from_name
from airflow_provider_simplestore.utils.source import Window
from airflow_provider_simplestore.utils.storage import atomic_write, check_destination, location_key, storage_path
from airflow_provider_simplestore.utils.timestamps import iso, parse_moment

MANIFEST_VERSION = 1
# What each part's export summary (its XCom) must carry for the manifest.
PART_FIELDS = ("destination", "records", "bytes", "sha256", "created_from", "created_to")
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    where = f"part {index} ({part.get('destination', '?')})"
    missing = [name for name in PART_FIELDS if part.get(name) in (None, "")]
    if missing:
        raise ManifestError(
            f"{where}: its export summary lacks {', '.join(missing)} "
            "(only an incremental orders export reports its window)"
        )
    for name in ("records", "bytes"):
        value = part[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ManifestError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    # As the export chose it: its summary says; an older or hand-made one is read by the name.
    fmt = part.get("format") or format_from_name(str(part["destination"])) or "jsonl"
    if fmt in FORMATS and part["records"] > part["bytes"]:  # a line per record: at least a byte each
        raise ManifestError(f"{where}: {part['records']} records cannot fit in {part['bytes']} bytes")
    digest = part["sha256"]
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ManifestError(f"{where}: sha256 must be 64 lowercase hex digits, got {digest!r}")
    if fmt not in EXPORT_FORMATS:
        raise ManifestError(f"{where}: unknown format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    return {
        "path": str(part["destination"]),
        "created_from": iso(parse_moment(part["created_from"], f"part {index} created_from")),
        "created_to": iso(parse_moment(part["created_to"], f"part {index} created_to")),
        "format": fmt,
        "records": part["records"],
        "bytes": part["bytes"],
        "sha256": digest,
    }


def _check_tiling(entries: list[dict[str, Any]], window: Window) -> None:
    """The parts, sorted by start, cover ``window`` edge to edge: each record falls in exactly one."""
    edge = iso(window.start)
    for entry in entries:
        if entry["created_from"] != edge:
            problem = "a gap" if entry["created_from"] > edge else "an overlap"
            raise ManifestError(
                f"{problem} before the part {entry['path']}: it starts at {entry['created_from']}, "
                f"the previous part ends at {edge}"
            )
        edge = entry["created_to"]
    if edge != iso(window.end):
        raise ManifestError(f"the parts end at {edge}, the window {window} at {iso(window.end)}")


class _RecordCounter:
    """Records of a line-format part as the export writes them, counted from its bytes: JSON Lines one per
    line (JSON escapes every newline in a value); CSV one per line outside quotes (a quoted cell
    may hold newlines; an escaped quote is two quotes, so the state still flips right), less the
    header."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.lines = 0
        self._quoted = False

    def feed(self, chunk: bytes) -> None:
        if self.fmt != "csv":
            self.lines += chunk.count(b"\n")
            return
        pieces = chunk.split(b'"')
        for i, piece in enumerate(pieces):
            if not self._quoted:
                self.lines += piece.count(b"\n")
            if i < len(pieces) - 1:
                self._quoted = not self._quoted

    @property
    def records(self) -> int:
        return max(0, self.lines - 1) if self.fmt == "csv" else self.lines


def _check_file(entry: dict[str, Any], storage_conn_id: str | None) -> None:
    """The part on storage is still what its task wrote (same size and sha256), and holds the
    records its task reported. Streamed in 1 MiB chunks."""
    digest, size, counter = hashlib.sha256(), 0, _RecordCounter(entry["format"])
    try:
        with storage_path(entry["path"], conn_id=storage_conn_id, role="part").open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                counter.feed(chunk)
    except FileNotFoundError:
        raise ManifestError(f"the part {entry['path']} is missing") from None
    if (size, digest.hexdigest()) != (entry["bytes"], entry["sha256"]):
        raise ManifestError(
            f"the part {entry['path']} changed after its export: {size} bytes, sha256 "
            f"{digest.hexdigest()} (export: {entry['bytes']} bytes, {entry['sha256']})"
        )
    records = _parquet_rows(entry["path"], storage_conn_id) if entry["format"] == "parquet" else counter.records
    if records != entry["records"]:
        raise ManifestError(
            f"the part {entry['path']} holds {records} records; its export summary says {entry['records']}"
        )


def _parquet_rows(location: str, storage_conn_id: str | None) -> int:
    """The rows a Parquet part's footer counts (its row groups' sum)."""
    import pyarrow.parquet as pq  # a Parquet part was written with pyarrow: it is installed

    with storage_path(location, conn_id=storage_conn_id, role="part").open("rb") as handle:
        try:
            return int(pq.ParquetFile(handle).metadata.num_rows)
        except (OSError, ValueError) as exc:  # not Parquet (pyarrow's ArrowInvalid is a ValueError)
            raise ManifestError(f"the part {location} is not a readable Parquet file: {exc}") from None


def _check_places(path: Any, entries: list[dict[str, Any]], storage_conn_id: str | None) -> None:
    """The manifest is none of the parts (it would replace one), and no two parts are one file."""
    places: dict[tuple[str, str], str] = {}
    for entry in entries:
        key = location_key(storage_path(entry["path"], conn_id=storage_conn_id, role="part"))
        if key in places:
            raise ManifestError(f"the parts {places[key]} and {entry['path']} are one file")
        places[key] = entry["path"]
    if location_key(path) in places:
        raise ManifestError(
            f"the manifest {str(path)!r} would replace the part {places[location_key(path)]}; give it a name of its own"
        )


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
    written when a part is missing a field or has a count or digest that is not one, the parts
    leave a gap or overlap in ``[window_start, window_end)``, the destination is one of the parts,
    or (``verify``) a part file is missing or differs from its summary (size, sha256, records).
    The manifest lists the parts by start, each with its window, format, records, bytes, sha256.
    """
    window = Window(parse_moment(window_start, "window_start"), parse_moment(window_end, "window_end"))
    entries = sorted((_part_entry(i, p) for i, p in enumerate(parts)), key=lambda e: e["created_from"])
    if not entries:
        raise ManifestError("no parts to list: the mapped export produced no summaries")
    _check_tiling(entries, window)
    path = storage_path(destination, conn_id=storage_conn_id, role="manifest")
    _check_places(path, entries, storage_conn_id)
    if verify:
        for entry in entries:
            _check_file(entry, storage_conn_id)
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
