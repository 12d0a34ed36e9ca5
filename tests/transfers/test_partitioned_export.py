"""A partitioned export: the export operator over split windows, and the manifest of its parts.

Real exports against the sandbox into real files; the manifest checks what is on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.manifest import ManifestError, split_window, write_manifest
from tests.operator_support import context, listing, moment

UTC = dt.timezone.utc
DAY = (dt.datetime(2026, 3, 4, tzinfo=UTC), dt.datetime(2026, 3, 5, tzinfo=UTC))


def test_split_window_tiles_the_interval_edge_to_edge() -> None:
    windows = split_window(*DAY, 6)
    assert windows[0] == {"created_from": "2026-03-04T00:00:00Z", "created_to": "2026-03-04T04:00:00Z"}
    assert windows[-1]["created_to"] == "2026-03-05T00:00:00Z"
    assert all(a["created_to"] == b["created_from"] for a, b in pairwise(windows))
    # Uneven lengths: the bounds stay contiguous to the microsecond and the last one is the end.
    odd = split_window("2026-03-04T00:00:00Z", "2026-03-04T00:00:01Z", 3)
    assert [w["created_to"] for w in odd] == [
        "2026-03-04T00:00:00.333333Z",
        "2026-03-04T00:00:00.666667Z",
        "2026-03-04T00:00:01Z",
    ]


@pytest.mark.parametrize(
    ("start", "end", "parts", "message"),
    [
        (DAY[0], DAY[1], 0, "positive integer"),
        (DAY[0], DAY[1], True, "positive integer"),
        (DAY[1], DAY[0], 2, "empty or reversed"),
        (DAY[0], DAY[0] + dt.timedelta(microseconds=2), 3, "too short"),
        ("yesterday", DAY[1], 2, "not an ISO-8601"),
    ],
)
def test_split_window_refuses_bad_input(start: Any, end: Any, parts: Any, message: str) -> None:
    with pytest.raises(SimpleStoreConfigError, match=message):
        split_window(start, end, parts)


def busiest_day(orders: list[dict[str, Any]]) -> tuple[dt.datetime, dt.datetime]:
    counts: dict[str, int] = {}
    for order in orders:
        counts[order["createdOnUtc"][:10]] = counts.get(order["createdOnUtc"][:10], 0) + 1
    day = dt.datetime.fromisoformat(max(sorted(counts), key=lambda d: counts[d]) + "T00:00:00+00:00")
    return day, day + dt.timedelta(days=1)


def export_parts(
    folder: Path, start: dt.datetime, end: dt.datetime, parts: int, suffix: str = "jsonl"
) -> list[dict[str, Any]]:
    """What the mapped tasks do: one export per window, the window given as rendered strings."""
    summaries = []
    for index, window in enumerate(split_window(start, end, parts)):
        operator = SimpleStoreToObjectStorageOperator(
            task_id=f"part_{index}",
            resource="orders",
            destination=str(folder / f"part-{index:02d}.{suffix}"),
            created_from=window["created_from"],
            created_to=window["created_to"],
        )
        summaries.append(operator.execute(context()))
    return summaries


DayParts = tuple[list[dict[str, Any]], tuple[dt.datetime, dt.datetime]]  # the summaries, the day


@pytest.fixture
def day_parts(simplestore_conn: Any, tmp_path: Path) -> DayParts:
    day = busiest_day(listing(simplestore_conn, "/v1/orders"))
    return export_parts(tmp_path / "parts", *day, 4), day


def test_the_export_summary_names_its_window(day_parts: DayParts) -> None:
    summaries, day = day_parts
    assert [{"created_from": s["created_from"], "created_to": s["created_to"]} for s in summaries] == split_window(
        *day, 4
    )


def test_manifest_lists_every_part_and_each_order_once(
    simplestore_conn: Any, day_parts: DayParts, tmp_path: Path
) -> None:
    summaries, day = day_parts
    target = tmp_path / "parts" / "manifest.json"
    # In the order XCom may hand them over, not by window.
    result = write_manifest(str(target), summaries[::-1], window_start=day[0], window_end=day[1])

    manifest = json.loads(target.read_text())
    orders = listing(simplestore_conn, "/v1/orders")
    expected = {o["orderId"] for o in orders if day[0] <= moment(o["createdOnUtc"]) < day[1]}
    seen: list[str] = []
    for entry, window in zip(manifest["parts"], split_window(*day, 4), strict=True):
        data = Path(entry["path"].removeprefix("file://")).read_bytes()
        assert (entry["created_from"], entry["created_to"]) == (window["created_from"], window["created_to"])
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
        orders = [json.loads(line) for line in data.decode().splitlines()]
        assert entry["records"] == len(orders)
        assert all(window["created_from"] <= o["createdOnUtc"] < window["created_to"] for o in orders)
        seen += [o["orderId"] for o in orders]
    assert sorted(seen) == sorted(expected) and len(expected) > 4
    assert manifest["records"] == result["records"] == len(expected)
    assert (manifest["created_from"], manifest["created_to"], manifest["resource"]) == (
        day[0].isoformat().replace("+00:00", "Z"),
        day[1].isoformat().replace("+00:00", "Z"),
        "orders",
    )
    assert result == {
        "destination": f"file://{target}",
        "parts": 4,
        "records": len(expected),
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
    }


def _shifted(summary: dict[str, Any], hours: int) -> dict[str, Any]:
    start = moment(summary["created_from"]) + dt.timedelta(hours=hours)
    return {**summary, "created_from": start.isoformat()}


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda s: s[:-1], "the parts end at"),  # the last window is missing
        (lambda s: s[1:], "a gap before"),  # the first one is
        (lambda s: [s[0], _shifted(s[1], 1), *s[2:]], "a gap before"),
        (lambda s: [s[0], _shifted(s[1], -1), *s[2:]], "an overlap before"),
        (lambda s: [s[0], s[0], *s[1:]], "an overlap before"),  # a part listed twice
        (lambda s: [{k: v for k, v in s[0].items() if k != "created_to"}, *s[1:]], "lacks created_to"),
        (lambda s: [], "no parts"),
    ],
)
def test_parts_that_are_not_one_whole_export_write_no_manifest(
    day_parts: Any, tmp_path: Path, tamper: Any, message: str
) -> None:
    summaries, day = day_parts
    target = tmp_path / "manifest.json"
    with pytest.raises(ManifestError, match=message):
        write_manifest(str(target), tamper(summaries), window_start=day[0], window_end=day[1])
    assert list(tmp_path.glob("*manifest*")) == [] and list(tmp_path.glob(".*")) == []


def test_a_part_changed_or_missing_on_storage_writes_no_manifest(day_parts: Any, tmp_path: Path) -> None:
    summaries, day = day_parts
    target = tmp_path / "manifest.json"
    first = Path(summaries[0]["destination"].removeprefix("file://"))
    first.write_bytes(first.read_bytes() + b"{}\n")
    with pytest.raises(ManifestError, match="changed after its export"):
        write_manifest(str(target), summaries, window_start=day[0], window_end=day[1])
    first.unlink()
    with pytest.raises(ManifestError, match="is missing"):
        write_manifest(str(target), summaries, window_start=day[0], window_end=day[1])
    assert not target.exists()
    # Without verification the summaries alone make the manifest (e.g. a store too large to re-read).
    assert write_manifest(str(target), summaries, window_start=day[0], window_end=day[1], verify=False)["parts"] == 4


def test_a_part_changed_in_place_with_its_size_kept_writes_no_manifest(day_parts: Any, tmp_path: Path) -> None:
    summaries, day = day_parts
    target = tmp_path / "manifest.json"
    index = next(i for i, s in enumerate(summaries) if s["records"] > 0)
    first = Path(summaries[index]["destination"].removeprefix("file://"))
    data = first.read_bytes()
    at = data.index(b'"orderId":') + len(b'"orderId":')
    changed = data[:at] + (b"8" if data[at : at + 1] != b"8" else b"9") + data[at + 1 :]  # one byte, same length
    first.write_bytes(changed)
    assert len(changed) == summaries[index]["bytes"]
    with pytest.raises(ManifestError, match="changed after its export"):
        write_manifest(str(target), summaries, window_start=day[0], window_end=day[1])
    assert not target.exists()


def _with(summary: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**summary, **fields}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("records", -1, "records must be a non-negative integer, got -1"),
        ("records", "five", "records must be a non-negative integer, got 'five'"),
        ("records", "5", "records must be a non-negative integer"),
        ("records", 2.5, "records must be a non-negative integer"),
        ("records", True, "records must be a non-negative integer"),
        ("records", 10**9, "cannot fit in"),
        ("bytes", -3, "bytes must be a non-negative integer"),
        ("bytes", [1], "bytes must be a non-negative integer"),
        ("sha256", "abc", "sha256 must be 64 lowercase hex digits"),
        ("format", "xlsx", "unknown format 'xlsx'"),
    ],
)
@pytest.mark.parametrize("verify", [True, False])
def test_counts_and_digests_from_xcom_are_checked(
    day_parts: Any, tmp_path: Path, field: str, value: Any, message: str, verify: bool
) -> None:
    summaries, day = day_parts
    target = tmp_path / "manifest.json"
    tampered = [_with(summaries[0], **{field: value}), *summaries[1:]]
    with pytest.raises(ManifestError, match=message) as info:
        write_manifest(str(target), tampered, window_start=day[0], window_end=day[1], verify=verify)
    assert "part 0 (" in str(info.value)  # names the part
    assert not target.exists()


@pytest.mark.parametrize("delta", [1000, 1, -1])
def test_a_record_count_that_is_not_the_parts_is_refused(day_parts: Any, tmp_path: Path, delta: int) -> None:
    summaries, day = day_parts
    target = tmp_path / "manifest.json"
    part = next(s for s in summaries if s["records"] > 1)
    tampered = [_with(s, records=s["records"] + delta) if s is part else s for s in summaries]
    with pytest.raises(ManifestError, match=f"holds {part['records']} records; its export summary says"):
        write_manifest(str(target), tampered, window_start=day[0], window_end=day[1])
    assert not target.exists()


def test_csv_parts_are_counted_by_record_not_by_line(simplestore_conn: Any, tmp_path: Path) -> None:
    day = busiest_day(listing(simplestore_conn, "/v1/orders"))
    summaries = export_parts(tmp_path / "parts", *day, 2, suffix="csv")
    assert all(s["format"] == "csv" for s in summaries) and sum(s["records"] for s in summaries) > 2
    # A hand-written part whose cells hold newlines and escaped quotes: two records on five lines.
    extra = tmp_path / "parts" / "extra.csv"
    extra.write_bytes(b'orderId,note\n1,"two\nlines"\n2,"say ""hi""\nand\n"\n')
    data = extra.read_bytes()
    hand_made = {
        "destination": f"file://{extra}",
        "records": 2,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_from": summaries[-1]["created_to"],
        "created_to": "2100-01-01T00:00:00Z",
    }
    end = dt.datetime(2100, 1, 1, tzinfo=UTC)
    result = write_manifest(
        str(tmp_path / "manifest.json"), [*summaries, hand_made], window_start=day[0], window_end=end
    )
    assert result["records"] == sum(s["records"] for s in summaries) + 2
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [p["format"] for p in manifest["parts"]] == ["csv", "csv", "csv"]


def test_parquet_parts_are_counted_from_their_footer(simplestore_conn: Any, tmp_path: Path) -> None:
    day = busiest_day(listing(simplestore_conn, "/v1/orders"))
    summaries = export_parts(tmp_path / "parts", *day, 3, suffix="parquet")
    assert all(s["format"] == "parquet" for s in summaries) and sum(s["records"] for s in summaries) > 2
    result = write_manifest(str(tmp_path / "manifest.json"), summaries, window_start=day[0], window_end=day[1])
    assert result["records"] == sum(s["records"] for s in summaries)
    part = next(s for s in summaries if s["records"])
    tampered = [_with(s, records=s["records"] + 1) if s is part else s for s in summaries]
    with pytest.raises(ManifestError, match=f"holds {part['records']} records; its export summary says"):
        write_manifest(str(tmp_path / "other.json"), tampered, window_start=day[0], window_end=day[1])


def test_the_manifest_may_not_replace_a_part(day_parts: Any, tmp_path: Path) -> None:
    summaries, day = day_parts
    part = Path(summaries[1]["destination"].removeprefix("file://"))
    before = part.read_bytes()
    (tmp_path / "link").symlink_to(tmp_path / "parts")
    for destination in (
        str(part),
        f"file://{part}",
        f"file://{tmp_path}/parts/x/../{part.name}",
        str(tmp_path / "link" / part.name),
    ):
        for verify in (True, False):
            with pytest.raises(ManifestError, match=f"would replace the part .*{part.name}"):
                write_manifest(destination, summaries, window_start=day[0], window_end=day[1], verify=verify)
    assert part.read_bytes() == before


def test_two_parts_that_are_one_file_are_refused(day_parts: Any, tmp_path: Path) -> None:
    summaries, day = day_parts
    # Two empty windows written to one file would both match it: each window must have a file of its own.
    aliased = [summaries[0], _with(summaries[1], destination=summaries[0]["destination"]), *summaries[2:]]
    with pytest.raises(ManifestError, match="are one file"):
        write_manifest(str(tmp_path / "manifest.json"), aliased, window_start=day[0], window_end=day[1], verify=False)
    assert not (tmp_path / "manifest.json").exists()


def test_a_mapped_export_declares_its_alias_once() -> None:
    """`.partial()` runs no __init__: the DAG declares the alias in outlets, and __init__ must not add it again."""
    from airflow_provider_simplestore.compat import AssetAlias

    operator = SimpleStoreToObjectStorageOperator(
        task_id="part",
        resource="orders",
        destination="file:///tmp/{{ ds }}/part.jsonl",
        asset_alias="parts",
        outlets=[AssetAlias("parts")],
    )
    assert operator.outlets == [AssetAlias("parts")] and operator.asset_alias == "parts"
