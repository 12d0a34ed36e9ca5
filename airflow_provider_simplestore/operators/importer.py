"""SimpleStoreImportOperator: JSON Lines or CSV rows upserted into products or customers.

Each row is matched to an existing object by its natural key (a product's ``slug`` or
``inventory.sku``, a customer's ``emailAddress``), compared with it, and then created, updated
(only the fields that differ) or left unchanged, so importing the same file twice changes nothing
the second time. A create whose outcome was lost (5xx or a dropped connection after sending: the
hook does not repeat a POST) is reconciled by looking the natural key up again instead of sending
it blindly a second time.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.resources import RESOURCES, Resource, natural_key
from airflow_provider_simplestore.compat import AirflowException, AirflowFailException, BaseOperator
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConfigError,
    SimpleStoreConflictError,
    SimpleStoreError,
    SimpleStoreNotFoundError,
    SimpleStoreRateLimitError,
    SimpleStoreServerError,
    SimpleStoreTransportError,
    SimpleStoreValidationError,
)
from airflow_provider_simplestore.lineage import (
    Lineage,
    Node,
    location_dataset,
    run_extra,
    simplestore_dataset,
)
from airflow_provider_simplestore.utils.arguments import at_least, checked_format
from airflow_provider_simplestore.utils.booleans import boolean_word
from airflow_provider_simplestore.utils.formats import (
    MAX_LINE_BYTES,
    InputFormatError,
    RowError,
    dumps,
    format_from_name,
    lookup,
    read_rows,
    unflatten,
)
from airflow_provider_simplestore.utils.outlets import OpenLineageMethods, publish_output, sync_outlet, with_outlet
from airflow_provider_simplestore.utils.progress import Progress
from airflow_provider_simplestore.utils.storage import atomic_write, remove_if_exists, storage_path
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, ObjectStoragePath

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


# How many times one row's create may be reconciled and re-sent before the row is given up.
MAX_WRITE_ATTEMPTS = 3
# Rows in a row whose outcome stayed unknown (5xx, 429, transport) before the task stops: the API is down.
MAX_UNKNOWN_IN_A_ROW = 5
REPORT_INPUT_CHARS = 4096  # raw input kept per report line (a 50 MB bad line must not be copied whole)
REPORT_REASON_CHARS = 1024


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


# --- the operator ---------------------------------------------------------------------------------


class RowRejected(Exception):
    """One row cannot be written; the reason (and the HTTP status, if any) go to the rejects report.

    `unknown` marks a row whose write may or may not have landed: the next run finds it by its
    natural key and reconciles it."""

    def __init__(self, reason: str, *, status: int | None = None, unknown: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.unknown = unknown


def row_failure(exc: SimpleStoreError) -> RowRejected | None:
    """What an API error means for the one row being written; None when it concerns the whole task
    (configuration, credentials), which must fail."""
    if isinstance(exc, (SimpleStoreConfigError, SimpleStoreAuthError)):
        return None
    if isinstance(exc, (SimpleStoreServerError, SimpleStoreTransportError, SimpleStoreRateLimitError)):
        return RowRejected(f"outcome unknown after retries ({exc}); the next run reconciles it by natural key",
                           status=exc.status, unknown=True)
    if exc.status is not None and 400 <= exc.status < 500:
        return RowRejected(f"refused by SimpleStore (HTTP {exc.status}): {exc.detail or exc.title or exc}",
                           status=exc.status)
    return None


class NaturalKeys:
    """The natural keys met so far in one file: a later row with one of them is a duplicate."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.first_line: dict[tuple[str, Any], int] = {}

    def claim(self, line: int, row: Mapping[str, Any]) -> None:
        keys = [(key, row[key]) for key in self.target.natural_keys if row.get(key) is not None]
        keys = [(key, natural_key(value) if key in self.target.case_insensitive else value) for key, value in keys]
        for key, value in keys:
            if (key, value) in self.first_line:
                raise RowRejected(f"duplicate {key} {row[key]!r}: line {self.first_line[key, value]} has it already")
        self.first_line.update((key, line) for key in keys)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


