"""SimpleStoreToObjectStorageOperator: one resource to a file in object storage, as JSON Lines, CSV or
Parquet."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.pacing import Workers
from airflow_provider_simplestore.compat import AirflowProviderDeprecationWarning, BaseOperator, built_from_mapping
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.lineage import (
    Lineage,
    Node,
    location_dataset,
    run_extra,
    simplestore_dataset,
    static_asset,
)
from airflow_provider_simplestore.utils.arguments import checked_export_format, checked_workers
from airflow_provider_simplestore.utils.formats import encoder_for, format_from_name
from airflow_provider_simplestore.utils.outlets import OpenLineageMethods, publish_output, sync_outlet, with_outlet
from airflow_provider_simplestore.utils.progress import Progress
from airflow_provider_simplestore.utils.source import (
    check_on_incomplete,
    check_resource,
    check_window_arguments,
    is_incremental,
    iso,
    list_params,
    resource_spec,
    settle_listing,
    source_filters,
)
from airflow_provider_simplestore.utils.storage import atomic_write, check_destination, storage_path
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook, task_label

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


class SimpleStoreToObjectStorageOperator(OpenLineageMethods, BaseOperator):
    """Stream a SimpleStore resource to a JSON Lines, CSV or Parquet file, page by page, all or nothing.

    Memory stays constant whatever the size: each page is written as it arrives. A local file is
    written to a hidden temporary sibling and moved into place only when complete; on an object
    store (S3, GCS, Azure) it is one multipart upload to the final key, completed at the end and
    aborted on failure (docs/storage.md). Either way a failed task leaves no partial file and no
    temporary one. The destination is checked before the first API call.

    Orders are exported incrementally by default: ``createdOnUtc`` in ``[data_interval_start,
    data_interval_end)`` of the run (override with ``created_from``/``created_to``, or export
    everything with ``incremental=False``). A window with no orders gives an empty file (CSV:
    just its header), not an error.

    CSV columns are the fixed list ``formats.CSV_COLUMNS[resource]`` unless ``csv_columns`` is
    given: the header never depends on the data. Nested objects are flattened with dots
    (``basePrice.sellPrice``); lists and locale/attribute dictionaries are JSON strings; fields
    outside the columns are left out (and named once in the log). JSON Lines keeps every field.

    Parquet (the ``parquet`` extra: pyarrow) has a typed column per documented field of the resource
    (``client/fields.py``; ``utils/parquet.py``): nested objects as structs, lists as lists of
    structs, free-form maps as JSON text, and ``_extra_fields``, JSON text of what the schema has no
    column for (a field the platform adds later, a value of another type). Written in row groups, so
    memory stays bounded too.

    :param resource: products, categories, collections, specials, customers, orders, baskets or folders.
    :param destination: file URL (templated), e.g. ``file:///data/orders/{{ ds }}.jsonl`` or
        ``s3://bucket/orders/{{ ds }}.csv``; a plain absolute path means ``file://``.
    :param file_format: ``jsonl``, ``csv`` or ``parquet`` (needs pyarrow: ``pip install
        'airflow-provider-simplestore[parquet]'``, else the DAG fails to parse saying so); by default
        taken from the destination's suffix (``.parquet`` too), else ``jsonl``.
    :param incremental: filter on the run's data interval (default: True for orders, the only
        resource with a creation time).
    :param created_from: start of the window, inclusive (templated; default data_interval_start).
    :param created_to: end of the window, exclusive (templated; default data_interval_end).
    :param filters: extra list filters sent as query parameters (templated), e.g. ``{"Status": "Paid"}``.
    :param csv_columns: dotted column names for CSV, instead of the default list.
    :param csv_raw_formulas: CSV text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are
        written with a leading ``'`` by default, so a spreadsheet shows them instead of running them
        (the OWASP rule against CSV injection; numbers are never changed). True writes them as they are.
    :param page_size: records per request (default: the connection's).
    :param max_workers: pages fetched in parallel by the hook (order is kept), or ``"auto"``: adapt
        to the server (see ``pacing.py``), up to the hook's ``auto_max_workers`` (16).
    :param storage_conn_id: Airflow connection for the destination's filesystem, if it needs one.
    :param progress_interval: seconds between progress lines in the log.
    :param on_incomplete: ``"fail"`` (default): a listing that gave fewer records than it promised,
        or changed while it was read, fails the task and writes nothing; ``"warn"``: log it, keep the file.
    :param simplestore_conn_id: the SimpleStore connection (templated).
    :param asset_alias: the ``AssetAlias`` a templated destination's asset event goes through
        (default ``simplestore-export-<resource>``); a destination without a template is a plain
        outlet asset instead. The event's extra: resource, format, records, bytes, sha256, the
        data interval (and the created window of an incremental run). See docs/lineage.md.
    :return: ``{"destination", "resource", "format", "records", "bytes", "sha256",
        "duplicates_dropped"}`` (to XCom), and for an incremental run ``created_from`` and
        ``created_to``, the window read (ISO-8601 UTC). The window parameters are mappable: a
        partitioned export maps the operator over ``utils.manifest.split_window(...)`` with
        ``.expand_kwargs`` (docs/partitioned-export.md). Each record id is written once per run: a record listed
        twice (an insert shifted the pages) is dropped and counted.
    """

    template_fields: Sequence[str] = (
        "simplestore_conn_id",
        "destination",
        "created_from",
        "created_to",
        "filters",
        "storage_conn_id",
    )
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        resource: str,
        destination: str,
        file_format: str | None = None,  # where to write, and as what
        incremental: bool | None = None,
        created_from: Any = None,
        created_to: Any = None,
        filters: dict[str, Any] | str | None = None,  # a dict, or a template that renders to one
        csv_columns: Sequence[str] | None = None,
        csv_raw_formulas: bool = False,
        page_size: int | None = None,
        max_workers: Workers = 1,
        storage_conn_id: str | None = None,
        progress_interval: float = 10.0,
        on_incomplete: str = "fail",
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        asset_alias: str | None = None,
        **kwargs: Any,
    ) -> None:
        # A mapped export (`.partial().expand(...)`) is built when its task runs: its destination came
        # from the mapping, and an outlet asset the DAG never declared is refused by Airflow 3.0
        # ("inactive assets"). Its event goes through the alias the DAG declared instead.
        self.static_asset = None if built_from_mapping(self) else static_asset(destination)
        self.asset_alias, outlet = sync_outlet("export", check_resource(resource), asset_alias, self.static_asset)
        super().__init__(**with_outlet(kwargs, outlet))
        self.simplestore_conn_id = simplestore_conn_id
        # What to read (checked now: a DAG with a bad argument fails to parse, naming it).
        self.resource = check_resource(resource)
        self.incremental = is_incremental(resource, incremental)
        check_window_arguments(resource, self.incremental, created_from, created_to, task_label(self))
        source_filters(resource, filters, task_label(self), templated=True)
        self.created_from, self.created_to, self.filters = created_from, created_to, filters
        self.page_size, self.max_workers = page_size, checked_workers(max_workers)
        self.on_incomplete = check_on_incomplete(on_incomplete)
        self.progress_interval = progress_interval
        # Where and how to write it.
        if csv_columns is not None and not list(csv_columns):
            raise SimpleStoreConfigError("csv_columns is empty")
        self.destination, self.storage_conn_id = destination, storage_conn_id
        self.file_format = checked_export_format(file_format, destination)
        self.csv_columns = list(csv_columns) if csv_columns is not None else None
        self.csv_raw_formulas = csv_raw_formulas
        self.lineage: Lineage | None = None

    @cached_property
    def hook(self) -> SimpleStoreHook:
        return new_hook(self.simplestore_conn_id, self.page_size)

    @closes_hook
    def execute(self, context: Context) -> dict[str, Any]:
        path = storage_path(self.destination, conn_id=self.storage_conn_id, role="destination")
        check_destination(path)
        fmt = checked_export_format(self.file_format or format_from_name(path.name), path.name) or "jsonl"
        params, what, window = list_params(
            context,
            resource=self.resource,
            incremental=self.incremental,
            filters=self.filters,
            created_from=self.created_from,
            created_to=self.created_to,
            where=task_label(self),
        )
        if window is not None and window.empty:
            self.log.warning("The window %s is empty: the export will have no records", window)
        encoder = encoder_for(fmt, self.resource, self.csv_columns, neutralise_formulas=not self.csv_raw_formulas)
        spec = resource_spec(self.resource)
        self.log.info("Exporting %s to %s as %s", what, path, fmt)

        progress = Progress(self.log, what, interval=self.progress_interval)
        from airflow_provider_simplestore.client.wire import ListingCheck  # lazily: DAG parsing stays fast

        check = ListingCheck(spec.list_path)
        seen: set[Any] = set()
        duplicates = 0
        with atomic_write(path) as out:
            out.write(encoder.header())
            pages = self.hook.paginate_pages(spec.list_path, params=params, max_workers=self.max_workers, check=check)
            for page in pages:
                fresh = []
                for record in page.items:
                    key = record.get(spec.id_field) if isinstance(record, dict) else None
                    if key is not None and key in seen:
                        duplicates += 1
                        continue
                    seen.add(key)
                    fresh.append(record)
                out.write(encoder.encode_all(fresh))
                progress.page(len(fresh), total=page.total_records, total_pages=page.total_pages)
            out.write(encoder.footer())  # Parquet's last row group and footer; nothing for the others
            settle_listing(check.problems, self.on_incomplete, what)  # inside: a failure writes nothing
        if duplicates:
            self.log.warning("Dropped %d records listed twice (the listing changed while it was read)", duplicates)
        progress.finish(f", {out.bytes} bytes")
        dropped = getattr(encoder, "dropped", None)
        if dropped:
            self.log.info("Fields not in the CSV columns (kept only in JSON Lines): %s", ", ".join(sorted(dropped)))
        left_over = getattr(encoder, "left_over", None)
        if left_over:
            self.log.info(
                "Fields not in the Parquet schema, or of another type than documented (kept as JSON in "
                "its _extra_fields column): %s",
                ", ".join(sorted(left_over)),
            )
        self.lineage = self.lineage_plan(path, fmt).with_output_counts(progress.records, out.bytes)
        publish_output(
            context,
            self.lineage,
            run_extra(
                context,
                resource=self.resource,
                format=fmt,
                records=progress.records,
                bytes=out.bytes,
                sha256=out.sha256,
                created_from=iso(window.start) if window else None,
                created_to=iso(window.end) if window else None,
            ),
            alias=self.asset_alias,
            asset=self.static_asset,
        )
        return {
            "destination": str(path),
            "resource": self.resource,
            "format": fmt,
            "records": progress.records,
            "bytes": out.bytes,
            "sha256": out.sha256,
            "duplicates_dropped": duplicates,
            # The window read, so that the parts of a partitioned export can be checked and listed.
            **({"created_from": iso(window.start), "created_to": iso(window.end)} if window else {}),
        }

    def lineage_plan(self, path: Any = None, fmt: str | None = None) -> Lineage:
        """The resource read and the file written, with the columns we know (CSV's, else the defaults)."""
        from airflow_provider_simplestore.utils.formats import CSV_COLUMNS

        location = path if path is not None else self.destination
        fmt = fmt or self.file_format or format_from_name(str(location)) or "jsonl"
        known = tuple((name, "string") for name in CSV_COLUMNS[self.resource])
        written = tuple((name, "string") for name in self.csv_columns) if fmt == "csv" and self.csv_columns else known
        if fmt == "parquet":
            from airflow_provider_simplestore.utils.parquet import parquet_columns

            written = parquet_columns(self.resource)
        return Lineage(
            inputs=[Node(simplestore_dataset(self.hook.settings.base_url, self.resource), known)],
            outputs=[Node(location_dataset(location), written)],
        )


class SimpleStoreExportOperator(SimpleStoreToObjectStorageOperator):
    """Deprecated: the former name of ``SimpleStoreToObjectStorageOperator`` (removed in 2.0)."""

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn(
            "SimpleStoreExportOperator is now SimpleStoreToObjectStorageOperator (same arguments); "
            "the old name is removed in version 2.0",
            AirflowProviderDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(**kwargs)
