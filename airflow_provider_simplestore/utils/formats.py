"""Record <-> file formats for exports and imports: JSON Lines and CSV (and, for exports, Parquet:
utils/parquet.py, whose encoder has the same shape).

Writing: an encoder turns one API record into the bytes of one line (CSV columns are a fixed,
documented list per resource, so the header is known before the first page arrives and is the
same whatever the data; nested objects are flattened with dots, lists and free-form dictionaries
are written as JSON strings).

Reading: ``read_rows`` yields ``(line_number, row)`` or ``(line_number, RowError)`` for every data
line of a JSON Lines or CSV file, with nested JSON objects flattened to the same dotted names as
CSV headers, so one field table validates both formats. The input is read in chunks: a line over
``max_line_bytes`` is a RowError and is never held whole, and so is JSON nested deeper than
``MAX_NESTING`` levels.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_simplestore.utils.parquet import ParquetEncoder

FORMATS = ("jsonl", "csv")  # read and written, a record per line
EXPORT_FORMATS = (*FORMATS, "parquet")  # written by the export; Parquet's encoder is utils/parquet.py
MAX_LINE_BYTES = 1 << 20  # the longest input line read (bytes, its line end not counted): max_line_bytes
LONG_LINE_KEPT_BYTES = 4096  # of a longer line, what is kept for the rejects report
READ_CHUNK_BYTES = 1 << 16
MAX_NESTING = 32  # deepest JSON nesting of one input row (importable fields are two levels deep)

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


# One encoder for every call: `json.dumps` with options builds a new JSONEncoder each time, about a
# tenth of the cost of encoding an order. Same output: `json.dumps` is this `encode`.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept readable; NaN/Infinity refused (not JSON)."""
    return _COMPACT.encode(value)


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


# msgspec writes JSON Lines about nine times faster than `dumps` and, for the values JSON decoding
# gives, the same bytes, except floats: it spells exponents its own way (1e16 for 1e+16, 0.00001 for 1e-05) and
# writes NaN and infinities as null where `dumps` refuses them. Both print every other float as
# repr() does: zero, and 1e-4 <= |x| < 1e16, where repr uses no exponent.
_SCALARS = frozenset({str, int, bool, type(None)})
_STR_ONLY = frozenset({str})
# Written by both ways at first use: a msgspec that prints any of them differently is not used.
_CANARIES = [
    {
        "id": 'a"\\/\x00\x1f\x7f\u00e9\u2028\U0001f600',
        "n": [0, -1, 2**70, True, False, None],
        "x": [0.0, -0.0, 1e-4, 0.1, 2.5, -433.2, 0.30000000000000004, 123456.789, 9999999999999998.0],
    },
    {},
]


def _dumps_lines(records: list[Any]) -> bytes:
    return b"".join([(dumps(record) + "\n").encode() for record in records])


@functools.cache
def _msgspec_writes_as_dumps() -> bool:
    """Whether msgspec is installed (Airflow 3 requires it) and writes the canaries as `dumps` does."""
    try:
        import msgspec
    except ImportError:
        return False
    return msgspec.json.Encoder().encode_lines(_CANARIES) == _dumps_lines(_CANARIES)


def _msgspec_safe(records: list[Any]) -> bool:
    """Whether msgspec writes `records` as `dumps` does: only dicts with str keys, lists, str, int, bool,
    None and floats in repr's plain range, nested at most MAX_NESTING deep (so a cycle is not followed
    forever). One pass per level of nesting; keys are checked a level at a time (they are almost
    always str: JSON gives nothing else)."""
    level = records
    for _ in range(MAX_NESTING + 1):
        if not level:
            return True
        below: list[Any] = []
        keys: list[Any] = []
        extend = below.extend
        for value in level:
            kind = type(value)
            if kind is str:  # the most common value: skip the tests below
                continue
            if kind is dict:
                keys.extend(value)
                extend(value.values())
            elif kind is list:
                extend(value)
            elif kind is float:
                if not (value == 0.0 or 1e-4 <= abs(value) < 1e16):  # NaN fails both tests
                    return False
            elif kind not in _SCALARS:
                return False
        if keys and set(map(type, keys)) != _STR_ONLY:  # msgspec writes some others unlike `dumps`
            return False
        level = below
    return False


class JsonlEncoder:
    """One JSON object per line, keys as the API sent them."""

    format = "jsonl"

    def __init__(self) -> None:
        self._msgspec_lines: Callable[[list[Any]], bytes] | None = None
        if _msgspec_writes_as_dumps():
            import msgspec

            self._msgspec_lines = msgspec.json.Encoder().encode_lines

    def header(self) -> bytes:
        return b""

    def encode(self, record: Mapping[str, Any]) -> bytes:
        return (dumps(record) + "\n").encode()

    def encode_all(self, records: list[Any]) -> bytes:
        """The lines of `records`, byte for byte those of `encode`: through msgspec where it writes
        the same bytes, else (and on any msgspec error, so that errors stay `dumps`'s) through `dumps`."""
        if self._msgspec_lines is not None and _msgspec_safe(records):
            try:
                return self._msgspec_lines(records)
            except Exception:  # `dumps` below raises its own error for these records, as before
                pass
        return _dumps_lines(records)

    def footer(self) -> bytes:
        return b""


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
        return self._line(
            cell(lookup(record, column), neutralise_formulas=self.neutralise_formulas) for column in self.columns
        )

    def encode_all(self, records: list[Any]) -> bytes:
        return b"".join([self.encode(record) for record in records])

    def footer(self) -> bytes:
        return b""


