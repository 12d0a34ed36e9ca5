"""Formats, atomic storage writes and progress lines: the pieces the sync operators stand on."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import (
    CSV_COLUMNS,
    CsvEncoder,
    InputFormatError,
    JsonlEncoder,
    RowError,
    flatten,
    format_from_name,
    read_rows,
    unflatten,
)
from airflow_provider_simplestore.utils.progress import Progress
from airflow_provider_simplestore.utils.source import SYNC_RESOURCES, run_window
from airflow_provider_simplestore.utils.storage import StorageError, atomic_write, storage_path

PRODUCT = {
    "productId": "p-1",
    "slug": "blue-mug",
    "title": 'Mug, "blue"\nlarge',
    "isActive": True,
    "titles": {"ja-JP": "マグ"},
    "basePrice": {"currencyCode": "AUD", "sellPrice": 12.5, "retailPrice": None, "attributes": {"x": 1}},
    "inventory": {"sku": "SKU-1", "availableQuantity": 3},
    "categories": [{"key": "c1", "value": "Kitchen", "slug": "kitchen"}],
    "brandNew": {"field": 1},
}


def test_csv_header_is_fixed_per_resource_and_cells_are_flattened() -> None:
    assert set(CSV_COLUMNS) == set(SYNC_RESOURCES)
    encoder = CsvEncoder(CSV_COLUMNS["products"])
    text = (encoder.header() + encoder.encode(PRODUCT) + encoder.encode({"productId": "p-2"})).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS["products"])
    first = rows[0]
    assert first["title"] == 'Mug, "blue"\nlarge'  # quoting survives commas, quotes and newlines
    assert first["isActive"] == "true"
    assert first["basePrice.sellPrice"] == "12.5"
    assert first["basePrice.retailPrice"] == ""
    assert first["inventory.sku"] == "SKU-1"
    assert json.loads(first["titles"]) == {"ja-JP": "マグ"}
    assert json.loads(first["categories"]) == PRODUCT["categories"]
    assert rows[1]["productId"] == "p-2" and rows[1]["slug"] == ""
    # Fields outside the columns are reported, those inside whole-kept objects are not.
    assert encoder.dropped == {"brandNew.field"}


def test_jsonl_keeps_every_field() -> None:
    line = JsonlEncoder().encode(PRODUCT)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == PRODUCT


def test_flatten_and_unflatten_round_trip() -> None:
    flat = flatten({"basePrice": {"sellPrice": 1, "currencyCode": "AUD"}, "slug": "a", "tags": [1]})
    assert flat == {"basePrice.sellPrice": 1, "basePrice.currencyCode": "AUD", "slug": "a", "tags": [1]}
    assert unflatten(flat) == {"basePrice": {"sellPrice": 1, "currencyCode": "AUD"}, "slug": "a", "tags": [1]}


def test_format_from_name() -> None:
    assert format_from_name("a.JSONL") == "jsonl"
    assert format_from_name("a.ndjson") == "jsonl"
    assert format_from_name("a.csv") == "csv"
    assert format_from_name("a.Parquet") == "parquet"
    assert format_from_name("a.xlsx") is None


def test_reading_csv_reports_bad_rows_with_their_line_numbers() -> None:
    data = b'\xef\xbb\xbfslug,basePrice.sellPrice\na,1.5\n\n"b ""q""","multi\nline"\nc\nd,2,extra\ne,\n'
    rows = list(read_rows(io.BytesIO(data), "csv"))
    assert rows == [
        (2, {"slug": "a", "basePrice.sellPrice": "1.5"}),
        (4, {"slug": 'b "q"', "basePrice.sellPrice": "multi\nline"}),
        (6, RowError("expected 2 fields, got 1", "c")),
        (7, RowError("expected 2 fields, got 3", "d,2,extra")),
        (8, {"slug": "e"}),  # a blank cell is left out: "do not change"
    ]


def test_reading_csv_refuses_a_bad_header_before_any_row() -> None:
    seen: list[list[str]] = []
    rows = read_rows(io.BytesIO(b"slug,slug\na,b\n"), "csv", seen.append)
    with pytest.raises(InputFormatError, match="line 1: duplicate CSV columns: slug"):
        next(rows)
    assert seen == []


