"""Record <-> file formats for exports and imports: JSON Lines and CSV.

Writing: an encoder turns one API record into the bytes of one line (CSV columns are a fixed,
documented list per resource, so the header is known before the first page arrives and is the
same whatever the data; nested objects are flattened with dots, lists and free-form dictionaries
are written as JSON strings).

Reading: ``read_rows`` yields ``(line_number, row)`` or ``(line_number, RowError)`` for every data
line of a JSON Lines or CSV file, with nested JSON objects flattened to the same dotted names as
CSV headers, so one field table validates both formats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

FORMATS = ("jsonl", "csv")

# CSV columns per resource: the documented object fields (docs/simplestore-api), dotted for nested
# objects. Dictionaries keyed by data (locales, attributes) and lists stay whole as JSON strings.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": (
        "productId", "version", "slug", "title", "description", "isActive", "status", "paymentMethod",
        "shortUrl", "basePrice.currencyCode", "basePrice.sellPrice", "basePrice.retailPrice",
        "basePrice.attributes", "price.currencyCode", "price.sellPrice", "price.retailPrice", "price.attributes",
        "baseRewards.isEnabled", "baseRewards.points", "baseRewards.minPayAmount", "baseRewards.minPointsAmount",
        "rewards.isEnabled", "rewards.points", "rewards.minPayAmount", "rewards.minPointsAmount",
        "inventory.sku", "inventory.availableQuantity", "inventory.minActiveQuantity",
        "inventory.trackInventory", "inventory.grossWeight", "categories", "collections", "files",
        "titles", "descriptions", "attributes",
    ),
    "categories": (
        "categoryId", "version", "slug", "name", "description", "parentId", "parentName", "isActive",
        "itemCount", "totalChildren", "children", "totalSibling", "sibling", "names", "descriptions", "files",
        "attributes",
    ),
    "collections": (
        "collectionId", "version", "slug", "name", "description", "isActive", "totalItems", "names",
        "descriptions", "attributes",
    ),
    "specials": (
        "specialId", "version", "name", "description", "isActive", "startOnUtc", "endOnUtc", "specialType",
        "amount", "rules", "attributes",
    ),
    "customers": (
        "customerId", "version", "emailAddress", "firstName", "lastName", "displayName", "phones",
        "addresses", "attributes",
    ),
    "orders": (
        "orderId", "version", "status", "createdOnUtc", "customerId", "currencyCode", "subtotal",
        "shippingFee", "total", "totalPaid", "purchaserName", "purchaserEmail", "purchaserContactNumberLocal",
        "receiverName", "receiverEmail", "receiverContactNumberLocal", "items", "payments", "attributes",
    ),
    "baskets": (
        "basketId", "version", "status", "customerId", "orderId", "currencyCode", "shippingFee",
        "subTotalCurrency", "totalCurrency", "totalPoints", "items", "attributes",
    ),
    "folders": ("folderId", "version", "name", "parentId", "attributes"),
}  # fmt: skip


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept readable; NaN/Infinity refused (not JSON)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def lookup(record: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of nested objects, or None where any step is missing."""
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