def encoder_for(
    fmt: str, resource: str, columns: Iterable[str] | None = None, *, neutralise_formulas: bool = True
) -> JsonlEncoder | CsvEncoder | ParquetEncoder:
    if fmt == "jsonl":
        return JsonlEncoder()
    if fmt == "csv":
        return CsvEncoder(
            columns if columns is not None else CSV_COLUMNS[resource], neutralise_formulas=neutralise_formulas
        )
    if fmt == "parquet":
        from airflow_provider_simplestore.utils.parquet import ParquetEncoder  # imports pyarrow: only now

        return ParquetEncoder(resource)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def format_from_name(name: str) -> str | None:
    """The format a file name implies (``.jsonl``/``.ndjson``/``.json``, ``.csv`` or ``.parquet``), else None."""
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(".parquet"):
        return "parquet"
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


@dataclass(frozen=True)
class LongLine:
    """A line over the size limit, never held whole: its length and the start of it (decoded)."""

    size: int  # bytes, without the line end
    head: str


def _line(kept: bytes | bytearray, size: int, ended: bool, limit: int) -> bytes | LongLine:
    length = size - ended
    if length <= limit:
        return bytes(kept)
    return LongLine(length, bytes(kept[:LONG_LINE_KEPT_BYTES]).decode("utf-8", "replace").rstrip("\r\n"))


def _raw_lines(binary: IO[bytes], limit: int) -> Iterator[bytes | LongLine]:
    """The input's lines (with their line end), read in chunks; a line longer than `limit` bytes
    comes as a LongLine, of which only the first LONG_LINE_KEPT_BYTES are ever held."""
    kept, size = bytearray(), 0
    # read(), not readline(size): object-store files (fsspec) take no size there, and Airflow 2.11
    # hands out opened files in a proxy that forwards methods but cannot be iterated.
    while chunk := binary.read(READ_CHUNK_BYTES):
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            stop = len(chunk) if end == -1 else end + 1
            piece = chunk[start:stop]
            size += len(piece)
            if size <= limit + 1:  # the line and its b"\n"
                kept += piece
            else:
                del kept[LONG_LINE_KEPT_BYTES:]
                kept += piece[: LONG_LINE_KEPT_BYTES - len(kept)]
            start = stop
            if end != -1:
                yield _line(kept, size, True, limit)
                kept, size = bytearray(), 0
    if size:
        yield _line(kept, size, False, limit)


def _text_lines(binary: IO[bytes], limit: int) -> Iterator[tuple[int, str | LongLine]]:
    """Decoded lines with 1-based numbers (a line over `limit` bytes as a LongLine); a UTF-8 BOM is ignored."""
    for number, raw in enumerate(_raw_lines(binary, limit), start=1):
        if isinstance(raw, LongLine):
            yield number, raw
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _long_line_error(line: LongLine, limit: int) -> RowError:
    return RowError(f"line of {line.size:,} bytes, over the limit of {limit:,} (max_line_bytes); not read", line.head)


def _too_deep(value: Any) -> bool:
    """Whether JSON `value` nests deeper than MAX_NESTING levels (counted without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def read_jsonl(
    binary: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    too_deep = f"JSON nested deeper than {MAX_NESTING} levels"
    for number, text in _text_lines(binary, max_line_bytes):
        if isinstance(text, LongLine):
            yield number, _long_line_error(text, max_line_bytes)
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:  # the parser's own limit (about 1,000 levels): far past ours
            yield number, RowError(too_deep, text.rstrip("\r\n"))
            continue
        except ValueError as exc:
            yield number, RowError(f"invalid JSON: {exc}", text.rstrip("\r\n"))
            continue
        if not isinstance(value, dict):
            yield number, RowError(f"expected a JSON object, got {type(value).__name__}", text.rstrip("\r\n"))
            continue
        if _too_deep(value):
            yield number, RowError(too_deep, text.rstrip("\r\n"))
            continue
        yield number, flatten(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float; one too large for it (1e400) is refused, not read as infinity."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


class _LineTooLong(Exception):
    def __init__(self, number: int, line: LongLine) -> None:
        super().__init__(number)
        self.number, self.line = number, line


class _PhysicalLines:
    """The text lines the csv reader reads; `number` is the last one handed out. A line over the
    limit raises _LineTooLong through the reader, which reads on from the next line when asked."""

    def __init__(self, lines: Iterator[tuple[int, str | LongLine]]) -> None:
        self.lines = lines
        self.number = 0

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        self.number, text = next(self.lines)
        if isinstance(text, LongLine):
            raise _LineTooLong(self.number, text)
        return text


def read_csv(
    binary: IO[bytes], on_header: Callable[[list[str]], None] | None = None, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows keyed by the header; blank cells are left out (CSV cannot tell empty from unset).

    ``on_header`` sees the header before the first row, so a caller can refuse the file early.
    """
    lines = _PhysicalLines(_text_lines(binary, max_line_bytes))
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except _LineTooLong as exc:
        raise InputFormatError(
            f"line 1: the CSV header is {exc.line.size:,} bytes long, over the limit of "
            f"{max_line_bytes:,} (max_line_bytes)"
        ) from None
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
        start = lines.number + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _LineTooLong as exc:  # the row it belongs to goes with it
            yield exc.number, _long_line_error(exc.line, max_line_bytes)
            continue
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
    binary: IO[bytes],
    fmt: str,
    on_header: Callable[[list[str]], None] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    if fmt == "jsonl":
        return read_jsonl(binary, max_line_bytes)
    if fmt == "csv":
        return read_csv(binary, on_header, max_line_bytes)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