def test_reading_jsonl_reports_bad_lines_and_refuses_non_utf8() -> None:
    data = b'{"slug": "a", "basePrice": {"sellPrice": 2}}\n\n[1, 2]\n{oops\n{"x": NaN}\n'
    rows = list(read_rows(io.BytesIO(data), "jsonl"))
    assert rows[0] == (1, {"slug": "a", "basePrice.sellPrice": 2})
    assert [(n, type(r).__name__) for n, r in rows[1:]] == [(3, "RowError"), (4, "RowError"), (5, "RowError")]
    assert "expected a JSON object, got list" in rows[1][1].reason  # type: ignore[union-attr]
    assert "invalid JSON" in rows[2][1].reason  # type: ignore[union-attr]
    with pytest.raises(InputFormatError, match="line 2: not UTF-8"):
        list(read_rows(io.BytesIO(b'{"a": 1}\n{"b": "\xff"}\n'), "jsonl"))


def test_storage_path_checks_the_scheme_before_anything_else(tmp_path: Path) -> None:
    assert storage_path(f"{tmp_path}/a.csv", role="destination").protocol in ("file", "local")
    with pytest.raises(StorageError, match=r"no filesystem is installed for scheme 'nosuchfs'"):
        storage_path("nosuchfs://bucket/a.csv", role="destination")
    with pytest.raises(StorageError, match=r"scheme 'gs'.*apache-airflow-providers-google"):  # s3: the deploy group
        storage_path("gs://bucket/orders/a.jsonl", role="destination")
    with pytest.raises(StorageError, match="give a URL"):
        storage_path("relative/a.csv", role="destination")
    with pytest.raises(StorageError, match="names a directory"):
        storage_path(f"file://{tmp_path}/", role="destination")


def test_atomic_write_publishes_only_complete_files(tmp_path: Path) -> None:
    target = storage_path(f"file://{tmp_path}/out/data.jsonl", role="destination")
    with atomic_write(target) as out:
        out.write(b"one\n")
        assert [p.name[:12] for p in (tmp_path / "out").iterdir()] == [".data.jsonl."]  # only the temporary
        out.write(b"two\n")
    assert (tmp_path / "out/data.jsonl").read_bytes() == b"one\ntwo\n"
    assert out.bytes == 8
    with atomic_write(target) as out:  # a complete new version replaces the old one
        out.write(b"one\n")
    assert (tmp_path / "out/data.jsonl").read_bytes() == b"one\n"
    with atomic_write(target) as out:
        out.write(b"one\ntwo\n")
    assert out.sha256 == hashlib.sha256(b"one\ntwo\n").hexdigest()

    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as out:
        out.write(b"partial\n")
        raise RuntimeError("boom")
    # The previous file is untouched and no temporary file is left behind.
    assert (tmp_path / "out/data.jsonl").read_bytes() == b"one\ntwo\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["data.jsonl"]


def test_progress_lines_have_rate_and_eta() -> None:
    now = [100.0]
    lines: list[str] = []

    class Log:
        def info(self, event: str, *args: object) -> None:
            lines.append(event % args)

        def warning(self, event: str, *args: object) -> None:
            lines.append(event % args)

    progress = Progress(Log(), "orders", interval=10, clock=lambda: now[0])
    progress.page(100, total=1000, total_pages=10)
    assert lines == []  # not yet 10 s
    now[0] = 110.0
    progress.page(100)
    assert lines == ["orders: 2/10 pages, 200/1000 records, 20 records/s, ETA 40s"]
    now[0] = 150.0
    progress.finish()
    assert lines[-1] == "orders: done, 2 pages, 200 records in 50s (4 records/s)"


def test_run_window_from_the_data_interval_or_the_bounds() -> None:
    window = run_window({"data_interval_start": "2026-01-01T00:00:00Z", "data_interval_end": "2026-01-01T00:00:00Z"})
    assert window.empty and str(window) == "[2026-01-01T00:00:00Z, 2026-01-01T00:00:00Z)"
    with pytest.raises(SimpleStoreConfigError, match="created_from is after created_to"):
        run_window({}, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")