# A text cell starting with one of these is run as a formula by spreadsheets (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any, *, neutralise_formulas: bool = True) -> str:
    """One CSV cell: empty for null, true/false, JSON numbers, JSON text for objects and lists.

    Text that a spreadsheet would run as a formula gets a leading ``'`` (the OWASP rule), unless
    `neutralise_formulas` is off; numbers (even negative ones) are data, never prefixed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if neutralise_formulas and value.startswith(FORMULA_STARTS) else value
    return dumps(value)


class JsonlEncoder:
    """One JSON object per line, keys as the API sent them."""

    format = "jsonl"

    def header(self) -> bytes:
        return b""

    def encode(self, record: Mapping[str, Any]) -> bytes:
        return (dumps(record) + "\n").encode()


class CsvEncoder:
    """RFC 4180 quoting, ``\\n`` line ends, a fixed header; fields outside it are counted as dropped."""

    format = "csv"

    def __init__(self, columns: Iterable[str], *, neutralise_formulas: bool = True) -> None:
        self.columns = tuple(columns)
        self.neutralise_formulas = neutralise_formulas
        if not self.columns:
            raise ValueError("CSV needs at least one column")
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        # With "\n" line ends csv leaves a bare "\r" unquoted, and readers split the row there.
        self._quoting_writer = csv.writer(self._buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self._columns = set(self.columns)
        self._parents = {c.rsplit(".", i)[0] for c in self.columns for i in range(1, c.count(".") + 1)}
        self._seen: set[str] = set()
        self.dropped: set[str] = set()

    def _line(self, cells: Iterable[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        row = list(cells)
        (self._quoting_writer if any("\r" in text for text in row) else self._writer).writerow(row)
        return self._buffer.getvalue().encode()

    def _covered(self, name: str) -> bool:
        """A column, an object holding columns, or something inside an object kept whole."""
        if name in self._columns or name in self._parents:
            return True
        parts = name.split(".")
        return any(".".join(parts[:i]) in self._columns for i in range(1, len(parts)))

    def header(self) -> bytes:
        return self._line(self.columns)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        for name in flatten(record):
            if name not in self._seen:
                self._seen.add(name)
                if not self._covered(name):
                    self.dropped.add(name)
        return self._line(cell(lookup(record, column), neutralise_formulas=self.neutralise_formulas)
                          for column in self.columns)


def encoder_for(
    fmt: str, resource: str, columns: Iterable[str] | None = None, *, neutralise_formulas: bool = True
) -> JsonlEncoder | CsvEncoder:
    if fmt == "jsonl":
        return JsonlEncoder()
    if fmt == "csv":
        return CsvEncoder(columns if columns is not None else CSV_COLUMNS[resource],
                          neutralise_formulas=neutralise_formulas)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_from_name(name: str) -> str | None:
    """The format a file name implies (``.jsonl``/``.ndjson``/``.json`` or ``.csv``), else None."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return None


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A data line that could not be read as a row; the reason names what is wrong."""

    reason: str
    raw: str | None = None  # the line as read, when it could not be parsed
    row: dict[str, Any] | None = None  # the parsed row, when its values were refused


class InputFormatError(ValueError):
    """The input as a whole cannot be read (encoding, header): no row of it is trustworthy."""


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects to dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``); lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys back to nested objects (``{"a.b": 1}`` -> ``{"a": {"b": 1}}``)."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        target = nested
        *parents, leaf = name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return nested


def _text_lines(binary: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Decoded lines with 1-based numbers; a UTF-8 BOM is ignored."""
    # readline, not `for raw in binary`: Airflow 2.11 hands out opened files in a proxy that
    # forwards methods but cannot be iterated.
    for number, raw in enumerate(iter(binary.readline, b""), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_jsonl(binary: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for number, text in _text_lines(binary):
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            yield number, RowError(f"invalid JSON: {exc}", text.rstrip("\r\n"))
            continue
        if not isinstance(value, dict):
            yield number, RowError(f"expected a JSON object, got {type(value).__name__}", text.rstrip("\r\n"))
            continue
        yield number, flatten(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_csv(
    binary: IO[bytes], on_header: Callable[[list[str]], None] | None = None
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows keyed by the header; blank cells are left out (CSV cannot tell empty from unset).

    ``on_header`` sees the header before the first row, so a caller can refuse the file early.
    """
    lines = _text_lines(binary)
    physical = iter(text for _, text in lines)
    reader = csv.reader(physical, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputFormatError(f"line 1: unreadable CSV header: {exc}") from None
    header = [name.strip() for name in header]
    if not header or any(not name for name in header):
        raise InputFormatError("line 1: the CSV header has an empty column name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InputFormatError(f"line 1: duplicate CSV columns: {', '.join(duplicates)}")
    if on_header is not None:
        on_header(header)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(f"unreadable CSV: {exc}")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield start, RowError(f"expected {len(header)} fields, got {len(cells)}", _csv_raw(cells))
            continue
        yield start, {name: value for name, value in zip(header, cells, strict=True) if value.strip() != ""}


def _csv_raw(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def read_rows(
    binary: IO[bytes], fmt: str, on_header: Callable[[list[str]], None] | None = None
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    if fmt == "jsonl":
        return read_jsonl(binary)
    if fmt == "csv":
        return read_csv(binary, on_header)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
