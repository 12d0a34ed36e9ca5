"""An import's rows: the importable fields of each resource and their parsers, one row parsed and
compared with the object it matches, and the one read of the input into a local spool.

The import operator reads the file once with `parsed_rows` (every row typed, or a `RowError`),
parks the result with `spool_rows`, and writes what `spooled` gives back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_simplestore.client.resources import RESOURCES, Resource, natural_key
from airflow_provider_simplestore.compat import AirflowFailException
from airflow_provider_simplestore.utils.booleans import boolean_word
from airflow_provider_simplestore.utils.formats import InputFormatError, RowError, dumps, lookup, read_rows

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import ObjectStoragePath


# --- fields ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
        if text:
            return text
        raise ValueError("empty text")
    raise ValueError(f"expected text, got {_shown(value)}")


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {_shown(value)}")
    if isinstance(value, int | float):
        number: float | int = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {_shown(value)}") from None
        if number.is_integer() and "." not in value and "e" not in value.lower():
            number = int(number)
    else:
        raise ValueError(f"expected a number, got {_shown(value)}")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {_shown(value)}")
    return number


def _non_negative(value: Any) -> float | int:
    number = _number(value)
    if number < 0:
        raise ValueError(f"must not be negative, got {_shown(value)}")
    return number


def _integer(value: Any) -> int:
    number = _number(value)
    if not float(number).is_integer():
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    flag = boolean_word(value) if isinstance(value, str) else None
    if flag is None:
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return flag


def _currency(value: Any) -> str:
    text = _text(value).upper()
    if len(text) != 3 or not text.isalpha():
        raise ValueError(f"expected a 3-letter ISO 4217 code, got {_shown(value)}")
    return text


def _email(value: Any) -> str:
    text = _text(value)
    if "@" not in text or " " in text:
        raise ValueError(f"not an email address: {_shown(value)}")
    return text


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# The importable fields of each importable resource (dotted field -> parser); which resources are
# importable, their ids and natural keys come from resources.RESOURCES.
IMPORT_FIELDS: dict[str, Mapping[str, Callable[[Any], Any]]] = {
    "products": {
        "slug": _text,
        "title": _text,
        "description": _text,
        "isActive": _boolean,
        "status": _text,
        "paymentMethod": _text,
        "basePrice.sellPrice": _non_negative,
        "basePrice.retailPrice": _non_negative,
        "basePrice.currencyCode": _currency,
        "inventory.sku": _text,
        "inventory.availableQuantity": _number,
        "inventory.minActiveQuantity": _number,
        "inventory.trackInventory": _boolean,
        "baseRewards.isEnabled": _boolean,
        "baseRewards.points": _integer,
        "baseRewards.minPayAmount": _non_negative,
        "baseRewards.minPointsAmount": _non_negative,
    },
    "customers": {"emailAddress": _email, "firstName": _text, "lastName": _text, "displayName": _text},
}


@dataclass(frozen=True)
class Target:
    """What an import writes to: its resource (id, natural keys and the filters that find them) and
    its importable fields."""

    spec: Resource
    fields: Mapping[str, Callable[[Any], Any]]  # dotted field -> parser

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def id_field(self) -> str:
        return self.spec.id_field

    @property
    def natural_keys(self) -> tuple[str, ...]:
        return tuple(self.spec.natural_keys)

    @property
    def case_insensitive(self) -> frozenset[str]:
        """Fields compared in their natural_key() form (without case): the natural keys."""
        return frozenset(self.spec.natural_keys)


def import_targets() -> dict[str, Target]:
    """A Target for every importable resource; a clear error when one has no importable fields."""
    targets = {}
    for spec in RESOURCES.values():
        if not spec.importable:
            continue
        if spec.name not in IMPORT_FIELDS:
            raise TypeError(f"resource {spec.name} is importable but IMPORT_FIELDS has no fields for it")
        targets[spec.name] = Target(spec, IMPORT_FIELDS[spec.name])
    return targets


TARGETS: dict[str, Target] = import_targets()


def parse_row(target: Target, row: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for the row's fields; ValueError naming every bad or unknown field."""
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    for name, value in row.items():
        parser = target.fields.get(name)
        if parser is None:
            problems.append(f"unknown field {name!r}")
            continue
        if value is None:
            continue  # JSON null: nothing to set, as a blank CSV cell
        try:
            parsed[name] = parser(value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if not problems and not any(key in parsed for key in target.natural_keys):
        problems.append(f"no natural key: give {' or '.join(target.natural_keys)}")
    if problems:
        raise ValueError("; ".join(problems))
    return parsed


def same(target: Target, name: str, current: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted
    if isinstance(wanted, int | float):
        return isinstance(current, int | float) and math.isclose(current, wanted, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(wanted, str) and isinstance(current, str) and name in target.case_insensitive:
        return natural_key(current) == natural_key(wanted)
    return bool(current == wanted)


def changes(target: Target, current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The wanted fields whose value differs from the object's current one."""
    return {name: value for name, value in wanted.items() if not same(target, name, lookup(current, name), value)}


# --- reading --------------------------------------------------------------------------------------


def parsed_rows(
    path: ObjectStoragePath, fmt: str, target: Target, max_line_bytes: int
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Parsed, typed rows (or RowError) with their line numbers; unreadable input raises."""

    def check_header(header: list[str]) -> None:
        unknown = [name for name in header if name not in target.fields]
        if unknown:
            raise InputFormatError(
                f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                f"importable {target.resource} columns: {', '.join(target.fields)}"
            )

    try:
        with path.open("rb") as binary:
            for number, row in read_rows(binary, fmt, check_header, max_line_bytes):
                if isinstance(row, RowError):
                    yield number, row
                    continue
                try:
                    yield number, parse_row(target, row)
                except ValueError as exc:
                    yield number, RowError(str(exc), row=row)
    except InputFormatError as exc:
        raise AirflowFailException(f"input {path}: {exc}") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise AirflowFailException(f"input {path} cannot be read: {exc.strerror or exc}") from None


def spool_rows(rows: Iterable[tuple[int, dict[str, Any] | RowError]], spool: IO[bytes]) -> tuple[int, int]:
    """The one read of the input: every row checked and parked in `spool`; (rows, malformed).
    Fails before any write when the file is unusable."""
    total = malformed = 0
    for number, row in rows:
        total += 1
        if isinstance(row, RowError):
            malformed += 1
            entry: dict[str, Any] = {"line": number, "reason": row.reason, "raw": row.raw, "row": row.row}
        else:
            entry = {"line": number, "row": row}
        spool.write((dumps(entry) + "\n").encode())
    spool.seek(0)
    return total, malformed


def spooled(spool: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The rows `spool_rows` parked, in order."""
    for line in iter(spool.readline, b""):
        entry = json.loads(line)
        if "reason" in entry:
            yield entry["line"], RowError(entry["reason"], raw=entry["raw"], row=entry["row"])
        else:
            yield entry["line"], entry["row"]
