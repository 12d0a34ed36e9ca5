"""SimpleStoreImportOperator: JSON Lines or CSV rows upserted into products or customers.

Each row is matched to an existing object by its natural key (a product's ``slug`` or
``inventory.sku``, a customer's ``emailAddress``), compared with it, and then created, updated
(only the fields that differ) or left unchanged, so importing the same file twice changes nothing
the second time. A create whose outcome was lost (5xx or a dropped connection after sending: the
hook does not repeat a POST) is reconciled by looking the natural key up again instead of sending
it blindly a second time.

The rows are read and parsed by ``utils/import_rows.py``, written by ``utils/upsert.py`` and the
rejected ones reported by ``utils/import_report.py``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.compat import AirflowException, AirflowFailException, BaseOperator
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.lineage import (
    Lineage,
    Node,
    location_dataset,
    run_extra,
    simplestore_dataset,
)
from airflow_provider_simplestore.utils.arguments import at_least, checked_format
from airflow_provider_simplestore.utils.formats import FORMATS, MAX_LINE_BYTES, RowError, format_from_name
from airflow_provider_simplestore.utils.import_report import publish_report, write_rejected
from airflow_provider_simplestore.utils.import_rows import TARGETS, Target, parsed_rows, spool_rows, spooled
from airflow_provider_simplestore.utils.outlets import OpenLineageMethods, publish_output, sync_outlet, with_outlet
from airflow_provider_simplestore.utils.progress import Progress
from airflow_provider_simplestore.utils.storage import storage_path
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook
from airflow_provider_simplestore.utils.upsert import Counts, RowRejected, Upserter

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, ObjectStoragePath

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


# Rows in a row whose outcome stayed unknown (5xx, 429, transport) before the task stops: the API is down.
MAX_UNKNOWN_IN_A_ROW = 5


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

    def upsert(self, wanted: dict[str, Any]) -> str:
        """Write one row; returns created, updated or unchanged (or raises RowRejected)."""
        return Upserter(self.hook, self.target, self.log).upsert(wanted)

    @closes_hook
    def execute(self, context: Context) -> dict[str, Any]:
        path = storage_path(self.source, conn_id=self.storage_conn_id, role="input")
        fmt = self.file_format or format_from_name(path.name)
        if fmt is None:
            raise SimpleStoreConfigError(f"cannot tell the format of {path}: pass file_format ('jsonl' or 'csv')")
        if fmt not in FORMATS:  # an export-only format (Parquet)
            raise SimpleStoreConfigError(f"cannot import {path}: the import reads JSON Lines or CSV, not {fmt}")
        report = path.parent / f"{path.name}.rejected.jsonl"

        counts = Counts()
        with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as rejects:
            total, malformed = spool_rows(parsed_rows(path, fmt, self.target, self.max_line_bytes), spool)
            self.log.info("Input %s: %d rows, %d malformed", path, total, malformed)
            if total and malformed / total > self.max_error_ratio:
                for number, row in spooled(spool):
                    if isinstance(row, RowError):
                        counts.rejected += 1
                        write_rejected(rejects, number, row.reason, raw=row.raw, row=row.row)
                publish_report(rejects, report, counts.rejected, self.log)
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
                    publish_report(rejects, report, counts.rejected, self.log)
                raise
            progress.finish(
                f": {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged, "
                f"{counts.rejected} rejected"
            )
            report_path = publish_report(rejects, report, counts.rejected, self.log)
        if total and counts.rejected / total > self.max_error_ratio:
            raise AirflowException(
                f"input {path}: {counts.rejected} of {total} rows rejected, over max_error_ratio="
                f"{self.max_error_ratio} ({counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged). Rejected rows: {report}"
            )
        written = counts.created + counts.updated
        self.lineage = self.lineage_plan(path).with_output_counts(written)
        publish_output(
            context,
            self.lineage,
            run_extra(
                context,
                resource=self.resource,
                source=str(path),
                rows=counts.rows,
                created=counts.created,
                updated=counts.updated,
                unchanged=counts.unchanged,
                rejected=counts.rejected,
            ),
            alias=self.asset_alias,
            asset=self.static_asset,
        )
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

    def _write_rows(
        self, path: ObjectStoragePath, spool: IO[bytes], rejects: IO[bytes], counts: Counts, progress: Progress
    ) -> None:
        """Write each spooled row; a row the API refuses is rejected, later rows still go."""
        upserter = Upserter(self.hook, self.target, self.log)
        in_batch = unknown_in_a_row = 0
        for number, row in spooled(spool):
            if isinstance(row, RowError):
                counts.rejected += 1
                write_rejected(rejects, number, row.reason, raw=row.raw, row=row.row)
            else:
                try:
                    counts.add(upserter.write(number, row))
                    unknown_in_a_row = 0
                except RowRejected as exc:
                    counts.rejected += 1
                    write_rejected(rejects, number, str(exc), row=row, status=exc.status)
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
