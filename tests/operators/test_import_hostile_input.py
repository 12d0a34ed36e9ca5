"""Hostile or careless import files: the bad row is rejected with its line, the run goes on.

* A line nested too deeply for the JSON parser (`[` x 100,000), one nested deeper than 32 levels,
  and a number too large for a float are malformed rows, not a RecursionError (or an infinity).
* A line longer than `max_line_bytes` is a malformed row with its number; the reader never holds
  it whole (its peak is bounded by the limit, not by the line; benchmarks/import_memory.py
  measures a 300 MB line).
* The input is read once (the kernel counts its opens), though it is checked whole before the
  first write.
* Natural keys compare as NFKC + lower case: `café` precomposed or decomposed (or full-width) is
  one key; `straße` and `strasse` are two.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import struct
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from airflow_provider_simplestore.utils.formats import RowError, read_rows
from tests.operator_support import context, listing


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=7, products=2, customers=1, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    return sb


def run(source: Path, resource: str = "products", **kwargs: Any) -> dict[str, Any]:
    operator = SimpleStoreImportOperator(
        task_id="import",
        resource=resource,
        source=str(source),
        max_error_ratio=kwargs.pop("max_error_ratio", 1.0),
        **kwargs,
    )
    return operator.execute(context())


def report(source: Path) -> dict[int, dict[str, Any]]:
    lines = Path(f"{source}.rejected.jsonl").read_text().splitlines()
    return {entry["line"]: entry for entry in map(json.loads, lines)}


def product(i: int) -> str:
    return json.dumps({"slug": f"hostile-{i}", "title": f"Hostile {i}"}) + "\n"


def slugs(sb: Any) -> set[str]:
    return {p["slug"] for p in listing(sb, "/v1/products")}


def nested(depth: int) -> str:
    return '{"slug": "deep", "title": "Deep", "x": ' + '{"a": ' * depth + "1" + "}" * depth + "}\n"


def test_json_nested_too_deeply_is_a_rejected_row_and_the_run_goes_on(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "deep.jsonl"
    source.write_text(
        product(1)
        + '{"slug": '
        + "[" * 100_000
        + "\n"
        + product(2)
        + nested(40)
        + product(3)
        + '{"slug": "huge", "title": "Huge", "basePrice": {"sellPrice": 1e400}}\n'
    )

    result = run(source)

    assert (result["created"], result["rejected"], result["rows"]) == (3, 3, 6)
    rejected = report(source)
    assert sorted(rejected) == [2, 4, 6]
    assert "nested deeper than 32 levels" in rejected[2]["reason"]
    assert "nested deeper than 32 levels" in rejected[4]["reason"]
    assert "out of range" in rejected[6]["reason"]
    assert len(rejected[2]["raw"]) == 4096 and "truncated" in rejected[2]
    assert {"hostile-1", "hostile-2", "hostile-3"} <= slugs(shop) and "deep" not in slugs(shop)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_line_over_max_line_bytes_is_rejected_with_its_number(shop: Any, tmp_path: Path, fmt: str) -> None:
    if fmt == "jsonl":
        rows = [product(1), json.dumps({"slug": "long", "title": "x" * 50_000}) + "\n", product(2)]
    else:
        rows = ["slug,title\n", "hostile-1,Hostile 1\n", "long," + "x" * 50_000 + "\n", "hostile-2,Hostile 2\n"]
    source = tmp_path / f"long.{fmt}"
    source.write_text("".join(rows))

    result = run(source, max_line_bytes=10_000)

    assert (result["created"], result["rejected"]) == (2, 1)
    [(line, entry)] = report(source).items()
    assert line == (2 if fmt == "jsonl" else 3)
    assert "over the limit of 10,000 (max_line_bytes)" in entry["reason"] and "50,0" in entry["reason"]
    assert 0 < len(entry["raw"]) <= 4096
    assert {"hostile-1", "hostile-2"} <= slugs(shop) and "long" not in slugs(shop)


def test_the_default_line_limit_is_one_mebibyte(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "default.jsonl"
    source.write_text(json.dumps({"slug": "big", "title": "x" * (1 << 20)}) + "\n" + product(1))
    result = run(source)
    assert (result["created"], result["rejected"]) == (1, 1)
    assert "over the limit of 1,048,576" in report(source)[1]["reason"]


def test_a_csv_header_over_the_limit_fails_before_any_write(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "header.csv"
    source.write_text("slug," + "t" * 20_000 + "\nhostile-1,x\n")
    with pytest.raises(Exception, match="line 1: the CSV header is 20,005 bytes long"):
        run(source, max_line_bytes=10_000)
    assert "hostile-1" not in slugs(shop)


class _LimitedReads(io.RawIOBase):
    """A binary stream of one huge line, generated as it is read (never in memory whole)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise AssertionError("the reader asked for everything at once")
        chunk = min(size, self.left)
        self.left -= chunk
        return b"x" * chunk if self.left or not chunk else b"x" * (chunk - 1) + b"\n"