class SimpleStoreImportOperator(OpenLineageMethods, BaseOperator):
    """Upsert products or customers from a JSON Lines or CSV file in object storage.

    Columns (CSV header, or JSON keys; nested JSON objects and dotted names alike) are the
    importable fields of ``TARGETS[resource]``: for products ``slug``, ``title``, ``description``,
    ``isActive``, ``status``, ``paymentMethod``, ``basePrice.sellPrice``, ``basePrice.retailPrice``,
    ``basePrice.currencyCode``, ``inventory.sku``, ``inventory.availableQuantity``,
    ``inventory.minActiveQuantity``, ``inventory.trackInventory``, ``baseRewards.*``; for customers
    ``emailAddress``, ``firstName``, ``lastName``, ``displayName``. A blank CSV cell (or a JSON null)
    leaves that field as it is. A product is matched by ``slug``, else by ``inventory.sku``; a
    customer by ``emailAddress`` (case-insensitive).

    The file is read once, in chunks, and checked whole before anything is written (an unknown CSV
    column, text that is not UTF-8, or more malformed rows than ``max_error_ratio`` allows fail the
    task first): its parsed rows wait in a local temporary file, then are written, ``batch_size``
    rows between progress lines. A line longer than ``max_line_bytes``, or JSON nested deeper than
    32 levels, is a malformed row (never held whole in memory). Each row is created, updated (only
    its differing fields, with the object's ``version``), left unchanged, or rejected. Rejected rows
    (line number, HTTP status if any, reason, row; at most a few KiB of the input per line) are
    written to ``<input>.rejected.jsonl`` next to the input, even when the task fails (a stale report
    is removed when none are rejected). Any 4xx answer to a row rejects that row and the import goes
    on; a row whose outcome stays unknown after retries (5xx, 429, a lost connection) is rejected as
    such and reconciled by its natural key on the next run; a later row repeating a natural key of an
    earlier row in the same file is rejected as a duplicate. The task stops after
    ``MAX_UNKNOWN_IN_A_ROW`` unknown outcomes in a row (the API is down), and fails when rejected
    rows exceed ``max_error_ratio`` of all rows; the rows written by then stay written, and a re-run
    is safe.

    :param resource: ``products`` or ``customers`` (the importable rows of ``resources.RESOURCES``).
    :param source: input file URL (templated), e.g. ``file:///data/inventory/{{ ds }}.csv``.
    :param file_format: ``jsonl`` or ``csv``; by default taken from the source's suffix.
    :param max_error_ratio: largest tolerated share of rejected rows (0 = none tolerated).
    :param batch_size: rows between progress lines.
    :param max_line_bytes: longest input line read, in bytes (its line end not counted; 1 MiB by
        default); a longer line is rejected with its line number.
    :param storage_conn_id: Airflow connection for the source's filesystem, if it needs one.
    :param simplestore_conn_id: the SimpleStore connection (templated).
    :param asset_alias: the ``AssetAlias`` the resource's asset event goes through (default
        ``simplestore-import-<resource>``; its URI names the API host of the connection). The event's
        extra: resource, source, rows, created, updated, unchanged, rejected, the data interval.
    :return: ``{"created", "updated", "unchanged", "rejected", "rows", "rejected_report"}``.
    """

    template_fields: Sequence[str] = ("simplestore_conn_id", "source", "storage_conn_id")
    ui_color = "#fdf1e3"

    def __init__(
        self,
        *,
        resource: str,
        source: str,
        file_format: str | None = None,
        max_error_ratio: float = 0.1,
        batch_size: int = 100,
        max_line_bytes: int = MAX_LINE_BYTES,
        storage_conn_id: str | None = None,
        progress_interval: float = 10.0,
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        asset_alias: str | None = None,
        **kwargs: Any,
    ) -> None:
        if resource not in TARGETS:
            raise SimpleStoreConfigError(f"cannot import {resource!r}; expected one of: {', '.join(TARGETS)}")
        self.static_asset = None  # the resource's URI names the connection's host: always the alias
        self.asset_alias, outlet = sync_outlet("import", resource, asset_alias)
        super().__init__(**with_outlet(kwargs, outlet))
        if not 0 <= max_error_ratio <= 1:
            raise SimpleStoreConfigError(f"max_error_ratio must be between 0 and 1, got {max_error_ratio}")
        self.resource, self.simplestore_conn_id = resource, simplestore_conn_id
        self.source, self.storage_conn_id = source, storage_conn_id
        self.file_format = checked_format(file_format)
        self.max_error_ratio = max_error_ratio
        self.batch_size = at_least("batch_size", batch_size, 1)
        self.max_line_bytes = at_least("max_line_bytes", max_line_bytes, 1)
        self.progress_interval = progress_interval
        self.lineage: Lineage | None = None

    @cached_property
    def hook(self) -> SimpleStoreHook:
        return new_hook(self.simplestore_conn_id)

    @property
    def target(self) -> Target:
        return TARGETS[self.resource]

    # reading

    def _rows(self, path: ObjectStoragePath, fmt: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        """Parsed, typed rows (or RowError) with their line numbers; unreadable input raises."""

        def check_header(header: list[str]) -> None:
            unknown = [name for name in header if name not in self.target.fields]
            if unknown:
                raise InputFormatError(
                    f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                    f"importable {self.resource} columns: {', '.join(self.target.fields)}"
                )

        try:
            with path.open("rb") as binary:
                for number, row in read_rows(binary, fmt, check_header, self.max_line_bytes):
                    if isinstance(row, RowError):
                        yield number, row
                        continue
                    try:
                        yield number, parse_row(self.target, row)
                    except ValueError as exc:
                        yield number, RowError(str(exc), row=row)
        except InputFormatError as exc:
            raise AirflowFailException(f"input {path}: {exc}") from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise AirflowFailException(f"input {path} cannot be read: {exc.strerror or exc}") from None

    def _spool(self, path: ObjectStoragePath, fmt: str, spool: IO[bytes]) -> tuple[int, int]:
        """The one read of the input: every row checked and parked in `spool`; (rows, malformed).
        Fails before any write when the file is unusable."""
        rows = malformed = 0
        for number, row in self._rows(path, fmt):
            rows += 1
            if isinstance(row, RowError):
                malformed += 1
                entry: dict[str, Any] = {"line": number, "reason": row.reason, "raw": row.raw, "row": row.row}
            else:
                entry = {"line": number, "row": row}
            spool.write((dumps(entry) + "\n").encode())
        spool.seek(0)
        return rows, malformed

    @staticmethod
    def _spooled(spool: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        """The rows `_spool` parked, in order."""
        for line in iter(spool.readline, b""):
            entry = json.loads(line)
            if "reason" in entry:
                yield entry["line"], RowError(entry["reason"], raw=entry["raw"], row=entry["row"])
            else:
                yield entry["line"], entry["row"]

    # writing

    def _find(self, wanted: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object the row's natural keys point at; RowRejected when they point at two."""
        found: dict[str, Any] | None = None
        for key in self.target.natural_keys:
            value = wanted.get(key)
            if value is None:
                continue
            match = self._lookup(key, value)
            if match is None:
                continue
            if found is not None and found[self.target.id_field] != match[self.target.id_field]:
                raise RowRejected(
                    f"{' and '.join(self.target.natural_keys)} match different {self.resource}: "
                    f"{found[self.target.id_field]} and {match[self.target.id_field]}"
                )
            found = match
        return found

    def _lookup(self, key: str, value: str) -> dict[str, Any] | None:
        """The object whose natural key `key` is `value`, listed by the filter that finds that key."""
        finder: dict[str, Any] = {self.target.spec.natural_keys[key]: value}
        candidates = self.hook.list_resource(self.resource, **finder)
        for candidate in candidates:
            if same(self.target, key, lookup(candidate, key), value):
                return candidate
        return None

    def _create(self, body: dict[str, Any]) -> Any:
        return self.hook.regular_call("create", self.resource, body=body)

    def _update(self, object_id: str, body: dict[str, Any]) -> Any:
        return self.hook.regular_call("update", self.resource, object_id, body)

    def upsert(self, wanted: dict[str, Any]) -> str:
        """Write one row; returns created, updated or unchanged (or raises RowRejected)."""
        current = self._find(wanted)
        if current is None:
            return self._create_reconciled(wanted)
        return self._update_reconciled(current, wanted)

    def _create_reconciled(self, wanted: dict[str, Any]) -> str:
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            lost = False
            try:
                self._create(unflatten(wanted))
                return "created"
            except SimpleStoreValidationError as exc:
                raise RowRejected(f"refused by SimpleStore: {exc.detail or exc.title or exc}",
                                  status=exc.status) from None
            except SimpleStoreConflictError:
                pass  # the key was taken meanwhile: look again below
            except (SimpleStoreServerError, SimpleStoreTransportError) as exc:
                if attempt == MAX_WRITE_ATTEMPTS:
                    raise
                if isinstance(exc, SimpleStoreTransportError) and not exc.request_sent:
                    continue  # it never reached the server: sending again is safe
                lost = True
                self.log.warning("Create outcome unknown (%s); reconciling by natural key", exc)
            current = self._find(wanted)
            if current is not None:
                outcome = self._update_reconciled(current, wanted)
                # Our own create that landed although its answer was lost still counts as created.
                return "created" if lost and outcome == "unchanged" else outcome
            self.log.info("The create did not land; sending it again (attempt %d)", attempt + 1)
        raise RowRejected("could not create it: its natural key kept conflicting")

    def _update_reconciled(self, current: dict[str, Any], wanted: dict[str, Any]) -> str:
        object_id = current[self.target.id_field]
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            diff = changes(self.target, current, wanted)
            if not diff:
                return "unchanged" if attempt == 1 else "updated"
            body = unflatten(diff)
            if current.get("version") is not None:
                body["version"] = current["version"]
            try:
                self._update(object_id, body)
                return "updated"
            except SimpleStoreValidationError as exc:
                raise RowRejected(f"refused by SimpleStore: {exc.detail or exc.title or exc}",
                                  status=exc.status) from None
            except SimpleStoreNotFoundError:
                raise RowRejected(f"{self.resource} {object_id} was deleted during the import", status=404) from None
            except (SimpleStoreConflictError, SimpleStoreServerError, SimpleStoreTransportError) as exc:
                # Stale version, a duplicate key, or an outcome we did not see: read it again.
                if attempt == MAX_WRITE_ATTEMPTS:
                    if isinstance(exc, SimpleStoreConflictError):
                        raise RowRejected(f"conflict: {exc.detail or exc.title or exc}", status=exc.status) from None
                    raise
                self.log.info("Update of %s not confirmed (%s); reading it again", object_id, exc)
            refreshed = self._find(wanted)
            if refreshed is None or refreshed[self.target.id_field] != object_id:
                raise RowRejected(f"{self.resource} {object_id} changed its natural key during the import")
            current = refreshed
        raise AssertionError("unreachable")  # pragma: no cover

    @closes_hook
    def execute(self, context: Context) -> dict[str, Any]:
        path = storage_path(self.source, conn_id=self.storage_conn_id, role="input")
        fmt = self.file_format or format_from_name(path.name)
        if fmt is None:
            raise SimpleStoreConfigError(f"cannot tell the format of {path}: pass file_format ('jsonl' or 'csv')")
        report = path.parent / f"{path.name}.rejected.jsonl"

        counts = Counts()
        with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as rejects:
            total, malformed = self._spool(path, fmt, spool)
            self.log.info("Input %s: %d rows, %d malformed", path, total, malformed)
            if total and malformed / total > self.max_error_ratio:
                for number, row in self._spooled(spool):
                    if isinstance(row, RowError):
                        counts.rejected += 1
                        _reject(rejects, number, row.reason, raw=row.raw, row=row.row)
                self._publish_report(rejects, report, counts)
                raise AirflowFailException(
                    f"input {path}: {malformed} of {total} rows are malformed, over max_error_ratio="
                    f"{self.max_error_ratio}; nothing was written. Rejected rows: {report}"
                )
            progress = Progress(
                self.log, f"import of {self.resource}", interval=self.progress_interval, unit="batches", item="rows"
            )
            progress.total = total
            try:
                self._write_rows(path, spool, rejects, counts, progress)
            except BaseException:
                # The rejects collected so far are what the user needs to fix the input: keep them.
                with contextlib.suppress(Exception):
                    self._publish_report(rejects, report, counts)
                raise
            progress.finish(
                f": {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged, "
                f"{counts.rejected} rejected"
            )
            report_path = self._publish_report(rejects, report, counts)
        if total and counts.rejected / total > self.max_error_ratio:
            raise AirflowException(
                f"input {path}: {counts.rejected} of {total} rows rejected, over max_error_ratio="
                f"{self.max_error_ratio} ({counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged). Rejected rows: {report}"
            )
        written = counts.created + counts.updated
        self.lineage = self.lineage_plan(path).with_output_counts(written)
        publish_output(context, self.lineage, run_extra(
            context, resource=self.resource, source=str(path), rows=counts.rows, created=counts.created,
            updated=counts.updated, unchanged=counts.unchanged, rejected=counts.rejected,
        ), alias=self.asset_alias, asset=self.static_asset)
        return {
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": counts.rejected,
            "rows": counts.rows,
            "rejected_report": report_path,
        }

    def lineage_plan(self, path: Any = None) -> Lineage:
        """The file read and the resource written, with the importable fields as its columns."""
        fields = tuple((name, "string") for name in self.target.fields)
        return Lineage(
            inputs=[Node(location_dataset(path if path is not None else self.source))],
            outputs=[Node(simplestore_dataset(self.hook.settings.base_url, self.resource), fields)],
        )

    def _write_rows(self, path: ObjectStoragePath, spool: IO[bytes], rejects: IO[bytes], counts: Counts,
                    progress: Progress) -> None:
        """Write each spooled row; a row the API refuses is rejected, later rows still go."""
        keys = NaturalKeys(self.target)
        in_batch = unknown_in_a_row = 0
        for number, row in self._spooled(spool):
            if isinstance(row, RowError):
                counts.rejected += 1
                _reject(rejects, number, row.reason, raw=row.raw, row=row.row)
            else:
                try:
                    try:
                        keys.claim(number, row)
                        outcome = self.upsert(row)
                    except SimpleStoreError as exc:
                        failure = row_failure(exc)
                        if failure is None:
                            raise
                        raise failure from None
                    setattr(counts, outcome, getattr(counts, outcome) + 1)
                    unknown_in_a_row = 0
                except RowRejected as exc:
                    counts.rejected += 1
                    _reject(rejects, number, str(exc), row=row, status=exc.status)
                    unknown_in_a_row = unknown_in_a_row + 1 if exc.unknown else 0
                    if unknown_in_a_row >= MAX_UNKNOWN_IN_A_ROW:
                        raise AirflowException(
                            f"input {path}: {unknown_in_a_row} rows in a row (up to line {number}) got no usable "
                            f"answer from SimpleStore ({exc}); stopping. Re-run when it is back: rows "
                            "already written are found by their natural keys."
                        ) from None
            in_batch += 1
            if in_batch == self.batch_size:
                progress.page(in_batch)
                in_batch = 0
        progress.page(in_batch)

    def _publish_report(self, rejects: IO[bytes], report: ObjectStoragePath, counts: Counts) -> str | None:
        if not counts.rejected:
            if remove_if_exists(report):
                self.log.info("Removed the stale rejects report %s", report)
            return None
        rejects.seek(0)
        with atomic_write(report) as out:
            while chunk := rejects.read(1 << 16):
                out.write(chunk)
        self.log.warning("%d rejected rows written to %s", counts.rejected, report)
        return str(report)


def _reject(out: IO[bytes], line: int, reason: str, *, raw: str | None = None, row: Any = None,
            status: int | None = None) -> None:
    entry: dict[str, Any] = {"line": line}
    if status is not None:
        entry["status"] = status
    entry["reason"] = reason if len(reason) <= REPORT_REASON_CHARS else reason[:REPORT_REASON_CHARS] + "..."
    if row is not None and len(dumps(row)) <= REPORT_INPUT_CHARS:
        entry["row"] = row
    else:
        text = dumps(row) if row is not None else raw
        if text is not None:
            entry["raw"] = text if len(text) <= REPORT_INPUT_CHARS else text[:REPORT_INPUT_CHARS]
            if len(text) > REPORT_INPUT_CHARS:
                entry["truncated"] = f"{len(text)} characters, the first {REPORT_INPUT_CHARS} kept"
    out.write((dumps(entry) + "\n").encode())