def test_a_huge_line_is_never_held_whole() -> None:
    """Python's peak allocations while reading a 32 MiB line are bounded by the limit, not the line."""
    tracemalloc.start()
    try:
        rows = list(read_rows(_LimitedReads(32 << 20), "jsonl", max_line_bytes=64 << 10))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [(number, row)] = rows
    assert number == 1 and isinstance(row, RowError) and "33,554,431 bytes" in row.reason
    assert peak < 2 << 20, f"peak {peak:,} bytes for a 32 MiB line"


@contextlib.contextmanager
def counting_opens(path: Path) -> Iterator[list[int]]:
    """Counts how often `path` is opened meanwhile, as the kernel sees it (Linux inotify; each open
    is followed by a close, so no two events in a row are alike and none are merged)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, str(path).encode(), IN_OPEN | IN_CLOSE) < 0:
        pytest.skip(f"inotify is not available here (errno {ctypes.get_errno()})")
    opens: list[int] = []
    try:
        yield opens
        with contextlib.suppress(BlockingIOError):
            while data := os.read(fd, 1 << 16):
                offset = 0
                while offset < len(data):
                    _, mask, _, name_length = struct.unpack_from("iIII", data, offset)
                    offset += 16 + name_length
                    if mask & IN_OPEN:
                        opens.append(1)
    finally:
        os.close(fd)


IN_OPEN, IN_CLOSE = 0x20, 0x08 | 0x10  # IN_CLOSE_WRITE | IN_CLOSE_NOWRITE


@pytest.mark.parametrize("malformed", [0, 3])
def test_the_input_is_read_once(shop: Any, tmp_path: Path, malformed: int) -> None:
    """Checked whole before any write, yet opened once: the rows written are the rows checked
    (the former two passes read the file twice, three times to report mostly malformed input)."""
    source = tmp_path / "once.jsonl"
    source.write_text(product(1) + "not json\n" * malformed + product(2))

    with counting_opens(source) as opens:
        if malformed:
            with pytest.raises(Exception, match="3 of 5 rows are malformed"):
                run(source, max_error_ratio=0.5)
        else:
            assert run(source)["created"] == 2

    assert len(opens) == 1
    if malformed:
        assert sorted(report(source)) == [2, 3, 4]


def customer(email: str, first: str = "Ann") -> str:
    return json.dumps({"emailAddress": email, "firstName": first, "lastName": "Key"}, ensure_ascii=False) + "\n"


def emails(sb: Any) -> list[str]:
    return [c["emailAddress"] for c in listing(sb, "/v1/customers")]


def test_sharp_s_and_ss_are_two_natural_keys(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "sharp.jsonl"
    source.write_text(
        customer("straße@example.test") + customer("strasse@example.test") + customer("STRASSE@example.test")
    )

    result = run(source, resource="customers")

    assert (result["created"], result["rejected"]) == (2, 1)
    assert "line 2 has it already" in report(source)[3]["reason"]
    assert {"straße@example.test", "strasse@example.test"} <= set(emails(shop))


def test_one_word_in_any_unicode_form_is_one_natural_key(shop: Any, tmp_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "café@example.test")
    decomposed = unicodedata.normalize("NFD", composed)
    wide = "\uff43\uff41\uff46é@example.test"  # full-width c, a, f, as an IME may type them
    assert len({composed, decomposed, wide}) == 3
    source = tmp_path / "cafe.jsonl"
    source.write_text(customer(composed) + customer(decomposed) + customer(wide) + customer("CAFÉ@example.test"))

    result = run(source, resource="customers")

    assert (result["created"], result["rejected"]) == (1, 3)
    assert all("line 1 has it already" in entry["reason"] for entry in report(source).values())
    assert [e for e in emails(shop) if unicodedata.normalize("NFKC", e).lower() == composed] == [composed]

    # The next run, with the decomposed form and a new first name: the same customer, updated.
    again = tmp_path / "cafe-again.jsonl"
    again.write_text(customer(decomposed, first="Anna"))
    assert (run(again, resource="customers")["updated"], len(emails(shop))) == (1, len(emails(shop)))
    [found] = [c for c in listing(shop, "/v1/customers") if c["emailAddress"] == composed]
    assert found["firstName"] == "Anna"
